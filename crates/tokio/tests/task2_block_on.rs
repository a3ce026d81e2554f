//! Homework task 2: drive an async scan from synchronous code. `Probe::scan` is a plain
//! function; inside it, the async scan must run on a runtime the probe built once.

use wardial_simnet::conformance::{check, Expect};
use wardial_tokio::Tokio;

#[test]
fn task2_a_scan_runs_to_completion_from_sync_code() {
    // One probe at a time is enough here: this task is about running async code at all.
    check(&Tokio::current_thread(), Expect::sequential());
}
