//! One model's turn in the race: it scans the range within its budget, every finding is checked
//! against the ground truth, timed against the moment its host answered (lateness) and
//! recorded for the timeline, and what the scan cost the process is read around it.

use std::collections::HashMap;
use std::net::Ipv4Addr;
use std::time::{Duration, Instant, SystemTime};

use wardial_probe::{Finding, Probe, ScanConfig, Stop};

use hdrhistogram::Histogram;

use super::options::RaceOptions;
use super::report::ModelResult;
use super::servers::Servers;
use super::timeline::Span;
use crate::usage::Usage;
use crate::watchdog::watchdog;

/// How many disagreements with the truth a row keeps, to show what went wrong.
const EXAMPLES: usize = 3;

/// What the race needs to run one model: the same for every model of a race (but for the
/// connections of a model that cannot hold as many).
#[derive(Debug, Clone, Copy)]
pub struct Lap<'a> {
    pub sim: &'a Servers,
    pub opts: &'a RaceOptions,
    pub hosts: u64,
    pub max_connections: usize,
    /// The wait-bound ideal time of the range.
    pub ideal: Duration,
    pub interrupt: &'a Stop,
}

/// What a model's findings add up to while it runs.
#[derive(Debug)]
struct Tally {
    found: u64,
    wrong: u64,
    wrong_examples: Vec<String>,
    spans: Vec<Span>,
    /// The host of each span, to set the phases the hosts measured beside it.
    hosts: Vec<Ipv4Addr>,
    /// Lateness in microseconds: how long after its host answered (or its deadline came) each
    /// probe ended, over the hosts judged right.
    lateness: Histogram<u64>,
}

impl Tally {
    fn new(hosts: u64) -> Tally {
        Tally {
            found: 0,
            wrong: 0,
            wrong_examples: Vec::new(),
            spans: Vec::with_capacity(hosts.min(1 << 20) as usize),
            hosts: Vec::with_capacity(hosts.min(1 << 20) as usize),
            // Three significant figures: a microsecond among milliseconds, from 1 µs up.
            lateness: Histogram::new(3).expect("3 significant figures is valid"),
        }
    }

    /// Each span's phases, from the hosts' record: when its host accepted and answered, as
    /// seconds from the scan's start (`wall`, on the same clock as the hosts').
    fn set_phases(
        &mut self,
        phases: &HashMap<Ipv4Addr, (SystemTime, SystemTime)>,
        wall: SystemTime,
    ) {
        let since = |t: SystemTime| t.duration_since(wall).map_or(0.0, |d| d.as_secs_f32());
        for (span, host) in self.spans.iter_mut().zip(&self.hosts) {
            if let Some(&(accepted, answered)) = phases.get(host) {
                span.connected = since(accepted);
                span.answered = since(answered);
            }
        }
    }

    /// The lateness percentiles, in milliseconds: p50, p99, max.
    fn lateness_ms(&self) -> [Option<f64>; 3] {
        if self.lateness.is_empty() {
            return [None; 3];
        }
        let ms = |us: u64| Some(us as f64 / 1000.0);
        [
            ms(self.lateness.value_at_quantile(0.5)),
            ms(self.lateness.value_at_quantile(0.99)),
            ms(self.lateness.max()),
        ]
    }
}

impl Tally {
    /// Counts `f`, which reached the race `at` after the scan started.
    fn add(&mut self, lap: &Lap, f: &Finding, at: Duration) {
        self.spans.push(Span::new(at, f.elapsed, &f.outcome));
        self.hosts.push(f.target.addr);
        self.found += u64::from(f.outcome.is_server());
        let expected = lap.sim.truth(f.target.addr, lap.opts.timeout);
        if expected.accepts(&f.outcome) {
            // The host's own wait: its latency, nothing for a refusal, the timeout for silence.
            let wait = lap
                .sim
                .world()
                .expected_wait(f.target.addr, lap.opts.timeout);
            let late = f.elapsed.saturating_sub(wait).as_micros() as u64;
            self.lateness.saturating_record(late.max(1));
        } else {
            self.wrong += 1;
            if self.wrong_examples.len() < EXAMPLES {
                self.wrong_examples.push(format!(
                    "{}: {} after {} ms, expected {expected}",
                    f.target.addr,
                    f.outcome,
                    f.elapsed.as_millis()
                ));
            }
        }
    }
}

/// Races `model` over the range: stopped at the budget or by Ctrl-C, whichever comes first.
pub fn race_one(model: &dyn Probe, lap: &Lap) -> ModelResult {
    lap.sim.settle();
    let config = ScanConfig::new(lap.opts.timeout, lap.max_connections);
    let dog = watchdog(
        config.stop().clone(),
        lap.interrupt.clone(),
        Some(lap.opts.budget),
    );
    let mut tally = Tally::new(lap.hosts);
    let mut targets = lap.sim.targets().take(lap.hosts as usize);
    let (before, hosts_before) = (Usage::now(), lap.sim.cpu());
    let (started, wall) = (Instant::now(), SystemTime::now());
    let summary = model.scan(&mut targets, &config, &mut |f| {
        tally.add(lap, &f, started.elapsed());
    });
    let used = before.zip(Usage::now()).map(|(b, a)| a.since(&b));
    let hosts_used = lap.sim.cpu().saturating_sub(hosts_before);
    drop(dog);
    tally.set_phases(&lap.sim.phases(), wall);

    let seconds = summary.elapsed.as_secs_f64();
    let rate = summary.rate();
    let finished = summary.completed == lap.hosts;
    // A model that finished no probe has no rate to project from.
    let projected = (!finished && summary.completed > 0).then(|| lap.hosts as f64 / rate.max(1e-9));
    let full_time = projected.unwrap_or(seconds);
    let per_probe = |x: f64| (summary.completed > 0).then(|| x / summary.completed as f64);
    let [p50, p99, max] = tally.lateness_ms();
    ModelResult {
        model: model.name().to_string(),
        seconds,
        completed: summary.completed,
        finished,
        probes_per_second: rate,
        found: tally.found,
        agrees_with_truth: tally.wrong == 0,
        efficiency: (lap.ideal >= Duration::from_millis(1) && summary.completed > 0)
            .then(|| lap.ideal.as_secs_f64() / full_time.max(1e-9)),
        timeline: tally.spans,
        projected_seconds: projected,
        wrong: tally.wrong,
        wrong_examples: tally.wrong_examples,
        peak_open: lap.sim.stats().peak_open,
        // The machine's work for this model's probes: its own and the hosts'.
        cpu_seconds_per_probe: used.and_then(|u| per_probe((u.cpu() + hosts_used).as_secs_f64())),
        cpu_user_us_per_probe: used.and_then(|u| per_probe(u.user.as_secs_f64() * 1e6)),
        cpu_system_us_per_probe: used.and_then(|u| per_probe(u.system.as_secs_f64() * 1e6)),
        switches_voluntary_per_probe: used.and_then(|u| per_probe(u.voluntary as f64)),
        switches_involuntary_per_probe: used.and_then(|u| per_probe(u.involuntary as f64)),
        lateness_ms_p50: p50,
        lateness_ms_p99: p99,
        lateness_ms_max: max,
        ..ModelResult::default()
    }
}
