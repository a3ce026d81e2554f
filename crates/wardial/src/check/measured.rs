//! The hidden `wardial run-measured`, which runs one command and reports what it cost, and
//! the reading of its report.
//!
//! What it cost comes from the kernel's accounting of a finished child (`getrusage` with
//! `RUSAGE_CHILDREN`): CPU time, user and system, of the command and everything it started,
//! and the peak resident memory of the largest of them. That accounting is per process and
//! cumulative (and its peak is the largest of all children ever waited for), so each command
//! runs under a small helper of its own, this same program (`wardial run-measured`): the
//! helper's only child is the command, and what the helper reads after waiting for it is the
//! command's and nothing else's. Unix only; elsewhere the command runs without figures.

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::Duration;

use clap::Args;
use serde::{Deserialize, Serialize};
use wardial_probe::Stop;

use super::group::{kill_group, own_group};
use super::outcome::{ended, Ended, Usage};
use crate::watchdog::watchdog;
use crate::Failure;

/// What the helper wrote: the figures, and whether it stopped the command (then the run ended
/// at its deadline or by Ctrl-C, not by itself).
#[derive(Debug, Serialize, Deserialize)]
struct Measured {
    usage: Usage,
    stopped: bool,
    /// How the command itself ended, as the helper saw it.
    code: Option<i32>,
    signal: Option<i32>,
}

/// The helper's report at `report`: what the command cost; and `ended` corrected to how the
/// command itself ended, which the helper's own exit stands for.
pub(super) fn read_usage(report: &Path, ended: &mut Ended) -> Option<Usage> {
    let text = std::fs::read_to_string(report).ok()?;
    let measured: Measured = serde_json::from_str(&text).ok()?;
    // The helper's exit code stands for its command's; say how the command really ended.
    match (measured.stopped, measured.code, measured.signal, &*ended) {
        (true, ..) if *ended != Ended::Interrupted => *ended = Ended::Deadline,
        (false, Some(code), _, _) => *ended = Ended::Exited(code),
        (false, None, Some(signal), _) => *ended = Ended::Signalled(signal),
        _ => {}
    }
    Some(measured.usage)
}

/// The arguments of the hidden `wardial run-measured`, which runs a command and reports what
/// it cost (see the module's documentation).
#[derive(Debug, Args)]
pub struct RunMeasuredArgs {
    /// Where to write the figures (JSON)
    #[arg(long)]
    out: PathBuf,
    /// Stop the command after this long
    #[arg(long, value_parser = crate::args::duration)]
    deadline: Duration,
    /// The command and its arguments
    #[arg(last = true, required = true)]
    command: Vec<String>,
}

/// The helper: runs the command in a process group of its own (so that stopping it stops all
/// it started), stops it at the deadline or on Ctrl-C, and writes what it cost.
pub fn measured(a: RunMeasuredArgs, interrupt: &Stop) -> Result<ExitCode, Failure> {
    let mut command = Command::new(&a.command[0]);
    command.args(&a.command[1..]);
    own_group(&mut command);
    let mut child = command
        .spawn()
        .map_err(|e| Failure::Run(format!("cannot start {}: {e}", a.command[0])))?;
    // The same condition as a scan's: Ctrl-C or the deadline, whichever comes first.
    let stop = Stop::new();
    let dog = watchdog(stop.clone(), interrupt.clone(), Some(a.deadline));
    let mut stopped = false;
    let status = loop {
        if let Some(status) = child.try_wait().ok().flatten() {
            break status;
        }
        if !stopped && stop.is_stopped() {
            stopped = true;
            kill_group(&mut child);
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    drop(dog);
    let measured = Measured {
        usage: children_usage(),
        stopped,
        code: status.code(),
        signal: match ended(Some(status)) {
            Ended::Signalled(signal) => Some(signal),
            _ => None,
        },
    };
    let json = serde_json::to_string(&measured).expect("plain numbers");
    std::fs::write(&a.out, json)
        .map_err(|e| Failure::Run(format!("cannot write {}: {e}", a.out.display())))?;
    Ok(ExitCode::from(
        status.code().unwrap_or(1).clamp(0, 255) as u8
    ))
}

/// The CPU and peak memory of this process's children that have been waited for, as the
/// report gives them (seconds).
fn children_usage() -> Usage {
    crate::usage::Usage::children().map_or_else(Usage::default, |u| Usage {
        user_seconds: u.user.as_secs_f64(),
        system_seconds: u.system.as_secs_f64(),
        voluntary_switches: u.voluntary,
        involuntary_switches: u.involuntary,
        peak_memory_bytes: u.peak_memory_bytes,
    })
}
