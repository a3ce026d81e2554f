//! The conformance suite: one call that checks any [`Probe`] against the simnet's ground truth.
//!
//! Every model crate runs it in its tests:
//!
//! ```no_run
//! # struct MyProbe;
//! # impl wardial_probe::Probe for MyProbe {
//! #     fn name(&self) -> &'static str { "mine" }
//! #     fn scan(&self, _: wardial_probe::Targets<'_>, c: &wardial_probe::ScanConfig,
//! #             _: &mut dyn FnMut(wardial_probe::Finding)) -> wardial_probe::ScanSummary {
//! #         Default::default()
//! #     }
//! # }
//! use wardial_simnet::conformance::{check, Expect};
//! check(&MyProbe, Expect::concurrent(8));
//! ```

use std::collections::HashMap;
use std::fmt::Write;
use std::net::Ipv4Addr;
use std::time::Duration;

use wardial_probe::{Cidr, Finding, Probe, ScanConfig};

use crate::world::{Mix, World, KINDS};
use crate::Simnet;

/// What a model promises.
#[derive(Debug, Clone)]
pub struct Expect {
    pub max_connections: usize,
    /// Whether the model runs probes at once: then the peak of open connections must exceed 1.
    /// A sequential model must never have more than one open.
    pub concurrent: bool,
    /// The size of the range scanned, as a prefix length (26 = 64 hosts).
    pub prefix: u8,
    pub timeout: Duration,
}

impl Expect {
    /// A model that does one probe at a time.
    pub fn sequential() -> Expect {
        Expect {
            max_connections: 1,
            concurrent: false,
            // 32 hosts: about a third of them wait out the timeout, one after the other.
            prefix: 27,
            timeout: Duration::from_millis(300),
        }
    }

    /// A model that keeps up to `max_connections` probes in flight.
    pub fn concurrent(max_connections: usize) -> Expect {
        Expect {
            max_connections,
            concurrent: true,
            prefix: 25,
            timeout: Duration::from_millis(300),
        }
    }
}

/// A world with every behaviour, a latency spread that puts some live hosts past the timeout,
/// and a trickle slow enough that only a total deadline (not a per-read timeout) stops it.
pub fn hostile_world(range: Cidr, timeout: Duration) -> World {
    let mut seed = 7;
    loop {
        let world = World {
            seed,
            range,
            mix: Mix::every_behaviour(),
            latencies: vec![
                Duration::ZERO,
                timeout / 30,
                timeout / 10,
                timeout * 10, // a live host too slow to answer in time
            ],
            trickle_interval: timeout / 4,
        };
        // Fix the seed for this range so that every behaviour, and a slow live host, is present.
        let slow = range.iter().any(|a| {
            matches!(world.behaviour(a), crate::Behaviour::Live { latency, .. } if latency >= timeout)
        });
        if world.census().iter().all(|&n| n > 0) && slow {
            return world;
        }
        seed += 1;
    }
}

/// Runs the suite against `probe`; panics with a report of every violation.
///
/// Checks: each target reported exactly once; each outcome equal to the ground truth; each probe
/// ended near its deadline; open connections never above `max_connections` (and above one for a
/// concurrent model, exactly one for a sequential one); a stop ends a scan of `0.0.0.0/0`
/// after a few targets; a scan stopped before it starts probes nothing.
pub fn check(probe: &dyn Probe, expect: Expect) {
    let range = Cidr::new(Ipv4Addr::new(127, 77, 0, 0), expect.prefix);
    let world = hostile_world(range, expect.timeout);
    let sim = Simnet::start(world).expect("start the simnet");
    let mut problems = String::new();
    let name = probe.name();

    // 1. The whole range, against the ground truth.
    let config = ScanConfig::new(expect.timeout, expect.max_connections);
    let mut found: Vec<Finding> = Vec::new();
    let summary = probe.scan(&mut sim.targets(), &config, &mut |f| found.push(f));
    let stats = sim.stats();

    let mut seen: HashMap<Ipv4Addr, usize> = HashMap::new();
    for f in &found {
        *seen.entry(f.target.addr).or_default() += 1;
        let want = sim.expected(f.target.addr, expect.timeout);
        if f.outcome != want {
            let _ = writeln!(
                problems,
                "{}: got {} but the host is {} (expected {want})",
                f.target.addr,
                f.outcome,
                sim.world().behaviour(f.target.addr).name()
            );
        }
        // Loose on purpose: this catches a probe held by a hostile peer, not a slow machine.
        if f.elapsed > expect.timeout + Duration::from_secs(2) {
            let _ = writeln!(
                problems,
                "{}: took {:?}, past its {:?} deadline",
                f.target.addr, f.elapsed, expect.timeout
            );
        }
    }
    for addr in range {
        match seen.get(&addr).copied().unwrap_or(0) {
            1 => {}
            n => {
                let _ = writeln!(problems, "{addr}: reported {n} times, want exactly once");
            }
        }
    }
    if summary.completed != found.len() as u64 || summary.stopped {
        let _ = writeln!(
            problems,
            "summary says {} completed (stopped: {}), but {} findings arrived",
            summary.completed,
            summary.stopped,
            found.len()
        );
    }
    if stats.peak_open > expect.max_connections {
        let _ = writeln!(
            problems,
            "peak open connections {} > max_connections {}",
            stats.peak_open, expect.max_connections
        );
    }
    if expect.concurrent && stats.peak_open <= 1 {
        let _ = writeln!(
            problems,
            "peak open connections {}: the scan never ran two probes at once",
            stats.peak_open
        );
    }
    if !expect.concurrent && stats.peak_open != 1 {
        let _ = writeln!(
            problems,
            "peak open connections {}: a sequential model must have exactly one open",
            stats.peak_open
        );
    }

    // 2. Stop: a scan of the whole IPv4 space (lazily: nothing holds 2^32 targets), stopped
    //    from the findings callback after a few. Every target still dials the simnet.
    let config = ScanConfig::new(expect.timeout, expect.max_connections);
    let stop = config.stop.clone();
    let mut all = sim.targets_of(Cidr::new(Ipv4Addr::UNSPECIFIED, 0));
    let mut n = 0u64;
    let summary = probe.scan(&mut all, &config, &mut |_| {
        n += 1;
        if n == 5 {
            stop.stop();
        }
    });
    let most = 5 + expect.max_connections as u64;
    if !summary.stopped || n < 5 || n > most || summary.completed != n {
        let _ = writeln!(
            problems,
            "stop after 5 findings: got {n} findings, summary {summary:?}; want 5..={most} and stopped"
        );
    }

    // 3. A scan stopped before it starts probes nothing.
    let config = ScanConfig::new(expect.timeout, expect.max_connections);
    config.stop.stop();
    sim.reset_stats();
    let summary = probe.scan(&mut sim.targets(), &config, &mut |_| {});
    if summary.completed != 0 || sim.stats().accepted != 0 {
        let _ = writeln!(
            problems,
            "a scan stopped before it started probed {} targets",
            summary.completed
        );
    }

    let census = sim.world().census();
    assert!(
        problems.is_empty(),
        "model '{name}' fails the conformance suite on {range} ({}):\n{problems}",
        KINDS
            .iter()
            .zip(census)
            .map(|(k, n)| format!("{n} {k}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
}

/// A scan under load: thousands of hosts that all answer at once, through `max_connections`.
/// Every one must be reported as a server. A model that leaves some of its probes unpolled
/// while others run (starvation) reports them as timeouts here, though no host was slow.
pub fn check_under_load(probe: &dyn Probe, max_connections: usize, hosts: u32) {
    let world = World {
        range: Cidr::new(Ipv4Addr::new(127, 78, 0, 0), 16),
        mix: Mix::all_live(),
        latencies: vec![Duration::ZERO],
        ..World::default()
    };
    let sim = Simnet::start(world).expect("start the simnet");
    // Generous for a host that answers at once, even in a debug build on a busy machine.
    let config = ScanConfig::new(Duration::from_millis(400), max_connections);
    let mut wrong = Vec::new();
    let summary = probe.scan(&mut sim.targets().take(hosts as usize), &config, &mut |f| {
        if !f.outcome.is_server() {
            wrong.push(format!(
                "{}: {} after {:?}",
                f.target.addr, f.outcome, f.elapsed
            ));
        }
    });
    assert_eq!(summary.completed, u64::from(hosts), "every host reported");
    assert!(
        wrong.is_empty(),
        "model '{}' under load ({hosts} hosts answering at once, {max_connections} connections): {} probes failed, e.g. {:?}",
        probe.name(),
        wrong.len(),
        &wrong[..wrong.len().min(5)]
    );
    assert!(sim.stats().peak_open <= max_connections);
}
