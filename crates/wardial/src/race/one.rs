//! One model's turn in the race: it scans the range within its budget, every finding is checked
//! against the ground truth and recorded for the timeline.

use std::time::{Duration, Instant};

use wardial_probe::{Finding, Probe, ScanConfig, Stop};
use wardial_simnet::Simnet;

use super::options::RaceOptions;
use super::report::ModelResult;
use super::timeline::Span;
use crate::watchdog::Watchdog;

/// How many disagreements with the truth a row keeps, to show what went wrong.
const EXAMPLES: usize = 3;

/// What the race needs to run one model: the same for every model of a race.
#[derive(Debug)]
pub struct Lap<'a> {
    pub sim: &'a Simnet,
    pub opts: &'a RaceOptions,
    pub hosts: u64,
    pub max_connections: usize,
    /// The wait-bound ideal time of the range.
    pub ideal: Duration,
    pub interrupt: &'a Stop,
}

/// What a model's findings add up to while it runs.
#[derive(Debug, Default)]
struct Tally {
    found: u64,
    wrong: u64,
    wrong_examples: Vec<String>,
    spans: Vec<Span>,
}

impl Tally {
    /// Counts `f`, which reached the race `at` after the scan started.
    fn add(&mut self, lap: &Lap, f: &Finding, at: Duration) {
        self.spans.push(Span::new(at, f.elapsed, &f.outcome));
        self.found += u64::from(f.outcome.is_server());
        let expected = lap.sim.truth(f.target.addr, lap.opts.timeout);
        if !expected.accepts(&f.outcome) {
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
    let watchdog = Watchdog::start(
        config.stop().clone(),
        lap.interrupt.clone(),
        Some(lap.opts.budget),
    );
    let mut tally = Tally {
        spans: Vec::with_capacity(lap.hosts.min(1 << 20) as usize),
        ..Tally::default()
    };
    let mut targets = lap.sim.targets().take(lap.hosts as usize);
    let started = Instant::now();
    let summary = model.scan(&mut targets, &config, &mut |f| {
        tally.add(lap, &f, started.elapsed());
    });
    drop(watchdog);

    let seconds = summary.elapsed.as_secs_f64();
    let rate = summary.rate();
    let finished = summary.completed == lap.hosts;
    let projected = (!finished).then(|| lap.hosts as f64 / rate.max(1e-9));
    let full_time = projected.unwrap_or(seconds);
    ModelResult {
        model: model.name().to_string(),
        seconds,
        completed: summary.completed,
        finished,
        probes_per_second: rate,
        found: tally.found,
        agrees_with_truth: tally.wrong == 0,
        efficiency: (lap.ideal >= Duration::from_millis(1))
            .then(|| lap.ideal.as_secs_f64() / full_time.max(1e-9)),
        timeline: tally.spans,
        projected_seconds: projected,
        wrong: tally.wrong,
        wrong_examples: tally.wrong_examples,
        peak_open: lap.sim.stats().peak_open,
        ..ModelResult::default()
    }
}
