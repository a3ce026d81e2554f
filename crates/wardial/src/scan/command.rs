//! `wardial scan`: its arguments, and how they become a scan (new, or resumed from a file).

use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

use clap::Args;
use wardial_probe::{Cidr, Stop};

use super::options::{ScanOptions, RESUME_FILE};
use super::resume::ResumeState;
use super::run::{run, Ended, ScanResult};
use super::{dry_run, output};
use crate::targets::{gate, lists, Order, Shard, Spec};
use crate::{args, models, Failure, INTERRUPTED};

#[derive(Debug, Args)]
pub struct ScanArgs {
    /// Networks to scan: CIDRs (10.0.0.0/24) or addresses; `-` reads them from stdin
    #[arg(value_parser = args::cidr_or_stdin)]
    targets: Vec<String>,
    /// Read more targets from FILE, one per line: a CIDR, an address, or `ADDRESS HOST:PORT`
    /// (probe ADDRESS by dialling HOST:PORT, as `wardial simnet --targets` writes); `-` is stdin
    #[arg(long, short = 'i', value_name = "FILE")]
    input: Option<String>,
    /// TCP port to probe
    #[arg(long, short, default_value = "80", value_parser = clap::value_parser!(u16).range(1..))]
    port: u16,
    /// Concurrency model
    #[arg(long, short, default_value = "tokio", value_parser = models::parse)]
    model: String,
    /// Total deadline of one probe
    #[arg(long, short, default_value = "10s", value_parser = args::duration, allow_hyphen_values = true)]
    timeout: Duration,
    /// Probes in flight at once
    #[arg(long, short = 'c', default_value = "500", value_parser = args::positive)]
    max_connections: usize,
    /// Print one JSON object per line
    #[arg(long)]
    json: bool,
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
    /// Start at most N probes per second, evenly spaced (with --max-connections, whichever is
    /// lower wins)
    #[arg(long, value_name = "N", value_parser = args::rate)]
    rate: Option<f64>,
    /// Never probe the networks listed in FILE (one CIDR or address per line, # comments); may
    /// be given more than once
    #[arg(long, value_name = "FILE")]
    exclude: Vec<String>,
    /// Print the targets in the order a scan would probe them, and probe nothing
    #[arg(long)]
    dry_run: bool,
    /// Stop starting probes after this long and save a resume file
    #[arg(long, value_parser = args::duration, value_name = "DURATION")]
    budget: Option<Duration>,
    /// Continue the scan saved in FILE (by Ctrl-C or --budget) with its targets and options;
    /// targets given too must be the same
    #[arg(long, value_name = "FILE", conflicts_with_all = ["exclude", "shard", "seed", "order", "port", "allow_public", "user_agent", "rate", "model", "timeout", "max_connections"])]
    resume: Option<String>,
    /// Where a stopped scan saves its resume file
    #[arg(long, value_name = "FILE", default_value = RESUME_FILE)]
    resume_file: String,
    /// The User-Agent header every probe sends (default: wardial, its version and where to
    /// learn about it)
    #[arg(long, value_name = "TEXT")]
    user_agent: Option<String>,
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
    if let Some(agent) = &opts.user_agent {
        wardial_probe::http::set_user_agent(agent)
            .map_err(|e| Failure::Usage(format!("--user-agent: {e}")))?;
    }
    if a.dry_run {
        return dry_run_command(&opts, interrupt);
    }
    if let (Order::Random { seed }, None, None) = (opts.order, a.seed, resuming) {
        opts.announce_seed = Some(seed);
    }
    let result = run(&opts, interrupt)?;
    let interrupted = interrupt.is_stopped();
    report_end(&opts, &result, interrupted, resuming);
    Ok(if interrupted {
        ExitCode::from(INTERRUPTED)
    } else {
        ExitCode::SUCCESS
    })
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
    eprintln!(
        "dry run: {printed} target{} of shard {} in {} order; nothing was probed",
        if printed == 1 { "" } else { "s" },
        opts.shard,
        match opts.order {
            Order::Random { seed } => format!("random (seed {seed})"),
            Order::Sequential => "sequential".into(),
        }
    );
    Ok(ExitCode::SUCCESS)
}

/// The summary, and what became of the resume file.
fn report_end(opts: &ScanOptions, result: &ScanResult, interrupted: bool, resuming: Option<&Path>) {
    let mut line = output::summary_line(&result.summary, interrupted);
    if result.ended == Ended::Budget {
        line = format!("stopped at the budget: {line}");
    }
    // The summary is for a person: on stdout with the lines, on stderr beside JSON.
    let say = |text: &str| {
        if opts.json {
            eprintln!("{text}");
        } else {
            println!("{text}");
        }
    };
    say(&line);
    match (&result.resume_file, resuming) {
        (Some(file), _) => say(&format!(
            "the rest is saved: continue with `wardial scan --resume {}`",
            file.display()
        )),
        // A resumed scan that is now complete: its resume file has done its job.
        (None, Some(path)) if path.exists() => {
            let _ = std::fs::remove_file(path);
            say(&format!("the scan is complete; removed {}", path.display()));
        }
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
    let mut opts = ScanOptions::new(targets, a.port, &a.model);
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
    opts.user_agent = a.user_agent.clone();
    opts.resume_file = a.resume_file.clone().into();
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
    let mut opts = ScanOptions::new(targets, state.port, &state.model);
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
    opts.resume_file = a.resume_file.clone().into();
    if opts.target_set().len() != state.set_len {
        return Err(Failure::Usage(format!(
            "resume file '{name}' is for another target set: it held {} targets, these hold {}",
            state.set_len,
            opts.target_set().len()
        )));
    }
    Ok(opts)
}
