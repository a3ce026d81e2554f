//! A scan of the whole IPv4 space starts at once and stops after a few targets, without the
//! range (or its results) ever being held in memory. Every target dials the simnet.
#![allow(unsafe_code)] // a counting allocator needs `unsafe impl GlobalAlloc`

use std::alloc::{GlobalAlloc, Layout, System};
use std::net::Ipv4Addr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use wardial_blocking::Blocking;
use wardial_probe::{Cidr, Probe, ScanConfig};
use wardial_simnet::{Mix, Simnet, World};

/// Counts the bytes live on the heap, and their peak.
struct Counting;
static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let now = LIVE.fetch_add(layout.size(), Ordering::SeqCst) + layout.size();
        PEAK.fetch_max(now, Ordering::SeqCst);
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size(), Ordering::SeqCst);
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

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
    let before = LIVE.load(Ordering::SeqCst);
    PEAK.store(before, Ordering::SeqCst);
    let mut seen = Vec::new();
    let summary = Blocking.scan(&mut targets, &config, &mut |f| {
        seen.push(f.target.addr);
        if seen.len() == 3 {
            stop.stop();
        }
    });
    let grew = PEAK.load(Ordering::SeqCst) - before;

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
