use wardial_simnet::conformance::{check, check_under_load, Expect};
use wardial_threads::{Rayon, Threads};

#[test]
fn threads_conform() {
    check(&Threads, Expect::concurrent(8));
}

#[test]
fn threads_conform_with_one_connection() {
    check(&Threads, Expect::sequential());
}

#[test]
fn rayon_sized_conforms() {
    check(&Rayon::sized(), Expect::concurrent(8));
}

#[test]
fn rayon_per_core_conforms() {
    // One thread per core: concurrent only where there is more than one core.
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let expect = if cores > 1 {
        Expect::concurrent(8)
    } else {
        Expect::sequential()
    };
    check(&Rayon::per_core(), expect);
}

#[test]
fn threads_do_not_starve_probes_under_load() {
    check_under_load(&Threads, 256, 10_000);
}
