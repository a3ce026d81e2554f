//! The shared core of wardial, the one scanner written in every concurrency model.
//!
//! Every model crate implements [`Probe`] and uses the pieces here, so that the only thing that
//! differs between two models is how they wait:
//!
//! - [`Target`], [`Outcome`], [`Finding`]: what goes in and what comes out of one probe;
//! - [`ScanConfig`] and [`Stop`]: the deadline, the concurrency limit, and how a scan is stopped;
//! - [`Probe`]: the trait, called the same way for every model (a plain blocking call);
//! - [`Report`]: what a model hands each finding to; it streams them out and keeps the totals;
//! - [`http`]: the sans-IO HTTP exchange (no sockets in this crate);
//! - [`cidr`]: CIDR blocks and their lazy address iterator.

pub mod cidr;
pub mod http;

pub use cidr::{Cidr, CidrError, CidrIter};

use std::fmt;
use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// One address to probe.
///
/// `addr` is the address being scanned: it is what findings report and what the `Host` header
/// names. `dial` is where the socket actually connects. On a real network the two are the same
/// host; on the simulated internet `addr` is a virtual address such as `127.64.3.7` and `dial` is
/// the simnet listener that plays it. Models connect to `dial` and never to `addr`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Target {
    pub addr: Ipv4Addr,
    pub port: u16,
    pub dial: SocketAddr,
}

impl Target {
    /// A target on a real network: connect to the address itself.
    pub fn direct(addr: Ipv4Addr, port: u16) -> Target {
        Target {
            addr,
            port,
            dial: SocketAddr::new(addr.into(), port),
        }
    }

    /// The value of the `Host` header: the address, with the port unless it is HTTP's 80.
    pub fn host_header(&self) -> String {
        if self.port == 80 {
            self.addr.to_string()
        } else {
            format!("{}:{}", self.addr, self.port)
        }
    }

    /// The request bytes for this target (see [`http::request`]).
    pub fn request(&self) -> Vec<u8> {
        http::request(&self.host_header())
    }
}

/// How one probe ended. A host "has a server" iff the outcome is [`Outcome::Http`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Outcome {
    /// An HTTP status line came back (any status; redirects are not followed).
    Http { status: u16 },
    /// Bytes came back, but not HTTP.
    NotHttp,
    /// Nothing listens there (a TCP reset to our SYN).
    Refused,
    /// The peer accepted, then closed or reset without sending a byte.
    Closed,
    /// The probe's deadline passed first.
    Timeout,
    /// Any other failure, by kind.
    Error(io::ErrorKind),
}

impl Outcome {
    /// The outcome an IO error stands for. Every model maps its errors through here, so that the
    /// same failure is reported the same way whatever the model.
    pub fn from_io(err: &io::Error) -> Outcome {
        use io::ErrorKind::*;
        match err.kind() {
            ConnectionRefused => Outcome::Refused,
            // Reset or closed under us with nothing read: a writer that hits a peer which has
            // already closed sees BrokenPipe, a reader sees ConnectionReset or UnexpectedEof.
            ConnectionReset | ConnectionAborted | BrokenPipe | UnexpectedEof => Outcome::Closed,
            TimedOut | WouldBlock => Outcome::Timeout,
            kind => Outcome::Error(kind),
        }
    }

    pub fn is_server(&self) -> bool {
        matches!(self, Outcome::Http { .. })
    }

    /// A stable lowercase name, used in JSON output: `http`, `not_http`, `refused`, `closed`,
    /// `timeout`, `error`.
    pub fn kind(&self) -> &'static str {
        match self {
            Outcome::Http { .. } => "http",
            Outcome::NotHttp => "not_http",
            Outcome::Refused => "refused",
            Outcome::Closed => "closed",
            Outcome::Timeout => "timeout",
            Outcome::Error(_) => "error",
        }
    }

    /// The HTTP status, for [`Outcome::Http`].
    pub fn status(&self) -> Option<u16> {
        match self {
            Outcome::Http { status } => Some(*status),
            _ => None,
        }
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Outcome::Http { status } => write!(f, "http {status}"),
            Outcome::Error(kind) => write!(f, "error ({kind})"),
            other => f.write_str(other.kind()),
        }
    }
}

/// The result of probing one target.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Finding {
    pub target: Target,
    pub outcome: Outcome,
    /// From the start of this probe (before connecting) to its outcome.
    pub elapsed: Duration,
}

/// A handle that stops a scan: it stops starting probes, lets the ones in flight end (each within
/// its timeout) and returns what it has. Clones share one flag, so one can be given to a Ctrl-C
/// handler or a budget timer while the scan runs.
#[derive(Debug, Clone, Default)]
pub struct Stop(Arc<AtomicBool>);

impl Stop {
    pub fn new() -> Stop {
        Stop::default()
    }

    pub fn stop(&self) {
        // Relaxed is enough: the flag carries no data with it, and a probe started just after
        // the store is still a correct probe.
        self.0.store(true, Ordering::Relaxed);
    }

    pub fn is_stopped(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }
}

/// How to scan. The same for every model.
#[derive(Debug, Clone)]
pub struct ScanConfig {
    /// The total deadline of one probe, from its start (not a per-read timeout: a peer that
    /// trickles a byte a second must not hold a probe forever).
    pub timeout: Duration,
    /// At most this many sockets open at once.
    pub max_connections: usize,
    /// Set to end the scan early.
    pub stop: Stop,
}

impl Default for ScanConfig {
    fn default() -> ScanConfig {
        ScanConfig {
            timeout: Duration::from_secs(10),
            max_connections: 500,
            stop: Stop::new(),
        }
    }
}

impl ScanConfig {
    pub fn new(timeout: Duration, max_connections: usize) -> ScanConfig {
        ScanConfig {
            timeout,
            max_connections: max_connections.max(1),
            stop: Stop::new(),
        }
    }

    /// The targets, ending as soon as the scan is stopped. Every model pulls its next target
    /// through this, so "stop starting probes" is written once.
    pub fn until_stopped<'a>(
        &'a self,
        targets: Targets<'a>,
    ) -> impl Iterator<Item = Target> + Send + 'a {
        let stop = &self.stop;
        targets.take_while(move |_| !stop.is_stopped())
    }
}

/// The targets of a scan: any lazy iterator (a `/8` is 16.7 M addresses: nothing may hold them
/// all). `Send`, so a model may pull from it on another thread.
pub type Targets<'a> = &'a mut (dyn Iterator<Item = Target> + Send);

/// What a scan did, returned when it ends.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ScanSummary {
    /// Probes that ended (one finding each).
    pub completed: u64,
    /// Findings with an HTTP answer.
    pub servers: u64,
    /// Count per outcome kind, in the order of [`Outcome::kind`] names: http, not_http, refused,
    /// closed, timeout, error.
    pub by_kind: [u64; 6],
    /// True if the scan was stopped before the targets ran out.
    pub stopped: bool,
    pub elapsed: Duration,
}

impl ScanSummary {
    pub const KINDS: [&'static str; 6] =
        ["http", "not_http", "refused", "closed", "timeout", "error"];

    /// Probes per second over the whole scan.
    pub fn rate(&self) -> f64 {
        self.completed as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
}

/// Where a model hands its findings: streams each to the caller's callback as it completes and
/// keeps the totals for the [`ScanSummary`].
pub struct Report<'a> {
    on_finding: &'a mut dyn FnMut(Finding),
    summary: ScanSummary,
    started: Instant,
}

impl fmt::Debug for Report<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Report")
            .field("summary", &self.summary)
            .finish_non_exhaustive()
    }
}

impl<'a> Report<'a> {
    pub fn new(on_finding: &'a mut dyn FnMut(Finding)) -> Report<'a> {
        Report {
            on_finding,
            summary: ScanSummary::default(),
            started: Instant::now(),
        }
    }

    pub fn finding(&mut self, finding: Finding) {
        self.summary.completed += 1;
        if finding.outcome.is_server() {
            self.summary.servers += 1;
        }
        let i = ScanSummary::KINDS
            .iter()
            .position(|k| *k == finding.outcome.kind())
            .unwrap_or(5);
        self.summary.by_kind[i] += 1;
        (self.on_finding)(finding);
    }

    /// Ends the scan. "Stopped" means a stop was asked for while targets may have remained.
    pub fn finish(mut self, config: &ScanConfig) -> ScanSummary {
        self.summary.stopped = config.stop.is_stopped();
        self.summary.elapsed = self.started.elapsed();
        self.summary
    }
}

// ANCHOR: probe_trait
/// One concurrency model's way of scanning.
///
/// The contract, whatever the model:
/// - at most `config.max_connections` sockets open at once;
/// - every probe ends within `config.timeout` of its start, whatever the peer does;
/// - targets are pulled lazily and each finding goes to `on_finding` as it completes;
/// - `config.stop` stops starting probes; the call returns once those in flight have ended;
/// - a plain blocking call, so every caller treats every model alike (an async model owns its
///   runtime and blocks on it inside `scan`).
pub trait Probe: Send + Sync {
    /// The short stable name used in tables and `--model`.
    fn name(&self) -> &'static str;

    /// Scans `targets`, calling `on_finding` (on the calling thread) once per target probed.
    fn scan(
        &self,
        targets: Targets<'_>,
        config: &ScanConfig,
        on_finding: &mut dyn FnMut(Finding),
    ) -> ScanSummary;

    /// Scans and collects every finding: for tests and small scans, not for a `/8`.
    fn scan_collect(
        &self,
        targets: impl IntoIterator<Item = Target, IntoIter: Send>,
        config: &ScanConfig,
    ) -> (Vec<Finding>, ScanSummary)
    where
        Self: Sized,
    {
        let mut found = Vec::new();
        let summary = self.scan(&mut targets.into_iter(), config, &mut |f| found.push(f));
        (found, summary)
    }
}
// ANCHOR_END: probe_trait

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn io_errors_map_to_outcomes() {
        let e = |k| Outcome::from_io(&io::Error::from(k));
        assert_eq!(e(io::ErrorKind::ConnectionRefused), Outcome::Refused);
        assert_eq!(e(io::ErrorKind::ConnectionReset), Outcome::Closed);
        assert_eq!(e(io::ErrorKind::BrokenPipe), Outcome::Closed);
        assert_eq!(e(io::ErrorKind::TimedOut), Outcome::Timeout);
        assert_eq!(
            e(io::ErrorKind::PermissionDenied),
            Outcome::Error(io::ErrorKind::PermissionDenied)
        );
    }

    #[test]
    fn host_header_omits_port_80() {
        let t = Target::direct(Ipv4Addr::new(127, 0, 0, 1), 80);
        assert_eq!(t.host_header(), "127.0.0.1");
        let t = Target::direct(Ipv4Addr::new(127, 0, 0, 1), 8080);
        assert_eq!(t.host_header(), "127.0.0.1:8080");
        assert_eq!(t.dial, "127.0.0.1:8080".parse().unwrap());
    }

    #[test]
    fn until_stopped_ends_the_targets() {
        let config = ScanConfig::new(Duration::from_secs(1), 4);
        let mut all = Cidr::new(Ipv4Addr::UNSPECIFIED, 0)
            .iter()
            .map(|a| Target::direct(a, 80));
        let mut targets = config.until_stopped(&mut all);
        assert!(targets.next().is_some());
        config.stop.stop();
        assert!(targets.next().is_none());
    }

    #[test]
    fn report_counts_by_kind() {
        let mut seen = 0;
        let mut on = |_f: Finding| seen += 1;
        let mut report = Report::new(&mut on);
        let t = Target::direct(Ipv4Addr::LOCALHOST, 80);
        for outcome in [
            Outcome::Http { status: 200 },
            Outcome::Timeout,
            Outcome::Timeout,
        ] {
            report.finding(Finding {
                target: t,
                outcome,
                elapsed: Duration::ZERO,
            });
        }
        let s = report.finish(&ScanConfig::default());
        assert_eq!((s.completed, s.servers), (3, 1));
        assert_eq!(s.by_kind, [1, 0, 0, 0, 2, 0]);
        assert!(!s.stopped);
        assert_eq!(seen, 3);
    }
}
