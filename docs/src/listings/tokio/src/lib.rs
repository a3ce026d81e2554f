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
//! The three async crates (tokio, async-std, smol) share this skeleton item for item, so that
//! `diff crates/tokio/src/lib.rs crates/smol/src/lib.rs` shows only what the runtimes change;
//! here that includes what tokio needs when the blocking call comes from async code.

use std::time::Duration;

use wardial_probe::{Finding, Probe, Report, ScanConfig, ScanSummary, Target, Targets};

// ANCHOR: probe
/// One probe: connect, send the request, read until the shared exchange decides. The deadline
/// wraps all of it, so it is a total deadline: a peer that trickles bytes cannot stretch it.
pub async fn probe(target: Target, timeout: Duration) -> Finding {
    // Task 2: connect to `target.dial`, send `target.request()`, and read into a buffer until the
    // shared `Exchange` says `Step::Done`, all within `timeout` as one total deadline. When the
    // connect, the write or a read fails, or the time is up, ask the exchange what that means. The
    // notes: "The shared core" (the exchange) and "async/await" (the probe,
    // `tokio::time::timeout`).
    let _ = (target, timeout);
    todo!("Task 2: the async probe")
}
// ANCHOR_END: probe

// ANCHOR: scan
/// The scan: up to `max_connections` probes in flight, each finding handed on as it completes.
/// Public, so async code can await it on a runtime of its own instead of calling the blocking
/// [`Probe::scan`].
pub async fn scan(targets: Targets<'_>, config: &ScanConfig, report: &mut Report<'_>) {
    // Task 3: this loop awaits one probe before starting the next. Keep up to
    // `config.max_connections()` probes in flight instead, report each finding as it completes, and
    // take a target only when a probe can start (the targets may be 2^32 long). The notes:
    // "async/await" (the scan, and why each probe needs a task of its own); the API:
    // `futures::StreamExt`, `tokio::spawn`.
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
