//! The completion models against the conformance suite. Where io_uring is refused (another OS,
//! or a container's seccomp profile), each test says why and passes without running: there is
//! nothing here to test. On Linux machines that allow it (these do, and CI runs there), they run.

use wardial_simnet::conformance::{check, check_under_load, Expect};
use wardial_uring::{Compio, Unavailable, Uring};

/// The model, or `None` after saying why it cannot run here.
fn available<M>(name: &str, model: Result<M, Unavailable>) -> Option<M> {
    match model {
        Ok(model) => Some(model),
        Err(why) => {
            eprintln!("skipped: {name} is unavailable here: {why}");
            None
        }
    }
}

fn uring() -> Option<Uring> {
    available("uring", Uring::new())
}

fn compio() -> Option<Compio> {
    available("compio", Compio::new())
}

#[test]
fn uring_conforms() {
    let Some(model) = uring() else { return };
    check(&model, Expect::concurrent(8));
    check(&model, Expect::sequential());
    check(&model, Expect::concurrent(512));
}

#[test]
fn uring_does_not_starve_probes_under_load() {
    let Some(model) = uring() else { return };
    check_under_load(&model, 256, 10_000);
}

#[test]
fn compio_conforms() {
    let Some(model) = compio() else { return };
    check(&model, Expect::concurrent(8));
    check(&model, Expect::sequential());
    check(&model, Expect::concurrent(512));
}

#[test]
fn compio_does_not_starve_probes_under_load() {
    let Some(model) = compio() else { return };
    check_under_load(&model, 256, 10_000);
}
