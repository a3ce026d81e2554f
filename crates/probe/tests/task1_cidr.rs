//! Homework task 1: the lazy CIDR iterator (`CidrIter` in `src/cidr.rs`).
//!
//! In the Python course this was a generator; in Rust a generator becomes an `Iterator`: a
//! struct that remembers where it is and computes one address per call to `next`.
#![allow(unsafe_code)] // the allocation counter below needs `unsafe impl GlobalAlloc`

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::net::Ipv4Addr;

use wardial_probe::Cidr;

/// Counts allocations made by each thread (tests run on several at once).
struct Counting;

thread_local! {
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
}

fn allocations() -> usize {
    ALLOCATIONS.with(Cell::get)
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let _ = ALLOCATIONS.try_with(|n| n.set(n.get() + 1));
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

fn net(s: &str) -> Cidr {
    s.parse().unwrap()
}

#[test]
fn task1_counts_match_the_course() {
    assert_eq!(net("104.154.0.0/15").iter().count(), 131072);
    assert_eq!(net("134.173.0.0/16").iter().count(), 65536);
    assert_eq!(net("175.45.176.0/22").iter().count(), 1024);
}

#[test]
fn task1_first_and_last_addresses() {
    let mut it = net("134.173.55.0/16").iter();
    assert_eq!(it.next(), Some(Ipv4Addr::new(134, 173, 0, 0)));
    assert_eq!(it.next(), Some(Ipv4Addr::new(134, 173, 0, 1)));
    assert_eq!(it.next_back(), Some(Ipv4Addr::new(134, 173, 255, 255)));
    let top: Vec<_> = net("255.255.255.254/31").iter().collect();
    assert_eq!(
        top,
        [Ipv4Addr::new(255, 255, 255, 254), Ipv4Addr::BROADCAST]
    );
    assert_eq!(
        net("10.0.0.7/32").iter().collect::<Vec<_>>(),
        [Ipv4Addr::new(10, 0, 0, 7)]
    );
}

#[test]
fn task1_is_lazy() {
    // Walking the start of the whole IPv4 space allocates nothing: the addresses are computed
    // one at a time, never stored.
    let all = net("0.0.0.0/0");
    let before = allocations();
    let mut it = all.iter();
    let mut last = None;
    for _ in 0..100_000 {
        last = it.next();
    }
    let allocated = allocations() - before;
    assert_eq!(last, Some(Ipv4Addr::new(0, 1, 134, 159)));
    assert_eq!(allocated, 0, "the iterator allocated {allocated} times");
}
