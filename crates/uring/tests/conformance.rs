//! The completion models against the conformance suite. Where io_uring is refused (another OS,
//! or a container's seccomp profile), each test says why and passes without running: there is
//! nothing here to test. On Linux machines that allow it (these do, and CI runs there), they run.

use wardial_simnet::conformance::{check, check_under_load, Expect};
use wardial_uring::Uring;

fn uring() -> Option<Uring> {
    match Uring::new() {
        Ok(model) => Some(model),
        Err(why) => {
            eprintln!("skipped: uring is unavailable here: {why}");
            None
        }
    }
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
