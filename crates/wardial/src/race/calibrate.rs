//! The calibration: what one probe costs this machine when nothing waits, model by model.

use std::time::Duration;

use wardial_probe::{Probe, ScanConfig, Stop};
use wardial_simnet::Simnet;

/// How many hosts the calibration scans (fewer if the race has fewer): enough that a model's
/// fixed costs (a runtime, a thread pool) are spread thin, few enough to take well under a
/// second per model.
pub const CALIBRATION_HOSTS: u64 = 1024;

/// The calibration of one model: its time per probe over `hosts` hosts that answer at once.
pub fn calibrate(
    model: &dyn Probe,
    sim: &Simnet,
    hosts: u64,
    max_connections: usize,
    timeout: Duration,
    interrupt: &Stop,
) -> f64 {
    sim.settle();
    let config = ScanConfig::new(timeout, max_connections).with_stop(interrupt.clone());
    let summary = model.scan(
        &mut sim.targets().take(hosts as usize),
        &config,
        &mut |_| {},
    );
    summary.elapsed.as_secs_f64() / summary.completed.max(1) as f64
}
