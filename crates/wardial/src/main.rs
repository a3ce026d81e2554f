//! `wardial`: race every concurrency model on a simulated internet (the default), scan a network
//! for web servers, or serve the simulated internet for other programs.

use std::io::Write;
use std::path::Path;
use std::process::ExitCode;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use clap::{Args, Parser, Subcommand};
use wardial::race::{self, RaceOptions};
use wardial::scan::{self, ScanOptions};
use wardial::scan::{Ended, Spec};
use wardial::{args, models, order, resume, serve, Failure, INTERRUPTED};
use wardial_probe::{Cidr, Stop};

const AFTER_HELP: &str = "\
Examples:
  wardial                                  race every model (same as `wardial race`)
  wardial race --mix live --latency 20ms --max-connections 128
  wardial scan 192.168.1.0/24              find web servers on your own network
  wardial scan 127.0.0.1 --port 8000 --all --json
  wardial simnet --targets hosts.txt       serve the simulated internet for other scanners

Only networks you own or may scan: addresses outside loopback and the private ranges need
--allow-public.";

#[derive(Debug, Parser)]
#[command(
    name = "wardial",
    version,
    about = "Find web servers in an IPv4 range, in every concurrency model Rust offers",
    long_about = "Find web servers in an IPv4 range, in every concurrency model Rust offers.\n\n\
        With no command, races every model on a simulated internet (on 127.0.0.1) and prints \
        how fast each one waited.",
    after_help = AFTER_HELP,
    args_conflicts_with_subcommands = true
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    race: RaceArgs,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Race every model on the same simulated range (the default command)
    Race(RaceArgs),
    /// Scan networks for web servers: CIDRs or addresses, from arguments or a file
    Scan(ScanArgs),
    /// Serve the simulated internet in the foreground until Ctrl-C
    Simnet(SimnetArgs),
    /// (Used by `race`) hold probes in flight to the targets on stdin and report peak memory
    #[command(hide = true)]
    MeasureMemory(MeasureMemoryArgs),
}

#[derive(Debug, Args)]
struct MeasureMemoryArgs {
    #[arg(long, value_parser = models::parse)]
    model: String,
    #[arg(long, value_parser = args::duration)]
    timeout: Duration,
    #[arg(long, value_parser = args::positive)]
    max_connections: usize,
}

/// The simulated internet's options, shared by `race` and `simnet`.
#[derive(Debug, Args)]
struct WorldArgs {
    /// The simulated range, inside 127.0.0.0/8
    #[arg(long, default_value = "127.64.0.0/22", value_parser = args::cidr)]
    range: Cidr,
    /// Which hosts live there: realistic (mostly silent), live (all answer), every (all behaviours), silent (none answer)
    #[arg(long, default_value = "realistic", value_parser = race::parse_mix)]
    mix: String,
    /// Latency of every live host (default: a 20-200 ms spread)
    #[arg(long, value_parser = args::duration_or_zero)]
    latency: Option<Duration>,
    /// Seed of the simulated internet (which host does what)
    #[arg(long, default_value = "1")]
    seed: u64,
}

#[derive(Debug, Args)]
struct RaceArgs {
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
    /// Also write the bar charts (probes/s on a log scale, memory per probe) as an SVG image to FILE
    #[arg(long, value_name = "FILE")]
    svg: Option<String>,
    /// Write the timeline (every probe as a bar from start to end, a lane per model) as an SVG
    /// image to FILE; `-` prints it as text after the table (done anyway when stdout is a terminal)
    #[arg(long, value_name = "FILE")]
    timeline: Option<String>,
    /// Skip the calibration at latency 0 (then there is no CPU-bound or combined limit)
    #[arg(long)]
    no_calibration: bool,
    /// Skip measuring memory per probe (a child process per model, about half a second each)
    #[arg(long)]
    no_memory: bool,
}

#[derive(Debug, Args)]
struct ScanArgs {
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
    #[arg(long, value_name = "I/N", value_parser = order::Shard::parse)]
    shard: Option<order::Shard>,
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
    #[arg(long, value_name = "FILE", default_value = scan::RESUME_FILE)]
    resume_file: String,
    /// The User-Agent header every probe sends (default: wardial, its version and where to
    /// learn about it)
    #[arg(long, value_name = "TEXT")]
    user_agent: Option<String>,
}

#[derive(Debug, Args)]
struct SimnetArgs {
    #[command(flatten)]
    world: WorldArgs,
    /// Write `vaddr host:port` for every virtual host to FILE
    #[arg(long, value_name = "FILE")]
    targets: Option<String>,
}

/// A parsed `--models` list (a newtype, so clap takes it as one value, not many).
#[derive(Debug, Clone)]
struct ModelList(Vec<String>);

fn model_list(s: &str) -> Result<ModelList, String> {
    models::parse_list(s).map(ModelList)
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => return clap_error(e),
    };
    let interrupt = Stop::new();
    install_ctrl_c(interrupt.clone());
    let result = match cli.command {
        None => race(cli.race, &interrupt),
        Some(Command::Race(a)) => race(a, &interrupt),
        Some(Command::Scan(a)) => scan(a, &interrupt),
        Some(Command::Simnet(a)) => simnet(a, &interrupt),
        Some(Command::MeasureMemory(a)) => {
            wardial::memory::child(&a.model, a.timeout, a.max_connections, &interrupt)
                .map(|()| ExitCode::SUCCESS)
        }
    };
    match result {
        Ok(code) => code,
        Err(failure) => {
            eprintln!("wardial: {}", failure.message());
            ExitCode::from(failure.code())
        }
    }
}

/// clap's errors, as one line and exit code 2; help and version as clap prints them.
fn clap_error(e: clap::Error) -> ExitCode {
    use clap::error::ErrorKind;
    if matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion) {
        let _ = e.print();
        return ExitCode::SUCCESS;
    }
    let rendered = e.render().to_string();
    // The message and any tip, without the usage block that follows them.
    let line: Vec<&str> = rendered
        .lines()
        .map(str::trim)
        .take_while(|l| !l.starts_with("Usage:") && !l.starts_with("For more"))
        .filter(|l| !l.is_empty())
        .collect();
    let line = line.join(" ");
    let line = line.strip_prefix("error: ").unwrap_or(&line);
    eprintln!("wardial: {line} (see wardial --help)");
    ExitCode::from(2)
}

/// First Ctrl-C: stop starting probes, let those in flight end, print what we have. Second:
/// leave now, whatever the output is doing.
fn install_ctrl_c(interrupt: Stop) {
    static PRESSES: AtomicUsize = AtomicUsize::new(0);
    let _ = ctrlc::set_handler(move || {
        if PRESSES.fetch_add(1, Ordering::SeqCst) == 0 {
            interrupt.stop();
            // Said from another thread: ctrlc runs its handler on one thread, so a handler
            // stuck writing to a stderr nobody reads would never see the second Ctrl-C.
            // (If no thread can be had, the message is skipped: the stop is what matters.)
            let _ = std::thread::Builder::new().spawn(|| {
                eprintln!("\nwardial: stopping, waiting for any probes in flight (Ctrl-C again to quit now)")
            });
        } else {
            // No lock on stdout here: the main thread may hold it, blocked writing to a pipe
            // nobody reads. Every line is written and flushed whole, so what was printed
            // stays valid output; `exit` only flushes stdout if nobody holds it.
            std::process::exit(i32::from(INTERRUPTED));
        }
    });
}

/// Columns of the text timeline (the model's name takes 22 more).
const TIMELINE_COLUMNS: usize = 64;

fn race(a: RaceArgs, interrupt: &Stop) -> Result<ExitCode, Failure> {
    let opts = RaceOptions {
        range: a.world.range.to_string(),
        mix: a.world.mix,
        latency: a.world.latency,
        timeout: a.timeout,
        max_connections: a.max_connections,
        models: a.models.0,
        budget: a.budget,
        seed: a.world.seed,
        hosts: a.hosts.map(|n| n as u64),
        calibrate: !a.no_calibration,
        memory: !a.no_memory,
    };
    // An image that cannot be written is found out now, not after the whole race.
    for path in [
        a.svg.as_deref(),
        a.timeline.as_deref().filter(|p| *p != "-"),
    ]
    .into_iter()
    .flatten()
    {
        std::fs::File::create(path)
            .map_err(|e| Failure::Usage(format!("cannot write '{path}': {e}")))?;
    }
    let terminal = wardial::stderr_is_terminal();
    let report = race::run(&opts, interrupt, &mut |line| {
        if terminal || line.starts_with("warning") {
            eprintln!("{line}");
        }
    })?;
    let mut out = std::io::stdout().lock();
    // The text timeline comes after the table when asked for, or when a person reads the
    // table on a terminal wide enough for it (the `COLUMNS` a shell exports, if any).
    let terminal_out = std::io::IsTerminal::is_terminal(&std::io::stdout());
    let wide = std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.parse::<usize>().ok())
        .is_none_or(|c| c >= TIMELINE_COLUMNS + 24);
    let text_timeline = a.timeline.as_deref() == Some("-") || (terminal_out && wide && !a.json);
    let written = if a.json {
        serde_json::to_writer_pretty(&mut out, &report)
            .map_err(std::io::Error::other)
            .and_then(|()| writeln!(out))
    } else {
        race::print_table(&report, &mut out)
    };
    let written = written.and_then(|()| {
        if text_timeline && !a.json {
            writeln!(out, "\n{}", race::timeline_text(&report, TIMELINE_COLUMNS))
        } else if text_timeline {
            // JSON stays one document on stdout; the picture goes to the terminal.
            eprintln!("{}", race::timeline_text(&report, TIMELINE_COLUMNS));
            Ok(())
        } else {
            Ok(())
        }
    });
    written.map_err(|e| Failure::Run(format!("cannot write the results: {e}")))?;
    let write = |path: &str, image: String| {
        std::fs::write(path, image).map_err(|e| Failure::Run(format!("cannot write '{path}': {e}")))
    };
    if let Some(path) = &a.svg {
        write(path, race::svg(&report))?;
    }
    if let Some(path) = a.timeline.as_deref().filter(|p| *p != "-") {
        write(path, race::timeline_svg(&report))?;
    }
    Ok(if report.interrupted {
        ExitCode::from(INTERRUPTED)
    } else {
        ExitCode::SUCCESS
    })
}

fn scan(a: ScanArgs, interrupt: &Stop) -> Result<ExitCode, Failure> {
    // Every target is read, parsed and checked before the first socket exists.
    let mut targets = Vec::new();
    let mut stdin_used = false;
    for t in &a.targets {
        if t == "-" {
            stdin_used = true;
            targets.extend(scan::read_targets("-", interrupt)?);
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
        targets.extend(scan::read_targets(path, interrupt)?);
    }

    let resuming = a.resume.as_deref().map(Path::new);
    let opts = match resuming {
        Some(path) => resumed(path, targets, &a)?,
        None => fresh(targets, &a)?,
    };
    let networks: Vec<Cidr> = opts.targets.iter().flat_map(Spec::networks).collect();
    args::check_allowed(&networks, opts.skip_special).map_err(Failure::Usage)?;
    if let Some(agent) = &opts.user_agent {
        wardial_probe::http::set_user_agent(agent)
            .map_err(|e| Failure::Usage(format!("--user-agent: {e}")))?;
    }

    if a.dry_run {
        let printed = scan::dry_run(&opts, interrupt)?;
        eprintln!(
            "dry run: {printed} target{} of shard {} in {} order; nothing was probed",
            if printed == 1 { "" } else { "s" },
            opts.shard,
            match opts.order {
                order::Order::Random { seed } => format!("random (seed {seed})"),
                order::Order::Sequential => "sequential".into(),
            }
        );
        return Ok(ExitCode::SUCCESS);
    }

    let mut opts = opts;
    if let (order::Order::Random { seed }, None, None) = (opts.order, a.seed, resuming) {
        opts.announce_seed = Some(seed);
    }
    let result = scan::run(&opts, interrupt)?;
    let interrupted = interrupt.is_stopped();
    let mut line = scan::summary_line(&result.summary, interrupted);
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
    Ok(if interrupted {
        ExitCode::from(INTERRUPTED)
    } else {
        ExitCode::SUCCESS
    })
}

/// The options of a new scan, from the command line.
fn fresh(targets: Vec<Spec>, a: &ScanArgs) -> Result<ScanOptions, Failure> {
    if targets.is_empty() {
        return Err(Failure::Usage(
            "no targets: give a network such as 192.168.1.0/24, an address, or --input FILE".into(),
        ));
    }
    let order = match (a.order.as_str(), a.seed) {
        ("sequential", _) => order::Order::Sequential,
        (_, Some(seed)) => order::Order::Random { seed },
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
            order::Order::Random { seed }
        }
    };
    let mut excludes = Vec::new();
    for path in &a.exclude {
        excludes.extend(order::read_exclude_file(path).map_err(Failure::Usage)?);
    }
    let mut opts = ScanOptions::new(targets, a.port, &a.model);
    opts.timeout = a.timeout;
    opts.max_connections = a.max_connections;
    opts.json = a.json;
    opts.all = a.all;
    opts.progress = wardial::stderr_is_terminal();
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
    let state = resume::ResumeState::load(path).map_err(Failure::Usage)?;
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
    opts.progress = wardial::stderr_is_terminal();
    opts.excludes = excludes;
    opts.skip_special = state.skip_special;
    opts.order = match state.seed {
        Some(seed) => order::Order::Random { seed },
        None => order::Order::Sequential,
    };
    opts.shard = order::Shard::parse(&state.shard).map_err(|e| damaged(&e))?;
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

fn simnet(a: SimnetArgs, interrupt: &Stop) -> Result<ExitCode, Failure> {
    let w = a.world;
    let world = race::world(&w.range.to_string(), &w.mix, w.latency, w.seed)?;
    serve::run(world, a.targets.as_deref(), interrupt)?;
    Ok(ExitCode::SUCCESS)
}
