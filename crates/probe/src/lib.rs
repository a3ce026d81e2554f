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
pub mod feed;
pub mod http;

pub use cidr::{Cidr, CidrError, CidrIter};
pub use feed::{Feed, Next};
pub use http::{Exchange, Step};

use std::fmt;
use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::num::NonZeroUsize;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
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

/// How one probe ended. A host "has a server" iff the outcome is [`Outcome::Http`]. Which
/// outcome a probe gets is decided by [`http::Exchange`], never by a model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Outcome {
    /// An HTTP status line came back (any status; redirects are not followed). Interim `1xx`
    /// answers are skipped to the final one. `about` is what the server said about itself, as
    /// far as it came: description only, never part of what the answer is (see [`About`]).
    Http { status: u16, about: About },
    /// Bytes came back, but not an HTTP status line.
    NotHttp,
    /// Nothing listens there (a TCP reset to our SYN).
    Refused,
    /// The peer accepted, then closed or reset without sending a byte.
    Closed,
    /// The probe's deadline passed first.
    Timeout,
    /// Any other failure, as the OS reported it.
    Error(IoFailure),
}

/// An IO error, kept small enough to copy: its kind, and the OS's own error number when there
/// is one, so that "too many open files" still says so when printed (the kind alone would print
/// as "uncategorized error").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct IoFailure {
    pub kind: io::ErrorKind,
    pub os_code: Option<i32>,
}

impl From<&io::Error> for IoFailure {
    fn from(e: &io::Error) -> IoFailure {
        IoFailure {
            kind: e.kind(),
            os_code: e.raw_os_error(),
        }
    }
}

impl From<io::ErrorKind> for IoFailure {
    fn from(kind: io::ErrorKind) -> IoFailure {
        IoFailure {
            kind,
            os_code: None,
        }
    }
}

impl fmt::Display for IoFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.os_code {
            // The OS's message, as `io::Error` prints it: "Too many open files (os error 24)".
            Some(code) => io::Error::from_raw_os_error(code).fmt(f),
            None => self.kind.fmt(f),
        }
    }
}

/// What a web server said about itself: its `Server` header and its page's `<title>`, where
/// they came within [`http::MAX_READ`] bytes and the probe's deadline.
///
/// It describes a host and never classifies one: two outcomes that differ only here are equal
/// (`==` and `Hash` ignore it), so the ground truth, which cannot know what a real server calls
/// itself, still decides what is right. Fixed-size and `Copy`, like the rest of an [`Outcome`]:
/// each value is cut to [`Label::CAPACITY`] bytes.
#[derive(Debug, Clone, Copy, Default)]
pub struct About {
    pub server: Option<Label>,
    pub title: Option<Label>,
}

impl PartialEq for About {
    fn eq(&self, _: &About) -> bool {
        true
    }
}

impl Eq for About {}

impl std::hash::Hash for About {
    fn hash<H: std::hash::Hasher>(&self, _: &mut H) {}
}

/// A short text kept inline (no allocation, so an [`Outcome`] stays `Copy`): at most
/// [`Label::CAPACITY`] bytes of UTF-8, cut at a character boundary.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Label {
    len: u8,
    bytes: [u8; Label::CAPACITY],
}

impl Label {
    pub const CAPACITY: usize = 80;

    /// `text`, cut to fit; `None` if nothing is left. Control characters become spaces: the
    /// text comes from a stranger's server and ends up on a terminal, where an escape sequence
    /// would be obeyed, not shown.
    pub fn new(text: &str) -> Option<Label> {
        let clean: String = text
            .chars()
            .map(|c| if c.is_control() { ' ' } else { c })
            .collect();
        let text = clean.trim();
        let mut end = text.len().min(Label::CAPACITY);
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        if end == 0 {
            return None;
        }
        let mut bytes = [0; Label::CAPACITY];
        bytes[..end].copy_from_slice(&text.as_bytes()[..end]);
        Some(Label {
            len: end as u8,
            bytes,
        })
    }

    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.bytes[..usize::from(self.len)]).expect("cut at a boundary")
    }
}

impl fmt::Debug for Label {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl fmt::Display for Label {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Outcome {
    /// An HTTP answer with `status` and nothing said about the server.
    pub const fn http(status: u16) -> Outcome {
        Outcome::Http {
            status,
            about: About {
                server: None,
                title: None,
            },
        }
    }

    /// What the server said about itself, for [`Outcome::Http`].
    pub fn about(&self) -> Option<&About> {
        match self {
            Outcome::Http { about, .. } => Some(about),
            _ => None,
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
            Outcome::Http { status, .. } => Some(*status),
            _ => None,
        }
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Outcome::Http { status, .. } => write!(f, "http {status}"),
            Outcome::Error(failure) => write!(f, "error ({failure})"),
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
        // Relaxed is enough: the flag carries no data with it. A model checks it before it
        // takes each target; one taken by another thread at the very moment of the store may
        // still be probed, and nothing after that.
        self.0.store(true, Ordering::Relaxed);
    }

    pub fn is_stopped(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }
}

/// How to scan. The same for every model. Its fields are private so that the contract cannot
/// be broken by accident: `max_connections` is never zero (a scan with no connection could
/// never end).
#[derive(Debug)]
pub struct ScanConfig {
    timeout: Duration,
    max_connections: NonZeroUsize,
    stop: Stop,
    /// Spaces the starts of probes, if the scan has a rate: each scan's feed starts from a copy.
    pace: Option<feed::Pacer>,
    /// Set when the stop refused a model its next target while targets remained; written by
    /// the scan that runs with this config (one at a time: give concurrent scans a clone each).
    cut_short: AtomicBool,
}

/// A clone has its own "cut short" record: give each scan running at once its own config.
impl Clone for ScanConfig {
    fn clone(&self) -> ScanConfig {
        ScanConfig {
            timeout: self.timeout,
            max_connections: self.max_connections,
            stop: self.stop.clone(),
            pace: self.pace.clone(),
            cut_short: AtomicBool::new(false),
        }
    }
}

impl Default for ScanConfig {
    fn default() -> ScanConfig {
        ScanConfig::new(Duration::from_secs(10), 500)
    }
}

impl ScanConfig {
    /// A scan where each probe has `timeout` in all and at most `max_connections` sockets are
    /// open at once.
    ///
    /// # Panics
    /// If `max_connections` is zero: no probe could ever start, and the scan would never end.
    /// (The CLI refuses 0 with a message before it gets here.)
    pub fn new(timeout: Duration, max_connections: usize) -> ScanConfig {
        let max_connections = NonZeroUsize::new(max_connections)
            .expect("max_connections must be at least 1: with none, no probe could start");
        ScanConfig {
            timeout,
            max_connections,
            stop: Stop::new(),
            pace: None,
            cut_short: AtomicBool::new(false),
        }
    }

    /// The same scan, stopped by `stop` (a Ctrl-C handler's, say) instead of its own.
    pub fn with_stop(mut self, stop: Stop) -> ScanConfig {
        self.stop = stop;
        self
    }

    /// The same scan, paced: probes start at most `per_second` a second, evenly spaced (see
    /// [`feed::Pacer`]). The pace is kept by the targets' [`Feed`], so every model keeps it.
    ///
    /// # Panics
    /// If `per_second` is outside [`feed::MIN_RATE`] to [`feed::MAX_RATE`]. (The CLI refuses
    /// one with a message.)
    pub fn with_rate(mut self, per_second: f64) -> ScanConfig {
        self.pace = Some(feed::Pacer::new(per_second));
        self
    }

    /// The total deadline of one probe, from its start (not a per-read timeout: a peer that
    /// trickles a byte a second must not hold a probe forever).
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// At most this many sockets open at once; at least 1.
    pub fn max_connections(&self) -> usize {
        self.max_connections.get()
    }

    /// Set it to end the scan early.
    pub fn stop(&self) -> &Stop {
        &self.stop
    }

    /// The targets, ending as soon as the scan is stopped, and paced if the scan has a rate.
    /// Every model takes its next target through this, so "stop starting probes" and "keep
    /// the pace" are written once. The stop is checked before each target is taken, so no
    /// target is taken after it. What is left to a model is to take a target only when a probe
    /// can start, and to start it at once: then no probe starts after the stop either, except
    /// one whose target was being taken as the stop landed (on another thread). A model that
    /// waited between the two (for a free connection, say) would have to check
    /// [`Stop::is_stopped`] again before it started the probe.
    ///
    /// A paced feed makes the model wait between starts; how it waits is the model's: see
    /// [`Feed`].
    pub fn until_stopped<'a>(&'a self, targets: Targets<'a>) -> Feed<'a> {
        Feed::new(self, targets)
    }
}

/// How many memory mappings this process may hold (`vm.max_map_count`, 65 530 by default on
/// Linux), where the system says: each thread's stack and each coroutine's is a mapping or two,
/// so this, not memory, is what first stops a model with a stack per probe. `None` elsewhere.
pub fn max_map_count() -> Option<usize> {
    std::fs::read_to_string("/proc/sys/vm/max_map_count")
        .ok()?
        .trim()
        .parse()
        .ok()
}

/// Mappings kept for everything in a process that is not a probe's stack: its libraries, heap
/// arenas, the runtime's own threads.
pub const MAPS_RESERVED: usize = 4096;

/// Open files kept for everything in a process that is neither a connection nor a listener
/// (stdio, a runtime's own, the process that started it), when a limit on open files is
/// shared out.
pub const FILES_RESERVED: u64 = 64;

/// The most probes a model can hold when each costs `per_probe` memory mappings (`what` says
/// which), and why, for [`Probe::capacity`]: `None` where the system does not say.
pub fn mapping_capacity(per_probe: usize, what: &str) -> Option<(usize, String)> {
    let maps = max_map_count()?;
    Some((
        maps.saturating_sub(MAPS_RESERVED) / per_probe.max(1),
        format!("{what}, and vm.max_map_count allows {maps}"),
    ))
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
    /// True if a stop ended the scan before its targets ran out: the stop refused the model a
    /// target while targets remained. A stop that comes after the last target was taken (while
    /// the last probes are in flight) does not count: that scan was complete. (Whether targets
    /// remain is what the targets' `size_hint` says; one that cannot tell counts as having more.)
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

    /// Ends the scan. "Stopped" means the stop refused the model a target (see
    /// [`ScanConfig::until_stopped`]).
    pub fn finish(mut self, config: &ScanConfig) -> ScanSummary {
        self.summary.stopped = config.cut_short.load(Ordering::Relaxed);
        self.summary.elapsed = self.started.elapsed();
        self.summary
    }
}

/// Whether a non-blocking connect has finished, decided from the two things a readiness model
/// can ask its socket when it turns writable: its pending error (`take_error`) and its peer
/// address (`peer_addr`). The recipe from mio's `TcpStream::connect` docs, written once for the
/// callbacks loop, the hand-written runtime and the green threads: a pending error means the
/// connect failed; no peer address yet (`NotConnected`) means it is still in progress, and the
/// wakeup was spurious.
pub fn connect_finished(
    pending_error: io::Result<Option<io::Error>>,
    peer: io::Result<SocketAddr>,
) -> io::Result<bool> {
    if let Some(e) = pending_error? {
        return Err(e);
    }
    match peer {
        Ok(_) => Ok(true),
        Err(e) if e.kind() == io::ErrorKind::NotConnected => Ok(false),
        Err(e) => Err(e),
    }
}

/// Locks `m` even if poisoned: a panic while it was held (a probe's, which the model reports)
/// leaves the value usable, so it must not turn into a panic in every later user of the lock.
pub fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Runs `scan` on a thread of its own and hands each finding to `on_finding` on this thread.
///
/// For a model whose blocking call cannot run on the calling thread: an async runtime's
/// `block_on` refuses a thread that is already running async code (tokio panics "Cannot start a
/// runtime from within a runtime"), so [`Probe::scan`] called from async code scans here instead.
/// The calling thread only waits for findings.
pub fn scan_on_another_thread(
    config: &ScanConfig,
    on_finding: &mut dyn FnMut(Finding),
    scan: impl FnOnce(&mut Report<'_>) + Send,
) -> ScanSummary {
    let mut report = Report::new(on_finding);
    let (found_tx, found) = std::sync::mpsc::channel::<Finding>();
    std::thread::scope(|s| {
        s.spawn(move || {
            let mut send = |f| {
                let _ = found_tx.send(f);
            };
            scan(&mut Report::new(&mut send));
        });
        // Ends when the scan's thread drops its sender, when the scan is done.
        found.iter().for_each(|f| report.finding(f));
    });
    report.finish(config)
}

// ANCHOR: probe_trait
/// One concurrency model's way of scanning.
///
/// The contract, whatever the model:
/// - at most `config.max_connections()` sockets open at once;
/// - every probe ends within `config.timeout()` of its start, whatever the peer does;
/// - targets are pulled lazily and each finding goes to `on_finding` as it completes;
/// - `config.stop()` stops starting probes: no target is taken after it, and a target is taken
///   only when its probe can start at once (see [`ScanConfig::until_stopped`]); the call
///   returns once those in flight have ended;
/// - a paced scan's wait for its next start (a [`Feed`]'s [`Next::Wait`]) holds nothing else
///   back: the probes in flight go on, and their findings are handed on as they complete;
/// - the outcome of every probe comes from [`http::Exchange`]: a model reports what happened on
///   the socket, the exchange says what it means;
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

    /// The most probes this model can hold in flight, and why, where it has a limit of its own
    /// below any a caller might ask for (a queue's size, the mappings a process may hold). A
    /// caller asks for at most this many connections, and says why it could not have more.
    fn capacity(&self) -> Option<(usize, String)> {
        None
    }

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
    fn an_error_prints_what_the_os_said() {
        let o = Outcome::Error(IoFailure::from(&io::Error::from_raw_os_error(24)));
        assert_eq!(o.kind(), "error");
        assert!(o.to_string().contains("os error 24"), "{o}");
        let o = Outcome::Error(io::ErrorKind::Other.into());
        assert_eq!(o.to_string(), "error (other error)");
    }

    #[test]
    #[should_panic(expected = "max_connections must be at least 1")]
    fn no_scan_without_connections() {
        ScanConfig::new(Duration::from_secs(1), 0);
    }

    #[test]
    fn a_connect_is_finished_by_a_peer_not_by_a_wakeup() {
        let peer: SocketAddr = "127.0.0.1:80".parse().unwrap();
        let not_yet = || Err(io::Error::from(io::ErrorKind::NotConnected));
        assert!(connect_finished(Ok(None), Ok(peer)).unwrap());
        assert!(!connect_finished(Ok(None), not_yet()).unwrap());
        let refused = io::Error::from(io::ErrorKind::ConnectionRefused);
        let e = connect_finished(Ok(Some(refused)), not_yet()).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::ConnectionRefused);
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
    fn until_stopped_ends_the_targets_and_takes_none_after_the_stop() {
        let config = ScanConfig::new(Duration::from_secs(1), 4);
        let mut taken = 0;
        let mut all = Cidr::new(Ipv4Addr::UNSPECIFIED, 0).iter().map(|a| {
            taken += 1;
            Target::direct(a, 80)
        });
        let mut targets = config.until_stopped(&mut all);
        assert!(targets.next().is_some());
        config.stop().stop();
        assert!(targets.next().is_none());
        assert!(targets.next().is_none());
        assert_eq!(taken, 1, "no target is taken after the stop");
        let mut ignore = |_| {};
        assert!(Report::new(&mut ignore).finish(&config).stopped);
    }

    #[test]
    fn a_stop_after_the_last_target_is_not_stopped_early() {
        let config = ScanConfig::new(Duration::from_secs(1), 4);
        let mut two = Cidr::new(Ipv4Addr::LOCALHOST, 31)
            .iter()
            .map(|a| Target::direct(a, 80));
        let taken: Vec<_> = config.until_stopped(&mut two).collect();
        assert_eq!(taken.len(), 2);
        // The stop comes while the last probes are in flight: the targets had run out.
        config.stop().stop();
        let mut ignore = |_| {};
        assert!(!Report::new(&mut ignore).finish(&config).stopped);
    }

    #[test]
    fn a_stop_during_the_last_probe_is_not_stopped_early() {
        // As the blocking model loops: take a target, probe it, then ask for the next one.
        let config = ScanConfig::new(Duration::from_secs(1), 1);
        let mut two = Cidr::new(Ipv4Addr::LOCALHOST, 31)
            .iter()
            .map(|a| Target::direct(a, 80));
        let mut probed = 0;
        for _target in config.until_stopped(&mut two) {
            probed += 1;
            if probed == 2 {
                // Ctrl-C while the last probe is in flight.
                config.stop().stop();
            }
        }
        assert_eq!(probed, 2);
        let mut ignore = |_| {};
        assert!(!Report::new(&mut ignore).finish(&config).stopped);
    }

    #[test]
    fn a_scan_on_another_thread_streams_back_to_this_one() {
        let config = ScanConfig::new(Duration::from_secs(1), 4);
        let here = std::thread::current().id();
        let mut seen = Vec::new();
        let mut on = |f: Finding| {
            assert_eq!(std::thread::current().id(), here);
            seen.push(f.outcome);
        };
        let summary = scan_on_another_thread(&config, &mut on, |report| {
            assert_ne!(std::thread::current().id(), here);
            report.finding(Finding {
                target: Target::direct(Ipv4Addr::LOCALHOST, 80),
                outcome: Outcome::Refused,
                elapsed: Duration::ZERO,
            });
        });
        assert_eq!(seen, [Outcome::Refused]);
        assert_eq!((summary.completed, summary.by_kind[2]), (1, 1));
    }

    #[test]
    fn report_counts_by_kind() {
        let mut seen = 0;
        let mut on = |_f: Finding| seen += 1;
        let mut report = Report::new(&mut on);
        let t = Target::direct(Ipv4Addr::LOCALHOST, 80);
        for outcome in [Outcome::http(200), Outcome::Timeout, Outcome::Timeout] {
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
