//! Scans 64 hosts of the simulated internet with this crate's probe and scan, and prints the
//! web servers it found and how long it took: run it before and after each homework task.
//!
//! Run with: `cargo run --release -p wardial-tokio --example scan`
//!
//! Most simulated hosts never answer (as on the real internet), so a scan that waits for one
//! host at a time takes a timeout per silent host; one that waits for many at once takes about
//! one timeout in all.

use std::time::{Duration, Instant};

use wardial_probe::{Probe, ScanConfig};
use wardial_simnet::{Simnet, World};
use wardial_tokio::Tokio;

fn main() {
    let world = World {
        range: "127.64.0.0/26".parse().expect("a CIDR"),
        ..World::default()
    };
    let sim = Simnet::start(world).expect("start the simulated internet on 127.0.0.1");
    let config = ScanConfig::new(Duration::from_millis(500), 64);
    println!("scanning 64 simulated hosts, timeout 500 ms, up to 64 at once...");
    let started = Instant::now();
    let summary = Tokio::current_thread().scan(&mut sim.targets(), &config, &mut |f| {
        if f.outcome.is_server() {
            println!(
                "  server at {} ({}, {} ms)",
                f.target.addr,
                f.outcome,
                f.elapsed.as_millis()
            );
        }
    });
    println!(
        "{} hosts in {:.2} s: {} web server{} found",
        summary.completed,
        started.elapsed().as_secs_f64(),
        summary.servers,
        if summary.servers == 1 { "" } else { "s" }
    );
}
