//! The command line: the commands, how a failure becomes one line and an exit code, and Ctrl-C.

use std::process::ExitCode;
use std::sync::atomic::{AtomicUsize, Ordering};

use clap::{Parser, Subcommand};
use wardial_probe::Stop;

use crate::check::process::{self, RunMeasuredArgs};
use crate::check::{self, CheckArgs};
use crate::merge::{self, MergeArgs};
use crate::race::memory::{self, MeasureMemoryArgs};
use crate::race::{self, RaceArgs};
use crate::scan::{self, ScanArgs};
use crate::serve::{self, SimnetArgs};
use crate::world::WorldArgs;
use crate::INTERRUPTED;

const AFTER_HELP: &str = "\
Examples:
  wardial                                  race every model (same as `wardial race`)
  wardial race --mix live --latency 20ms --max-connections 128
  wardial scan 192.168.1.0/24              find web servers on your own network
  wardial scan 127.0.0.1 --port 8000 --all --json
  wardial simnet --targets hosts.txt       serve the simulated internet for other scanners
  wardial simnet --at-addresses --port 8080   ... every host at its own 127.x address
  wardial check 'python3 wardial.py'       grade a scanner in any language against the truth

Only networks you own or may scan: addresses outside loopback and the private ranges need
--allow-public.";

#[derive(Debug, Parser)]
#[command(
    name = "wardial",
    version,
    about = "Find web servers in an IPv4 range, in every concurrency model Rust offers",
    long_about = "Find web servers in an IPv4 range, in every concurrency model Rust offers.\n\n\
        With no command, races every model on a simulated internet (on 127.0.0.1) and prints \
        how fast each one waited.",
    after_help = AFTER_HELP,
    args_conflicts_with_subcommands = true
)]
pub struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    race: RaceArgs,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Race every model on the same simulated range (the default command)
    Race(RaceArgs),
    /// Scan networks for web servers: CIDRs or addresses, from arguments or a file
    Scan(ScanArgs),
    /// Serve the simulated internet in the foreground until Ctrl-C
    Simnet(SimnetArgs),
    /// Grade a scanner in any language: run COMMAND on a simulated internet at real addresses
    /// and judge what it printed and did against the truth, clause by clause
    Check(CheckArgs),
    /// Join the outputs of a scan's shards: refuses other plans, names missing shards and gaps
    Merge(MergeArgs),
    /// (Used by `race`) hold probes in flight to the targets on stdin and report peak memory
    #[command(hide = true)]
    MeasureMemory(MeasureMemoryArgs),
    /// (Used by `race`) serve the simulated hosts in this process, answering the race on stdin
    #[command(hide = true)]
    RaceServers(WorldArgs),
    /// (Used by `check` and `race --external`) run a command and report its CPU and memory
    #[command(hide = true)]
    RunMeasured(RunMeasuredArgs),
}

/// The whole program: parses the command line, runs the command, and turns a failure into one
/// line on stderr and its exit code.
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => return clap_error(e),
    };
    let interrupt = Stop::new();
    install_ctrl_c(interrupt.clone());
    let result = match cli.command {
        None => race::command(cli.race, &interrupt),
        Some(Command::Race(a)) => race::command(a, &interrupt),
        Some(Command::Scan(a)) => scan::command(a, &interrupt),
        Some(Command::Simnet(a)) => serve::command(a, &interrupt),
        Some(Command::Check(a)) => check::command(a, &interrupt),
        Some(Command::RunMeasured(a)) => process::measured(a, &interrupt),
        Some(Command::Merge(a)) => merge::command(a),
        Some(Command::RaceServers(w)) => {
            race::servers::child(&w, &interrupt).map(|()| ExitCode::SUCCESS)
        }
        Some(Command::MeasureMemory(a)) => {
            memory::child(&a.model, a.timeout, a.max_connections, &interrupt)
                .map(|()| ExitCode::SUCCESS)
        }
    };
    match result {
        Ok(code) => code,
        Err(failure) => {
            crate::note(&format!("wardial: {}", failure.message()));
            ExitCode::from(failure.code())
        }
    }
}

/// clap's errors, as one line and exit code 2; help and version as clap prints them.
fn clap_error(e: clap::Error) -> ExitCode {
    use clap::error::ErrorKind;
    if matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion) {
        let _ = e.print();
        return ExitCode::SUCCESS;
    }
    let rendered = e.render().to_string();
    // The message and any tip, without the usage block that follows them.
    let line: Vec<&str> = rendered
        .lines()
        .map(str::trim)
        .take_while(|l| !l.starts_with("Usage:") && !l.starts_with("For more"))
        .filter(|l| !l.is_empty())
        .collect();
    let line = line.join(" ");
    let line = line.strip_prefix("error: ").unwrap_or(&line);
    crate::note(&format!("wardial: {line} (see wardial --help)"));
    ExitCode::from(2)
}

/// First Ctrl-C: stop starting probes, let those in flight end, print what we have. Second:
/// leave now, whatever the output is doing.
fn install_ctrl_c(interrupt: Stop) {
    static PRESSES: AtomicUsize = AtomicUsize::new(0);
    let _ = ctrlc::set_handler(move || {
        if PRESSES.fetch_add(1, Ordering::SeqCst) == 0 {
            interrupt.stop();
            // Said from another thread: ctrlc runs its handler on one thread, so a handler
            // stuck writing to a stderr nobody reads would never see the second Ctrl-C.
            // (If no thread can be had, the message is skipped: the stop is what matters.)
            let _ = std::thread::Builder::new().spawn(|| {
                crate::note("\nwardial: stopping, waiting for any probes in flight (Ctrl-C again to quit now)")
            });
        } else {
            // No lock on stdout here: the main thread may hold it, blocked writing to a pipe
            // nobody reads. Every line is written and flushed whole, so what was printed
            // stays valid output; `exit` only flushes stdout if nobody holds it.
            std::process::exit(i32::from(INTERRUPTED));
        }
    });
}
