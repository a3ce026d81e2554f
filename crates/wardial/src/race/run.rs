//! Running a race: build every model, calibrate, race each in turn, then measure memory.
//!
//! A race has three phases:
//! 1. **calibration**: every model scans the same hosts with no latency at all, so all it
//!    measures is what a probe costs this machine (client and simulated hosts together);
//! 2. **the race**: every model scans the range, each probe recorded for the
//!    [timeline](super::timeline);
//! 3. **memory**: every model holds a full set of probes in flight in a process of its own
//!    (see [`super::memory`]).

use std::time::Duration;

use wardial_probe::{Probe, Stop};
use wardial_simnet::{Mix, Simnet, Truth, World};

use super::bounds::ideal_time;
use super::calibrate::{calibrate, CALIBRATION_HOSTS};
use super::memory::measure_memory;
use super::one::{race_one, Lap};
use super::options::RaceOptions;
use super::report::{ModelResult, RaceReport};
use crate::{limits, models, Failure};

/// A model by name, or why it cannot run here.
type Built<'a> = (&'a str, Result<Box<dyn Probe>, String>);

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
    // Every model is built once, before any phase, and an unknown name fails the whole race.
    let built = opts
        .models
        .iter()
        .map(|name| match models::build(name) {
            None => Err(Failure::Usage(models::parse(name).unwrap_err())),
            Some(model) => Ok((name.as_str(), model)),
        })
        .collect::<Result<Vec<Built>, Failure>>()?;

    let mut report = new_report(opts, &world, hosts, max_connections);
    let cost = calibration(&built, &report, &world, interrupt, progress)?;
    let sim = start_simnet(world.clone())?;
    let lap = Lap {
        sim: &sim,
        opts,
        hosts,
        max_connections,
        ideal: Duration::from_secs_f64(report.ideal_seconds),
        interrupt,
    };
    for ((name, model), cost) in built.iter().zip(&cost) {
        if interrupt.is_stopped() {
            break;
        }
        let row = race_model(name, model, &lap, *cost, progress);
        report.models.push(row);
    }
    drop(sim);

    if opts.memory && !interrupt.is_stopped() {
        measure_memory(&mut report, interrupt, progress)?;
    }
    report.interrupted = interrupt.is_stopped();
    Ok(report)
}

fn start_simnet(world: World) -> Result<Simnet, Failure> {
    Simnet::start(world)
        .map_err(|e| Failure::Run(format!("cannot start the simulated internet: {e}")))
}

/// The report before any model ran: the race's own figures.
fn new_report(opts: &RaceOptions, world: &World, hosts: u64, max_connections: usize) -> RaceReport {
    let near_timeout = world
        .range
        .iter()
        .take(hosts as usize)
        .filter(|&a| matches!(world.truth(a, opts.timeout), Truth::Either(..)))
        .count() as u64;
    RaceReport {
        config: RaceOptions {
            max_connections,
            ..opts.clone()
        },
        hosts,
        ideal_seconds: ideal_time(world, hosts, opts.timeout, max_connections).as_secs_f64(),
        near_timeout,
        margin_seconds: world.margin(opts.timeout).as_secs_f64(),
        calibration_hosts: if opts.calibrate {
            hosts.min(CALIBRATION_HOSTS)
        } else {
            0
        },
        models: Vec::new(),
        interrupted: false,
    }
}

/// The calibration phase: each model's cost per probe on hosts that answer at once (`None` for
/// a model that did not run, or for every model if the race does not calibrate).
fn calibration(
    built: &[Built],
    report: &RaceReport,
    world: &World,
    interrupt: &Stop,
    progress: &mut dyn FnMut(&str),
) -> Result<Vec<Option<f64>>, Failure> {
    let mut cost = vec![None; built.len()];
    let hosts = report.calibration_hosts;
    if hosts == 0 {
        return Ok(cost);
    }
    progress(&format!(
        "calibrating: what a probe costs this machine with no latency ({hosts} hosts per model)..."
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
                hosts,
                report.config.max_connections,
                report.config.timeout,
                interrupt,
            ));
        }
    }
    Ok(cost)
}

/// One model's row: raced, or unavailable here with the reason.
fn race_model(
    name: &str,
    model: &Result<Box<dyn Probe>, String>,
    lap: &Lap,
    cost: Option<f64>,
    progress: &mut dyn FnMut(&str),
) -> ModelResult {
    let model = match model {
        Ok(model) => model,
        Err(reason) => {
            progress(&format!("  {name}: unavailable here: {reason}"));
            return ModelResult::unavailable(name, reason.clone());
        }
    };
    progress(&format!("racing {name}..."));
    let mut result = race_one(model.as_ref(), lap);
    result.set_limit(lap.ideal, cost, lap.hosts);
    progress(&format!(
        "  {name}: {:.2} s{}",
        result.seconds,
        if result.finished { "" } else { " (stopped)" }
    ));
    result
}
