//! `wardial simnet`: the simulated internet in the foreground, for other programs to scan.

use std::io::Write;

use std::process::ExitCode;

use clap::Args;
use wardial_probe::Stop;
use wardial_simnet::{Simnet, World};

use crate::world::WorldArgs;
use crate::Failure;

#[derive(Debug, Args)]
pub struct SimnetArgs {
    #[command(flatten)]
    world: WorldArgs,
    /// Write `vaddr host:port` for every virtual host to FILE
    #[arg(long, value_name = "FILE")]
    targets: Option<String>,
}

/// Runs `wardial simnet`.
pub fn command(a: SimnetArgs, interrupt: &Stop) -> Result<ExitCode, Failure> {
    run(a.world.world()?, a.targets.as_deref(), interrupt)?;
    Ok(ExitCode::SUCCESS)
}

/// Serves `world` until `interrupt` fires. With `targets_file`, first writes one
/// `vaddr host:port` line per virtual host of the range.
pub fn run(world: World, targets_file: Option<&str>, interrupt: &Stop) -> Result<(), Failure> {
    let sim = Simnet::start(world)
        .map_err(|e| Failure::Run(format!("cannot start the simulated internet: {e}")))?;
    if let Some(path) = targets_file {
        write_targets(&sim, path)
            .map_err(|e| Failure::Usage(format!("cannot write targets file '{path}': {e}")))?;
    }
    banner(&sim, targets_file);
    while !interrupt.is_stopped() {
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let stats = sim.stats();
    println!(
        "simnet: stopped after {} connections ({} at most at once)",
        stats.accepted, stats.peak_open
    );
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

/// What is served, and how to reach it.
fn banner(sim: &Simnet, targets_file: Option<&str>) {
    let w = sim.world();
    // The example names a host that answers, so trying it shows something.
    let example = w
        .range
        .iter()
        .find(|a| matches!(w.behaviour(*a), wardial_simnet::Behaviour::Live { .. }))
        .unwrap_or(w.range.first());
    let first = sim.target(example);
    println!(
        "simnet: playing {} ({} hosts, seed {}) on 127.0.0.1; Ctrl-C to stop",
        w.range,
        w.range.len(),
        w.seed
    );
    println!(
        "hosts: {}",
        wardial_simnet::world::KINDS
            .iter()
            .zip(w.census())
            .map(|(k, n)| format!("{n} {k}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    println!("listeners:");
    for (kind, addr) in sim.listeners() {
        println!("  {kind:<13} {addr}");
    }
    println!(
        "to probe virtual host V: connect to the listener it maps to and send 'Host: V'{}",
        match targets_file {
            Some(p) => format!("; {p} lists 'V host:port' for every host"),
            None => "; --targets FILE lists 'V host:port' for every host".to_string(),
        }
    );
    println!(
        "for example: curl -sv -H 'Host: {}' http://{}/",
        first.addr, first.dial
    );
    let _ = std::io::stdout().flush();
}
