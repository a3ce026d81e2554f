//! The conformance suite must fail models that break the contract, or passing it means nothing.
//! Each test model here breaks one clause, and the suite must fail it naming that clause.

use std::io::{self, Read, Write};
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

/// The one way a [`Flawed`] model breaks the contract.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Flaw {
    /// Runs eight times `max_connections` probes at once.
    OverTheLimit,
    /// Takes targets whether the scan was stopped or not.
    IgnoresStop,
    /// Reports one target twice.
    ReportsTwice,
    /// Leaves one target out.
    LosesOne,
    /// Classifies read errors itself, without asking the exchange: a reset after a few bytes
    /// becomes `closed`.
    OwnErrorMapping,
    /// A timeout per read instead of one deadline for the whole probe.
    PerReadTimeout,
    /// Collects its targets into a `Vec` before it starts.
    CollectsTargets,
    /// Does one probe at a time (fails a suite that expects concurrency).
    OneAtATime,
}

/// A small threaded model: batches of probes on scoped threads, with at most one flaw.
struct Flawed(Option<Flaw>);

impl Flawed {
    fn probe(&self, target: Target, timeout: Duration) -> Finding {
        let started = Instant::now();
        let mut exchange = Exchange::new();
        let outcome = match self.run(&target, started + timeout, &mut exchange) {
            Ok(outcome) => outcome,
            Err(e)
                if self.0 == Some(Flaw::OwnErrorMapping)
                    && e.kind() == io::ErrorKind::ConnectionReset =>
            {
                Outcome::Closed
            }
            Err(e) => exchange.on_error(&e),
        };
        Finding {
            target,
            outcome,
            elapsed: started.elapsed(),
        }
    }

    fn run(&self, target: &Target, deadline: Instant, ex: &mut Exchange) -> io::Result<Outcome> {
        let left = || {
            deadline
                .checked_duration_since(Instant::now())
                .filter(|d| !d.is_zero())
                .ok_or(io::Error::from(io::ErrorKind::TimedOut))
        };
        let timeout = left()?;
        let mut s = TcpStream::connect_timeout(&target.dial, timeout)?;
        s.set_write_timeout(Some(timeout))?;
        s.write_all(&target.request())?;
        let mut buf = [0u8; 512];
        loop {
            let per_read = self.0 == Some(Flaw::PerReadTimeout);
            s.set_read_timeout(Some(if per_read { timeout } else { left()? }))?;
            let n = s.read(&mut buf)?;
            if let Step::Done(o) = ex.on_read(&buf[..n]) {
                return Ok(o);
            }
        }
    }
}

impl Probe for Flawed {
    fn name(&self) -> &'static str {
        "flawed"
    }

    fn scan(&self, t: Targets<'_>, c: &ScanConfig, f: &mut dyn FnMut(Finding)) -> ScanSummary {
        let mut report = Report::new(f);
        let width = match self.0 {
            Some(Flaw::OverTheLimit) => c.max_connections() * 8,
            Some(Flaw::OneAtATime) => 1,
            _ => c.max_connections(),
        };
        let mut targets: Box<dyn Iterator<Item = Target> + Send + '_> = match self.0 {
            Some(Flaw::IgnoresStop) => Box::new(t),
            Some(Flaw::CollectsTargets) => {
                Box::new(c.until_stopped(t).collect::<Vec<_>>().into_iter())
            }
            _ => Box::new(c.until_stopped(t)),
        };
        let mut first = true;
        loop {
            let batch: Vec<Target> = targets.by_ref().take(width).collect();
            if batch.is_empty() {
                break;
            }
            let found: Vec<Finding> = std::thread::scope(|s| {
                let probes: Vec<_> = batch
                    .into_iter()
                    .map(|t| s.spawn(move || self.probe(t, c.timeout())))
                    .collect();
                probes.into_iter().map(|p| p.join().unwrap()).collect()
            });
            for finding in found {
                match self.0 {
                    Some(Flaw::ReportsTwice) if first => report.finding(finding),
                    Some(Flaw::LosesOne) if first => {
                        first = false;
                        continue;
                    }
                    _ => {}
                }
                first = false;
                report.finding(finding);
            }
        }
        report.finish(c)
    }
}

/// 64 hosts, 8 connections.
const EXPECT: Expect = Expect {
    max_connections: 8,
    concurrent: true,
    prefix: 26,
    timeout: Duration::from_millis(300),
};

/// Runs the suite on a model with `flaw`.
fn check_flawed(flaw: Flaw) {
    check(&Flawed(Some(flaw)), EXPECT);
}

#[test]
fn the_test_model_without_a_flaw_passes() {
    // So each failure below is its flaw's doing, not the test model's.
    check(&Flawed(None), EXPECT);
}

#[test]
#[should_panic(expected = "fails the conformance suite")]
fn a_model_that_does_not_connect_fails() {
    check(&Liar, Expect::sequential());
}

#[test]
#[should_panic(expected = "[max_connections] peak open connections")]
fn a_model_over_max_connections_fails() {
    check_flawed(Flaw::OverTheLimit);
}

#[test]
#[should_panic(expected = "[stop] took")]
fn a_model_that_ignores_the_stop_fails() {
    check_flawed(Flaw::IgnoresStop);
}

#[test]
#[should_panic(expected = "reported 2 times")]
fn a_model_that_reports_a_target_twice_fails() {
    check_flawed(Flaw::ReportsTwice);
}

#[test]
#[should_panic(expected = "never reported")]
fn a_model_that_loses_a_target_fails() {
    check_flawed(Flaw::LosesOne);
}

#[test]
#[should_panic(expected = "is partial-reset (expected not_http)")]
fn a_model_that_classifies_errors_itself_fails() {
    check_flawed(Flaw::OwnErrorMapping);
}

#[test]
#[should_panic(expected = "must be a total one, not a timeout per read")]
fn a_per_read_timeout_fails_on_trickle_hosts() {
    check_flawed(Flaw::PerReadTimeout);
}

#[test]
#[should_panic(expected = "[lazy targets]")]
fn a_model_that_collects_its_targets_fails_fast_with_a_message() {
    check_flawed(Flaw::CollectsTargets);
}

#[test]
#[should_panic(
    expected = "[concurrency] peak open connections 1: the scan never ran two probes at once"
)]
fn a_sequential_model_claiming_concurrency_fails() {
    check_flawed(Flaw::OneAtATime);
}
