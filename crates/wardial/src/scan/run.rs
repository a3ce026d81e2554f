//! Running a scan: one model over the walk, findings printed as they come, and on a stop the
//! resume file that lets the rest go on later.

use std::path::PathBuf;

use wardial_probe::{lock, Finding, ScanConfig, ScanSummary, Stop};

use super::options::ScanOptions;
use super::output::{human_line, json_line};
use super::pace::{paced_connections, Pacer};
use super::progress::Progress;
use super::resume::resume_point;
use super::track::Tracked;
use crate::watchdog::Watchdog;
use crate::{limits, models, Failure};

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

/// Runs the scan: returns its summary, how it ended, and the resume file if one was written.
pub fn run(opts: &ScanOptions, interrupt: &Stop) -> Result<ScanResult, Failure> {
    if opts.max_connections == 0 {
        return Err(Failure::Usage(
            "--max-connections must be at least 1".into(),
        ));
    }
    let (set, walk, left) = opts.walk()?;
    let model = models::require(&opts.model)?;
    let max_connections = connections(opts);
    if let Some(seed) = opts.announce_seed {
        eprintln!("wardial: random order, seed {seed} (--seed {seed} repeats it)");
    }

    // The scan's own stop: set by Ctrl-C or by the budget, whichever comes first.
    let stop = Stop::new();
    let watchdog = Watchdog::start(stop.clone(), interrupt.clone(), opts.budget);
    let config = ScanConfig::new(opts.timeout, max_connections).with_stop(stop);
    let mut targets = Tracked::new(
        walk,
        opts.start,
        opts.done.clone(),
        opts.rate.map(Pacer::new),
    );
    let in_flight = targets.in_flight();
    let mut progress = Progress::new(left, opts.progress);
    let summary = model.scan(&mut targets, &config, &mut |f: Finding| {
        lock(&in_flight).reported(&f.target);
        progress.finding(&f);
        if opts.all || f.outcome.is_server() {
            progress.print(&if opts.json {
                json_line(&f)
            } else {
                human_line(&f)
            });
        }
    });
    progress.finish();
    drop(watchdog);
    end(opts, set.len(), summary, &targets, interrupt)
}

/// The connections the scan may hold: what was asked, within the open-file limit and, for a
/// paced scan, what its rate can fill.
fn connections(opts: &ScanOptions) -> usize {
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
    max_connections
}

/// How the scan ended, and the resume file if targets were left: the stop refused one, or a
/// model dropped one it had taken.
fn end(
    opts: &ScanOptions,
    set_len: u64,
    summary: ScanSummary,
    targets: &Tracked,
    interrupt: &Stop,
) -> Result<ScanResult, Failure> {
    let in_flight = targets.in_flight();
    let in_flight = lock(&in_flight);
    let unfinished = in_flight.unfinished();
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
        let (position, done) = resume_point(in_flight.next(), &unfinished, targets.skipped());
        opts.resume_state(set_len, position, done)
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
