//! Running a race: build every model, race each in turn, then measure memory.
//!
//! A race has two phases:
//! 1. **the race**: every model scans the range, the simulated hosts in a process of their
//!    own, each probe recorded for the [timeline](super::timeline), and the CPU time of both
//!    processes counted (what each probe cost the machine);
//! 2. **memory**: every model holds probes in flight in a process of its own (see
//!    [`super::memory`]).

use std::time::Duration;

use wardial_probe::{Probe, Stop};
use wardial_simnet::{Truth, World};

use super::bounds::ideal_time;
use super::memory::measure_memory;
use super::one::{race_one, Lap};
use super::options::RaceOptions;
use super::report::{ModelResult, RaceReport};
use super::servers::{Apart, Servers};
use crate::usage::cores;
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
    // The simulated hosts race in a process of their own: a connection costs this one a file.
    let limit = limits::raise_open_files();
    let (max_connections, warning) = limits::clamp_connections(opts.max_connections, 1, limit);
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
    let sim = if opts.hosts_apart {
        Apart::start(world.clone(), &world_args(opts))?
    } else {
        Servers::here(world.clone())?
    };
    let lap = Lap {
        sim: &sim,
        opts,
        hosts,
        max_connections,
        ideal: Duration::from_secs_f64(report.ideal_seconds),
        interrupt,
    };
    for (name, model) in &built {
        if interrupt.is_stopped() {
            break;
        }
        let row = race_model(name, model, &lap, progress);
        report.models.push(row);
    }
    drop(sim);
    set_floors(&mut report, &world);

    if opts.memory && !interrupt.is_stopped() {
        measure_memory(&mut report, interrupt, progress)?;
    }
    report.interrupted = interrupt.is_stopped();
    Ok(report)
}

/// The options that make the race's world, for `wardial race-servers`.
fn world_args(opts: &RaceOptions) -> Vec<String> {
    let mut args = vec![
        "--range".to_string(),
        opts.range.clone(),
        "--mix".into(),
        opts.mix.clone(),
        "--seed".into(),
        opts.seed.to_string(),
    ];
    if let Some(latency) = opts.latency {
        args.extend([
            "--latency".into(),
            format!("{}ms", latency.as_secs_f64() * 1000.0),
        ]);
    }
    args
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
        cores: cores(),
        models: Vec::new(),
        interrupted: false,
    }
}

/// Every row's floor, from the cheapest probe any model made: what the machine needs for the
/// range's work at the least, so that no model can beat it (a model that burns CPU raises no
/// bound of its own).
fn set_floors(report: &mut RaceReport, world: &World) {
    let ideal = Duration::from_secs_f64(report.ideal_seconds);
    let timeout = report.config.timeout;
    let cheapest = report
        .ran()
        .filter(|m| m.completed > 0)
        .filter_map(|m| m.cpu_seconds_per_probe)
        .fold(None, |least: Option<f64>, c| {
            Some(least.map_or(c, |l| l.min(c)))
        });
    let (hosts, cores) = (report.hosts, report.cores);
    for m in report.models.iter_mut().filter(|m| m.unavailable.is_none()) {
        m.set_limit(ideal, cheapest, hosts, cores);
        // A model stopped at its budget is judged on its projection over the range, but never
        // above what it did: a projection from part of a round can promise more than any model
        // could do, while the floor of the hosts it finished (in the order it took them)
        // against the time it ran cannot be beaten.
        if !m.finished && m.completed > 0 {
            let wait = ideal_time(world, m.completed, timeout, m.connections.max(1));
            let cpu = cheapest.unwrap_or(0.0) * m.completed as f64 / cores.max(1) as f64;
            let done = wait.as_secs_f64().max(cpu) / m.seconds.max(1e-9);
            m.limit_efficiency = m.limit_efficiency.map(|projected| projected.min(done));
        }
    }
}

/// One model's row: raced, or unavailable here with the reason.
fn race_model(
    name: &str,
    model: &Result<Box<dyn Probe>, String>,
    lap: &Lap,
    progress: &mut dyn FnMut(&str),
) -> ModelResult {
    let model = match model {
        Ok(model) => model,
        Err(reason) => {
            progress(&format!("  {name}: unavailable here: {reason}"));
            return ModelResult::unavailable(name, reason.clone());
        }
    };
    let mut lap = *lap;
    let capped = model
        .capacity()
        .filter(|(most, _)| *most < lap.max_connections);
    if let Some((most, why)) = &capped {
        progress(&format!(
            "warning: {name} holds at most {most} probes at once ({why}): it races with {most} connections"
        ));
        lap.max_connections = (*most).max(1);
    }
    progress(&format!("racing {name}..."));
    let mut result = race_one(model.as_ref(), &lap);
    result.connections = lap.max_connections;
    result.capacity_note = capped.map(|(_, why)| why);
    progress(&format!(
        "  {name}: {:.2} s{}",
        result.seconds,
        if result.finished { "" } else { " (stopped)" }
    ));
    result
}
