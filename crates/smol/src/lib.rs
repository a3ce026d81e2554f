//! # The async model on smol
//!
//! The blocking probe again, written as an `async fn`: the same steps, with `.await` wherever the
//! blocking probe blocked. An `.await` that cannot finish yet does not block the thread; it
//! returns to the runtime, which polls other probes until the socket is ready. So one thread can
//! wait for hundreds of probes, like the callbacks loop, but the code reads top to bottom like
//! the blocking one.
//!
//! One model lives here: [`Smol`] (`smol`).
//!
//! The runtime: [`Probe::scan`] is a plain blocking call, the same for every model, so each scan
//! blocks on `smol::block_on`. The model owns an executor, as smol suggests for anything but a
//! small program: it is built once, in the constructor, and the thread that calls `scan` drives
//! it, running the scan and every probe on it, and the IO reactor while it waits. (smol's global
//! executor, `smol::spawn`, runs on one thread of its own: a scan called from a task on that
//! thread would block the very thread its probes need, and wait forever.)
//!
//! The three async crates (tokio, async-std, smol) share this skeleton item for item, so that
//! `diff crates/tokio/src/lib.rs crates/smol/src/lib.rs` shows what the runtimes change, and one
//! thing more: tokio's scan is the homework's, written with a `JoinSet` (see there).

use std::future::Future;
use std::time::{Duration, Instant};

use smol::{Executor, Timer};
use wardial_probe::{Finding, Probe, Report, ScanConfig, ScanSummary, Target, Targets};

// ANCHOR: probe
/// One probe: connect, send the request, read until the shared exchange decides. The deadline
/// wraps all of it, so it is a total deadline: a peer that trickles bytes cannot stretch it.
pub async fn probe(target: Target, timeout: Duration) -> Finding {
    use smol::io::{AsyncReadExt, AsyncWriteExt};
    use smol::net::TcpStream;
    use std::time::Instant;
    use wardial_probe::http::{Exchange, Step};

    let started = Instant::now();
    let mut exchange = Exchange::new();
    let talk = async {
        let mut stream = TcpStream::connect(target.dial).await?;
        stream.write_all(&target.request()).await?;
        let mut buf = [0u8; 1024];
        loop {
            let n = stream.read(&mut buf).await?;
            if let Step::Done(outcome) = exchange.on_read(&buf[..n]) {
                return Ok(outcome);
            }
        }
    };
    // Dropping `talk` when the timer wins closes its socket: nothing is left behind.
    let result: Result<std::io::Result<_>, _> = deadline(timeout, talk).await;
    let outcome = match result {
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

/// smol has no `timeout` function: a deadline is a race between the future and a timer, and
/// `or` resolves to whichever finishes first (dropping the other, which closes its socket).
async fn deadline<T>(timeout: Duration, fut: impl Future<Output = T>) -> Result<T, ()> {
    use smol::future::FutureExt;
    let expire = async {
        smol::Timer::after(timeout).await;
        Err(())
    };
    async { Ok(fut.await) }.or(expire).await
}

// ANCHOR_END: probe

// ANCHOR: scan
/// The scan: up to `max_connections` probes in flight, each finding handed on as it completes.
/// Public, so async code can await it on a runtime of its own instead of calling the blocking
/// [`Probe::scan`].
pub async fn scan(
    executor: &Executor<'_>,
    targets: Targets<'_>,
    config: &ScanConfig,
    report: &mut Report<'_>,
) {
    // Each probe is spawned as a task, and `buffer_unordered` keeps at most `max_connections` of
    // them alive, pulling (and spawning) the next target only when one ends, so the targets stay
    // lazy. async-std's scan is this code with its own `spawn` (here, on the executor given);
    // tokio's, the homework's answer, is written with a `JoinSet` instead. Why tasks? smol has
    // no cooperative budget like tokio's, where the single-future version was measured to
    // starve; spawning lets an executor with more threads run the probes in parallel. A smol
    // `Task` is cancelled when dropped, so a dropped scan leaves no probe running.
    use futures::stream::StreamExt;

    // A paced scan waits for each start on smol's timer, so the probes in flight are polled and
    // their findings handed on meanwhile.
    let sleep_until = |when: Instant| Timer::at(when);
    let timeout = config.timeout();
    let probes = config
        .until_stopped(targets)
        .into_stream(sleep_until)
        .map(|t| executor.spawn(probe(t, timeout)));
    let mut findings = probes.buffer_unordered(config.max_connections());
    while let Some(finding) = findings.next().await {
        report.finding(finding);
    }
}
// ANCHOR_END: scan

// ANCHOR: runtime
/// The `smol` model.
#[derive(Debug, Default)]
pub struct Smol {
    executor: Executor<'static>,
}

impl Probe for Smol {
    fn name(&self) -> &'static str {
        "smol"
    }

    fn scan(
        &self,
        targets: Targets<'_>,
        config: &ScanConfig,
        on_finding: &mut dyn FnMut(Finding),
    ) -> ScanSummary {
        let mut report = Report::new(on_finding);
        let scan = scan(&self.executor, targets, config, &mut report);
        smol::block_on(self.executor.run(scan));
        report.finish(config)
    }
}
// ANCHOR_END: runtime
