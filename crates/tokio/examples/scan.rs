//! The homework's scanner, as the lecture's Python homework was: it scans a network given on
//! the command line, prints each web server it finds, then `total ips found = N` and how long it
//! took. Run it before you start and after each task, and compare the times.
//!
//! Run with: `cargo run --release -p wardial-tokio --example scan -- 127.64.0.0/22`
//!
//! The network is scanned inside the simulated internet: a server on 127.0.0.1 that plays every
//! host of the network, as on the real internet (most never answer; a few are web servers). It
//! plays networks inside 127.0.0.0/8 only, so that nothing this program does can leave this
//! machine. Options: `--timeout MS` (each probe's deadline, 500 by default) and
//! `--max-connections N` (probes at once, 256 by default).

use std::process::ExitCode;
use std::time::{Duration, Instant};

use wardial_probe::{Cidr, Probe, ScanConfig};
use wardial_simnet::{Simnet, World};
use wardial_tokio::Tokio;

const USAGE: &str = "usage: cargo run --release -p wardial-tokio --example scan -- NETWORK [--timeout MS] [--max-connections N]\n  NETWORK: inside 127.0.0.0/8, such as 127.64.0.0/22 (1024 addresses, as the lecture's 175.45.176.0/22)";

struct Args {
    network: Cidr,
    timeout: Duration,
    max_connections: usize,
}

fn parse(mut args: impl Iterator<Item = String>) -> Result<Args, String> {
    let mut network = None;
    let mut timeout = Duration::from_millis(500);
    let mut max_connections = 256;
    while let Some(arg) = args.next() {
        let mut value = |name: &str| {
            let v = args.next().ok_or(format!("{name} needs a value"))?;
            v.parse::<u64>()
                .ok()
                .filter(|n| *n > 0)
                .ok_or(format!("{name} takes a number above 0, not '{v}'"))
        };
        match arg.as_str() {
            "--timeout" => timeout = Duration::from_millis(value("--timeout")?),
            "--max-connections" => max_connections = value("--max-connections")? as usize,
            "-h" | "--help" => return Err(String::new()),
            _ if network.is_none() => {
                let cidr: Cidr = arg.parse().map_err(|e| format!("{e}"))?;
                if !Cidr::LOOPBACK.covers(&cidr) {
                    return Err(format!(
                        "{cidr} is not inside 127.0.0.0/8: the simulated internet plays loopback networks only, so that nothing leaves this machine"
                    ));
                }
                network = Some(cidr);
            }
            _ => return Err(format!("unexpected argument '{arg}'")),
        }
    }
    Ok(Args {
        network: network.ok_or("which network? give one, such as 127.64.0.0/22")?,
        timeout,
        max_connections,
    })
}

/// A `todo!()` that a task has not replaced yet stops the scan: say which, in one line.
fn one_line_panics() {
    std::panic::set_hook(Box::new(|info| {
        let said = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| (*s).to_string())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_default();
        if said.contains("not yet implemented") {
            eprintln!("scan: stopped at a task not done yet ({said}); `cargo xtask grade` says what to do next");
        } else {
            let at = info
                .location()
                .map(|l| format!(" at {l}"))
                .unwrap_or_default();
            eprintln!("scan: the scan panicked{at}: {said}");
        }
    }));
}

fn main() -> ExitCode {
    let args = match parse(std::env::args().skip(1)) {
        Ok(args) => args,
        Err(e) if e.is_empty() => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("scan: {e}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let world = World {
        range: args.network,
        ..World::default()
    };
    let sim = match Simnet::start(world) {
        Ok(sim) => sim,
        Err(e) => {
            eprintln!("scan: cannot start the simulated internet on 127.0.0.1: {e}");
            return ExitCode::FAILURE;
        }
    };
    println!(
        "scanning {} ({} addresses) in the simulated internet: timeout {} ms, up to {} at once",
        args.network,
        args.network.len(),
        args.timeout.as_millis(),
        args.max_connections
    );
    one_line_panics();
    let config = ScanConfig::new(args.timeout, args.max_connections);
    let started = Instant::now();
    let scanned = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        Tokio::current_thread().scan(&mut sim.targets(), &config, &mut |f| {
            if f.outcome.is_server() {
                println!("server at http://{} ({})", f.target.addr, f.outcome);
            }
        })
    }));
    let Ok(summary) = scanned else {
        return ExitCode::FAILURE;
    };
    println!("total ips found = {}", summary.servers);
    println!(
        "time: {:.2} s for {} addresses",
        started.elapsed().as_secs_f64(),
        summary.completed
    );
    ExitCode::SUCCESS
}
