//! # The async chapter's examples, compiled and tested
//!
//! Each example of the notes' "async/await" chapter is a function here, included into the page
//! by its anchor and tested below against the simulated internet, on this workspace's probe
//! (`wardial_tokio::probe`). The mistakes the chapter shows are files in `src/wrong/`, each a
//! doc test that must fail to compile, with the error the page quotes:
//! `cargo test -p wardial-lessons` keeps both true.

use std::pin::pin;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::Notify;
use wardial_probe::{Finding, Outcome, Target};
use wardial_tokio::probe;

/// Spawning a future that borrows what the spawner owns: the task may outlive it.
///
/// ```compile_fail,E0373
#[doc = include_str!("wrong/spawn_borrows.rs")]
/// ```
#[derive(Debug)]
pub struct SpawnThatBorrows;

/// A std `MutexGuard` held across an `.await`, in a spawned task: the future is not `Send`.
///
/// ```compile_fail,E0277
#[doc = include_str!("wrong/guard_across_await.rs")]
/// ```
#[derive(Debug)]
pub struct GuardAcrossAwait;

/// A future polled through `&mut` without being pinned: the probe's future is not `Unpin`.
///
/// ```compile_fail,E0277
#[doc = include_str!("wrong/unpinned.rs")]
/// ```
#[derive(Debug)]
pub struct Unpinned;

// ANCHOR: lazy
/// Makes a probe and drops it, never awaited: an `async fn` returns a future, and a future does
/// nothing until it is polled. No connection is opened.
pub fn made_and_dropped(target: Target, timeout: Duration) {
    let future = probe(target, timeout);
    drop(future);
}
// ANCHOR_END: lazy

// ANCHOR: one_then_the_other
/// Two probes, one after the other: the task waits at the first `.await` until that probe has
/// ended, and only then makes the second.
pub async fn one_then_the_other(a: Target, b: Target, timeout: Duration) -> [Finding; 2] {
    let first = probe(a, timeout).await;
    let second = probe(b, timeout).await;
    [first, second]
}
// ANCHOR_END: one_then_the_other

// ANCHOR: together
/// Two probes at once, in one task: `join!` polls both, and while one waits for its socket
/// the other runs. It ends when both have.
pub async fn together(a: Target, b: Target, timeout: Duration) -> [Finding; 2] {
    let (first, second) = tokio::join!(probe(a, timeout), probe(b, timeout));
    [first, second]
}
// ANCHOR_END: together

// ANCHOR: select
/// A probe, unless `stop` comes first: `select!` polls both and takes the first to end; the
/// other is dropped, and a probe dropped midway closes its socket.
pub async fn unless_stopped(target: Target, timeout: Duration, stop: &Notify) -> Option<Finding> {
    tokio::select! {
        finding = probe(target, timeout) => Some(finding),
        () = stop.notified() => None,
    }
}
// ANCHOR_END: select

// ANCHOR: stream
/// The probes of `targets`, at most `n` at once, as a stream: `map` makes a probe per target
/// (lazily: a probe is made only when the stream is asked for one), `buffer_unordered(n)`
/// polls up to `n` of them and yields each finding as it ends.
pub async fn at_most(n: usize, targets: Vec<Target>, timeout: Duration) -> Vec<Finding> {
    use futures::stream::{self, StreamExt};

    stream::iter(targets)
        .map(|target| probe(target, timeout))
        .buffer_unordered(n)
        .collect()
        .await
}
// ANCHOR_END: stream

// ANCHOR: spawn
/// Each probe in a task of its own, on the runtime's threads: `spawn` wants a future that owns
/// everything it uses (`'static`) and may move between threads (`Send`). `move` gives the
/// async block the target; the count is shared through an `Arc`, and its lock is taken after
/// the `.await`, never held across it.
pub async fn count_servers(targets: Vec<Target>, timeout: Duration) -> u32 {
    let servers = Arc::new(Mutex::new(0u32));
    let mut tasks = Vec::new();
    for target in targets {
        let servers = servers.clone();
        tasks.push(tokio::spawn(async move {
            let finding = probe(target, timeout).await;
            *servers.lock().unwrap() += u32::from(finding.outcome.is_server());
        }));
    }
    for task in tasks {
        task.await.expect("a probe task panicked");
    }
    let n = *servers.lock().unwrap();
    n
}
// ANCHOR_END: spawn

// ANCHOR: pin
/// Waits for a probe, and says once if it takes longer than `patience`, without starting it
/// again: the same future is polled in the `select!` and then awaited to its end. Polled
/// through `&mut`, it must be pinned first.
pub async fn patiently(target: Target, timeout: Duration, patience: Duration) -> (Finding, bool) {
    let mut probe = pin!(probe(target, timeout));
    tokio::select! {
        finding = &mut probe => (finding, false),
        () = tokio::time::sleep(patience) => (probe.await, true),
    }
}
// ANCHOR_END: pin

// ANCHOR: exchange
/// The shared exchange, driven by hand: what every probe does with what its socket says. Each
/// read's bytes go to `on_read` until it says `Done`; an error or the deadline, to `on_error`
/// or `on_deadline`. The request to send is `Target::request()`.
pub fn exchange_by_hand() -> [Outcome; 4] {
    use std::io;
    use wardial_probe::http::{Exchange, Step};

    // An answer that arrives in two reads: the first is not enough to decide. After a whole
    // status line the host is a server, whatever follows; the exchange reads on only to find
    // its `Server` header and `<title>`, and here the deadline comes first.
    let mut live = Exchange::new();
    assert!(matches!(live.on_read(b"HTTP/1.1 2"), Step::NeedMore));
    let _ = live.on_read(b"00 OK\r\nServer: x\r\n");
    let server = live.on_deadline();
    // No byte, then the end of the stream (a read of zero bytes).
    let Step::Done(closed) = Exchange::new().on_read(b"") else {
        unreachable!("the end of the stream decides")
    };
    let refused = Exchange::new().on_error(&io::ErrorKind::ConnectionRefused.into());
    let silent = Exchange::new().on_deadline();
    [server, closed, refused, silent]
}
// ANCHOR_END: exchange

#[cfg(test)]
mod tests;
