//! Homework task 3: make the sequential `await` loop concurrent. Graded by the simnet's count
//! of connections open at once, not by a stopwatch: more than one, never more than allowed.

use wardial_simnet::conformance::{check, Expect};
use wardial_tokio::Tokio;

#[test]
fn task3_probes_run_concurrently_within_the_limit() {
    check(&Tokio::current_thread(), Expect::concurrent(8));
}
