//! Running a scan: one model over the walk, each finding written as it comes, a checkpoint
//! every few seconds, and on a stop the resume file that lets the rest go on later.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use wardial_probe::{lock, Finding, Probe, ScanConfig, ScanSummary, Stop};

use super::options::ScanOptions;
use super::output::End;
use super::plan::Plan;
use super::progress::Progress;
use super::resume::resume_point;
use super::sink::Sink;
use super::track::{InFlight, Tracked};
use crate::targets::Shard;
use crate::watchdog::{watchdog, Periodic};
use crate::{limits, models, note, Failure};

/// How a scan ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ended {
    /// Every target of the shard was probed.
    Complete,
    /// Ctrl-C (or SIGTERM) stopped it.
    Interrupted,
    /// `--budget` ran out.
    Budget,
    /// Its output could not be written (a closed pipe, a full disk): it stopped probing.
    Unwritable,
}

impl Ended {
    /// As the end record says it.
    pub fn word(self) -> &'static str {
        match self {
            Ended::Complete => "complete",
            Ended::Interrupted => "interrupted",
            Ended::Budget => "budget",
            Ended::Unwritable => "unwritable",
        }
    }
}

/// What a scan did.
#[derive(Debug)]
pub struct ScanResult {
    pub summary: ScanSummary,
    pub ended: Ended,
    /// The resume file written, if targets were left.
    pub resume_file: Option<PathBuf>,
    /// A paced scan's probes started this many a second (see [`Tracked::started_per_second`]).
    pub started_per_second: Option<f64>,
}

/// What the findings and the checkpoints share: the positions in flight and the output, each
/// locked in that order, so a checkpoint never sees a finding counted but not yet written.
#[derive(Debug, Clone)]
struct Shared {
    in_flight: Arc<Mutex<InFlight>>,
    sink: Arc<Mutex<Sink>>,
}

/// Runs the scan of `plan` into `sink` (which holds its plan line already, if it has one):
/// returns its summary, how it ended, and the resume file if one was written.
pub fn run(
    opts: &ScanOptions,
    plan: &Plan,
    sink: Sink,
    interrupt: &Stop,
) -> Result<ScanResult, Failure> {
    let (_, walk, left) = opts.walk()?;
    let model = models::require(&opts.model)?;
    let max_connections = connections(opts, model.as_ref());
    if let Some(seed) = opts.announce_seed {
        note(&format!(
            "wardial: random order, seed {seed} (--seed {seed} repeats it)"
        ));
    }
    // The scan's own stop: set by Ctrl-C, the budget, or an output that cannot be written.
    let stop = Stop::new();
    let dog = watchdog(stop.clone(), interrupt.clone(), opts.budget);
    let mut config = ScanConfig::new(opts.timeout, max_connections).with_stop(stop.clone());
    if let Some(rate) = opts.rate {
        config = config.with_rate(rate);
    }
    let mut targets = Tracked::new(walk, opts.start, opts.done.clone());
    let shared = Shared {
        in_flight: targets.in_flight(),
        sink: Arc::new(Mutex::new(sink)),
    };
    let checkpoints = checkpoints(opts, plan, &shared, &targets);
    let mut progress = Progress::new(left, opts.progress);
    let mut unwritable = false;
    let summary = model.scan(&mut targets, &config, &mut |f: Finding| {
        progress.finding(&f);
        let print = opts.all || f.outcome.is_server();
        if write(&shared, &f, opts.shard, print, &progress).is_err() && !unwritable {
            unwritable = true;
            stop.stop();
        }
    });
    progress.finish();
    drop((dog, checkpoints));
    // Targets left: the stop refused one, or a model dropped one it had taken.
    let left = summary.stopped
        || !lock(&shared.in_flight).unfinished().is_empty()
        || targets.size_hint().0 > 0;
    let ended = match (left, interrupt.is_stopped()) {
        _ if unwritable => Ended::Unwritable,
        (false, _) => Ended::Complete,
        (true, true) => Ended::Interrupted,
        (true, false) => Ended::Budget,
    };
    end(opts, plan, &shared, &targets, summary, ended)
}

/// Counts `f` done and writes it (a line for it if `print`), with its position in the plan
/// (the walk counts within `shard`); the error of a write that failed.
fn write(
    shared: &Shared,
    f: &Finding,
    shard: Shard,
    print: bool,
    progress: &Progress,
) -> std::io::Result<()> {
    let mut in_flight = lock(&shared.in_flight);
    // A finding for a target the model was never given (or gave twice) has no place in the
    // plan: it is not written, and counts nothing done.
    let Some(k) = in_flight.position(&f.target) else {
        debug_assert!(
            false,
            "a finding for a target not in flight: {}",
            f.target.addr
        );
        return Ok(());
    };
    let position = shard.position_of(k);
    let mut sink = lock(&shared.sink);
    let mut on_stdout = |line: &str| progress.print(line);
    let written = match &mut *sink {
        Sink::File { .. } => sink.finding(f, position, &mut on_stdout),
        _ if print => sink.finding(f, position, &mut on_stdout),
        _ => Ok(()),
    };
    // Done only once it is written: a finding nobody received is probed again on resuming.
    if written.is_ok() {
        in_flight.reported(&f.target);
    }
    written
}

/// A checkpoint every [`CHECKPOINT_EVERY`](super::resume::CHECKPOINT_EVERY) (or as the options say), on a thread of its own (it must come even when no
/// finding does: a scan of silent hosts with a long timeout reports nothing for a while).
fn checkpoints(opts: &ScanOptions, plan: &Plan, shared: &Shared, targets: &Tracked) -> Periodic {
    let (opts, plan, shared) = (opts.clone(), plan.clone(), shared.clone());
    let skipped = targets.skipped().clone();
    Periodic::start(opts.checkpoint_every, move || {
        if let Err(e) = checkpoint(&opts, &plan, &shared, &skipped) {
            note(&format!("wardial: {e}"));
        }
        true
    })
}

/// Writes where the scan is now: its first position not done, the later ones done, and how
/// long the output file is.
fn checkpoint(
    opts: &ScanOptions,
    plan: &Plan,
    shared: &Shared,
    skipped: &std::collections::HashSet<u64>,
) -> Result<(), String> {
    let in_flight = lock(&shared.in_flight);
    let point = resume_point(in_flight.next(), &in_flight.unfinished(), skipped);
    let bytes = lock(&shared.sink).bytes();
    drop(in_flight);
    opts.resume_state(plan, point, bytes)
        .save(&opts.resume_file)
}

/// The connections the scan may hold: what was asked, within the open-file limit and what the
/// model can hold.
fn connections(opts: &ScanOptions, model: &dyn Probe) -> usize {
    let (max_connections, warning) =
        limits::clamp_connections(opts.max_connections, 1, limits::raise_open_files());
    if let Some(w) = warning {
        note(&w);
    }
    match model.capacity() {
        Some((most, why)) if most < max_connections => {
            note(&format!(
                "warning: {} holds at most {most} probes at once ({why}); using {most} connections",
                opts.model
            ));
            most.max(1)
        }
        _ => max_connections,
    }
}

/// The end record, and the resume file if targets were left (the stop refused one, or a model
/// dropped one it had taken); a complete scan removes its checkpoint, which has done its job.
fn end(
    opts: &ScanOptions,
    plan: &Plan,
    shared: &Shared,
    targets: &Tracked,
    summary: ScanSummary,
    ended: Ended,
) -> Result<ScanResult, Failure> {
    // To a hundredth: the figure is for reading, not for digits of float noise.
    let started_per_second = opts
        .rate
        .and(targets.started_per_second())
        .map(|r| (r * 100.0).round() / 100.0);
    let record = End {
        started_per_second,
        ..End::new(plan, ended.word(), &summary)
    };
    // A sink that failed is not written again: the end record goes where it can.
    let _ = lock(&shared.sink).end(&record);
    let resume_file = if ended == Ended::Complete {
        let _ = std::fs::remove_file(&opts.resume_file);
        None
    } else {
        checkpoint(opts, plan, shared, targets.skipped()).map_err(Failure::Run)?;
        Some(opts.resume_file.clone())
    };
    Ok(ScanResult {
        summary,
        ended,
        resume_file,
        started_per_second,
    })
}
