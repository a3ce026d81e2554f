//! Homework task 1: the lazy CIDR iterator (`CidrIter` in `src/cidr.rs`).
//!
//! In the Python course this was a generator; in Rust a generator becomes an `Iterator`: a
//! struct that remembers where it is and computes one address per call to `next`.

use std::net::Ipv4Addr;

use wardial_probe::Cidr;

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
fn task1_next_back_moves_towards_the_front() {
    // Taken a few at a time, so a `next_back` that never moves fails here with a message
    // instead of `.rev()` running forever.
    let mut from_the_back = net("10.0.0.0/30").iter().rev();
    let mut seen = Vec::new();
    for _ in 0..5 {
        match from_the_back.next() {
            Some(addr) => {
                assert!(
                    !seen.contains(&addr),
                    "next_back returned {addr} twice: it must move `end` down, or `.rev()` never ends"
                );
                seen.push(addr);
            }
            None => break,
        }
    }
    let expected: Vec<Ipv4Addr> = (0..4).rev().map(|i| Ipv4Addr::new(10, 0, 0, i)).collect();
    assert_eq!(
        seen, expected,
        "`.rev()` goes from the last address to the first, then ends"
    );
    // Both ends meet in the middle: nothing twice, nothing missed.
    let mut it = net("10.0.0.0/30").iter();
    let (a, b, c, d) = (it.next(), it.next_back(), it.next(), it.next_back());
    assert_eq!(
        [a, b, c, d, it.next(), it.next_back()],
        [
            Some(Ipv4Addr::new(10, 0, 0, 0)),
            Some(Ipv4Addr::new(10, 0, 0, 3)),
            Some(Ipv4Addr::new(10, 0, 0, 1)),
            Some(Ipv4Addr::new(10, 0, 0, 2)),
            None,
            None
        ],
        "next and next_back share the block: each address once"
    );
}
