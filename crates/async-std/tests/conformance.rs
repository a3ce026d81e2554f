use wardial_async_std::AsyncStd;
use wardial_simnet::conformance::{check, check_under_load, Expect};

#[test]
fn async_std_conforms() {
    check(&AsyncStd, Expect::concurrent(8));
}

#[test]
fn async_std_conforms_with_one_connection() {
    check(&AsyncStd, Expect::sequential());
}

#[test]
fn async_std_conforms_with_many_connections() {
    check(&AsyncStd, Expect::concurrent(512));
}

#[test]
fn async_std_does_not_starve_probes_under_load() {
    check_under_load(&AsyncStd, 256, 10_000);
}
