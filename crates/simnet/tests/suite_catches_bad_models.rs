//! The conformance suite must fail models that break the contract, or passing it means nothing.
//! Each test model here breaks one clause, and the suite must fail it naming that clause.

use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use wardial_probe::http::{Exchange, Step};
use wardial_probe::{
    Feed, Finding, Next, Outcome, Probe, Report, ScanConfig, ScanSummary, Target, Targets,
};
use wardial_simnet::conformance::{check, clause, Expect};

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
    /// Says it was stopped whether it was or not.
    AlwaysSaysStopped,
    /// Sleeps for a paced scan's next start with probes in flight, holding their findings.
    SleepsForThePace,
}

/// Where a [`Flawed`] model takes its targets from.
enum Source<'a> {
    /// The feed, asked without blocking: a batch holds what may start now.
    Feed(Feed<'a>),
    /// Any iterator, a batch at a time (sleeping in it, for a paced feed).
    Iter(Box<dyn Iterator<Item = Target> + Send + 'a>),
}

impl Source<'_> {
    /// Up to `width` targets; waits for the pace only when it has none to start.
    fn batch(&mut self, width: usize) -> Vec<Target> {
        let feed = match self {
            Source::Iter(targets) => return targets.by_ref().take(width).collect(),
            Source::Feed(feed) => feed,
        };
        let mut batch = Vec::new();
        while batch.len() < width {
            match feed.next_at(Instant::now()) {
                Next::Go(target) => batch.push(target),
                Next::Wait(when) if batch.is_empty() => {
                    std::thread::sleep(when.saturating_duration_since(Instant::now()))
                }
                Next::Wait(_) | Next::End => break,
            }
        }
        batch
    }
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
        let mut targets = match self.0 {
            Some(Flaw::IgnoresStop) => Source::Iter(Box::new(t)),
            Some(Flaw::CollectsTargets) => {
                Source::Iter(Box::new(c.until_stopped(t).collect::<Vec<_>>().into_iter()))
            }
            Some(Flaw::SleepsForThePace) => Source::Iter(Box::new(c.until_stopped(t))),
            _ => Source::Feed(c.until_stopped(t)),
        };
        let mut first = true;
        loop {
            let batch = targets.batch(width);
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
        let mut summary = report.finish(c);
        if self.0 == Some(Flaw::AlwaysSaysStopped) {
            summary.stopped = true;
        }
        summary
    }
}

/// 64 hosts, 8 connections.
const EXPECT: Expect = Expect {
    max_connections: 8,
    concurrent: true,
    prefix: 26,
    timeout: Duration::from_millis(300),
};

/// Runs the suite on a model with `flaw`: it must fail, with a line that names `clause` and
/// says `detail`.
fn fails_naming(flaw: Flaw, clause: &str, detail: &str) {
    let failure = std::panic::catch_unwind(|| check(&Flawed(Some(flaw)), EXPECT))
        .expect_err("the suite must fail this model");
    let message = failure
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| failure.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_default();
    assert!(
        message
            .lines()
            .any(|l| l.starts_with(clause) && l.contains(detail)),
        "want a line '{clause} …{detail}…' in:\n{message}"
    );
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
fn a_model_over_max_connections_fails() {
    fails_naming(
        Flaw::OverTheLimit,
        clause::MAX_CONNECTIONS,
        "> max_connections 8",
    );
}

#[test]
fn a_model_that_ignores_the_stop_fails() {
    fails_naming(Flaw::IgnoresStop, clause::STOP, "targets after the stop");
}

#[test]
fn a_model_that_reports_a_target_twice_fails() {
    fails_naming(Flaw::ReportsTwice, clause::EXACTLY_ONCE, "reported 2 times");
}

#[test]
fn a_model_that_loses_a_target_fails() {
    fails_naming(Flaw::LosesOne, clause::EXACTLY_ONCE, "never reported");
}

#[test]
fn a_model_that_classifies_errors_itself_fails() {
    fails_naming(
        Flaw::OwnErrorMapping,
        clause::TRUTH,
        "got closed but the host is partial-reset (expected not_http)",
    );
}

#[test]
fn a_per_read_timeout_fails_on_trickle_hosts() {
    fails_naming(
        Flaw::PerReadTimeout,
        clause::DEADLINE,
        "must be a total one, not a timeout per read",
    );
}

#[test]
fn a_model_that_collects_its_targets_fails_fast_with_a_message() {
    fails_naming(
        Flaw::CollectsTargets,
        clause::LAZY,
        "The targets may be 2^32 long",
    );
}

#[test]
fn a_sequential_model_claiming_concurrency_fails() {
    fails_naming(
        Flaw::OneAtATime,
        clause::CONCURRENCY,
        "the scan never ran two probes at once",
    );
}

#[test]
fn a_model_whose_summary_says_stopped_when_it_was_not_fails() {
    fails_naming(
        Flaw::AlwaysSaysStopped,
        clause::SUMMARY,
        "nothing stopped the scan",
    );
}

#[test]
fn a_model_that_sleeps_for_the_pace_with_probes_in_flight_fails() {
    fails_naming(
        Flaw::SleepsForThePace,
        clause::PACING,
        "came only after the suite had waited",
    );
}
