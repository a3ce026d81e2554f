//! Homework task 2: the async probe. One probe at a time here (the scan is task 3): every
//! behaviour of the simulated internet, each judged by the shared exchange, each within a
//! total deadline.

use std::time::Duration;

use wardial_probe::{Outcome, Target};
use wardial_simnet::conformance::{check, Expect};
use wardial_tokio::{probe, Tokio};

#[test]
fn task2_every_kind_of_host_gets_the_right_answer() {
    check(&Tokio::current_thread(), Expect::sequential());
}

#[test]
fn task2_a_silent_host_ends_at_the_deadline() {
    // Accepts (the kernel does, into the backlog) and never answers.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let target = Target::direct(
        std::net::Ipv4Addr::LOCALHOST,
        silent.local_addr().unwrap().port(),
    );
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let timeout = Duration::from_millis(200);
    let finding = runtime.block_on(probe(target, timeout));
    assert_eq!(
        finding.outcome,
        Outcome::Timeout,
        "a host that accepts and never answers: the probe must give up at its deadline \
         (tokio::time::timeout around the whole exchange) and ask the exchange (on_deadline)"
    );
    assert!(
        finding.elapsed >= timeout && finding.elapsed < timeout * 5,
        "took {:?} for a {timeout:?} deadline",
        finding.elapsed
    );
}
