//! `wardial scan`: its arguments, and how they become a scan (new, or resumed from a file).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use clap::Args;
use wardial_probe::{Cidr, Stop};

use super::options::{ScanOptions, RESUME_FILE};
use super::plan::Plan;
use super::resume::{read_output, Appending, ResumeState};
use super::run::{run, Ended, ScanResult};
use super::sink::Sink;
use super::{dry_run, output};
use crate::targets::{gate, lists, Order, Ports, Shard, Spec};
use crate::{args, models, note, Failure, INTERRUPTED, UNFINISHED};

#[derive(Debug, Args)]
pub struct ScanArgs {
    /// Networks to scan: CIDRs (10.0.0.0/24) or addresses; `-` reads them from stdin
    #[arg(value_parser = args::cidr_or_stdin)]
    targets: Vec<String>,
    /// Read more targets from FILE, one per line: a CIDR, an address, or `ADDRESS HOST:PORT`
    /// (probe ADDRESS by dialling HOST:PORT, as `wardial simnet --targets` writes); `-` is stdin
    #[arg(long, short = 'i', value_name = "FILE")]
    input: Option<String>,
    /// TCP ports to probe on every address: one, a list, ranges (80,443,8000-8100); the order
    /// and the shards run over every (address, port) pair
    #[arg(long, short, visible_alias = "ports", default_value = "80", value_parser = Ports::parse)]
    port: Ports,
    /// Concurrency model
    #[arg(long, short, default_value = "tokio", value_parser = models::parse)]
    model: String,
    /// Total deadline of one probe
    #[arg(long, short, default_value = "10s", value_parser = args::duration, allow_hyphen_values = true)]
    timeout: Duration,
    /// Probes in flight at once
    #[arg(long, short = 'c', default_value = "500", value_parser = args::positive)]
    max_connections: usize,
    /// Print one JSON object per line: first the plan, then the findings, each with its
    /// position in the plan and a timestamp, then how the run ended
    #[arg(long)]
    json: bool,
    /// Append the JSON lines to FILE instead of printing them. Run the same command again after
    /// a stop, a kill or a crash, and it goes on where the file and its checkpoint say, with no
    /// target reported twice; a complete file is left as it is
    #[arg(long, short = 'o', value_name = "FILE")]
    output: Option<String>,
    /// Report every address, not only servers
    #[arg(long, short)]
    all: bool,
    /// Allow addresses outside loopback and the private ranges (only networks you may scan);
    /// the IANA special-purpose ranges inside public networks are then skipped
    #[arg(long)]
    allow_public: bool,
    /// Order of the targets: random (a seeded shuffle of all of them, spreading the load over
    /// every network) or sequential (ascending addresses)
    #[arg(long, default_value = "random", value_parser = ["random", "sequential"])]
    order: String,
    /// Seed of the random order (default: a new one each run, printed on stderr); the same seed,
    /// targets and exclusions give the same order
    #[arg(long, value_name = "N")]
    seed: Option<u64>,
    /// Scan only the I-th of N disjoint parts of the targets (1-based: 1/4 to 4/4); every shard
    /// needs the same --seed, targets and --exclude
    #[arg(long, value_name = "I/N", value_parser = Shard::parse)]
    shard: Option<Shard>,
    /// Start at most N probes per second, evenly spaced. Per scan: N shards of a scan together
    /// start up to N times as many. On silent hosts a scan holds rate × timeout connections at
    /// once, so --max-connections must allow that many to keep the rate
    #[arg(long, value_name = "N", value_parser = args::rate)]
    rate: Option<f64>,
    /// Never probe the networks listed in FILE (one CIDR or address per line, # comments); may
    /// be given more than once
    #[arg(long, value_name = "FILE")]
    exclude: Vec<String>,
    /// Print the targets in the order a scan would probe them, and probe nothing
    #[arg(long)]
    dry_run: bool,
    /// Stop starting probes after this long, save a resume file, and exit with code 3 (not done)
    #[arg(long, value_parser = args::duration, value_name = "DURATION")]
    budget: Option<Duration>,
    /// Continue the scan saved in FILE (by Ctrl-C, --budget or a checkpoint) with its targets
    /// and options, saving its state in FILE again; targets given too must be the same
    #[arg(long, value_name = "FILE", conflicts_with_all = ["exclude", "shard", "seed", "order", "port", "allow_public", "user_agent", "contact", "rate", "model", "timeout", "max_connections"])]
    resume: Option<String>,
    /// Where the scan writes its checkpoint (every 10 s and when it stops) [default: the
    /// --resume FILE, else OUTPUT.resume.json with --output, else wardial-resume.json]
    #[arg(long, value_name = "FILE")]
    resume_file: Option<String>,
    /// The User-Agent header every probe sends [default: wardial/VERSION (concurrency course
    /// scanner; +CONTACT)]
    #[arg(long, value_name = "TEXT", conflicts_with = "contact")]
    user_agent: Option<String>,
    /// How often the scan writes its checkpoint (for tests of a kill between two)
    #[arg(long, hide = true, value_parser = args::duration, default_value = "10s")]
    checkpoint_every: Duration,
    /// How a network's owner who sees the scan in a log can reach whoever runs it (a URL or an
    /// email address), in the default User-Agent [default: where to learn about wardial]
    #[arg(long, value_name = "TEXT")]
    contact: Option<String>,
}

/// Runs `wardial scan`. Every target is read, parsed and checked before the first socket exists.
pub fn command(a: ScanArgs, interrupt: &Stop) -> Result<ExitCode, Failure> {
    let targets = read_targets(&a, interrupt)?;
    let resuming = a.resume.as_deref().map(Path::new);
    let mut opts = match resuming {
        Some(path) => resumed(path, targets, &a)?,
        None => fresh(targets, &a)?,
    };
    let networks: Vec<Cidr> = opts.targets.iter().flat_map(Spec::networks).collect();
    gate::check_allowed(&networks, opts.skip_special).map_err(Failure::Usage)?;
    set_user_agent(&opts)?;
    if a.dry_run {
        return dry_run_command(&opts, interrupt);
    }
    let plan = Plan::of(&opts, &opts.target_set());
    let Some(sink) = sink(&mut opts, &plan)? else {
        return Ok(ExitCode::SUCCESS);
    };
    if let (Order::Random { seed }, None, None) = (opts.order, a.seed, resuming) {
        opts.announce_seed = Some(seed);
    }
    let result = run(&opts, &plan, sink, interrupt)?;
    report_end(&opts, &result, resuming);
    Ok(match result.ended {
        Ended::Complete => ExitCode::SUCCESS,
        Ended::Interrupted => ExitCode::from(INTERRUPTED),
        Ended::Budget | Ended::Unwritable => ExitCode::from(UNFINISHED),
    })
}

/// The User-Agent of every probe: as given, or the default with the contact given.
fn set_user_agent(opts: &ScanOptions) -> Result<(), Failure> {
    if let Some(agent) = &opts.user_agent {
        wardial_probe::http::set_user_agent(agent)
            .map_err(|e| Failure::Usage(format!("--user-agent: {e}")))?;
    }
    Ok(())
}

/// Where the findings go. With `--output`, what the file already holds decides: a new file
/// begins with the plan, a stopped run of the same plan and shard goes on (`opts` then start
/// where it stopped), a complete one is left alone (`None`: nothing to do).
fn sink(opts: &mut ScanOptions, plan: &Plan) -> Result<Option<Sink>, Failure> {
    let Some(path) = opts.output.clone() else {
        let mut sink = if opts.json { Sink::Json } else { Sink::Human };
        sink.begin(plan)
            .map_err(|e| Failure::Run(format!("cannot write: {e}")))?;
        return Ok(Some(sink));
    };
    let name = path.display().to_string();
    // A path that cannot be written (a folder, a missing folder) is bad input.
    let failed = |e: std::io::Error| Failure::Usage(format!("cannot write '{name}': {e}"));
    // A checkpoint that cannot be read is no loss: the file itself says what was done.
    let checkpoint = ResumeState::load(&opts.resume_file).ok();
    match read_output(&path, plan, checkpoint.as_ref())? {
        Appending::Complete => {
            note(&format!(
                "wardial: '{name}' already holds this whole scan (shard {} of plan {}): nothing to do",
                plan.shard, plan.plan
            ));
            Ok(None)
        }
        Appending::Fresh => {
            // A checkpoint left by an earlier file at this path is not this file's: its
            // checkpoints name this file's start, so the old one is never taken for it.
            opts.output_started = Some(plan.started.clone());
            let mut sink = Sink::file(&path, 0).map_err(failed)?;
            sink.begin(plan).map_err(failed)?;
            Ok(Some(sink))
        }
        Appending::Resume {
            start,
            done,
            keep,
            started,
        } => {
            opts.output_started = Some(started);
            // A line half written when the last run was killed goes: its target is probed again.
            std::fs::OpenOptions::new()
                .write(true)
                .open(&path)
                .and_then(|f| f.set_len(keep))
                .map_err(failed)?;
            (opts.start, opts.done) = (start, done);
            note(&format!(
                "wardial: continuing '{name}' from where it stopped ({} of {} targets of shard {} done)",
                start + opts.done.len() as u64,
                plan.shard_len,
                plan.shard
            ));
            Ok(Some(Sink::file(&path, keep).map_err(failed)?))
        }
    }
}

/// The targets given as arguments and in `--input`, stdin at most once.
fn read_targets(a: &ScanArgs, interrupt: &Stop) -> Result<Vec<Spec>, Failure> {
    let mut targets = Vec::new();
    let mut stdin_used = false;
    for t in &a.targets {
        if t == "-" {
            stdin_used = true;
            targets.extend(lists::read_targets("-", interrupt)?);
        } else {
            targets.push(Spec::Net(args::cidr(t).map_err(Failure::Usage)?));
        }
    }
    if let Some(path) = &a.input {
        if path == "-" && stdin_used {
            return Err(Failure::Usage(
                "stdin given twice ('-' and --input -)".into(),
            ));
        }
        targets.extend(lists::read_targets(path, interrupt)?);
    }
    Ok(targets)
}

/// `--dry-run`: the targets, and a summary on stderr.
fn dry_run_command(opts: &ScanOptions, interrupt: &Stop) -> Result<ExitCode, Failure> {
    let printed = dry_run::dry_run(opts, interrupt)?;
    note(&format!(
        "dry run: {printed} target{} of shard {} in {} order; nothing was probed",
        if printed == 1 { "" } else { "s" },
        opts.shard,
        match opts.order {
            Order::Random { seed } => format!("random (seed {seed})"),
            Order::Sequential => "sequential".into(),
        }
    ));
    Ok(ExitCode::SUCCESS)
}

/// The summary, and what became of the resume file.
fn report_end(opts: &ScanOptions, result: &ScanResult, resuming: Option<&Path>) {
    let mut line = output::summary_line(&result.summary, result.ended == Ended::Interrupted);
    if result.ended == Ended::Budget {
        line = format!("stopped at the budget: {line}");
    }
    // The summary is for a person: on stdout with the lines, on stderr beside JSON. A reader
    // that has gone (a closed pipe) gets nothing, and no panic either.
    let say = |text: &str| {
        if opts.json || opts.output.is_some() {
            note(text);
        } else {
            let _ = writeln!(std::io::stdout(), "{text}");
        }
    };
    if result.ended == Ended::Unwritable {
        // Said on stderr, which may be closed too: then nothing is said, and nothing panics.
        if let Some(file) = &result.resume_file {
            note(&format!(
                "wardial: the output could not be written, so the scan stopped; the rest is saved: continue with `wardial scan --resume {}`",
                file.display()
            ));
        }
        return;
    }
    say(&line);
    if let (Some(asked), Some(started)) = (opts.rate, result.started_per_second) {
        // Two rates on the screen: say why they differ.
        say(&format!(
            "paced at --rate {asked}: probes started {started:.1} a second; the probes/s above also counts the last probes' wait for an answer (each up to the {} timeout)",
            crate::human::duration(opts.timeout.as_secs_f64())
        ));
    }
    match (&result.resume_file, resuming) {
        (Some(file), _) if opts.output.is_some() => say(&format!(
            "the rest is saved: run the same command again to go on (checkpoint {})",
            file.display()
        )),
        (Some(file), _) => say(&format!(
            "the rest is saved: continue with `wardial scan --resume {}`",
            file.display()
        )),
        // A resumed scan that is now complete: its resume file has done its job.
        (None, Some(path)) => say(&format!("the scan is complete; removed {}", path.display())),
        _ => {}
    }
}

/// The options of a new scan, from the command line.
fn fresh(targets: Vec<Spec>, a: &ScanArgs) -> Result<ScanOptions, Failure> {
    if targets.is_empty() {
        return Err(Failure::Usage(
            "no targets: give a network such as 192.168.1.0/24, an address, or --input FILE".into(),
        ));
    }
    let order = match (a.order.as_str(), a.seed) {
        ("sequential", _) => Order::Sequential,
        (_, Some(seed)) => Order::Random { seed },
        _ if a.shard.is_some() => {
            return Err(Failure::Usage(
                "--shard needs --seed: every shard must walk the same order (or use --order sequential)".into(),
            ))
        }
        _ => {
            // A new order each run (said on stderr once the scan starts, to be repeatable).
            let seed = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos() as u64)
                ^ u64::from(std::process::id());
            Order::Random { seed }
        }
    };
    let mut excludes = Vec::new();
    for path in &a.exclude {
        excludes.extend(lists::read_exclude_file(path).map_err(Failure::Usage)?);
    }
    let mut opts = ScanOptions::new(targets, a.port.clone(), &a.model);
    opts.timeout = a.timeout;
    opts.max_connections = a.max_connections;
    opts.json = a.json;
    opts.all = a.all;
    opts.progress = crate::stderr_is_terminal();
    opts.excludes = excludes;
    opts.skip_special = a.allow_public;
    opts.order = order;
    opts.shard = a.shard.unwrap_or_default();
    opts.rate = a.rate;
    opts.budget = a.budget;
    opts.user_agent = match (&a.user_agent, &a.contact) {
        (Some(agent), _) => Some(agent.clone()),
        (None, Some(contact)) => {
            if let Some(problem) = wardial_probe::http::header_text_problem(contact) {
                return Err(Failure::Usage(format!(
                    "--contact: the contact {problem}: it goes into the User-Agent header"
                )));
            }
            Some(wardial_probe::http::user_agent_with_contact(contact))
        }
        (None, None) => None,
    };
    opts.output = a.output.as_ref().map(PathBuf::from);
    opts.checkpoint_every = a.checkpoint_every;
    opts.resume_file = match (&a.resume_file, &a.output) {
        (Some(file), _) => file.into(),
        (None, Some(output)) => format!("{output}.resume.json").into(),
        (None, None) => RESUME_FILE.into(),
    };
    Ok(opts)
}

/// The options of a scan continued from a resume file: all from the file, but for the budget,
/// the output and where the next resume file goes.
fn resumed(path: &Path, given: Vec<Spec>, a: &ScanArgs) -> Result<ScanOptions, Failure> {
    let state = ResumeState::load(path).map_err(Failure::Usage)?;
    let name = path.display();
    let damaged = |what: &str| Failure::Usage(format!("resume file '{name}' is damaged: {what}"));
    let targets = state
        .targets
        .iter()
        .map(|t| Spec::parse(t))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| damaged(&e))?;
    if !given.is_empty() && given != targets {
        return Err(Failure::Usage(format!(
            "resume file '{name}' is for another target set ({}); give the same targets or none",
            state.targets.join(", ")
        )));
    }
    let excludes = state
        .excludes
        .iter()
        .map(|e| e.parse::<Cidr>().map_err(|e| damaged(&e.to_string())))
        .collect::<Result<Vec<_>, _>>()?;
    let ports = Ports::parse(&state.ports).map_err(|e| damaged(&e))?;
    let mut opts = ScanOptions::new(targets, ports, &state.model);
    opts.model = models::parse(&state.model).map_err(|e| damaged(&e))?;
    opts.timeout = Duration::from_millis(state.timeout_ms.max(1));
    opts.max_connections = state.max_connections.max(1);
    opts.json = state.json || a.json;
    opts.all = state.all || a.all;
    opts.progress = crate::stderr_is_terminal();
    opts.excludes = excludes;
    opts.skip_special = state.skip_special;
    opts.order = match state.seed {
        Some(seed) => Order::Random { seed },
        None => Order::Sequential,
    };
    opts.shard = Shard::parse(&state.shard).map_err(|e| damaged(&e))?;
    opts.rate = match state.rate {
        Some(rate) => Some(args::rate(&rate.to_string()).map_err(|e| damaged(&e))?),
        None => None,
    };
    opts.budget = a.budget;
    opts.user_agent = state.user_agent.clone();
    opts.start = state.position;
    opts.done = state.done_set();
    // The state stays in the file it came from, so resuming it again goes on from here.
    opts.resume_file = a
        .resume_file
        .as_deref()
        .unwrap_or(path.as_os_str().to_str().unwrap_or_default())
        .into();
    opts.output = a.output.as_ref().map(PathBuf::from);
    if opts.target_set().len() != state.set_len {
        return Err(Failure::Usage(format!(
            "resume file '{name}' is for another target set: it held {} targets, these hold {}",
            state.set_len,
            opts.target_set().len()
        )));
    }
    Ok(opts)
}
