//! Shared setup for the criterion benches in `benches/`: the workloads (each a simnet started
//! once per group, outside the timed region), one scan of a workload by any model, and the CPU
//! step of the `cpu_bound` group.
//!
//! Set `WARDIAL_BENCH_QUICK=1` (or pass `-- --quick` to `cargo bench`) for a run short enough
//! for class.

use std::net::Ipv4Addr;
use std::time::Duration;

use wardial_probe::{Cidr, Probe, ScanConfig, Target};
use wardial_simnet::{Mix, Simnet, World};

pub use wardial::models;

/// True when a short run is asked for: fewer hosts, fewer samples.
pub fn quick() -> bool {
    std::env::var_os("WARDIAL_BENCH_QUICK").is_some_and(|v| v != "0")
}

/// A simulated range and the settings every model in a group scans it with.
#[derive(Debug)]
pub struct Workload {
    pub sim: Simnet,
    pub timeout: Duration,
    pub max_connections: usize,
}

impl Workload {
    /// Every host live, answering after `latency`.
    pub fn live(latency: Duration, max_connections: usize) -> Workload {
        Workload::start(
            Mix::all_live(),
            vec![latency],
            Duration::from_secs(2),
            max_connections,
        )
    }

    /// The realistic mix: most hosts silent, so the timeout sets the pace.
    pub fn realistic(timeout: Duration, max_connections: usize) -> Workload {
        // Live hosts answer well inside the timeout: a host whose latency is near the deadline
        // makes the ground truth a coin toss on a busy machine.
        let latencies = vec![timeout / 10, timeout / 5, timeout / 3];
        Workload::start(Mix::realistic(), latencies, timeout, max_connections)
    }

    fn start(mix: Mix, latencies: Vec<Duration>, timeout: Duration, max: usize) -> Workload {
        let world = World {
            range: Cidr::new(Ipv4Addr::new(127, 96, 0, 0), 14),
            mix,
            latencies,
            ..World::default()
        };
        Workload {
            sim: Simnet::start(world).expect("start the simnet"),
            timeout,
            max_connections: max,
        }
    }

    /// The first `n` targets of the range.
    pub fn targets(&self, n: usize) -> impl Iterator<Item = Target> + Send + 'static {
        self.sim.targets().take(n)
    }

    /// One scan of the first `hosts` hosts; panics if a host is missed or any outcome is not
    /// the ground truth, so a fast wrong model cannot win a bench.
    pub fn scan(&self, model: &dyn Probe, hosts: usize) {
        self.scan_with(model, hosts, self.max_connections)
    }

    pub fn scan_with(&self, model: &dyn Probe, hosts: usize, max_connections: usize) {
        let config = ScanConfig::new(self.timeout, max_connections);
        let mut wrong = 0;
        let summary = model.scan(&mut self.targets(hosts), &config, &mut |f| {
            wrong += usize::from(
                !self
                    .sim
                    .truth(f.target.addr, self.timeout)
                    .accepts(&f.outcome),
            );
        });
        assert_eq!(
            summary.completed as usize,
            hosts,
            "{}: hosts missed",
            model.name()
        );
        assert_eq!(
            wrong,
            0,
            "{}: outcomes that disagree with the truth",
            model.name()
        );
    }
}

/// About a millisecond of pure computation: the stand-in for "hash the body" in the
/// `cpu_bound` group. Integer mixing, so it neither allocates nor waits.
pub fn cpu_step(seed: u64) -> u64 {
    let mut x = seed | 1;
    for _ in 0..400_000 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
    }
    x
}
