//! Homework task 1: the lazy CIDR iterator (`CidrIter` in `src/cidr.rs`).
//!
//! In the Python course this was a generator; in Rust a generator becomes an `Iterator`: a
//! struct that remembers where it is and computes one address per call to `next`.
//!
//! Every test takes at most a bounded number of addresses, and runs within a time limit: an
//! iterator that never ends fails with a message instead of running forever.

use std::net::Ipv4Addr;
use std::time::Duration;

use wardial_probe::Cidr;
use wardial_testkit::within;

const LIMIT: Duration = Duration::from_secs(30);
const HUNG: &str = "a call to `next` or `next_back` never returned: each call computes one address from the two integers and returns";

fn net(s: &str) -> Cidr {
    s.parse().unwrap()
}

/// How many addresses the block yields, counting at most one past `expected`.
fn count(block: &str, expected: usize) -> usize {
    net(block).iter().take(expected + 1).count()
}

#[test]
fn task1_counts_match_the_course() {
    within(LIMIT, HUNG, || {
        for (block, expected) in [
            ("104.154.0.0/15", 131072),
            ("134.173.0.0/16", 65536),
            ("175.45.176.0/22", 1024),
            ("10.0.0.7/32", 1),
        ] {
            let n = count(block, expected);
            assert!(
                n <= expected,
                "{block} went on past its last address: `next` must return None once `next` reaches `end`"
            );
            assert_eq!(n, expected, "{block} holds {expected} addresses");
        }
    });
}

#[test]
fn task1_first_and_last_addresses() {
    within(LIMIT, HUNG, || {
        let mut it = net("134.173.55.0/16").iter();
        assert_eq!(it.next(), Some(Ipv4Addr::new(134, 173, 0, 0)));
        assert_eq!(it.next(), Some(Ipv4Addr::new(134, 173, 0, 1)));
        assert_eq!(it.next_back(), Some(Ipv4Addr::new(134, 173, 255, 255)));
        let top: Vec<_> = net("255.255.255.254/31").iter().take(3).collect();
        assert_eq!(
            top,
            [Ipv4Addr::new(255, 255, 255, 254), Ipv4Addr::BROADCAST],
            "the top of the address space, and no overflow past 255.255.255.255"
        );
        assert_eq!(
            net("10.0.0.7/32").iter().take(2).collect::<Vec<_>>(),
            [Ipv4Addr::new(10, 0, 0, 7)]
        );
    });
}

#[test]
fn task1_next_back_moves_towards_the_front() {
    within(LIMIT, HUNG, || {
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
    });
}
