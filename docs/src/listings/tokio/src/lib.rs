//! # The async model on tokio
//!
//! The blocking probe again, written as an `async fn`: the same steps, with `.await` wherever the
//! blocking probe blocked. An `.await` that cannot finish yet does not block the thread; it
//! returns to the runtime, which polls other probes until the socket is ready. So one thread can
//! wait for hundreds of probes, like the callbacks loop, but the code reads top to bottom like
//! the blocking one.
//!
//! Two models live here: [`Tokio::multi_thread`] (`tokio`, a worker per core) and
//! [`Tokio::current_thread`] (`tokio-current-thread`, one thread: async concurrency does not
//! need threads).
//!
//! The runtime: [`Probe::scan`] is a plain blocking call, the same for every model, so this crate
//! owns its runtime. It is built once, in the constructor, and every scan blocks on it; building
//! one per probe would cost more than the probe.
//!
//! The three async crates (tokio, async-std, smol) share this skeleton, so that
//! `diff crates/tokio/src/lib.rs crates/smol/src/lib.rs` shows mostly what the runtimes change;
//! here that includes what tokio needs when the blocking call comes from async code. Two things
//! differ because this crate is also the homework: the probe's conversation is a function of its
//! own (`talk`, task 2), and so is the scan's body (`scan_with`, task 3, which takes its probe as
//! an argument and keeps the probes in a `JoinSet`), so that each task is graded on its own.

use std::future::Future;
use std::io;
use std::time::{Duration, Instant};

use tokio::time::error::Elapsed;
use wardial_probe::http::Exchange;
use wardial_probe::{Finding, Outcome, Probe, Report, ScanConfig, ScanSummary, Target, Targets};

// ANCHOR: probe
/// One probe: connect, send the request, read until the shared exchange decides. The deadline
/// wraps all of it, so it is a total deadline: a peer that trickles bytes cannot stretch it.
pub async fn probe(target: Target, timeout: Duration) -> Finding {
    let started = Instant::now();
    let mut exchange = Exchange::new();
    let outcome = match talk(&target, &mut exchange, timeout).await {
        Ok(Ok(outcome)) => outcome,
        // The connect, the write or a read failed: the exchange says what that means.
        Ok(Err(e)) => exchange.on_error(&e),
        Err(_elapsed) => exchange.on_deadline(),
    };
    Finding {
        target,
        outcome,
        elapsed: started.elapsed(),
    }
}

/// The probe's conversation: connect to `target.dial`, send `target.request()`, and hand what
/// each read returns to `exchange` until it decides, all within `timeout`. `Err(Elapsed)` when
/// the time ran out first, `Ok(Err(_))` when the connect, the write or a read failed.
async fn talk(
    target: &Target,
    exchange: &mut Exchange,
    timeout: Duration,
) -> Result<io::Result<Outcome>, Elapsed> {
    // Task 2: connect to `target.dial`, send `target.request()`, and hand what each read returns to
    // `exchange.on_read` until it says `Step::Done`, all within `timeout`: one total deadline,
    // whatever the host does. Async all the way: tokio's `TcpStream`, and `.await` wherever the
    // blocking probe would block. The notes: "The shared core" (the exchange) and "async/await"
    // (`.await`, `tokio::time::timeout`).
    let _ = (target, exchange, timeout);
    todo!("Task 2: the async probe")
}
// ANCHOR_END: probe

// ANCHOR: scan
/// The scan: up to `max_connections` probes in flight, each finding handed on as it completes.
/// Public, so async code can await it on a runtime of its own instead of calling the blocking
/// [`Probe::scan`].
pub async fn scan(targets: Targets<'_>, config: &ScanConfig, report: &mut Report<'_>) {
    scan_with(probe, targets, config, report).await;
}

/// [`scan`] with any probe: `probe(target, timeout)` makes the future of one probe. (The
/// homework's tests give it probes of their own, so that the scan is graded apart from the
/// probe.) Dropped before it ends (inside a `select!` or a `timeout`), it cancels the probes it
/// had started: none outlives it.
pub async fn scan_with<P, F>(
    probe: P,
    targets: Targets<'_>,
    config: &ScanConfig,
    report: &mut Report<'_>,
) where
    P: Fn(Target, Duration) -> F,
    F: Future<Output = Finding> + Send + 'static,
{
    // Task 3: this loop awaits one probe before it starts the next. Keep up to
    // `config.max_connections()` probes in flight instead, each in a task of its own, and report
    // each finding as soon as its probe ends. Take a target only when its probe can start at once
    // (the targets may be 2^32 long, and a stop must start nothing more), keep handing on findings
    // while a paced scan waits for its next start (`next_after`, on tokio's timer), and let no
    // probe outlive the scan, even when the scan is dropped before it ends. The notes:
    // "async/await" (the scan, and why a task per probe) and "Cancellation and structured
    // concurrency" (`JoinSet`).
    for target in config.until_stopped(targets) {
        report.finding(probe(target, config.timeout()).await);
    }
}
// ANCHOR_END: scan

// ANCHOR: runtime
/// The `tokio` and `tokio-current-thread` models.
#[derive(Debug)]
pub struct Tokio {
    name: &'static str,
    /// Always `Some` until dropped (see the `Drop` impl below).
    runtime: Option<tokio::runtime::Runtime>,
}

impl Tokio {
    /// A multi-thread runtime: one worker thread per core.
    pub fn multi_thread() -> Tokio {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .expect("a tokio runtime");
        Tokio {
            name: "tokio",
            runtime: Some(runtime),
        }
    }

    /// A current-thread runtime: everything runs on the thread that calls `scan`.
    pub fn current_thread() -> Tokio {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a tokio runtime");
        Tokio {
            name: "tokio-current-thread",
            runtime: Some(runtime),
        }
    }

    fn runtime(&self) -> &tokio::runtime::Runtime {
        self.runtime
            .as_ref()
            .expect("the runtime lives until the model is dropped")
    }
}

impl Drop for Tokio {
    fn drop(&mut self) {
        // Dropping a runtime waits for its blocking threads, which tokio forbids inside async
        // code (it panics): a model dropped there lets its runtime shut down in the background.
        if tokio::runtime::Handle::try_current().is_ok() {
            if let Some(runtime) = self.runtime.take() {
                runtime.shutdown_background();
            }
        }
    }
}

impl Probe for Tokio {
    fn name(&self) -> &'static str {
        self.name
    }

    fn scan(
        &self,
        targets: Targets<'_>,
        config: &ScanConfig,
        on_finding: &mut dyn FnMut(Finding),
    ) -> ScanSummary {
        // Called from async code, this thread is already inside a tokio runtime, and tokio's
        // `block_on` would panic ("Cannot start a runtime from within a runtime"). So the scan
        // runs on a thread of its own, and this one waits for its findings: it still blocks
        // the task that called it (and, on a current-thread runtime, every other task there)
        // until the scan ends. Async code that must not block should await [`scan`] instead.
        if tokio::runtime::Handle::try_current().is_ok() {
            return wardial_probe::scan_on_another_thread(config, on_finding, |report| {
                self.block_on(targets, config, report)
            });
        }
        let mut report = Report::new(on_finding);
        self.block_on(targets, config, &mut report);
        report.finish(config)
    }
}

impl Tokio {
    /// Runs the scan to its end on this model's runtime, blocking the calling thread.
    fn block_on(&self, targets: Targets<'_>, config: &ScanConfig, report: &mut Report<'_>) {
        self.runtime().block_on(scan(targets, config, report));
    }
}
// ANCHOR_END: runtime
