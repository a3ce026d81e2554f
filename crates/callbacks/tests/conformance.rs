use wardial_callbacks::Callbacks;
use wardial_simnet::conformance::{check, check_under_load, Expect};

#[test]
fn callbacks_conform() {
    check(&Callbacks, Expect::concurrent(8));
}

#[test]
fn callbacks_conform_with_one_connection() {
    check(&Callbacks, Expect::sequential());
}

#[test]
fn callbacks_conform_with_many_connections() {
    // More connections than hosts: the whole range in flight at once.
    check(&Callbacks, Expect::concurrent(512));
}

#[test]
fn callbacks_do_not_starve_probes_under_load() {
    check_under_load(&Callbacks, 256, 10_000);
}
