//! # The async model on async-std
//!
//! **async-std is discontinued upstream** (RUSTSEC-2025-0052: "use smol instead"). It stays here
//! as the legacy row that older course material uses; new code should use `crates/smol`, which
//! is built on the same pieces (async-io, async-executor) that async-std was.
//!
//! The blocking probe again, written as an `async fn`: the same steps, with `.await` wherever the
//! blocking probe blocked. An `.await` that cannot finish yet does not block the thread; it
//! returns to the runtime, which polls other probes until the socket is ready. So one thread can
//! wait for hundreds of probes, like the callbacks loop, but the code reads top to bottom like
//! the blocking one.
//!
//! One model lives here: [`AsyncStd`] (`async-std`).
//!
//! The runtime: [`Probe::scan`] is a plain blocking call, the same for every model, so each scan
//! blocks on async-std's `block_on`. The thread that calls it runs the scan future (pulling
//! targets, collecting findings). The probes are spawned onto async-std's global executor, whose
//! worker threads (one per core by default) are started by the library on first use, with a
//! thread for the IO reactor, and live for the process: nothing is built per scan or per probe.
//! Called from a task spawned on that executor, the blocking call holds one of its workers until
//! the scan ends while the others run the probes; with one worker (a single-core machine) it
//! would wait forever, so async code should await [`scan`] instead.
//!
//! The three async crates (tokio, async-std, smol) share this skeleton item for item, so that
//! `diff crates/tokio/src/lib.rs crates/async-std/src/lib.rs` shows what the runtimes change,
//! and one thing more: tokio's scan is the homework's, written with a `JoinSet` (see there).

use std::time::{Duration, Instant};

use wardial_probe::{Finding, Probe, Report, ScanConfig, ScanSummary, Target, Targets};

// ANCHOR: probe
/// One probe: connect, send the request, read until the shared exchange decides. The deadline
/// wraps all of it, so it is a total deadline: a peer that trickles bytes cannot stretch it.
pub async fn probe(target: Target, timeout: Duration) -> Finding {
    use async_std::io::{ReadExt, WriteExt};
    use async_std::net::TcpStream;
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
    let result: Result<std::io::Result<_>, _> = async_std::future::timeout(timeout, talk).await;
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

// ANCHOR_END: probe

// ANCHOR: scan
/// The scan: up to `max_connections` probes in flight, each finding handed on as it completes.
/// Public, so async code can await it on a runtime of its own instead of calling the blocking
/// [`Probe::scan`].
pub async fn scan(targets: Targets<'_>, config: &ScanConfig, report: &mut Report<'_>) {
    // Each probe is spawned as a task, and `buffer_unordered` keeps at most `max_connections` of
    // them alive, pulling (and spawning) the next target only when one ends, so the targets stay
    // lazy. smol's scan is this code with its own `spawn`; tokio's, the homework's answer, is
    // written with a `JoinSet` instead. (An async-std `JoinHandle` detaches when dropped: a
    // scan dropped midway leaves its probes to run to their deadlines.) Why tasks? On async-std a
    // spawned probe runs on the executor's worker threads (one per core), so probes are polled in
    // parallel while this future only pulls targets and collects findings; one future polling
    // every probe would put them all on the one thread that calls `block_on`. (async-std has no
    // cooperative budget like tokio's, where the single-future version was measured to starve.)
    use async_std::task;
    use futures::stream::StreamExt;

    // A paced scan waits for each start on async-std's timer, so the probes in flight are
    // polled and their findings handed on meanwhile.
    let sleep_until = |when: Instant| task::sleep(when.saturating_duration_since(Instant::now()));
    let timeout = config.timeout();
    let probes = config
        .until_stopped(targets)
        .into_stream(sleep_until)
        .map(|t| task::spawn(probe(t, timeout)));
    let mut findings = probes.buffer_unordered(config.max_connections());
    while let Some(finding) = findings.next().await {
        report.finding(finding);
    }
}
// ANCHOR_END: scan

// ANCHOR: runtime
/// The `async-std` model.
#[derive(Debug, Default)]
pub struct AsyncStd;

impl Probe for AsyncStd {
    fn name(&self) -> &'static str {
        "async-std"
    }

    fn scan(
        &self,
        targets: Targets<'_>,
        config: &ScanConfig,
        on_finding: &mut dyn FnMut(Finding),
    ) -> ScanSummary {
        let mut report = Report::new(on_finding);
        async_std::task::block_on(scan(targets, config, &mut report));
        report.finish(config)
    }
}
// ANCHOR_END: runtime
