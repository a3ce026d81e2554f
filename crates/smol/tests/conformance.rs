use wardial_simnet::conformance::{check, Expect};
use wardial_smol::Smol;

#[test]
fn smol_conforms() {
    check(&Smol, Expect::concurrent(8));
}

#[test]
fn smol_conforms_with_one_connection() {
    check(&Smol, Expect::sequential());
}

#[test]
fn smol_conforms_with_many_connections() {
    check(&Smol, Expect::concurrent(512));
}
