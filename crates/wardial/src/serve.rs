//! `wardial simnet`: the simulated internet in the foreground, for other programs to scan:
//! either a few listeners on 127.0.0.1 that a program reaches through the `Host` header (the
//! mapping `--targets` writes), or, with `--at-addresses`, every host at its own loopback
//! address on one port, which any scanner can scan as it would a network.

use std::io::Write;

use std::process::ExitCode;

use clap::Args;
use wardial_probe::Stop;
use wardial_simnet::addresses::check_files;
use wardial_simnet::{AtAddresses, Behaviour, Simnet, World};

use crate::world::WorldArgs;
use crate::{say, Failure};

/// Connections a simnet at real addresses keeps files for, besides its listeners: as many as
/// the race's default, and more than a Python scanner opens by default.
const CONNECTIONS: usize = 1024;

#[derive(Debug, Args)]
pub struct SimnetArgs {
    #[command(flatten)]
    world: WorldArgs,
    /// Write `vaddr host:port` for every virtual host to FILE
    #[arg(long, value_name = "FILE")]
    targets: Option<String>,
    /// Serve every host at its own loopback address (127.x.y.z) on one port, so that any
    /// program can scan the range directly: refused hosts really refuse, filtered hosts leave
    /// the SYN unanswered (Linux: its loopback device owns all of 127.0.0.0/8)
    #[arg(long)]
    at_addresses: bool,
    /// The port every host listens on with --at-addresses (0: a free one)
    #[arg(long, default_value = "8080", requires = "at_addresses")]
    port: u16,
}

/// Runs `wardial simnet`.
pub fn command(a: SimnetArgs, interrupt: &Stop) -> Result<ExitCode, Failure> {
    let world = a.world.world()?;
    let at = a.at_addresses.then(|| AtAddresses {
        port: a.port,
        connections: CONNECTIONS,
        ..AtAddresses::default()
    });
    run(world, at.as_ref(), a.targets.as_deref(), interrupt)?;
    Ok(ExitCode::SUCCESS)
}

/// Serves `world` until `interrupt` fires: by `Host` header, or `at` real addresses. With
/// `targets_file`, first writes one `vaddr host:port` line per virtual host of the range.
pub fn run(
    world: World,
    at: Option<&AtAddresses>,
    targets_file: Option<&str>,
    interrupt: &Stop,
) -> Result<(), Failure> {
    let sim = match at {
        None => Simnet::start(world),
        Some(at) => {
            // Refused before any socket exists, with the figures.
            check_files(&world, at).map_err(Failure::Usage)?;
            Simnet::start_at_addresses(world, at)
        }
    }
    .map_err(|e| Failure::Run(format!("cannot start the simulated internet: {e}")))?;
    if let Some(path) = targets_file {
        write_targets(&sim, path)
            .map_err(|e| Failure::Usage(format!("cannot write targets file '{path}': {e}")))?;
    }
    say(&match sim.port_at_addresses() {
        Some(port) => banner_at_addresses(&sim, port),
        None => banner(&sim, targets_file),
    });
    while !interrupt.is_stopped() {
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let stats = sim.stats();
    say(&format!(
        "simnet: stopped after {} connections ({} at most at once)\n",
        stats.accepted, stats.peak_open
    ));
    Ok(())
}

/// `vaddr host:port` for every virtual host, to `path`.
fn write_targets(sim: &Simnet, path: &str) -> std::io::Result<()> {
    let mut out = std::io::BufWriter::new(std::fs::File::create(path)?);
    for t in sim.targets() {
        writeln!(out, "{} {}", t.addr, t.dial)?;
    }
    out.flush()
}

/// A host that answers, so that trying the example shows something.
fn example(w: &World) -> std::net::Ipv4Addr {
    w.range
        .iter()
        .find(|a| matches!(w.behaviour(*a), Behaviour::Live { .. }))
        .unwrap_or(w.range.first())
}

/// How many hosts of each behaviour, on one line.
fn census(w: &World) -> String {
    wardial_simnet::world::KINDS
        .iter()
        .zip(w.census())
        .map(|(k, n)| format!("{n} {k}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// What is served at real addresses, where only this machine can reach it, and how to scan it.
fn banner_at_addresses(sim: &Simnet, port: u16) -> String {
    let w = sim.world();
    let filtered = if sim.filtered_unanswered() {
        "leave the SYN unanswered (a full accept queue)"
    } else {
        "accept and never answer (this system answers SYNs past a full queue)"
    };
    format!(
        "simnet: playing {range} ({} hosts, seed {}) at their own addresses on port {port}; Ctrl-C to stop\n\
         listening on the loopback device only: it owns all of 127.0.0.0/8, so no other interface can reach these hosts\n\
         hosts: {}\n\
         refused hosts have no listener (a real refusal); filtered hosts {filtered}\n\
         for example: curl -sv http://{}:{port}/\n\
         or scan it: python3 python/wardial_aiohttp.py {range} --port {port}\n",
        w.range.len(),
        w.seed,
        census(w),
        example(w),
        range = w.range,
    )
}

/// What is served, and how to reach it.
fn banner(sim: &Simnet, targets_file: Option<&str>) -> String {
    let w = sim.world();
    let first = sim.target(example(w));
    let mut text = format!(
        "simnet: playing {} ({} hosts, seed {}) on 127.0.0.1; Ctrl-C to stop\nhosts: {}\nlisteners:\n",
        w.range,
        w.range.len(),
        w.seed,
        census(w)
    );
    for (kind, addr) in sim.listeners() {
        text += &format!("  {kind:<13} {addr}\n");
    }
    text += &format!(
        "to probe virtual host V: connect to the listener it maps to and send 'Host: V'{}\n",
        match targets_file {
            Some(p) => format!("; {p} lists 'V host:port' for every host"),
            None => "; --targets FILE lists 'V host:port' for every host".to_string(),
        }
    );
    text + &format!(
        "for example: curl -sv -H 'Host: {}' http://{}/\n",
        first.addr, first.dial
    )
}
