//! Task 4: a task's waker puts it back on the run queue, once. Graded with futures that count
//! their polls, and with a scan of the simulated internet on this runtime. Each test runs
//! within a time limit: with no working `wake`, a task that waits is never polled again, and
//! the test says so instead of waiting forever. Nothing here walks a CIDR block (task 1).

use std::future::Future;
use std::net::Ipv4Addr;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use wardial_own_runtime::{async_fn, block_on, spawn};
use wardial_probe::{Probe, ScanConfig};
use wardial_simnet::{Mix, Simnet, World};
use wardial_testkit::within;

/// Pending on its first poll, after handing its waker to a thread that wakes it a little
/// later; ready on the next.
struct WokenFromAnotherThread {
    polls: usize,
}

impl Future for WokenFromAnotherThread {
    type Output = usize;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<usize> {
        self.polls += 1;
        if self.polls > 1 {
            return Poll::Ready(self.polls);
        }
        let waker = cx.waker().clone();
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(10));
            waker.wake();
        });
        Poll::Pending
    }
}

#[test]
fn task4_a_woken_task_runs_again() {
    let polls = within(
        Duration::from_secs(10),
        "a task woken by its waker was never polled again: `wake` must put the task back on its run queue",
        || block_on(async { spawn(WokenFromAnotherThread { polls: 0 }).await }),
    );
    assert_eq!(polls.ok(), Some(2), "the task ends on its second poll");
}

/// Wakes itself twice on its first poll, then stays pending, counting its polls.
struct WakesTwice(Arc<AtomicUsize>);

impl Future for WakesTwice {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.0.fetch_add(1, SeqCst) == 0 {
            cx.waker().wake_by_ref();
            cx.waker().wake_by_ref();
        }
        Poll::Pending
    }
}

/// Pending once (waking itself), then ready: lets the executor run a round of its queue.
struct YieldOnce(bool);

impl Future for YieldOnce {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.0 {
            return Poll::Ready(());
        }
        self.0 = true;
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}

#[test]
fn task4_a_task_woken_twice_is_queued_once() {
    let polls = Arc::new(AtomicUsize::new(0));
    let counted = polls.clone();
    within(
        Duration::from_secs(10),
        "the executor never came back to the test's own future",
        move || {
            block_on(async move {
                let _task = spawn(WakesTwice(counted));
                // Rounds enough for the executor to run everything that was queued.
                for _ in 0..10 {
                    YieldOnce(false).await;
                }
            });
        },
    );
    let polls = polls.load(SeqCst);
    assert!(
        polls >= 2,
        "a task woken (twice) while it ran was never polled again: `wake` must put it back on its run queue"
    );
    assert!(
        polls == 2,
        "a task woken twice before it ran again was polled {} times more instead of once: it was queued twice. `wake` must queue a task only when it is not on the queue already",
        polls - 1
    );
}

#[test]
fn task4_the_runtime_scans_the_simulated_internet() {
    // Every probe of this scan waits for its socket, and only a working `wake` brings it back.
    let sim = Simnet::start(World {
        range: "127.79.0.0/26".parse().expect("a block"),
        mix: Mix::every_behaviour(),
        latencies: vec![Duration::ZERO, Duration::from_millis(30)],
        ..World::default()
    })
    .expect("start the simulated internet");
    let timeout = Duration::from_millis(300);
    let base = u32::from(Ipv4Addr::new(127, 79, 0, 0));
    let mut targets = sim.targets_of((base..base + 64).map(Ipv4Addr::from));
    let mut findings = Vec::new();
    let findings = within(
        Duration::from_secs(15),
        "the scan on the runtime from scratch never ended: are tasks woken by their sockets and timers put back on the run queue?",
        move || {
            async_fn().scan(&mut targets, &ScanConfig::new(timeout, 8), &mut |f| {
                findings.push(f)
            });
            findings
        },
    );
    assert_eq!(findings.len(), 64, "every host is reported once");
    for f in findings {
        let truth = sim.truth(f.target.addr, timeout);
        assert!(
            truth.accepts(&f.outcome),
            "{}: got {}, expected {truth}",
            f.target.addr,
            f.outcome
        );
    }
}
