//! `wardial race`: its arguments, and where its results go (the table or JSON on stdout, the
//! text timeline after the table, the images to files).

use std::io::Write;
use std::process::ExitCode;
use std::time::Duration;

use clap::Args;
use wardial_probe::Stop;

use super::chart;
use super::external::{self, race_outside, External, Outside};
use super::options::RaceOptions;
use super::picture;
use super::report::RaceReport;
use super::run::run;
use super::table::print_table;
use crate::world::WorldArgs;
use crate::{args, models, Failure, INTERRUPTED};

/// Columns of the text timeline (the model's name takes 22 more).
const TIMELINE_COLUMNS: usize = 64;

#[derive(Debug, Args)]
pub struct RaceArgs {
    #[command(flatten)]
    world: WorldArgs,
    /// Total deadline of one probe
    #[arg(long, default_value = "500ms", value_parser = args::duration, allow_hyphen_values = true)]
    timeout: Duration,
    /// Probes in flight at once
    #[arg(long, default_value = "512", value_parser = args::positive)]
    max_connections: usize,
    /// Models to race, comma-separated, or `all`
    #[arg(long, default_value = "all", value_parser = model_list)]
    models: ModelList,
    /// Time each model gets; one that has not finished is stopped and its time projected
    #[arg(long, default_value = "3s", value_parser = args::duration)]
    budget: Duration,
    /// Race only the first N hosts of the range
    #[arg(long, value_name = "N", value_parser = args::positive)]
    hosts: Option<usize>,
    /// Print one JSON document instead of the table
    #[arg(long)]
    json: bool,
    /// Every column: the floor and its bound, CPU time in user and system mode, both kinds of
    /// context switch, lateness p50 and max (the default fits 100 columns)
    #[arg(long)]
    wide: bool,
    /// Also write the bar charts (probes/s on a log scale, memory per probe) as an SVG image to FILE
    #[arg(long, value_name = "FILE")]
    svg: Option<String>,
    /// Write the timeline (every probe as a bar from start to end, split into connecting,
    /// waiting and reading; a lane per model, the short lanes again on axes of their own) as an
    /// SVG image to FILE; `-` prints it as text after the table (done anyway when stdout is a
    /// terminal). When every model races, the lanes are blocking, threads, callbacks and tokio;
    /// --models chooses others
    #[arg(long, value_name = "FILE")]
    timeline: Option<String>,
    /// Accepted, and does nothing: the CPU bound is measured in the race itself now, not in a
    /// phase of its own that this skipped (kept so that scripts which pass it still run)
    #[arg(long, hide = true)]
    no_calibration: bool,
    /// Skip measuring memory per probe (a child process per model, about half a second each)
    #[arg(long)]
    no_memory: bool,
    /// Race an outside scanner too, in any language: NAME=COMMAND, run by the shell with
    /// {range} {port} {timeout} {max_connections} filled in (repeatable; see `wardial check`)
    #[arg(long = "external", value_name = "NAME=COMMAND", value_parser = external::parse)]
    external: Vec<External>,
    /// Race the Python reference scanners too (asyncio + aiohttp, asyncio streams, a thread
    /// pool), where python3 (and aiohttp) are installed
    #[arg(long)]
    python: bool,
}

/// A parsed `--models` list (a newtype, so clap takes it as one value, not many).
#[derive(Debug, Clone)]
pub struct ModelList(Vec<String>);

fn model_list(s: &str) -> Result<ModelList, String> {
    models::parse_list(s).map(ModelList)
}

/// Runs `wardial race`.
pub fn command(a: RaceArgs, interrupt: &Stop) -> Result<ExitCode, Failure> {
    let opts = RaceOptions {
        range: a.world.range.to_string(),
        mix: a.world.mix.clone(),
        latency: a.world.latency,
        timeout: a.timeout,
        max_connections: a.max_connections,
        models: a.models.0.clone(),
        budget: a.budget,
        seed: a.world.seed,
        hosts: a.hosts.map(|n| n as u64),
        memory: !a.no_memory,
        hosts_apart: true,
    };
    // An image that cannot be written is found out now, not after the whole race.
    for path in images(&a) {
        std::fs::File::create(path)
            .map_err(|e| Failure::Usage(format!("cannot write '{path}': {e}")))?;
    }
    let terminal = crate::stderr_is_terminal();
    let mut progress = |line: &str| {
        if terminal || line.starts_with("warning") {
            eprintln!("{line}");
        }
    };
    let mut report = run(&opts, interrupt, &mut progress)?;
    let outside = race_outside(
        &a.external,
        a.python,
        &opts,
        &mut report,
        interrupt,
        &mut progress,
    )?;
    print(&a, &report, &outside)
        .map_err(|e| Failure::Run(format!("cannot write the results: {e}")))?;
    let write = |path: &str, image: String| {
        std::fs::write(path, image).map_err(|e| Failure::Run(format!("cannot write '{path}': {e}")))
    };
    if let Some(path) = &a.svg {
        write(path, chart::svg(&report))?;
    }
    if let Some(path) = a.timeline.as_deref().filter(|p| *p != "-") {
        write(path, picture::race_svg(&report))?;
    }
    Ok(if report.interrupted {
        ExitCode::from(INTERRUPTED)
    } else {
        ExitCode::SUCCESS
    })
}

/// The image files asked for.
fn images(a: &RaceArgs) -> impl Iterator<Item = &str> {
    [
        a.svg.as_deref(),
        a.timeline.as_deref().filter(|p| *p != "-"),
    ]
    .into_iter()
    .flatten()
}

/// The table or the JSON document on stdout, and the text timeline where it belongs.
fn print(a: &RaceArgs, report: &RaceReport, outside: &[Outside]) -> std::io::Result<()> {
    let mut out = std::io::stdout().lock();
    // The text timeline comes after the table when asked for, or when a person reads the
    // table on a terminal wide enough for it (the `COLUMNS` a shell exports, if any).
    let terminal_out = std::io::IsTerminal::is_terminal(&std::io::stdout());
    let wide = std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.parse::<usize>().ok())
        .is_none_or(|c| c >= TIMELINE_COLUMNS + 24);
    let text_timeline = a.timeline.as_deref() == Some("-") || (terminal_out && wide && !a.json);
    if a.json {
        serde_json::to_writer_pretty(&mut out, &external::json(report, outside))
            .map_err(std::io::Error::other)?;
        writeln!(out)?;
    } else {
        print_table(report, a.wide, &mut out)?;
        external::print_outside(outside, &mut out)?;
    }
    if text_timeline && !a.json {
        writeln!(out, "\n{}", picture::race_text(report, TIMELINE_COLUMNS))?;
    } else if text_timeline {
        // JSON stays one document on stdout; the picture goes to the terminal.
        eprintln!("{}", picture::race_text(report, TIMELINE_COLUMNS));
    }
    Ok(())
}
