//! Task 4: a task's waker puts it back on the run queue. Graded by the conformance suite on the
//! `own-async-fn` model: with no working `wake`, no probe ever runs again after its first
//! `Pending`, so the scan would wait forever; the test waits a generous minute, then says why.

use std::sync::mpsc;
use std::time::Duration;

use wardial_own_runtime::async_fn;
use wardial_simnet::conformance::{check, Expect};

#[test]
fn task4_waking_a_task_runs_it_again() {
    let (done, finished) = mpsc::channel();
    std::thread::spawn(move || {
        check(&async_fn(), Expect::concurrent(8));
        let _ = done.send(());
    });
    match finished.recv_timeout(Duration::from_secs(60)) {
        Ok(()) => {}
        Err(mpsc::RecvTimeoutError::Disconnected) => {
            panic!("the scan failed (see the panic above)")
        }
        Err(mpsc::RecvTimeoutError::Timeout) => panic!(
            "the scan did not finish in a minute: does `wake` put the task back on the run queue?"
        ),
    }
}
