//! A scan of the whole IPv4 space starts at once and stops after a few targets, without the
//! range (or its results) ever being held in memory. Every target dials the simnet.

use std::net::Ipv4Addr;
use std::time::Duration;

use peak_alloc::PeakAlloc;
use wardial_blocking::Blocking;
use wardial_probe::{Cidr, Probe, ScanConfig};
use wardial_simnet::{Mix, Simnet, World};

/// Counts the bytes live on the heap, and their peak (for the whole process: this file holds
/// one test).
#[global_allocator]
static ALLOCATOR: PeakAlloc = PeakAlloc;

#[test]
fn scan_of_slash_zero_stops_after_a_few_targets_without_allocating_the_range() {
    let sim = Simnet::start(World {
        mix: Mix::all_live(),
        latencies: vec![Duration::ZERO],
        ..World::default()
    })
    .unwrap();
    let everything = Cidr::new(Ipv4Addr::UNSPECIFIED, 0);
    assert_eq!(everything.len(), 1 << 32);

    let config = ScanConfig::new(Duration::from_secs(2), 1);
    let stop = config.stop().clone();
    let mut targets = sim.targets_of(everything);
    let before = ALLOCATOR.current_usage();
    ALLOCATOR.reset_peak_usage();
    let mut seen = Vec::new();
    let summary = Blocking.scan(&mut targets, &config, &mut |f| {
        seen.push(f.target.addr);
        if seen.len() == 3 {
            stop.stop();
        }
    });
    let grew = ALLOCATOR.peak_usage().saturating_sub(before);

    assert!(summary.stopped);
    assert_eq!(summary.completed, 3);
    assert_eq!(
        seen,
        [[0, 0, 0, 0], [0, 0, 0, 1], [0, 0, 0, 2]].map(Ipv4Addr::from)
    );
    // 2^32 targets would be tens of GiB; a few probes need a few KiB (their buffers, the
    // request, the findings collected here).
    assert!(grew < 256 * 1024, "the heap grew by {grew} bytes");
    assert_eq!(sim.stats().accepted, 3);
}
