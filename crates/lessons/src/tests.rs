//! The examples against the simulated internet: what each does is counted by the servers.

use std::net::Ipv4Addr;
use std::time::Duration;

use wardial_probe::{Outcome, Target};
use wardial_simnet::{Behaviour, Mix, Simnet, World};

use super::*;

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime")
}

/// A simnet where every host is of one kind, and `n` of its targets.
fn hosts(kind: &str, latency: Duration, n: u32) -> (Simnet, Vec<Target>) {
    let sim = Simnet::start(World {
        range: "127.80.0.0/24".parse().expect("a block"),
        mix: Mix::only(kind).expect("a behaviour"),
        latencies: vec![latency],
        ..World::default()
    })
    .expect("start the simulated internet");
    let base = u32::from(Ipv4Addr::new(127, 80, 0, 0));
    let targets = (base..base + n)
        .map(|a| sim.target(Ipv4Addr::from(a)))
        .collect();
    (sim, targets)
}

#[test]
fn a_future_that_is_never_awaited_opens_no_connection() {
    let (sim, targets) = hosts("live", Duration::ZERO, 1);
    made_and_dropped(targets[0], Duration::from_secs(5));
    assert_eq!(sim.stats().accepted, 0, "made and dropped: nothing ran");
    let finding = runtime().block_on(probe(targets[0], Duration::from_secs(5)));
    assert!(finding.outcome.is_server());
    assert_eq!(sim.stats().accepted, 1, "awaited: one connection");
}

#[test]
fn join_runs_two_probes_at_once_in_one_task() {
    let (sim, t) = hosts("blackhole", Duration::ZERO, 2);
    let timeout = Duration::from_millis(300);
    let both = runtime().block_on(together(t[0], t[1], timeout));
    assert_eq!(
        both.map(|f| f.outcome),
        [Outcome::Timeout, Outcome::Timeout]
    );
    assert_eq!(sim.stats().peak_open, 2, "both connections open at once");
    // Counted alone: the connections above closed first.
    sim.settle();
    let both = runtime().block_on(one_then_the_other(t[0], t[1], timeout));
    assert_eq!(
        both.map(|f| f.outcome),
        [Outcome::Timeout, Outcome::Timeout]
    );
    assert_eq!(sim.stats().peak_open, 1, "one connection at a time");
}

#[test]
fn select_drops_the_probe_that_lost() {
    let (sim, t) = hosts("blackhole", Duration::ZERO, 1);
    let stop = Notify::new();
    let runtime = runtime();
    // The stop comes once the probe's connection is open.
    let (stopped, ()) = runtime.block_on(async {
        tokio::join!(
            unless_stopped(t[0], Duration::from_secs(30), &stop),
            async {
                for _ in 0..1000 {
                    if sim.stats().accepted > 0 {
                        break;
                    }
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
                stop.notify_one();
            }
        )
    });
    assert!(stopped.is_none(), "the stop came first");
    for _ in 0..1000 {
        if sim.stats().open == 0 {
            break;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    assert_eq!(
        (sim.stats().accepted, sim.stats().open),
        (1, 0),
        "the probe connected, and dropped, closed its socket"
    );
}

#[test]
fn a_stream_keeps_at_most_n_probes_in_flight() {
    let (sim, targets) = hosts("live", Duration::from_millis(30), 32);
    let found = runtime().block_on(at_most(4, targets, Duration::from_secs(5)));
    assert_eq!(found.iter().filter(|f| f.outcome.is_server()).count(), 32);
    let peak = sim.stats().peak_open;
    assert!((2..=4).contains(&peak), "peak {peak}");
}

#[test]
fn spawned_tasks_count_the_servers() {
    let (_sim, targets) = hosts("live", Duration::ZERO, 16);
    let runtime = tokio::runtime::Runtime::new().expect("a multi-thread runtime");
    let servers = runtime.block_on(count_servers(targets, Duration::from_secs(5)));
    assert_eq!(servers, 16);
}

#[test]
fn a_pinned_probe_is_awaited_to_its_end_after_a_select() {
    let (sim, t) = hosts("live", Duration::from_millis(200), 1);
    assert!(matches!(
        sim.world().behaviour(t[0].addr),
        Behaviour::Live { .. }
    ));
    let (finding, waited) = runtime().block_on(patiently(
        t[0],
        Duration::from_secs(5),
        Duration::from_millis(20),
    ));
    assert!(waited, "the host took longer than the patience");
    assert!(finding.outcome.is_server(), "{}", finding.outcome);
    assert_eq!(sim.stats().accepted, 1, "one probe, not started again");
}

#[test]
fn the_exchange_decides_what_each_event_means() {
    let [server, closed, refused, silent] = exchange_by_hand();
    assert_eq!(server.status(), Some(200));
    assert_eq!(
        [closed, refused, silent],
        [Outcome::Closed, Outcome::Refused, Outcome::Timeout]
    );
}
