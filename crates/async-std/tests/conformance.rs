use wardial_async_std::AsyncStd;
use wardial_simnet::conformance::{check, check_quick, check_under_load, Expect};

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

#[test]
fn scan_works_when_called_from_async_code() {
    async_std::task::block_on(async { check_quick(&AsyncStd) });
    let outer = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    outer.block_on(async { check_quick(&AsyncStd) });
}
