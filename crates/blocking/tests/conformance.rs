use wardial_blocking::{Blocking, BlockingUreq};
use wardial_simnet::conformance::{check, Expect};

#[test]
fn blocking_conforms() {
    check(&Blocking, Expect::sequential());
}

#[test]
fn blocking_ureq_conforms() {
    check(&BlockingUreq::default(), Expect::sequential());
}
