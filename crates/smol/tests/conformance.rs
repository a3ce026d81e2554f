use wardial_simnet::conformance::{check, check_quick, check_under_load, Expect};
use wardial_smol::Smol;

#[test]
fn smol_conforms() {
    check(&Smol::default(), Expect::concurrent(8));
}

#[test]
fn smol_conforms_with_one_connection() {
    check(&Smol::default(), Expect::sequential());
}

#[test]
fn smol_conforms_with_many_connections() {
    check(&Smol::default(), Expect::concurrent(512));
}

#[test]
fn smol_does_not_starve_probes_under_load() {
    check_under_load(&Smol::default(), 256, 10_000);
}

#[test]
fn scan_works_when_called_from_async_code() {
    smol::block_on(async { check_quick(&Smol::default()) });
    // From a task on smol's own global executor, whose one thread this call blocks.
    smol::block_on(smol::spawn(async { check_quick(&Smol::default()) }));
    let outer = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    outer.block_on(async { check_quick(&Smol::default()) });
}
