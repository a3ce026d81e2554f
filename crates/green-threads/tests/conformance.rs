use wardial_green_threads::{GreenThreads, STACK_SIZE};
use wardial_simnet::conformance::{check, check_under_load, Expect};

#[test]
fn green_threads_conform() {
    check(&GreenThreads::default(), Expect::concurrent(8));
}

#[test]
fn green_threads_conform_with_one_connection() {
    check(&GreenThreads::default(), Expect::sequential());
}

#[test]
fn green_threads_conform_with_many_connections() {
    check(&GreenThreads::default(), Expect::concurrent(512));
}

#[test]
fn green_threads_do_not_starve_probes_under_load() {
    check_under_load(&GreenThreads::default(), 256, 10_000);
}

#[test]
fn every_path_a_probe_takes_fits_in_half_of_its_stack() {
    // The whole suite (every simnet behaviour: answers, garbage, resets, refusals, silences,
    // deadlines) with stacks of half the size, in whatever build runs the tests (a
    // debug build uses far more stack than a release one). A probe that overflowed would hit
    // its guard page and stop the process, so passing is the proof.
    check(
        &GreenThreads::with_stack_size(STACK_SIZE / 2),
        Expect::concurrent(64),
    );
}
