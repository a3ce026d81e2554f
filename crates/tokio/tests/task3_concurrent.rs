//! Homework task 3: make the sequential `await` loop concurrent. Graded by the simnet's count
//! of connections open at once, not by a stopwatch: more than one, never more than allowed;
//! each probe in a task of its own; the targets taken as probes can start, never collected.

use std::time::Duration;

use wardial_probe::{Probe, ScanConfig};
use wardial_simnet::conformance::{check, Expect};
use wardial_simnet::{Mix, Simnet, World};
use wardial_tokio::Tokio;

#[test]
fn task3_probes_run_concurrently_within_the_limit() {
    // Also the stop check: it scans 0.0.0.0/0, and says so if the targets are collected first.
    check(&Tokio::current_thread(), Expect::concurrent(8));
}

#[test]
fn task3_each_probe_runs_in_a_task_of_its_own() {
    let sim = Simnet::start(World {
        range: "127.78.0.0/26".parse().unwrap(),
        mix: Mix::all_live(),
        latencies: vec![Duration::from_millis(20)],
        ..World::default()
    })
    .unwrap();
    // While findings arrive, how many spawned tasks does the runtime hold? With a task per
    // probe, as many as the probes in flight; with every probe polled inside the scan's own
    // future, none.
    let mut most = 0;
    Tokio::current_thread().scan(
        &mut sim.targets(),
        &ScanConfig::new(Duration::from_secs(2), 16),
        &mut |_| {
            if let Ok(runtime) = tokio::runtime::Handle::try_current() {
                most = most.max(runtime.metrics().num_alive_tasks());
            }
        },
    );
    assert!(
        most > 1,
        "{} while probes were in flight: every probe ran inside the scan's one task. One task \
         polling many sockets runs out of tokio's cooperative budget and leaves some unpolled \
         for long stretches (see the async chapter): spawn a task per probe",
        match most {
            0 => "no spawned task was alive".to_string(),
            n => format!("only {n} spawned task was alive"),
        }
    );
}
