//! # Async under the hood: a runtime from scratch
//!
//! The tokio, async-std and smol crates show *that* async code waits well; this one shows *why*,
//! with a runtime small enough to read in one sitting, in three parts:
//! 1. [`executor`]: tasks in a run queue, `spawn` and `block_on`, wakers made with `std::task::Wake`;
//! 2. `reactor`: sockets registered with `mio::Poll`, each waiting task's waker kept by its
//!    socket's token and woken by that socket's readiness; a timer heap for deadlines;
//! 3. [`io`]: connect, write all, read some and a deadline, as hand-made futures that own what
//!    they work on and hand it back when done.
//!
//! On that one runtime, the same probe three ways, one short file each, so that a `diff` shows
//! only the style:
//! - [`state_machine`] (`own-state-machine`): one hand-written `enum` implementing `Future`,
//!   what the compiler would generate;
//! - [`promises`] (`own-promises`): a chain of combinators with no `async` or `await`, as
//!   JavaScript promises and Rust's futures 0.1 were written;
//! - [`async_fn`] (`own-async-fn`): an `async fn`, awaiting the same primitives.
//!
//! The scan around the probe is the async crates' scan: a task per probe, at most
//! `max_connections` of them alive. Written by hand because the runtime is the lesson; in
//! production, use tokio or smol. All of it is safe Rust (the workspace denies the other kind):
//! `Wake` builds wakers without a hand-made vtable, and the futures that must be pinned are
//! either `Unpin` or pinned with `std::pin::pin!`.

pub mod async_fn;
pub mod executor;
pub mod io;
pub mod promises;
mod reactor;
pub mod state_machine;

use std::future::Future;
use std::time::Duration;

use futures::stream::StreamExt;
use wardial_probe::{Finding, Probe, Report, ScanConfig, ScanSummary, Target, Targets};

pub use executor::{block_on, spawn, JoinError, JoinHandle};
use io::sleep_until;

// ANCHOR: scan
/// The scan: up to `max_connections` probes in flight, each a task, each finding handed on as it
/// completes (the same code as the tokio crate's, on this runtime's `spawn`).
pub async fn scan<P, F>(
    probe: P,
    targets: Targets<'_>,
    config: &ScanConfig,
    report: &mut Report<'_>,
) where
    P: Fn(Target, Duration) -> F,
    F: Future<Output = Finding> + Send + 'static,
{
    // A paced scan waits for each start on this runtime's timer, so the probes in flight are
    // polled and their findings handed on meanwhile.
    let timeout = config.timeout();
    let probes = config
        .until_stopped(targets)
        .into_stream(sleep_until)
        .map(|t| spawn(probe(t, timeout)));
    let mut findings = probes.buffer_unordered(config.max_connections());
    while let Some(finding) = findings.next().await {
        // A JoinError means the probe task panicked: a bug worth stopping for, not a finding.
        report.finding(finding.expect("a probe task panicked"));
    }
}
// ANCHOR_END: scan

/// One of the three models: this runtime, with one way of writing the probe.
#[derive(Debug)]
pub struct OwnRuntime<P> {
    name: &'static str,
    probe: P,
}

/// The `own-state-machine` model: the probe as a hand-written state machine.
pub fn state_machine() -> impl Probe {
    OwnRuntime {
        name: "own-state-machine",
        probe: state_machine::probe,
    }
}

/// The `own-promises` model: the probe as a promise chain.
pub fn promises() -> impl Probe {
    OwnRuntime {
        name: "own-promises",
        probe: promises::probe,
    }
}

/// The `own-async-fn` model: the probe as an `async fn`.
pub fn async_fn() -> impl Probe {
    OwnRuntime {
        name: "own-async-fn",
        probe: async_fn::probe,
    }
}

impl<P, F> Probe for OwnRuntime<P>
where
    P: Fn(Target, Duration) -> F + Send + Sync,
    F: Future<Output = Finding> + Send + 'static,
{
    fn name(&self) -> &'static str {
        self.name
    }

    fn scan(
        &self,
        targets: Targets<'_>,
        config: &ScanConfig,
        on_finding: &mut dyn FnMut(Finding),
    ) -> ScanSummary {
        let mut report = Report::new(on_finding);
        // A runtime per scan: an epoll (or kqueue) instance and empty tables, nothing per probe.
        block_on(scan(&self.probe, targets, config, &mut report));
        report.finish(config)
    }
}
