//! # The blocking model: one probe at a time
//!
//! The baseline every other model is measured against. Each probe connects, writes the request
//! and reads the answer with plain `std::net` calls that block the thread, and the scan does
//! nothing else while it waits. Simple, correct, and, on a network where most hosts never
//! answer, almost all waiting: 1024 silent hosts with a 10 s timeout take three hours.
//!
//! Two probes live here:
//! - [`Blocking`] (`blocking`): `std::net` directly, with a total deadline per probe;
//! - [`BlockingUreq`] (`blocking-ureq`): the same scan through ureq, the blocking HTTP client a
//!   Rust user would reach for first.
//!
//! [`probe`] is also what the threads and rayon models run on each of their threads: the
//! probe is the same blocking code, only the number of threads running it changes.

use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use wardial_probe::http::{Exchange, Step};
use wardial_probe::{Finding, Outcome, Probe, Report, ScanConfig, ScanSummary, Target, Targets};

// ANCHOR: probe
/// One probe, start to end, blocking the calling thread. It ends within `timeout` of its start.
pub fn probe(target: Target, timeout: Duration) -> Finding {
    let started = Instant::now();
    let outcome = exchange(&target, started + timeout).unwrap_or_else(|e| Outcome::from_io(&e));
    Finding {
        target,
        outcome,
        elapsed: started.elapsed(),
    }
}

/// Connect, write the request, read until the exchange is decided, all before `deadline`.
///
/// std has no "total deadline" for a socket, only a timeout per call. So before each call the
/// time left is computed and set as that call's timeout: a peer that trickles a byte at a time
/// makes every read succeed, but the time left shrinks until it runs out.
fn exchange(target: &Target, deadline: Instant) -> io::Result<Outcome> {
    let mut stream = TcpStream::connect_timeout(&target.dial, time_left(deadline)?)?;
    stream.set_write_timeout(Some(time_left(deadline)?))?;
    stream.write_all(&target.request())?;

    let mut exchange = Exchange::new();
    let mut buf = [0u8; 1024];
    loop {
        stream.set_read_timeout(Some(time_left(deadline)?))?;
        match stream.read(&mut buf) {
            Ok(n) => {
                if let Step::Done(outcome) = exchange.on_read(&buf[..n]) {
                    return Ok(outcome);
                }
            }
            // A signal (Ctrl-C, say) interrupted the wait: the kernel does not restart a read
            // that has a timeout, so go round again with the time that is left.
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
}

/// The time until `deadline`, or a `TimedOut` error once it has passed (std refuses a zero
/// timeout, and a zero timeout would mean "none" to some APIs anyway).
fn time_left(deadline: Instant) -> io::Result<Duration> {
    match deadline.checked_duration_since(Instant::now()) {
        Some(left) if !left.is_zero() => Ok(left),
        _ => Err(io::ErrorKind::TimedOut.into()),
    }
}
// ANCHOR_END: probe

// ANCHOR: scan
/// The `blocking` model: a `for` loop over the targets.
#[derive(Debug, Default)]
pub struct Blocking;

impl Probe for Blocking {
    fn name(&self) -> &'static str {
        "blocking"
    }

    fn scan(
        &self,
        targets: Targets<'_>,
        config: &ScanConfig,
        on_finding: &mut dyn FnMut(Finding),
    ) -> ScanSummary {
        let mut report = Report::new(on_finding);
        // One at a time: `max_connections` is irrelevant, one socket is ever open.
        for target in config.until_stopped(targets) {
            report.finding(probe(target, config.timeout));
        }
        report.finish(config)
    }
}
// ANCHOR_END: scan

/// The `blocking-ureq` model: one probe at a time through ureq 3.
///
/// ureq hides the socket, so a few outcomes come out coarser than with `std::net`:
/// - ureq does not say which step timed out, only that its global timeout passed: `Timeout`
///   either way, which is what the std probe reports too;
/// - a peer that answers bytes that are not HTTP fails ureq's response parser: reported as
///   `NotHttp`, whatever the parser's exact complaint;
/// - a peer that accepts and closes (or resets) before a byte arrives is an IO error of kind
///   reset / unexpected EOF inside ureq, and maps to `Closed` as in the std probe; any other ureq
///   error that carries no IO error becomes `Error(Other)`;
/// - ureq reads the whole response head, up to its header limit (8 KiB here), not just the
///   status line.
#[derive(Debug)]
pub struct BlockingUreq {
    timeout: Duration,
    agent: ureq::Agent,
}

impl BlockingUreq {
    /// An agent whose global timeout is `timeout`; [`Probe::scan`] rebuilds it if the scan asks
    /// for another.
    pub fn new(timeout: Duration) -> BlockingUreq {
        let agent = ureq::Agent::config_builder()
            // A total deadline for the whole call, not per read.
            .timeout_global(Some(timeout))
            // Any status is an answer; 3xx are reported, not followed.
            .http_status_as_error(false)
            .max_redirects(0)
            // Every host is probed once: keeping connections would only hold sockets open.
            .max_idle_connections(0)
            .max_idle_connections_per_host(0)
            .max_response_header_size(8 * 1024)
            .user_agent(wardial_probe::http::USER_AGENT)
            // A scanner must not go through whatever proxy the environment names.
            .proxy(None)
            .build()
            .new_agent();
        BlockingUreq { timeout, agent }
    }

    fn probe(&self, agent: &ureq::Agent, target: Target) -> Finding {
        let started = Instant::now();
        let url = format!("http://{}/", target.dial);
        // The URL names the socket to dial; the Host header names the address scanned (on the
        // simnet the two differ; ureq sends our Host instead of deriving one from the URL).
        let outcome = match agent.get(&url).header("Host", target.host_header()).call() {
            Ok(response) => Outcome::Http {
                status: response.status().as_u16(),
            },
            Err(e) => ureq_outcome(e),
        };
        Finding {
            target,
            outcome,
            elapsed: started.elapsed(),
        }
    }
}

impl Default for BlockingUreq {
    fn default() -> BlockingUreq {
        BlockingUreq::new(ScanConfig::default().timeout)
    }
}

fn ureq_outcome(e: ureq::Error) -> Outcome {
    match e {
        ureq::Error::Timeout(_) => Outcome::Timeout,
        ureq::Error::Io(e) => Outcome::from_io(&e),
        ureq::Error::Protocol(_) | ureq::Error::StatusCode(_) => Outcome::NotHttp,
        ureq::Error::ConnectionFailed => Outcome::Refused,
        _ => Outcome::Error(io::ErrorKind::Other),
    }
}

impl Probe for BlockingUreq {
    fn name(&self) -> &'static str {
        "blocking-ureq"
    }

    fn scan(
        &self,
        targets: Targets<'_>,
        config: &ScanConfig,
        on_finding: &mut dyn FnMut(Finding),
    ) -> ScanSummary {
        let rebuilt;
        let agent = if config.timeout == self.timeout {
            &self.agent
        } else {
            rebuilt = BlockingUreq::new(config.timeout);
            &rebuilt.agent
        };
        let mut report = Report::new(on_finding);
        for target in config.until_stopped(targets) {
            report.finding(self.probe(agent, target));
        }
        report.finish(config)
    }
}
