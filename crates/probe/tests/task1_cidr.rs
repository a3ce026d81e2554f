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
