//! `wardial race`: every model scans the same simulated range; a table and a bar chart show who
//! waited well, against the limit this machine sets.
//!
//! A race has three phases:
//! 1. **calibration**: every model scans the same hosts with no latency at all, so all it
//!    measures is what a probe costs this machine (client and simulated hosts together);
//! 2. **the race**: every model scans the range, each probe recorded for the [`timeline`];
//! 3. **memory**: every model holds a full set of probes in flight in a process of its own
//!    (see [`memory`]).
//!
//! [`timeline`]: crate::timeline
//! [`memory`]: crate::memory

use std::io::Write;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde::Serialize;
use wardial_probe::{Cidr, Probe, ScanConfig, Stop};
use wardial_simnet::{Mix, Simnet, Truth, World};

use crate::timeline::{self, Lane, Span};
use crate::{limits, memory, models, Failure};

/// The host mixes a race can use.
pub const MIXES: [&str; 4] = ["realistic", "live", "every", "silent"];

pub fn parse_mix(s: &str) -> Result<String, String> {
    if MIXES.contains(&s) {
        Ok(s.to_string())
    } else {
        Err(format!(
            "unknown mix '{s}' (choose from: {})",
            MIXES.join(", ")
        ))
    }
}

pub fn mix(name: &str) -> Mix {
    match name {
        "live" => Mix::all_live(),
        "every" => Mix::every_behaviour(),
        "silent" => Mix::only("blackhole").expect("a behaviour"),
        _ => Mix::realistic(),
    }
}

/// What to race.
#[derive(Debug, Clone, Serialize)]
pub struct RaceOptions {
    pub range: String,
    pub mix: String,
    /// The latency of every live host; `None` for the world's default spread (20-200 ms).
    #[serde(serialize_with = "opt_secs")]
    pub latency: Option<Duration>,
    #[serde(serialize_with = "secs")]
    pub timeout: Duration,
    pub max_connections: usize,
    pub models: Vec<String>,
    #[serde(serialize_with = "secs")]
    pub budget: Duration,
    pub seed: u64,
    /// Race only the first this many hosts of the range (all of it if `None`).
    pub hosts: Option<u64>,
    /// Measure each model's cost per probe at latency 0 first (for the combined limit).
    pub calibrate: bool,
    /// Measure each model's memory per probe in flight, each in a child process of this
    /// program (so only where this program is `wardial` itself, not in a unit test).
    pub memory: bool,
}

fn secs<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64(d.as_secs_f64())
}

fn opt_secs<S: serde::Serializer>(d: &Option<Duration>, s: S) -> Result<S::Ok, S::Error> {
    match d {
        Some(d) => s.serialize_f64(d.as_secs_f64()),
        None => s.serialize_none(),
    }
}

impl RaceOptions {
    /// The world this race plays.
    pub fn world(&self) -> Result<World, Failure> {
        world(&self.range, &self.mix, self.latency, self.seed)
    }
}

/// A simulated world from the command's options; the range must lie in 127.0.0.0/8.
pub fn world(
    range: &str,
    mix_name: &str,
    latency: Option<Duration>,
    seed: u64,
) -> Result<World, Failure> {
    let range: Cidr = range
        .parse()
        .map_err(|e| Failure::Usage(format!("--range: {e}")))?;
    let loopback = Cidr::new([127, 0, 0, 0].into(), 8);
    if range.prefix() < 8 || !loopback.contains(range.first()) {
        return Err(Failure::Usage(format!(
            "--range {range} is outside 127.0.0.0/8: the simulated internet plays loopback addresses only"
        )));
    }
    if range.len() > 1 << 20 {
        return Err(Failure::Usage(format!(
            "--range {range} has {} hosts; the simulated internet plays at most a /12 (1048576)",
            range.len()
        )));
    }
    let mut world = World {
        seed,
        range,
        mix: mix(mix_name),
        ..World::default()
    };
    if let Some(latency) = latency {
        world.latencies = vec![latency];
    }
    Ok(world)
}

/// The best any model could do with `max_connections` slots: each host's probe takes what the
/// host makes it take (its latency, the timeout, or nothing for a refusal), and a perfect
/// scheduler starts the next host, in order, the moment a slot frees. Simulated exactly, so the
/// rounds show: 880 silent hosts through 512 slots is two timeouts, not 1.7.
pub fn ideal_time(
    world: &World,
    hosts: u64,
    timeout: Duration,
    max_connections: usize,
) -> Duration {
    use std::cmp::Reverse;
    use std::collections::BinaryHeap;
    let mut slots: BinaryHeap<Reverse<Duration>> =
        std::iter::repeat_n(Reverse(Duration::ZERO), max_connections.max(1)).collect();
    let mut end = Duration::ZERO;
    for addr in world.range.iter().take(hosts as usize) {
        let wait = world.expected_wait(addr, timeout);
        let Reverse(free_at) = slots.pop().expect("at least one slot");
        end = end.max(free_at + wait);
        slots.push(Reverse(free_at + wait));
    }
    end
}

/// The keys of each model's row in `race --json`: scripts read them, so a field of
/// [`ModelResult`] may be added but none of these renamed or removed. Both the unit test here
/// and the CLI test check the JSON against this list.
pub const MODEL_KEYS: [&str; 16] = [
    "model",
    "seconds",
    "completed",
    "finished",
    "probes_per_second",
    "found",
    "agrees_with_truth",
    "efficiency",
    "cpu_seconds_per_probe",
    "wait_bound_seconds",
    "cpu_bound_seconds",
    "limit_seconds",
    "bound",
    "limit_efficiency",
    "memory_per_probe_bytes",
    "memory_in_flight",
];

/// How many hosts the calibration scans (fewer if the race has fewer): enough that a model's
/// fixed costs (a runtime, a thread pool) are spread thin, few enough to take well under a
/// second per model.
pub const CALIBRATION_HOSTS: u64 = 1024;

/// One model's row. The key names are a contract: see [`MODEL_KEYS`].
#[derive(Debug, Clone, Default, Serialize)]
pub struct ModelResult {
    pub model: String,
    pub seconds: f64,
    pub completed: u64,
    pub finished: bool,
    pub probes_per_second: f64,
    pub found: u64,
    pub agrees_with_truth: bool,
    /// Ideal time ÷ this model's time (projected if stopped); `None` when the ideal is zero
    /// (hosts that answer at once: then there is no waiting to do well at). The wait-bound
    /// ideal alone: see `limit_efficiency` for the figure that counts this machine's work.
    pub efficiency: Option<f64>,
    /// What one probe costs this machine when nothing waits: the calibration's time per probe.
    pub cpu_seconds_per_probe: Option<f64>,
    /// The wait-bound ideal: every host's wait, `max_connections` at a time, no work.
    pub wait_bound_seconds: f64,
    /// The CPU-bound limit: every host's probe at the calibrated cost, no waiting.
    pub cpu_bound_seconds: Option<f64>,
    /// The combined limit: the two bounds added (see [`combined_limit`] for why).
    pub limit_seconds: Option<f64>,
    /// Which bound is the larger part of the limit: `"wait"` or `"cpu"`.
    pub bound: Option<&'static str>,
    /// Combined limit ÷ this model's time (projected if stopped).
    pub limit_efficiency: Option<f64>,
    /// Peak memory per probe in flight, measured in a process of the model's own.
    pub memory_per_probe_bytes: Option<f64>,
    /// How many probes were in flight at that peak.
    pub memory_in_flight: Option<usize>,
    /// Why there is no memory figure, where there is none.
    pub memory_note: Option<String>,
    /// Every probe's start and end, for the timeline (not in the JSON: thousands of them).
    #[serde(skip)]
    pub timeline: Vec<Span>,
    /// For a model stopped at its budget: the time the whole range would take at its rate.
    pub projected_seconds: Option<f64>,
    pub wrong: u64,
    /// The first few findings that disagree with the ground truth, to show what went wrong.
    pub wrong_examples: Vec<String>,
    pub peak_open: usize,
    /// Why the model could not run here (io_uring refused, or not Linux); it then has no times.
    pub unavailable: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct RaceReport {
    pub config: RaceOptions,
    pub hosts: u64,
    pub ideal_seconds: f64,
    /// Hosts whose timing is a near miss of the timeout (within `margin_seconds`): for them
    /// either outcome agrees with the truth, so `found` may differ between correct models.
    pub near_timeout: u64,
    pub margin_seconds: f64,
    /// Hosts each model scanned at latency 0 to measure its cost per probe (0: not measured).
    pub calibration_hosts: u64,
    pub models: Vec<ModelResult>,
    pub interrupted: bool,
}

/// The combined limit of a model: the wait-bound ideal plus the CPU-bound limit.
///
/// Why a sum and not the larger of the two: a probe's own work and its own wait cannot overlap
/// (it connects, then waits, then reads), and when the hosts answer in lockstep (the same
/// latency for all, `max_connections` started together) so do all the probes of a round: they
/// all need the machine at the same moments, and while the machine works on one round no probe
/// of it is waiting. Each round then costs its wait plus its work, and the rounds add up to
/// `wait + cpu`. When latencies are spread, one probe's work can hide in another's wait and a
/// model can beat this (an efficiency over 100 %); no model can beat the larger of the two.
pub fn combined_limit(wait_bound: f64, cpu_bound: f64) -> f64 {
    wait_bound + cpu_bound
}

/// Runs the race. `interrupt` is Ctrl-C: it stops the model that is running and ends the race.
/// `progress` gets a line per model as it finishes (for a terminal).
pub fn run(
    opts: &RaceOptions,
    interrupt: &Stop,
    progress: &mut dyn FnMut(&str),
) -> Result<RaceReport, Failure> {
    if opts.max_connections == 0 {
        return Err(Failure::Usage(
            "--max-connections must be at least 1".into(),
        ));
    }
    let world = opts.world()?;
    let hosts = opts.hosts.unwrap_or(u64::MAX).min(world.range.len());
    // The simnet runs in this process: each connection costs two files, ours and its.
    let limit = limits::raise_open_files();
    let (max_connections, warning) = limits::clamp_connections(opts.max_connections, 2, limit);
    if let Some(w) = warning {
        progress(&w);
    }
    let ideal = ideal_time(&world, hosts, opts.timeout, max_connections);
    let near_timeout = world
        .range
        .iter()
        .take(hosts as usize)
        .filter(|&a| matches!(world.truth(a, opts.timeout), Truth::Either(..)))
        .count() as u64;
    let margin = world.margin(opts.timeout);
    let start_simnet = |world: World| {
        Simnet::start(world)
            .map_err(|e| Failure::Run(format!("cannot start the simulated internet: {e}")))
    };

    // Every model is built once, before any phase, and an unknown name fails the whole race.
    let mut built = Vec::new();
    for name in &opts.models {
        match models::build(name) {
            None => return Err(Failure::Usage(models::parse(name).unwrap_err())),
            Some(model) => built.push((name.as_str(), model)),
        }
    }

    let calibration_hosts = if opts.calibrate {
        hosts.min(CALIBRATION_HOSTS)
    } else {
        0
    };
    let mut cost = vec![None; built.len()];
    if calibration_hosts > 0 {
        progress(&format!(
            "calibrating: what a probe costs this machine with no latency ({calibration_hosts} hosts per model)..."
        ));
        let calm = start_simnet(World {
            mix: Mix::all_live(),
            latencies: vec![Duration::ZERO],
            ..world.clone()
        })?;
        for ((_, model), cost) in built.iter().zip(&mut cost) {
            if let (Ok(model), false) = (model, interrupt.is_stopped()) {
                *cost = Some(calibrate(
                    model.as_ref(),
                    &calm,
                    calibration_hosts,
                    max_connections,
                    opts.timeout,
                    interrupt,
                ));
            }
        }
    }

    let sim = start_simnet(world.clone())?;
    let mut report = RaceReport {
        config: RaceOptions {
            max_connections,
            ..opts.clone()
        },
        hosts,
        ideal_seconds: ideal.as_secs_f64(),
        near_timeout,
        margin_seconds: margin.as_secs_f64(),
        calibration_hosts,
        models: Vec::new(),
        interrupted: false,
    };

    for ((name, model), cost) in built.iter().zip(&cost) {
        if interrupt.is_stopped() {
            break;
        }
        let model = match model {
            Ok(model) => model,
            Err(reason) => {
                progress(&format!("  {name}: unavailable here: {reason}"));
                report
                    .models
                    .push(ModelResult::unavailable(name, reason.clone()));
                continue;
            }
        };
        progress(&format!("racing {name}..."));
        let mut result = race_one(
            model.as_ref(),
            &sim,
            opts,
            hosts,
            max_connections,
            ideal,
            interrupt,
        );
        result.set_limit(ideal, *cost, hosts);
        progress(&format!(
            "  {name}: {:.2} s{}",
            result.seconds,
            if result.finished { "" } else { " (stopped)" }
        ));
        report.models.push(result);
    }
    drop(sim);

    if opts.memory && !interrupt.is_stopped() {
        measure_memory(&mut report, interrupt, progress)?;
    }
    report.interrupted = interrupt.is_stopped();
    Ok(report)
}

/// The memory phase: each model that ran, in a child process of its own.
fn measure_memory(
    report: &mut RaceReport,
    interrupt: &Stop,
    progress: &mut dyn FnMut(&str),
) -> Result<(), Failure> {
    let ran = report.models.iter_mut().filter(|m| m.unavailable.is_none());
    if !memory::available() {
        for m in ran {
            m.memory_note = Some(memory::NOT_HERE.to_string());
        }
        return Ok(());
    }
    let exe = std::env::current_exe()
        .map_err(|e| Failure::Run(format!("cannot find this program to measure memory: {e}")))?;
    let meter = memory::Meter::start(memory::IN_FLIGHT)?;
    progress(&format!(
        "measuring memory: {} probes in flight per model, each model in a process of its own...",
        memory::IN_FLIGHT
    ));
    for m in ran {
        if interrupt.is_stopped() {
            break;
        }
        match meter.measure(&exe, &m.model) {
            Ok(per) => {
                m.memory_in_flight = Some(per.in_flight);
                if per.in_flight >= memory::MEANINGFUL {
                    m.memory_per_probe_bytes = Some(per.bytes);
                } else {
                    m.memory_note = Some(format!(
                        "{} probe(s) in flight at once: its fixed costs would pass for a probe's",
                        per.in_flight
                    ));
                }
            }
            Err(why) => {
                progress(&format!("  {}: memory not measured: {why}", m.model));
                m.memory_note = Some(why);
            }
        }
    }
    Ok(())
}

/// The calibration of one model: its time per probe over `hosts` hosts that answer at once.
fn calibrate(
    model: &dyn Probe,
    sim: &Simnet,
    hosts: u64,
    max_connections: usize,
    timeout: Duration,
    interrupt: &Stop,
) -> f64 {
    settle(sim);
    let config = ScanConfig::new(timeout, max_connections).with_stop(interrupt.clone());
    let summary = model.scan(
        &mut sim.targets().take(hosts as usize),
        &config,
        &mut |_| {},
    );
    summary.elapsed.as_secs_f64() / summary.completed.max(1) as f64
}

/// Gives the server a moment to see the previous model's sockets close, so that the next
/// model's peak counts only its own connections.
fn settle(sim: &Simnet) {
    let until = Instant::now() + Duration::from_secs(2);
    while sim.stats().open > 0 && Instant::now() < until {
        std::thread::sleep(Duration::from_millis(5));
    }
    sim.reset_stats();
}

impl ModelResult {
    /// The row of a model that cannot run here.
    fn unavailable(name: &str, reason: String) -> ModelResult {
        ModelResult {
            model: name.to_string(),
            agrees_with_truth: true,
            unavailable: Some(reason),
            ..ModelResult::default()
        }
    }

    /// The time the whole range took, or would have taken at the rate measured.
    pub fn full_seconds(&self) -> f64 {
        self.projected_seconds.unwrap_or(self.seconds)
    }

    /// Fills in the bounds: `ideal` is the wait-bound ideal, `cost` the calibrated seconds per
    /// probe (if the race calibrated).
    fn set_limit(&mut self, ideal: Duration, cost: Option<f64>, hosts: u64) {
        let wait = ideal.as_secs_f64();
        self.wait_bound_seconds = wait;
        self.cpu_seconds_per_probe = cost;
        let Some(cost) = cost else { return };
        let cpu = cost * hosts as f64;
        let limit = combined_limit(wait, cpu);
        self.cpu_bound_seconds = Some(cpu);
        self.limit_seconds = Some(limit);
        self.bound = Some(if cpu > wait { "cpu" } else { "wait" });
        self.limit_efficiency = (limit >= 1e-3).then(|| limit / self.full_seconds().max(1e-9));
    }
}

fn race_one(
    model: &dyn Probe,
    sim: &Simnet,
    opts: &RaceOptions,
    hosts: u64,
    max_connections: usize,
    ideal: Duration,
    interrupt: &Stop,
) -> ModelResult {
    settle(sim);
    let config = ScanConfig::new(opts.timeout, max_connections);

    // A watchdog: stops the scan at its budget, or when Ctrl-C is pressed.
    let (done_tx, done_rx) = mpsc::channel::<()>();
    let (stop, interrupt2, budget) = (config.stop().clone(), interrupt.clone(), opts.budget);
    let watchdog = std::thread::spawn(move || {
        let until = Instant::now() + budget;
        loop {
            match done_rx.recv_timeout(Duration::from_millis(20)) {
                Err(mpsc::RecvTimeoutError::Timeout)
                    if Instant::now() < until && !interrupt2.is_stopped() => {}
                Err(mpsc::RecvTimeoutError::Timeout) => return stop.stop(),
                _ => return,
            }
        }
    });

    let (mut found, mut wrong, mut wrong_examples) = (0u64, 0u64, Vec::new());
    let mut spans = Vec::with_capacity(hosts.min(1 << 20) as usize);
    let mut targets = sim.targets().take(hosts as usize);
    let started = Instant::now();
    let summary = model.scan(&mut targets, &config, &mut |f| {
        spans.push(Span::new(started.elapsed(), f.elapsed, &f.outcome));
        found += u64::from(f.outcome.is_server());
        let expected = sim.truth(f.target.addr, opts.timeout);
        if !expected.accepts(&f.outcome) {
            wrong += 1;
            if wrong_examples.len() < 3 {
                wrong_examples.push(format!(
                    "{}: {} after {} ms, expected {expected}",
                    f.target.addr,
                    f.outcome,
                    f.elapsed.as_millis()
                ));
            }
        }
    });
    drop(done_tx);
    let _ = watchdog.join();

    let seconds = summary.elapsed.as_secs_f64();
    let rate = summary.rate();
    let finished = summary.completed == hosts;
    let projected = (!finished).then(|| hosts as f64 / rate.max(1e-9));
    let full_time = projected.unwrap_or(seconds);
    ModelResult {
        model: model.name().to_string(),
        seconds,
        completed: summary.completed,
        finished,
        probes_per_second: rate,
        found,
        agrees_with_truth: wrong == 0,
        efficiency: (ideal >= Duration::from_millis(1))
            .then(|| ideal.as_secs_f64() / full_time.max(1e-9)),
        timeline: spans,
        projected_seconds: projected,
        wrong,
        wrong_examples,
        peak_open: sim.stats().peak_open,
        ..ModelResult::default()
    }
}

/// The models that ran (not the unavailable ones).
fn ran(report: &RaceReport) -> impl Iterator<Item = &ModelResult> {
    report.models.iter().filter(|m| m.unavailable.is_none())
}

/// The top of the log scale: the power of ten at or above the best rate (at least 10).
fn log_top(report: &RaceReport) -> f64 {
    let best = ran(report).map(|m| m.probes_per_second).fold(1.0, f64::max);
    10f64.powf(best.log10().ceil()).max(10.0)
}

/// Where `rate` falls on a log scale from 1 to `top`, from 0 to 1 (rates under 1 are 0).
fn log_fraction(rate: f64, top: f64) -> f64 {
    (rate.max(1.0).log10() / top.log10()).clamp(0.0, 1.0)
}

/// A decade's label: 1, 10, 100, 1k, 10k, ...
fn decade(power: i32) -> String {
    match power {
        0..=2 => format!("{}", 10u32.pow(power as u32)),
        3..=5 => format!("{}k", 10u32.pow(power as u32 - 3)),
        _ => format!("1e{power}"),
    }
}

/// Human units for seconds.
fn human_secs(s: f64) -> String {
    if s >= 3600.0 {
        format!("{:.1} h", s / 3600.0)
    } else if s >= 120.0 {
        format!("{:.1} min", s / 60.0)
    } else if s >= 1.0 {
        format!("{s:.2} s")
    } else {
        format!("{:.0} ms", s * 1000.0)
    }
}

/// Human units for bytes.
fn human_bytes(b: f64) -> String {
    if b >= 1024.0 * 1024.0 {
        format!("{:.1} MiB", b / (1024.0 * 1024.0))
    } else {
        format!("{:.1} KiB", b / 1024.0)
    }
}

fn percent(f: Option<f64>) -> String {
    f.map_or("n/a".to_string(), |e| format!("{:.1}%", e * 100.0))
}

/// The table, the notes under it and the bar chart.
pub fn print_table(report: &RaceReport, out: &mut dyn Write) -> std::io::Result<()> {
    let c = &report.config;
    writeln!(
        out,
        "wardial race: {} simulated hosts ({}, {} mix, seed {}), timeout {}, {} connections",
        report.hosts,
        c.range,
        c.mix,
        c.seed,
        human_secs(c.timeout.as_secs_f64()),
        c.max_connections
    )?;
    writeln!(
        out,
        "wait-bound ideal {}: every host's wait, {} at a time, with no work",
        human_secs(report.ideal_seconds),
        c.max_connections
    )?;
    if report.calibration_hosts > 0 {
        writeln!(
            out,
            "limit = wait-bound ideal + CPU-bound limit (each model's cost per probe, measured on {} hosts with no latency, times {} hosts)",
            report.calibration_hosts, report.hosts
        )?;
    }
    writeln!(
        out,
        "\n{:<21} {:>9} {:>9} {:>5} {:>5} {:>6} {:>9} {:>5} {:>10} {:>10}",
        "model",
        "time",
        "probes/s",
        "done",
        "found",
        "truth",
        "limit",
        "bound",
        "efficiency",
        "mem/probe"
    )?;
    for m in &report.models {
        if let Some(reason) = &m.unavailable {
            writeln!(out, "{:<21} unavailable: {reason}", m.model)?;
            continue;
        }
        let time = match m.projected_seconds {
            Some(p) => format!("{}*", human_secs(p)),
            None => human_secs(m.seconds),
        };
        let truth = match (m.agrees_with_truth, m.finished) {
            (true, true) => "yes".to_string(),
            (true, false) => "yes*".to_string(),
            (false, _) => format!("NO:{}", m.wrong),
        };
        let limit = m.limit_seconds.map_or("n/a".to_string(), human_secs);
        let memory = m
            .memory_per_probe_bytes
            .map_or("n/a".to_string(), human_bytes);
        writeln!(
            out,
            "{:<21} {:>9} {:>9.1} {:>5} {:>5} {:>6} {:>9} {:>5} {:>10} {:>10}",
            m.model,
            time,
            m.probes_per_second,
            m.completed,
            m.found,
            truth,
            limit,
            m.bound.unwrap_or("n/a"),
            percent(m.limit_efficiency.or(m.efficiency)),
            memory,
        )?;
    }
    for m in report.models.iter().filter(|m| m.wrong > 0) {
        writeln!(
            out,
            "\n{} disagrees with the ground truth on {} hosts, for example:",
            m.model, m.wrong
        )?;
        for example in &m.wrong_examples {
            writeln!(out, "  {example}")?;
        }
    }
    writeln!(out)?;
    if report.calibration_hosts > 0 {
        writeln!(
            out,
            "limit: the time this machine allows: its waits plus its work (bound: the larger part); efficiency = limit ÷ time"
        )?;
    } else {
        writeln!(out, "efficiency = wait-bound ideal ÷ time")?;
    }
    if ran(report).any(|m| m.memory_per_probe_bytes.is_some()) {
        writeln!(
            out,
            "mem/probe: peak memory per probe in flight (up to {} at once to silent hosts, each model in a process of its own; n/a: a model that waits for one or two at a time)",
            memory::IN_FLIGHT
        )?;
    } else if let Some(note) = ran(report).find_map(|m| m.memory_note.as_deref()) {
        writeln!(out, "mem/probe: n/a: {note}")?;
    }
    if report.near_timeout > 0 {
        writeln!(
            out,
            "{} hosts answer within {} of the timeout: for them either outcome agrees with the truth (which side of the deadline they land on is the machine's timing, not the model's doing)",
            report.near_timeout,
            human_secs(report.margin_seconds)
        )?;
    }
    if ran(report).any(|m| !m.finished) {
        writeln!(
            out,
            "* projected: stopped after {} (the --budget) with part of the range done; the time shown is the whole range at the rate measured",
            human_secs(c.budget.as_secs_f64())
        )?;
    }

    writeln!(
        out,
        "\nprobes per second, on a log scale: each mark is ten times the one before (longer is better)"
    )?;
    let top = log_top(report);
    const WIDTH: f64 = 50.0;
    for m in ran(report) {
        let eighths = (log_fraction(m.probes_per_second, top) * WIDTH * 8.0).round() as usize;
        let mut bar = "█".repeat(eighths / 8);
        if !eighths.is_multiple_of(8) {
            bar.push(['▏', '▎', '▍', '▌', '▋', '▊', '▉'][eighths % 8 - 1]);
        }
        if bar.is_empty() {
            bar.push('▏');
        }
        writeln!(out, "{:<21} {bar} {:.0}", m.model, m.probes_per_second)?;
    }
    // The scale under the bars: a mark and a label at every power of ten.
    let decades = top.log10().round() as i32;
    let mut marks = vec![' '; WIDTH as usize + 1];
    let mut labels = vec![' '; WIDTH as usize + 6];
    for p in 0..=decades {
        let at = (f64::from(p) / f64::from(decades) * WIDTH).round() as usize;
        marks[at] = '|';
        for (i, ch) in decade(p).chars().enumerate() {
            if let Some(slot) = labels.get_mut(at + i) {
                *slot = ch;
            }
        }
    }
    writeln!(out, "{:<21} {}", "", marks.iter().collect::<String>())?;
    writeln!(
        out,
        "{:<21} {}",
        "",
        labels.iter().collect::<String>().trim_end()
    )?;
    if report.interrupted {
        writeln!(
            out,
            "\ninterrupted: the race was stopped before every model ran"
        )?;
    }
    Ok(())
}

/// The timeline's lanes: every model that ran.
fn lanes(report: &RaceReport) -> Vec<Lane<'_>> {
    ran(report)
        .map(|m| Lane {
            name: &m.model,
            spans: &m.timeline,
        })
        .collect()
}

/// The timeline as text, `columns` wide, for a terminal.
pub fn timeline_text(report: &RaceReport, columns: usize) -> String {
    timeline::text(&lanes(report), report.config.max_connections, columns)
}

/// The timeline as an SVG image.
pub fn timeline_svg(report: &RaceReport) -> String {
    let c = &report.config;
    let title = format!(
        "timeline: {} simulated hosts ({} mix), {} connections, timeout {}",
        report.hosts,
        c.mix,
        c.max_connections,
        human_secs(c.timeout.as_secs_f64())
    );
    timeline::svg(&title, &lanes(report), report.hosts)
}

/// The bar charts as an SVG image (for the course notes): probes per second per model on a log
/// scale, with the time each took (or would take, if projected), and beside it memory per probe
/// in flight where it was measured.
pub fn svg(report: &RaceReport) -> String {
    const ROW: f64 = 26.0;
    const LABEL: f64 = 190.0;
    const BAR: f64 = 380.0;
    const GAP: f64 = 220.0;
    const MEM: f64 = 200.0;
    const TOP: f64 = 56.0;
    let drawn: Vec<&ModelResult> = ran(report).collect();
    let with_memory = drawn.iter().any(|m| m.memory_per_probe_bytes.is_some());
    let top = log_top(report);
    let most_memory = drawn
        .iter()
        .filter_map(|m| m.memory_per_probe_bytes)
        .fold(1.0, f64::max);
    let height = TOP + 30.0 + ROW * drawn.len() as f64;
    let width = LABEL + BAR + GAP + if with_memory { MEM + 90.0 } else { 0.0 };
    let mut s = format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" font-family="monospace" font-size="13">
<rect width="100%" height="100%" fill="white"/>
<text x="8" y="20" font-weight="bold">{hosts} simulated hosts ({mix} mix), {conns} connections, timeout {timeout}</text>
<text x="{LABEL}" y="44">probes per second (log scale)</text>
"#,
        hosts = report.hosts,
        mix = report.config.mix,
        conns = report.config.max_connections,
        timeout = human_secs(report.config.timeout.as_secs_f64()),
    );
    // A grid line and a label at every power of ten.
    let axis = TOP + ROW * drawn.len() as f64;
    let decades = top.log10().round() as i32;
    for p in 0..=decades {
        let x = LABEL + f64::from(p) / f64::from(decades) * BAR;
        s.push_str(&format!(
            r##"<line x1="{x:.1}" y1="{TOP}" x2="{x:.1}" y2="{axis}" stroke="#ccc"/><text x="{x:.1}" y="{ly}" text-anchor="middle" font-size="11">{label}</text>
"##,
            ly = axis + 16.0,
            label = decade(p),
        ));
    }
    if with_memory {
        s.push_str(&format!(
            r#"<text x="{x}" y="44">memory per probe in flight</text>
"#,
            x = LABEL + BAR + GAP
        ));
    }
    for (i, m) in drawn.iter().enumerate() {
        let y = TOP + ROW * i as f64 + 4.0;
        let width = (log_fraction(m.probes_per_second, top) * BAR).max(1.0);
        let time = match m.projected_seconds {
            Some(p) => format!("{} projected", human_secs(p)),
            None => human_secs(m.seconds),
        };
        let colour = if m.finished { "#3b7dd8" } else { "#c8553d" };
        s.push_str(&format!(
            r#"<text x="8" y="{ty}">{name}</text><rect x="{LABEL}" y="{y}" width="{width:.1}" height="{h}" fill="{colour}"/><text x="{tx:.1}" y="{ty}">{rate:.0}/s, {time}</text>
"#,
            ty = y + 14.0,
            name = m.model,
            h = ROW - 8.0,
            tx = LABEL + width + 6.0,
            rate = m.probes_per_second,
        ));
        if let Some(bytes) = m.memory_per_probe_bytes {
            let x = LABEL + BAR + GAP;
            let w = (bytes / most_memory * MEM).max(1.0);
            s.push_str(&format!(
                r##"<rect x="{x}" y="{y}" width="{w:.1}" height="{h}" fill="#8c6bb1"/><text x="{tx:.1}" y="{ty}">{label}</text>
"##,
                h = ROW - 8.0,
                tx = x + w + 6.0,
                ty = y + 14.0,
                label = human_bytes(bytes),
            ));
        }
    }
    s.push_str("</svg>\n");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts() -> RaceOptions {
        RaceOptions {
            range: "127.64.0.0/26".into(),
            mix: "every".into(),
            latency: Some(Duration::from_millis(5)),
            timeout: Duration::from_millis(300),
            max_connections: 64,
            models: vec!["callbacks".into(), "blocking".into()],
            budget: Duration::from_millis(500),
            seed: 3,
            hosts: None,
            calibrate: false,
            memory: false,
        }
    }

    #[test]
    fn ideal_time_of_the_latency_bound_workload() {
        // 1024 live hosts at 20 ms, 128 at a time: 8 rounds of 20 ms.
        let world = World {
            range: "127.64.0.0/22".parse().unwrap(),
            mix: Mix::all_live(),
            latencies: vec![Duration::from_millis(20)],
            ..World::default()
        };
        let ideal = ideal_time(&world, 1024, Duration::from_secs(1), 128);
        assert_eq!(ideal, Duration::from_millis(160));
        // Timeouts come in rounds: 3 silent hosts through 2 slots take two timeouts.
        let world = World {
            range: "127.64.0.0/30".parse().unwrap(),
            mix: Mix::only("blackhole").unwrap(),
            ..World::default()
        };
        let t = Duration::from_millis(500);
        assert_eq!(ideal_time(&world, 4, t, 2), 2 * t);
        assert_eq!(ideal_time(&world, 4, t, 4), t);
        assert_eq!(ideal_time(&world, 4, t, 1), 4 * t);
        assert_eq!(ideal_time(&world, 2, t, 1), 2 * t);
    }

    #[test]
    fn range_must_be_loopback() {
        let mut o = opts();
        o.range = "10.0.0.0/24".into();
        assert!(matches!(o.world(), Err(Failure::Usage(m)) if m.contains("127.0.0.0/8")));
        o.range = "127.0.0.0/7".into();
        assert!(o.world().is_err());
    }

    #[test]
    fn a_small_race_agrees_with_the_truth_and_stops_the_slow() {
        let mut lines = Vec::new();
        // Callbacks needs about one timeout (300 ms) for the whole range; its budget is far
        // more, so only a hang could stop it.
        let fast = RaceOptions {
            models: vec!["callbacks".into()],
            budget: Duration::from_secs(60),
            calibrate: true,
            ..opts()
        };
        let report = run(&fast, &Stop::new(), &mut |l| lines.push(l.to_string())).unwrap();
        let callbacks = &report.models[0];
        assert!(callbacks.finished && callbacks.agrees_with_truth);
        assert_eq!(callbacks.completed, 64);
        assert!(callbacks.peak_open > 1);
        // Calibrated on the same 64 hosts: the limit adds their cost to the waits.
        assert_eq!(report.calibration_hosts, 64);
        let cost = callbacks.cpu_seconds_per_probe.unwrap();
        assert!(cost > 0.0);
        let limit = callbacks.limit_seconds.unwrap();
        assert!((limit - (report.ideal_seconds + 64.0 * cost)).abs() < 1e-9);
        assert_eq!(
            callbacks.limit_efficiency,
            Some(limit / callbacks.seconds),
            "limit ÷ time"
        );
        // One bar per probe, none ending before it starts or after the scan.
        assert_eq!(callbacks.timeline.len(), 64);
        assert!(callbacks.timeline.iter().all(|s| 0.0 <= s.start
            && s.start <= s.end
            && f64::from(s.end) <= callbacks.seconds + 0.01));

        // Blocking waits out every silent host in turn: counted, not timed, that is more than
        // ten timeouts (the range's census), so it cannot finish within a 500 ms budget.
        let world = opts().world().unwrap();
        let silent = world
            .range
            .iter()
            .filter(|&a| world.expected_wait(a, opts().timeout) >= opts().timeout)
            .count();
        assert!(silent >= 10, "{silent} silent hosts");
        let slow = RaceOptions {
            models: vec!["blocking".into()],
            ..opts()
        };
        let mut report = run(&slow, &Stop::new(), &mut |l| lines.push(l.to_string())).unwrap();
        let blocking = &report.models[0];
        assert!(!blocking.finished && blocking.projected_seconds.is_some());
        assert!(blocking.agrees_with_truth);
        assert_eq!(blocking.peak_open, 1);

        report.models.insert(0, callbacks.clone());
        let mut table = Vec::new();
        print_table(&report, &mut table).unwrap();
        let table = String::from_utf8(table).unwrap();
        assert!(
            table.contains("callbacks") && table.contains("projected"),
            "{table}"
        );
        assert!(table.contains("log scale"), "{table}");
        let timeline = timeline_text(&report, 40);
        assert_eq!(timeline.lines().count(), 4, "{timeline}");
        let json = serde_json::to_value(&report).unwrap();
        for key in MODEL_KEYS {
            assert!(json["models"][0].get(key).is_some(), "missing {key}");
        }
    }
}
