use std::time::Duration;

use wardial_own_runtime::{async_fn, promises, state_machine};
use wardial_simnet::conformance::{check, check_quick, check_under_load, Expect};

#[test]
fn state_machine_conforms() {
    check(&state_machine(), Expect::concurrent(8));
    check(&state_machine(), Expect::sequential());
    check(&state_machine(), Expect::concurrent(512));
}

#[test]
fn promises_conform() {
    check(&promises(), Expect::concurrent(8));
    check(&promises(), Expect::sequential());
    check(&promises(), Expect::concurrent(512));
}

#[test]
fn async_fn_conforms() {
    check(&async_fn(), Expect::concurrent(8));
    check(&async_fn(), Expect::sequential());
    check(&async_fn(), Expect::concurrent(512));
}

#[test]
fn none_starves_probes_under_load() {
    check_under_load(&state_machine(), 256, 10_000);
    check_under_load(&promises(), 256, 10_000);
    check_under_load(&async_fn(), 256, 10_000);
}

#[test]
fn scans_from_inside_other_runtimes() {
    // Its own block_on inside another runtime's, or inside its own: each runs a runtime of its
    // own on the calling thread.
    let outer = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    outer.block_on(async { check_quick(&async_fn()) });
    wardial_own_runtime::block_on(async { check_quick(&state_machine()) });
}

#[test]
fn a_panicking_task_is_reported_not_lost() {
    let joined = wardial_own_runtime::block_on(async {
        let fine = wardial_own_runtime::spawn(async { 7 });
        // An index out of bounds: the kind of bug a probe might have.
        let broken = wardial_own_runtime::spawn(async { Vec::<u8>::new()[0] });
        (fine.await, broken.await)
    });
    assert_eq!(joined.0.unwrap(), 7);
    let err = joined.1.unwrap_err();
    assert!(format!("{err:?}").contains("out of bounds"), "{err:?}");
}

#[test]
#[should_panic(expected = "a probe task panicked")]
fn a_scan_whose_probe_panics_says_so() {
    use wardial_probe::{Probe, ScanConfig, Target};
    struct Buggy;
    impl Probe for Buggy {
        fn name(&self) -> &'static str {
            "buggy"
        }
        fn scan(
            &self,
            targets: wardial_probe::Targets<'_>,
            config: &ScanConfig,
            on_finding: &mut dyn FnMut(wardial_probe::Finding),
        ) -> wardial_probe::ScanSummary {
            let mut report = wardial_probe::Report::new(on_finding);
            let probe = |_: Target, _: Duration| async { panic!("a bug in the probe") };
            wardial_own_runtime::block_on(wardial_own_runtime::scan(
                probe,
                targets,
                config,
                &mut report,
            ));
            report.finish(config)
        }
    }
    let t = Target::direct(std::net::Ipv4Addr::LOCALHOST, 9);
    Buggy.scan_collect([t], &ScanConfig::new(Duration::from_secs(1), 1));
}

#[test]
fn a_runtime_ended_with_tasks_alive_leaves_the_outer_one_intact() {
    use std::sync::mpsc;
    use std::time::Instant;
    use wardial_own_runtime::io::sleep_until;
    use wardial_own_runtime::{block_on, spawn};

    let (done, finished) = mpsc::channel();
    std::thread::spawn(move || {
        let fired = block_on(async {
            // The outer runtime's timer, registered before the inner runtime runs.
            let outer = spawn(sleep_until(Instant::now() + Duration::from_millis(50)));
            yield_now().await;
            // An inner runtime that returns while its own task still waits on a timer: that task
            // must be dropped with the inner runtime, not later against the outer one's tables.
            block_on(async {
                drop(spawn(sleep_until(
                    Instant::now() + Duration::from_secs(3600),
                )));
                yield_now().await;
            });
            outer.await.is_ok()
        });
        let _ = done.send(fired);
    });
    let fired = finished
        .recv_timeout(Duration::from_secs(30))
        .expect("the outer runtime's timer never fired");
    assert!(fired);
}

/// Lets the tasks queued so far run once before going on.
async fn yield_now() {
    let mut yielded = false;
    futures::future::poll_fn(|cx| {
        if yielded {
            return std::task::Poll::Ready(());
        }
        yielded = true;
        cx.waker().wake_by_ref();
        std::task::Poll::Pending
    })
    .await
}
