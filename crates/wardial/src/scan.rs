//! `wardial scan`: one model over real networks (the user's own), printing servers as found.
//!
//! The targets are walked in a seeded pseudo-random order, a shard at a time, skipping
//! exclusions ([`crate::order`]); probes start at most `--rate` a second, evenly spaced
//! ([`Pacer`]); a stopped scan writes where it stopped ([`crate::resume`]).

use std::collections::{HashMap, HashSet};
use std::io::{BufRead, BufReader, Write};
use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde::Serialize;
use wardial_probe::{Cidr, Finding, Outcome, ScanConfig, ScanSummary, Stop, Target};

use crate::order::{Order, Shard, TargetSet, Walk};
use crate::resume::{self, ResumeState};
use crate::{args, limits, models, Failure};

/// What to scan: a network, or one address reached through another socket address (the lines
/// `wardial simnet --targets` writes: a virtual host and the listener that plays it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Spec {
    Net(Cidr),
    Mapped { addr: Ipv4Addr, dial: SocketAddr },
}

impl Spec {
    pub fn parse(s: &str) -> Result<Spec, String> {
        let mut words = s.split_whitespace();
        match (words.next(), words.next(), words.next()) {
            (Some(net), None, _) => args::cidr(net).map(Spec::Net),
            (Some(addr), Some(dial), None) => {
                let addr = addr
                    .parse()
                    .map_err(|_| format!("'{addr}' is not an IPv4 address"))?;
                let dial = dial
                    .parse()
                    .map_err(|_| format!("'{dial}' is not a socket address like 127.0.0.1:8080"))?;
                Ok(Spec::Mapped { addr, dial })
            }
            _ => Err(format!(
                "'{s}' is not a target: expected a CIDR, an address, or 'ADDRESS HOST:PORT'"
            )),
        }
    }

    /// How many addresses it holds.
    pub fn len(&self) -> u64 {
        match self {
            Spec::Net(net) => net.len(),
            Spec::Mapped { .. } => 1,
        }
    }

    /// Never true; for clippy.
    pub fn is_empty(&self) -> bool {
        false
    }

    /// The networks the responsible-scanning gate must allow: every address that names a host,
    /// and every address that is dialled.
    pub fn networks(&self) -> Vec<Cidr> {
        match *self {
            Spec::Net(net) => vec![net],
            Spec::Mapped { addr, dial } => {
                let mut nets = vec![Cidr::new(addr, 32)];
                match dial.ip() {
                    std::net::IpAddr::V4(ip) => nets.push(Cidr::new(ip, 32)),
                    // The gate knows IPv4 ranges only: [::1] is this machine, and any other
                    // IPv6 address counts as public (0.0.0.0/0 is what makes the gate say so).
                    std::net::IpAddr::V6(ip) if ip.is_loopback() => {}
                    std::net::IpAddr::V6(_) => nets.push(Cidr::new(Ipv4Addr::UNSPECIFIED, 0)),
                }
                nets
            }
        }
    }

    /// The targets, lazily.
    pub fn targets(self, port: u16) -> Box<dyn Iterator<Item = Target> + Send> {
        match self {
            Spec::Net(net) => Box::new(net.into_iter().map(move |a| Target::direct(a, port))),
            Spec::Mapped { addr, dial } => Box::new(std::iter::once(Target { addr, port, dial })),
        }
    }
}

/// As [`Spec::parse`] reads it back (the resume file keeps targets so).
impl std::fmt::Display for Spec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Spec::Net(net) => write!(f, "{net}"),
            Spec::Mapped { addr, dial } => write!(f, "{addr} {dial}"),
        }
    }
}

#[derive(Debug, Clone)]
pub struct ScanOptions {
    pub targets: Vec<Spec>,
    pub port: u16,
    pub model: String,
    pub timeout: Duration,
    pub max_connections: usize,
    pub json: bool,
    pub all: bool,
    pub progress: bool,
    /// Networks never probed (`--exclude`).
    pub excludes: Vec<Cidr>,
    /// Skip the IANA special-purpose ranges in public networks (a scan with `--allow-public`).
    pub skip_special: bool,
    pub order: Order,
    pub shard: Shard,
    /// Probes started per second, at most.
    pub rate: Option<f64>,
    /// Stop starting probes after this long (and write the resume file).
    pub budget: Option<Duration>,
    /// The User-Agent given with `--user-agent` (kept for the resume file).
    pub user_agent: Option<String>,
    /// Where to continue: the shard's first position not done, and done ones after it.
    pub start: u64,
    pub done: HashSet<u64>,
    /// Where a stopped scan writes its resume file.
    pub resume_file: PathBuf,
    /// A seed chosen for this run, to say on stderr once the scan surely starts.
    pub announce_seed: Option<u64>,
}

impl ScanOptions {
    /// Options for `targets` with every choice at its default: the order as given, one shard,
    /// no rate limit, nothing excluded. (Used by tests and as a base to override.)
    pub fn new(targets: Vec<Spec>, port: u16, model: &str) -> ScanOptions {
        ScanOptions {
            targets,
            port,
            model: model.to_string(),
            timeout: Duration::from_secs(10),
            max_connections: 500,
            json: false,
            all: false,
            progress: false,
            excludes: Vec::new(),
            skip_special: false,
            order: Order::Sequential,
            shard: Shard::ALL,
            rate: None,
            budget: None,
            user_agent: None,
            start: 0,
            done: HashSet::new(),
            resume_file: PathBuf::from(RESUME_FILE),
            announce_seed: None,
        }
    }

    /// The targets this scan walks.
    pub fn target_set(&self) -> TargetSet {
        TargetSet::new(&self.targets, self.port, &self.excludes, self.skip_special)
    }

    /// What a resume file needs to continue this scan from `position`.
    fn resume_state(&self, set_len: u64, position: u64, done: Vec<u64>) -> ResumeState {
        let (version, format) = ResumeState::header();
        ResumeState {
            version,
            format,
            targets: self.targets.iter().map(Spec::to_string).collect(),
            excludes: self.excludes.iter().map(Cidr::to_string).collect(),
            skip_special: self.skip_special,
            port: self.port,
            seed: match self.order {
                Order::Random { seed } => Some(seed),
                Order::Sequential => None,
            },
            shard: self.shard.to_string(),
            set_len,
            position,
            done,
            model: self.model.clone(),
            timeout_ms: self.timeout.as_millis() as u64,
            max_connections: self.max_connections,
            rate: self.rate,
            user_agent: self.user_agent.clone(),
            all: self.all,
            json: self.json,
        }
    }
}

/// The connection limit of a scan paced at `rate`: at most the starts of a quarter of a
/// timeout. A single-threaded event loop starts probes until its slots are full before it
/// reads any socket; with more slots than this, that filling alone (one interval each) would
/// keep it from answers long enough to turn them into timeouts.
pub fn paced_connections(max_connections: usize, rate: f64, timeout: Duration) -> usize {
    let quarter = (rate * timeout.as_secs_f64() / 4.0).floor() as usize;
    max_connections.min(quarter.max(1))
}

/// Where a stopped scan writes its resume file unless told otherwise.
pub const RESUME_FILE: &str = "wardial-resume.json";

/// Spaces the starts of probes evenly: one every `interval`, on a fixed schedule. A model takes
/// its next target when it has a free slot, so the pacer waits there, in the targets' iterator;
/// an event loop that takes a target is held for one interval (2 ms at 500/s). A loop that
/// fills all its free slots before it looks at its sockets is held for one interval per slot,
/// which is why a paced scan has at most [`paced_connections`] of them.
///
/// A model that comes late for its slot (its loop was busy) may catch up, but by at most
/// [`Pacer::SLACK`]: so a single-threaded loop still holds the rate, and after a long stall
/// (every connection busy for a second) the scan goes on at the rate instead of starting a
/// second's worth of probes at once.
#[derive(Debug)]
pub struct Pacer {
    interval: Duration,
    next: Option<Instant>,
}

impl Pacer {
    pub fn new(per_second: f64) -> Pacer {
        Pacer {
            interval: Duration::from_secs_f64(1.0 / per_second),
            next: None,
        }
    }

    /// How far behind its schedule the pacer may be and still catch up.
    pub const SLACK: Duration = Duration::from_millis(20);

    /// When the next start may happen, given that it is now `now`; and books it.
    pub fn book(&mut self, now: Instant) -> Instant {
        let earliest = now.checked_sub(Self::SLACK).unwrap_or(now);
        let slot = self.next.map_or(now, |next| next.max(earliest));
        self.next = Some(slot + self.interval);
        slot
    }

    /// Waits for the next start.
    pub fn wait(&mut self) {
        let slot = self.book(Instant::now());
        let now = Instant::now();
        if slot > now {
            std::thread::sleep(slot - now);
        }
    }
}

/// The positions in flight: taken from the walk, not yet reported. What is left in it when a
/// scan stops was taken and dropped (never probed).
#[derive(Debug, Default)]
struct InFlight {
    by_target: HashMap<Target, Vec<u64>>,
    /// The next position the walk would give.
    next: u64,
}

/// The scan's targets as a model pulls them: the walk, minus positions already done, paced,
/// with every position taken recorded in `in_flight`.
struct Tracked {
    walk: Walk,
    skip: Arc<HashSet<u64>>,
    pacer: Option<Pacer>,
    in_flight: Arc<Mutex<InFlight>>,
}

impl Iterator for Tracked {
    type Item = Target;

    fn next(&mut self) -> Option<Target> {
        loop {
            let position = self.walk.position();
            let target = self.walk.next()?;
            if self.skip.contains(&position) {
                continue;
            }
            if let Some(pacer) = &mut self.pacer {
                pacer.wait();
            }
            let mut in_flight = self.in_flight.lock().expect("no panic while held");
            in_flight
                .by_target
                .entry(target)
                .or_default()
                .push(position);
            in_flight.next = self.walk.position();
            return Some(target);
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        // Exact: the walk's rest minus the positions in it already done. (A stop asks this
        // whether anything remains, and a resumed scan whose rest is all done has nothing.)
        let rest = self.walk.size_hint().1.unwrap_or(usize::MAX);
        let from = self.walk.position();
        let skipped = self.skip.iter().filter(|&&p| p >= from).count();
        let left = rest.saturating_sub(skipped);
        (left, Some(left))
    }
}

/// Reads targets, one per line (`-` is stdin): a CIDR, an address, or `ADDRESS HOST:PORT` to
/// probe ADDRESS by dialling HOST:PORT (what `wardial simnet --targets` writes). Blank lines and
/// `#` comments are skipped. All of it is read and checked before the scan starts, so a bad line
/// (or a public address) is refused before any socket exists.
///
/// Reading can wait forever (a terminal, a pipe whose writer never closes), and a blocked read
/// cannot be interrupted: so the lines are read on a thread of their own, and this one gives up
/// when `interrupt` is set (Ctrl-C), leaving that thread to end with the process.
pub fn read_targets(path: &str, interrupt: &Stop) -> Result<Vec<Spec>, Failure> {
    let reader: Box<dyn BufRead + Send> = if path == "-" {
        Box::new(BufReader::new(std::io::stdin()))
    } else {
        let file = std::fs::File::open(path)
            .map_err(|e| Failure::Usage(format!("cannot read targets file '{path}': {e}")))?;
        Box::new(BufReader::new(file))
    };
    let (lines_tx, lines) = mpsc::channel();
    std::thread::spawn(move || {
        for line in reader.lines() {
            let failed = line.is_err();
            if lines_tx.send(line).is_err() || failed {
                return;
            }
        }
    });
    let mut nets = Vec::new();
    let mut n = 0;
    loop {
        // Checked at every line too, not only while waiting: a writer that never pauses (a
        // huge file, `yes`) must not keep the read going past a Ctrl-C.
        if interrupt.is_stopped() {
            return Err(Failure::Interrupted(format!(
                "interrupted while reading targets from {}: nothing was scanned",
                if path == "-" { "stdin" } else { path }
            )));
        }
        let line = match lines.recv_timeout(Duration::from_millis(50)) {
            Ok(line) => line,
            Err(mpsc::RecvTimeoutError::Timeout) => continue,
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
        };
        n += 1;
        let line =
            line.map_err(|e| Failure::Usage(format!("cannot read targets file '{path}': {e}")))?;
        let line = line.split('#').next().unwrap_or("").trim();
        if line.is_empty() {
            continue;
        }
        let spec = Spec::parse(line).map_err(|e| Failure::Usage(format!("{path}:{n}: {e}")))?;
        nets.push(spec);
    }
    Ok(nets)
}

/// One finding as a JSON line. The key names are a contract: scripts read them.
#[derive(Debug, Serialize)]
struct JsonFinding {
    addr: String,
    port: u16,
    outcome: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    status: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
    /// The `Server` header and the page's `<title>`, where the server sent them.
    #[serde(skip_serializing_if = "Option::is_none")]
    server: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    title: Option<String>,
    ms: u64,
}

pub fn json_line(f: &Finding) -> String {
    let line = JsonFinding {
        addr: f.target.addr.to_string(),
        port: f.target.port,
        outcome: f.outcome.kind(),
        status: f.outcome.status(),
        // What the OS said ("Too many open files (os error 24)"), for an `error` outcome.
        error: match f.outcome {
            Outcome::Error(failure) => Some(failure.to_string()),
            _ => None,
        },
        server: f
            .outcome
            .about()
            .and_then(|a| a.server)
            .map(|l| l.to_string()),
        title: f
            .outcome
            .about()
            .and_then(|a| a.title)
            .map(|l| l.to_string()),
        ms: f.elapsed.as_millis() as u64,
    };
    serde_json::to_string(&line).expect("plain data serializes")
}

pub fn human_line(f: &Finding) -> String {
    match f.outcome {
        Outcome::Http { status, about } => {
            // What it says about itself after the status: `(200, nginx/1.22.1, "Welcome")`.
            let mut said = status.to_string();
            if let Some(server) = about.server {
                said.push_str(&format!(", {server}"));
            }
            if let Some(title) = about.title {
                said.push_str(&format!(", {:?}", title.as_str()));
            }
            format!(
                "server at http://{}:{} ({said})",
                f.target.addr, f.target.port
            )
        }
        other => format!(
            "{}:{} {other} ({} ms)",
            f.target.addr,
            f.target.port,
            f.elapsed.as_millis()
        ),
    }
}

pub fn summary_line(s: &ScanSummary, interrupted: bool) -> String {
    let kinds: Vec<String> = ScanSummary::KINDS
        .iter()
        .zip(s.by_kind)
        .filter(|(_, n)| *n > 0)
        .map(|(k, n)| format!("{n} {k}"))
        .collect();
    format!(
        "{}scanned {} address{} in {:.2} s ({:.0} probes/s): {} server{} found{}",
        if interrupted { "interrupted: " } else { "" },
        s.completed,
        if s.completed == 1 { "" } else { "es" },
        s.elapsed.as_secs_f64(),
        s.rate(),
        s.servers,
        if s.servers == 1 { "" } else { "s" },
        if kinds.is_empty() {
            String::new()
        } else {
            format!(" ({})", kinds.join(", "))
        }
    )
}

/// A rough duration for a person: `42 s`, `7 min`, `3.5 h`.
fn human_duration(secs: f64) -> String {
    if secs < 120.0 {
        format!("{secs:.0} s")
    } else if secs < 7200.0 {
        format!("{:.0} min", secs / 60.0)
    } else {
        format!("{:.1} h", secs / 3600.0)
    }
}

/// How a scan ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ended {
    /// Every target of the shard was probed.
    Complete,
    /// Ctrl-C stopped it.
    Interrupted,
    /// `--budget` ran out.
    Budget,
}

/// What a scan did.
#[derive(Debug)]
pub struct ScanResult {
    pub summary: ScanSummary,
    pub ended: Ended,
    /// The resume file written, if targets were left.
    pub resume_file: Option<PathBuf>,
}

/// The walk a scan (or a dry run) takes: its shard of the set, from where it resumes.
fn walk(opts: &ScanOptions) -> Result<(Arc<TargetSet>, Walk, u64), Failure> {
    let set = Arc::new(opts.target_set());
    if set.is_empty() {
        return Err(Failure::Usage(
            "nothing to scan: every target is excluded".into(),
        ));
    }
    let walk = set.clone().walk(opts.order, opts.shard, opts.start);
    let skipped = opts.done.iter().filter(|&&p| p >= opts.start).count() as u64;
    let left = walk
        .shard_len()
        .saturating_sub(opts.start)
        .saturating_sub(skipped);
    Ok((set, walk, left))
}

/// `--dry-run`: prints the targets in the order a scan would probe them (an address a line, or
/// `ADDRESS HOST:PORT` for a mapped one; JSON lines with `--json`), and opens no socket.
/// Returns how many it printed.
pub fn dry_run(opts: &ScanOptions, interrupt: &Stop) -> Result<u64, Failure> {
    let (_, walk, _) = walk(opts)?;
    let skip = opts.done.clone();
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let mut printed = 0;
    let mut walk = walk;
    loop {
        let position = walk.position();
        let Some(t) = walk.next() else { break };
        if skip.contains(&position) {
            continue;
        }
        if interrupt.is_stopped() {
            break;
        }
        let direct = t.dial == SocketAddr::new(t.addr.into(), t.port);
        let line = match (opts.json, direct) {
            (true, _) => format!(r#"{{"addr":"{}","port":{}}}"#, t.addr, t.port),
            (false, true) => t.addr.to_string(),
            (false, false) => format!("{} {}", t.addr, t.dial),
        };
        if writeln!(out, "{line}").is_err() {
            // The reader has gone (`| head`): what it read was whole lines.
            break;
        }
        printed += 1;
    }
    let _ = out.flush();
    Ok(printed)
}

/// Runs the scan: returns its summary, how it ended, and the resume file if one was written.
pub fn run(opts: &ScanOptions, interrupt: &Stop) -> Result<ScanResult, Failure> {
    if opts.max_connections == 0 {
        return Err(Failure::Usage(
            "--max-connections must be at least 1".into(),
        ));
    }
    let (set, walk, left) = walk(opts)?;
    let model = match models::build(&opts.model) {
        None => return Err(Failure::Usage(models::parse(&opts.model).unwrap_err())),
        Some(Ok(model)) => model,
        Some(Err(reason)) => {
            return Err(Failure::Run(format!(
                "model '{}' is unavailable here: {reason}",
                opts.model
            )))
        }
    };
    let (mut max_connections, warning) =
        limits::clamp_connections(opts.max_connections, 1, limits::raise_open_files());
    if let Some(w) = warning {
        eprintln!("{w}");
    }
    if let Some(rate) = opts.rate {
        let paced = paced_connections(max_connections, rate, opts.timeout);
        if paced < max_connections {
            eprintln!(
                "wardial: at {rate} probes/s with a {:?} timeout, {paced} connections are enough (not {max_connections})",
                opts.timeout
            );
            max_connections = paced;
        }
    }
    if let Some(seed) = opts.announce_seed {
        eprintln!("wardial: random order, seed {seed} (--seed {seed} repeats it)");
    }

    // The scan's own stop: set by Ctrl-C or by the budget, whichever comes first.
    let stop = Stop::new();
    let (done_tx, done_rx) = mpsc::channel::<()>();
    let watchdog = {
        let (stop, interrupt, budget) = (stop.clone(), interrupt.clone(), opts.budget);
        std::thread::spawn(move || {
            let until = budget.map(|b| Instant::now() + b);
            loop {
                match done_rx.recv_timeout(Duration::from_millis(20)) {
                    Err(mpsc::RecvTimeoutError::Timeout) => {
                        if interrupt.is_stopped() || until.is_some_and(|u| Instant::now() >= u) {
                            return stop.stop();
                        }
                    }
                    _ => return,
                }
            }
        })
    };
    let config = ScanConfig::new(opts.timeout, max_connections).with_stop(stop.clone());

    let in_flight = Arc::new(Mutex::new(InFlight {
        next: opts.start,
        ..InFlight::default()
    }));
    let skip = Arc::new(opts.done.clone());
    let mut targets = Tracked {
        walk,
        skip: skip.clone(),
        pacer: opts.rate.map(Pacer::new),
        in_flight: in_flight.clone(),
    };

    // A progress bar on stderr, drawn only on a terminal and only once the scan has run for a
    // moment: a scan of a few hosts should print its lines and nothing else.
    let bar = ProgressBar::with_draw_target(Some(left), ProgressDrawTarget::hidden());
    bar.set_style(
        ProgressStyle::with_template(
            "[{elapsed_precise}] {wide_bar} {human_pos}/{human_len} {msg}",
        )
        .expect("a valid template"),
    );
    let started = Instant::now();
    let mut shown = false;
    let stdout = std::io::stdout();
    let mut servers = 0u64;
    let summary = model.scan(&mut targets, &config, &mut |f| {
        {
            let mut in_flight = in_flight.lock().expect("no panic while held");
            if let Some(positions) = in_flight.by_target.get_mut(&f.target) {
                positions.pop();
                if positions.is_empty() {
                    in_flight.by_target.remove(&f.target);
                }
            }
        }
        if opts.progress && !shown && started.elapsed() > Duration::from_millis(500) {
            bar.set_draw_target(ProgressDrawTarget::stderr());
            shown = true;
        }
        bar.inc(1);
        servers += u64::from(f.outcome.is_server());
        // The rate and the time left, from the whole scan so far: indicatif's own estimates
        // weigh the last few seconds, which a paced or bursty scan makes jump.
        let done = bar.position();
        if done % 64 == 1 || f.outcome.is_server() {
            let rate = done as f64 / started.elapsed().as_secs_f64().max(1e-3);
            let left = left.saturating_sub(done) as f64 / rate.max(1e-3);
            bar.set_message(format!(
                "{rate:.0} probes/s, {} left, {servers} found",
                human_duration(left)
            ));
        }
        if opts.all || f.outcome.is_server() {
            let line = if opts.json {
                json_line(&f)
            } else {
                human_line(&f)
            };
            // Whole lines only, with the bar out of the way: a line already printed stays valid
            // output whenever the scan is stopped.
            bar.suspend(|| {
                let mut out = stdout.lock();
                let _ = writeln!(out, "{line}");
                let _ = out.flush();
            });
        }
    });
    bar.finish_and_clear();
    drop(done_tx);
    let _ = watchdog.join();

    // Targets left: the stop refused one, or a model dropped one it had taken.
    let in_flight = in_flight.lock().expect("no panic while held");
    let unfinished: HashSet<u64> = in_flight.by_target.values().flatten().copied().collect();
    let ended = match (
        summary.stopped || !unfinished.is_empty(),
        interrupt.is_stopped(),
    ) {
        (false, _) => Ended::Complete,
        (true, true) => Ended::Interrupted,
        (true, false) => Ended::Budget,
    };
    let resume_file = if ended == Ended::Complete {
        None
    } else {
        let (position, done) = resume::resume_point(in_flight.next, &unfinished, &skip);
        opts.resume_state(set.len(), position, done)
            .save(&opts.resume_file)
            .map_err(Failure::Run)?;
        Some(opts.resume_file.clone())
    };
    Ok(ScanResult {
        summary,
        ended,
        resume_file,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    fn finding(outcome: Outcome) -> Finding {
        Finding {
            target: Target::direct(Ipv4Addr::new(127, 0, 0, 1), 8080),
            outcome,
            elapsed: Duration::from_millis(12),
        }
    }

    #[test]
    fn what_a_server_says_about_itself() {
        let about = wardial_probe::About {
            server: wardial_probe::Label::new("nginx/1.22.1"),
            title: wardial_probe::Label::new("Welcome \"home\""),
        };
        let f = finding(Outcome::Http { status: 200, about });
        assert_eq!(
            human_line(&f),
            r#"server at http://127.0.0.1:8080 (200, nginx/1.22.1, "Welcome \"home\"")"#
        );
        assert_eq!(
            json_line(&f),
            r#"{"addr":"127.0.0.1","port":8080,"outcome":"http","status":200,"server":"nginx/1.22.1","title":"Welcome \"home\"","ms":12}"#
        );
    }

    #[test]
    fn lines_for_people_and_programs() {
        let f = finding(Outcome::http(200));
        assert_eq!(human_line(&f), "server at http://127.0.0.1:8080 (200)");
        assert_eq!(
            json_line(&f),
            r#"{"addr":"127.0.0.1","port":8080,"outcome":"http","status":200,"ms":12}"#
        );
        let f = finding(Outcome::Refused);
        assert_eq!(human_line(&f), "127.0.0.1:8080 refused (12 ms)");
        assert_eq!(
            json_line(&f),
            r#"{"addr":"127.0.0.1","port":8080,"outcome":"refused","ms":12}"#
        );
        let f = finding(Outcome::Error(std::io::ErrorKind::PermissionDenied.into()));
        assert!(json_line(&f).contains(r#""outcome":"error","error":"permission denied""#));
        let emfile = std::io::Error::from_raw_os_error(24);
        let f = finding(Outcome::Error((&emfile).into()));
        let line = json_line(&f);
        assert!(line.contains(r#""outcome":"error""#), "{line}");
        assert!(line.contains(&format!(r#""error":"{emfile}""#)), "{line}");
        assert!(human_line(&f).contains("os error 24"), "{}", human_line(&f));
    }

    #[test]
    fn targets_file_reports_the_bad_line() {
        let dir = std::env::temp_dir().join(format!("wardial-targets-{}", std::process::id()));
        std::fs::write(
            &dir,
            "# mine\n127.0.0.1\n\n127.0.1.0/24  # lab\n127.0.0.300\n",
        )
        .unwrap();
        let err = read_targets(dir.to_str().unwrap(), &Stop::new()).unwrap_err();
        assert!(err.message().ends_with(":5: '127.0.0.300' is not an IPv4 address: expected four numbers 0-255 separated by dots, like 10.0.0.0/16"), "{err:?}");
        std::fs::write(&dir, "127.0.0.1\n127.0.1.0/24 # lab\n").unwrap();
        assert_eq!(
            read_targets(dir.to_str().unwrap(), &Stop::new())
                .unwrap()
                .len(),
            2
        );
        std::fs::remove_file(&dir).unwrap();
        assert_eq!(
            read_targets("/nonexistent/wardial", &Stop::new())
                .unwrap_err()
                .code(),
            2
        );
    }

    #[test]
    fn a_paced_scan_has_no_more_connections_than_a_quarter_timeout_of_starts() {
        let s = Duration::from_secs;
        assert_eq!(paced_connections(500, 500.0, s(10)), 500);
        assert_eq!(paced_connections(500, 10.0, s(10)), 25);
        assert_eq!(paced_connections(500, 0.01, s(10)), 1);
    }

    #[test]
    fn the_pacer_spaces_starts_and_never_bursts() {
        let mut pacer = Pacer::new(500.0);
        let ms = Duration::from_millis;
        let t0 = Instant::now();
        // Asked at once, again and again: one slot every 2 ms.
        let slots: Vec<Instant> = (0..5).map(|_| pacer.book(t0)).collect();
        for (i, slot) in slots.iter().enumerate() {
            assert_eq!(*slot, t0 + ms(2 * i as u64));
        }
        // A little late (a busy loop): the missed slots are caught up, on the schedule.
        assert_eq!(pacer.book(t0 + ms(15)), t0 + ms(10));
        // Asked late (every connection was busy for a second): only the last 20 ms of missed
        // slots are caught up (eleven starts at once, not five hundred), then the schedule goes on.
        let late = t0 + ms(1000);
        let slots: Vec<Instant> = (0..12).map(|_| pacer.book(late)).collect();
        assert_eq!(slots.iter().filter(|&&s| s <= late).count(), 11);
        assert_eq!(slots[0], late - ms(20));
        assert_eq!(slots[11], late + ms(2));
    }

    #[test]
    fn mapped_targets_dial_elsewhere() {
        let spec = Spec::parse("127.64.0.9 127.0.0.1:4000").unwrap();
        let t: Vec<Target> = spec.targets(80).collect();
        assert_eq!(t[0].addr, Ipv4Addr::new(127, 64, 0, 9));
        assert_eq!(t[0].dial, "127.0.0.1:4000".parse().unwrap());
        assert_eq!(t[0].host_header(), "127.64.0.9");
        // Both the named and the dialled address pass through the gate.
        let nets = Spec::parse("127.64.0.9 8.8.8.8:80").unwrap().networks();
        assert!(crate::args::check_allowed(&nets, false).is_err());
        assert!(Spec::parse("127.0.0.1 nowhere").is_err());
        assert!(Spec::parse("a b c").is_err());
    }
}
