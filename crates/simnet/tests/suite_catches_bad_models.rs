//! The conformance suite must fail models that break the contract, or passing it means nothing.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use wardial_probe::http::{Exchange, Step};
use wardial_probe::{Finding, Outcome, Probe, Report, ScanConfig, ScanSummary, Target, Targets};
use wardial_simnet::conformance::{check, Expect};

/// Answers without connecting.
struct Liar;

impl Probe for Liar {
    fn name(&self) -> &'static str {
        "liar"
    }
    fn scan(&self, t: Targets<'_>, c: &ScanConfig, f: &mut dyn FnMut(Finding)) -> ScanSummary {
        let mut report = Report::new(f);
        for target in c.until_stopped(t) {
            report.finding(Finding {
                target,
                outcome: Outcome::Timeout,
                elapsed: Duration::ZERO,
            });
        }
        report.finish(c)
    }
}

/// A per-read timeout instead of a total deadline: a trickling peer holds it too long, and it
/// reports the trickle host as a server.
struct PerReadTimeout;

fn per_read(target: Target, timeout: Duration) -> Outcome {
    let run = || -> std::io::Result<Outcome> {
        let mut s = TcpStream::connect_timeout(&target.dial, timeout)?;
        s.write_all(&target.request())?;
        s.set_read_timeout(Some(timeout))?;
        let mut ex = Exchange::new();
        let mut buf = [0u8; 512];
        loop {
            let n = s.read(&mut buf)?;
            if let Step::Done(o) = ex.on_read(&buf[..n]) {
                return Ok(o);
            }
        }
    };
    run().unwrap_or_else(|e| Outcome::from_io(&e))
}

impl Probe for PerReadTimeout {
    fn name(&self) -> &'static str {
        "per-read-timeout"
    }
    fn scan(&self, t: Targets<'_>, c: &ScanConfig, f: &mut dyn FnMut(Finding)) -> ScanSummary {
        let mut report = Report::new(f);
        for target in c.until_stopped(t) {
            let started = Instant::now();
            let outcome = per_read(target, c.timeout);
            report.finding(Finding {
                target,
                outcome,
                elapsed: started.elapsed(),
            });
        }
        report.finish(c)
    }
}

#[test]
#[should_panic(expected = "fails the conformance suite")]
fn a_model_that_does_not_connect_fails() {
    check(&Liar, Expect::sequential());
}

#[test]
#[should_panic(expected = "is trickle (expected timeout)")]
fn a_per_read_timeout_fails_on_trickle_hosts() {
    check(&PerReadTimeout, Expect::sequential());
}

#[test]
#[should_panic(expected = "never ran two probes at once")]
fn a_sequential_model_claiming_concurrency_fails() {
    let expect = Expect {
        prefix: 28,
        ..Expect::concurrent(4)
    };
    check(&PerReadTimeout, expect);
}
