//! Homework task 1: the CIDR iterator is lazy. In a test binary of its own, because it counts
//! every allocation the process makes: no other test may run beside it.

use std::alloc::System;
use std::net::Ipv4Addr;
use std::time::Duration;

use stats_alloc::{Region, StatsAlloc, INSTRUMENTED_SYSTEM};
use wardial_probe::Cidr;
use wardial_testkit::within;

#[global_allocator]
static ALLOCATOR: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

#[test]
fn task1_is_lazy() {
    // Walking the start of the whole IPv4 space allocates nothing: the addresses are computed
    // one at a time, never stored. The counter sees every thread of the process, and the test
    // harness's own threads may allocate now and then: so the walk is tried three times, and
    // one try without an allocation proves it. (An iterator that stores its addresses
    // allocates in every try.)
    // A /16 first: an iterator that builds its block allocates here, on 65 536 addresses,
    // and the test says so before it would build the 2^32 of 0.0.0.0/0.
    for (block, walk, last) in [
        ("10.0.0.0/16", 65_536, Ipv4Addr::new(10, 0, 255, 255)),
        ("0.0.0.0/0", 100_000, Ipv4Addr::new(0, 1, 134, 159)),
    ] {
        let fewest = within(
            Duration::from_secs(30),
            &format!("walking {walk} addresses of {block} never ended: does each call to `next` compute one address, or does it build the whole block first?"),
            move || fewest_allocations(block, walk, last),
        );
        assert_eq!(
            fewest, 0,
            "walking {block}, the iterator allocated {fewest} times: compute each address from the two integers, store none"
        );
    }
}

/// The fewest allocations the process made in three walks of the first `walk` addresses of
/// `block`, the last of which must be `last`.
fn fewest_allocations(block: &str, walk: usize, last: Ipv4Addr) -> usize {
    let block: Cidr = block.parse().unwrap();
    (0..3)
        .map(|_| {
            let region = Region::new(ALLOCATOR);
            let mut it = block.iter();
            let mut seen = None;
            for _ in 0..walk {
                seen = it.next();
            }
            assert_eq!(seen, Some(last));
            region.change().allocations
        })
        .min()
        .unwrap_or(0)
}
