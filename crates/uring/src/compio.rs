//! # The async model on compio: async/await on completion IO
//!
//! The blocking probe again, written as an `async fn`, in the skeleton of the tokio, async-std and
//! smol crates (`diff crates/smol/src/lib.rs crates/uring/src/compio.rs`). What differs is what
//! completion IO does to the API: the kernel owns a buffer while an operation runs, so a write or
//! a read *takes* the buffer by value and hands it back with the result, as a `BufResult`; the
//! probe cannot lend a slice of a local array as it does on a readiness runtime.
//!
//! One model lives here: [`Compio`] (`compio`).
//!
//! The runtime: [`Probe::scan`] is a plain blocking call, the same for every model, so each scan
//! blocks on compio's `block_on`. compio's runtime is one thread's (it holds `Rc`s, so it is
//! neither `Send` nor `Sync`, and a model must be both), so each scan builds its own: one
//! io_uring instance per scan, nothing per probe.

use std::io;
use std::time::{Duration, Instant};

use compio::io::{AsyncRead, AsyncWriteExt};
use compio::net::TcpStream;
use compio::BufResult;
use futures::stream::StreamExt;
use wardial_probe::http::{Exchange, Step};
use wardial_probe::{Finding, Outcome, Probe, Report, ScanConfig, ScanSummary, Target, Targets};

use crate::Unavailable;

// ANCHOR: probe
/// One probe. The deadline wraps the whole exchange, so it is a total deadline: a peer that
/// trickles bytes cannot stretch it.
pub async fn probe(target: Target, timeout: Duration) -> Finding {
    let started = Instant::now();
    let mut exchange = Exchange::new();
    let mut stream = None;
    let run = run(&target, &mut stream, &mut exchange);
    let outcome = match compio::time::timeout(timeout, run).await {
        Ok(Ok(outcome)) => outcome,
        // The connect, the write or a read failed: the exchange says what that means.
        Ok(Err(e)) => exchange.on_error(&e),
        Err(_elapsed) => exchange.on_deadline(),
    };
    let elapsed = started.elapsed();
    // Completion IO: a read cancelled by the deadline still holds the socket until the kernel
    // confirms the cancellation. `close` waits for that, so the socket is gone before the next
    // probe starts (at most `max_connections` open).
    if let Some(stream) = stream {
        let _ = stream.close().await;
    }
    Finding {
        target,
        outcome,
        elapsed,
    }
}

/// Connect, write the request, read until the exchange is decided. Each buffer goes to the
/// kernel and comes back in the `BufResult`. The stream is left in `slot` for the probe to close.
async fn run(
    target: &Target,
    slot: &mut Option<TcpStream>,
    exchange: &mut Exchange,
) -> io::Result<Outcome> {
    let stream = slot.insert(TcpStream::connect(target.dial).await?);
    let BufResult(written, _request) = stream.write_all(target.request()).await;
    written?;
    let mut buf = Vec::with_capacity(1024);
    loop {
        let BufResult(read, back) = stream.read(buf).await;
        let n = read?;
        if let Step::Done(outcome) = exchange.on_read(&back[..n]) {
            return Ok(outcome);
        }
        // The same buffer again: a read writes from its start, up to its capacity.
        buf = back;
        buf.clear();
    }
}
// ANCHOR_END: probe

// ANCHOR: scan
/// The scan: up to `max_connections` probes in flight, each finding handed on as it completes.
/// Public, so async code can await it on a runtime of its own instead of calling the blocking
/// [`Probe::scan`].
///
/// Each probe is spawned as a task, and `buffer_unordered` keeps at most `max_connections` of
/// them alive, pulling (and spawning) the next target only when one ends, so the targets stay
/// lazy. This is the same code on every runtime; only `spawn` differs. (On compio, dropping a
/// task's handle cancels the task, so the handles are kept until they are awaited, as here.)
pub async fn scan(targets: Targets<'_>, config: &ScanConfig, report: &mut Report<'_>) {
    // A paced scan waits for each start on compio's timer, so the probes in flight are polled
    // and their findings handed on meanwhile.
    let sleep_until = compio::time::sleep_until;
    let timeout = config.timeout();
    let probes = config
        .until_stopped(targets)
        .into_stream(sleep_until)
        .map(|t| compio::runtime::spawn(probe(t, timeout)));
    let mut findings = probes.buffer_unordered(config.max_connections());
    while let Some(finding) = findings.next().await {
        // A JoinError means the probe task panicked (or was cancelled): a bug worth stopping for.
        report.finding(finding.expect("a probe task panicked"));
    }
}
// ANCHOR_END: scan

// ANCHOR: runtime
/// The `compio` model.
#[derive(Debug)]
pub struct Compio;

impl Compio {
    /// The model, if this kernel lets this process use io_uring (the reason comes back in one
    /// line if not).
    pub fn new() -> Result<Compio, Unavailable> {
        match compio::runtime::Runtime::new() {
            Ok(_) => Ok(Compio),
            Err(e) => Err(Unavailable(format!("io_uring is refused here ({e})"))),
        }
    }
}

impl Probe for Compio {
    fn name(&self) -> &'static str {
        "compio"
    }

    fn scan(
        &self,
        targets: Targets<'_>,
        config: &ScanConfig,
        on_finding: &mut dyn FnMut(Finding),
    ) -> ScanSummary {
        let mut report = Report::new(on_finding);
        let runtime =
            compio::runtime::Runtime::new().expect("a compio runtime (one was made at start)");
        runtime.block_on(scan(targets, config, &mut report));
        report.finish(config)
    }
}
// ANCHOR_END: runtime
