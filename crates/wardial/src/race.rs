//! `wardial race`: every model scans the same simulated range; a table and a bar chart show who
//! waited well.

use std::io::Write;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde::Serialize;
use wardial_probe::{Cidr, Probe, ScanConfig, Stop};
use wardial_simnet::{Mix, Simnet, Truth, World};

use crate::{limits, models, Failure};

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
pub const MODEL_KEYS: [&str; 8] = [
    "model",
    "seconds",
    "completed",
    "finished",
    "probes_per_second",
    "found",
    "agrees_with_truth",
    "efficiency",
];

/// One model's row. The key names are a contract: see [`MODEL_KEYS`].
#[derive(Debug, Clone, Serialize)]
pub struct ModelResult {
    pub model: String,
    pub seconds: f64,
    pub completed: u64,
    pub finished: bool,
    pub probes_per_second: f64,
    pub found: u64,
    pub agrees_with_truth: bool,
    /// Ideal time ÷ this model's time (projected if stopped); `None` when the ideal is zero
    /// (hosts that answer at once: then there is no waiting to do well at).
    pub efficiency: Option<f64>,
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
    pub models: Vec<ModelResult>,
    pub interrupted: bool,
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
    let sim = Simnet::start(world)
        .map_err(|e| Failure::Run(format!("cannot start the simulated internet: {e}")))?;
    let mut report = RaceReport {
        config: RaceOptions {
            max_connections,
            ..opts.clone()
        },
        hosts,
        ideal_seconds: ideal.as_secs_f64(),
        near_timeout,
        margin_seconds: margin.as_secs_f64(),
        models: Vec::new(),
        interrupted: false,
    };

    for name in &opts.models {
        if interrupt.is_stopped() {
            break;
        }
        let model = match models::build(name) {
            None => return Err(Failure::Usage(models::parse(name).unwrap_err())),
            Some(Ok(model)) => model,
            Some(Err(reason)) => {
                progress(&format!("  {name}: unavailable here: {reason}"));
                report.models.push(ModelResult::unavailable(name, reason));
                continue;
            }
        };
        progress(&format!("racing {name}..."));
        let result = race_one(
            model.as_ref(),
            &sim,
            opts,
            hosts,
            max_connections,
            ideal,
            interrupt,
        );
        progress(&format!(
            "  {name}: {:.2} s{}",
            result.seconds,
            if result.finished { "" } else { " (stopped)" }
        ));
        report.models.push(result);
    }
    report.interrupted = interrupt.is_stopped();
    Ok(report)
}

impl ModelResult {
    /// The row of a model that cannot run here.
    fn unavailable(name: &str, reason: String) -> ModelResult {
        ModelResult {
            model: name.to_string(),
            seconds: 0.0,
            completed: 0,
            finished: false,
            probes_per_second: 0.0,
            found: 0,
            agrees_with_truth: true,
            efficiency: None,
            projected_seconds: None,
            wrong: 0,
            wrong_examples: Vec::new(),
            peak_open: 0,
            unavailable: Some(reason),
        }
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
    // Give the server a moment to see the previous model's sockets close, so that this model's
    // peak counts only its own connections.
    let settle = Instant::now() + Duration::from_secs(2);
    while sim.stats().open > 0 && Instant::now() < settle {
        std::thread::sleep(Duration::from_millis(5));
    }
    sim.reset_stats();
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
    let mut targets = sim.targets().take(hosts as usize);
    let summary = model.scan(&mut targets, &config, &mut |f| {
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
        projected_seconds: projected,
        wrong,
        wrong_examples,
        peak_open: sim.stats().peak_open,
        unavailable: None,
    }
}

/// The highest rate in the race: the full length of a bar.
fn best_rate(report: &RaceReport) -> f64 {
    report
        .models
        .iter()
        .map(|m| m.probes_per_second)
        .fold(0.0, f64::max)
        .max(1e-9)
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

/// The table and the bar chart.
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
        "ideal time {}: every host's wait, {} at a time\n",
        human_secs(report.ideal_seconds),
        c.max_connections
    )?;
    writeln!(
        out,
        "{:<21} {:>10} {:>10} {:>6} {:>6} {:>6} {:>11}",
        "model", "time", "probes/s", "done", "found", "truth", "efficiency"
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
        let efficiency = match m.efficiency {
            Some(e) => format!("{:.1}%", e * 100.0),
            None => "n/a".to_string(),
        };
        writeln!(
            out,
            "{:<21} {:>10} {:>10.1} {:>6} {:>6} {:>6} {:>11}",
            m.model, time, m.probes_per_second, m.completed, m.found, truth, efficiency
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
    if report.near_timeout > 0 {
        writeln!(
            out,
            "\n{} hosts answer within {} of the timeout: for them either outcome agrees with the truth (which side of the deadline they land on is the machine's timing, not the model's doing)",
            report.near_timeout,
            human_secs(report.margin_seconds)
        )?;
    }
    let stopped: Vec<_> = report
        .models
        .iter()
        .filter(|m| !m.finished && m.unavailable.is_none())
        .collect();
    if !stopped.is_empty() {
        writeln!(
            out,
            "\n* projected: stopped after {} (the --budget) with part of the range done; the time shown is the whole range at the rate measured",
            human_secs(c.budget.as_secs_f64())
        )?;
    }

    writeln!(out, "\nprobes per second (longer is better)")?;
    let best = best_rate(report);
    const WIDTH: f64 = 50.0;
    for m in &report.models {
        if m.unavailable.is_some() {
            continue;
        }
        let eighths = (m.probes_per_second / best * WIDTH * 8.0).round() as usize;
        let mut bar = "█".repeat(eighths / 8);
        if !eighths.is_multiple_of(8) {
            bar.push(['▏', '▎', '▍', '▌', '▋', '▊', '▉'][eighths % 8 - 1]);
        }
        if bar.is_empty() {
            bar.push('▏');
        }
        writeln!(out, "{:<21} {bar} {:.0}", m.model, m.probes_per_second)?;
    }
    if report.interrupted {
        writeln!(
            out,
            "\ninterrupted: the race was stopped before every model ran"
        )?;
    }
    Ok(())
}

/// The bar chart as an SVG image (for the course notes): probes per second per model, with the
/// time each took (or would take, if projected).
pub fn svg(report: &RaceReport) -> String {
    const ROW: f64 = 26.0;
    const LABEL: f64 = 170.0;
    const BAR: f64 = 420.0;
    let best = best_rate(report);
    let height = 50.0
        + ROW
            * report
                .models
                .iter()
                .filter(|m| m.unavailable.is_none())
                .count() as f64;
    let mut s = format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{height}" font-family="monospace" font-size="13">
<text x="8" y="20" font-weight="bold">probes per second: {hosts} simulated hosts ({mix} mix), {conns} connections, timeout {timeout} s</text>
"#,
        w = LABEL + BAR + 200.0,
        hosts = report.hosts,
        mix = report.config.mix,
        conns = report.config.max_connections,
        timeout = report.config.timeout.as_secs_f64(),
    );
    // Models that cannot run here have no bar (the table says why).
    let drawn: Vec<&ModelResult> = report
        .models
        .iter()
        .filter(|m| m.unavailable.is_none())
        .collect();
    for (i, m) in drawn.iter().enumerate() {
        let y = 36.0 + ROW * i as f64;
        let width = (m.probes_per_second / best * BAR).max(1.0);
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
            ..opts()
        };
        let report = run(&fast, &Stop::new(), &mut |l| lines.push(l.to_string())).unwrap();
        let callbacks = &report.models[0];
        assert!(callbacks.finished && callbacks.agrees_with_truth);
        assert_eq!(callbacks.completed, 64);
        assert!(callbacks.peak_open > 1);

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
        let json = serde_json::to_value(&report).unwrap();
        for key in MODEL_KEYS {
            assert!(json["models"][0].get(key).is_some(), "missing {key}");
        }
    }
}
