//! Homework task 1: the CIDR iterator is lazy. In a test binary of its own, because it counts
//! every allocation the process makes: no other test may run beside it.

use std::alloc::System;
use std::net::Ipv4Addr;

use stats_alloc::{Region, StatsAlloc, INSTRUMENTED_SYSTEM};
use wardial_probe::Cidr;

#[global_allocator]
static ALLOCATOR: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

#[test]
fn task1_is_lazy() {
    // Walking the start of the whole IPv4 space allocates nothing: the addresses are computed
    // one at a time, never stored. The counter sees every thread of the process, and the test
    // harness's own threads may allocate now and then: so the walk is tried three times, and
    // one try without an allocation proves it. (An iterator that stores its addresses
    // allocates in every try.)
    let all: Cidr = "0.0.0.0/0".parse().unwrap();
    let fewest = (0..3)
        .map(|_| {
            let region = Region::new(ALLOCATOR);
            let mut it = all.iter();
            let mut last = None;
            for _ in 0..100_000 {
                last = it.next();
            }
            assert_eq!(last, Some(Ipv4Addr::new(0, 1, 134, 159)));
            region.change().allocations
        })
        .min()
        .unwrap_or(0);
    assert_eq!(fewest, 0, "the iterator allocated {fewest} times");
}
