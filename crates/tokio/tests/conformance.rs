use wardial_simnet::conformance::{check, check_under_load, Expect};
use wardial_tokio::Tokio;

#[test]
fn tokio_conforms() {
    check(&Tokio::multi_thread(), Expect::concurrent(8));
}

#[test]
fn tokio_current_thread_conforms() {
    check(&Tokio::current_thread(), Expect::concurrent(8));
}

#[test]
fn tokio_conforms_with_one_connection() {
    check(&Tokio::current_thread(), Expect::sequential());
}

#[test]
fn tokio_conforms_with_many_connections() {
    check(&Tokio::multi_thread(), Expect::concurrent(512));
}

#[test]
fn one_runtime_serves_many_scans() {
    // The runtime is built once and reused: scanning twice with one probe works.
    let probe = Tokio::current_thread();
    check(&probe, Expect::concurrent(4));
    check(&probe, Expect::concurrent(16));
}

#[test]
fn tokio_current_thread_does_not_starve_probes_under_load() {
    check_under_load(&Tokio::current_thread(), 256, 10_000);
}

#[test]
fn tokio_does_not_starve_probes_under_load() {
    check_under_load(&Tokio::multi_thread(), 256, 10_000);
}
