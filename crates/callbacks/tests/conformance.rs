use wardial_callbacks::Callbacks;
use wardial_simnet::conformance::{check, Expect};

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
