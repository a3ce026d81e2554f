//! The `wardial` command, as a library so its pieces can be tested without a process.
//!
//! One folder or file per concept, each depending only on those listed before it:
//!
//! - [`human`], [`args`], [`limits`], [`usage`], [`watchdog`]: durations and sizes for people, the
//!   argument parsers clap lacks, open-file limits, what a process cost (`getrusage`), and the
//!   thread that stops a scan at its
//!   budget or on Ctrl-C;
//! - [`models`]: every model by name;
//! - [`targets`]: what a scan probes and in which order (the set, the special ranges, the
//!   permutation, shards, the public-address gate, the targets and exclude files);
//! - [`world`]: the simulated internet a race or `wardial simnet` plays;
//! - [`check`]: the conformance suite from outside, for a scanner in any language (and how an
//!   outside command is run and read, which the race's outside rows use too);
//! - [`scan`]: one model over real networks (plan, pacing, progress, resume, output);
//! - [`race`]: every model on the simulated internet (phases, bounds, table, charts, timeline,
//!   memory);
//! - [`merge`]: the outputs of a scan's shards joined, each target once, gaps named;
//! - [`serve`]: the simulated internet in the foreground, for other programs to scan;
//! - [`cli`]: the command line that ties them together.

pub mod args;
pub mod check;
pub mod cli;
pub mod human;
pub mod limits;
pub mod merge;
pub mod models;
pub mod race;
pub mod scan;
pub mod serve;
pub mod targets;
pub mod usage;
pub mod watchdog;
pub mod world;

/// Why a command failed, and so its exit code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// Bad input (arguments, a targets file): exit code 2.
    Usage(String),
    /// Something failed while running: exit code 1.
    Run(String),
    /// Ctrl-C ended it before it could start: exit code 130, as for an interrupted run.
    Interrupted(String),
}

impl Failure {
    pub fn message(&self) -> &str {
        match self {
            Failure::Usage(m) | Failure::Run(m) | Failure::Interrupted(m) => m,
        }
    }

    pub fn code(&self) -> u8 {
        match self {
            Failure::Usage(_) => 2,
            Failure::Run(_) => 1,
            Failure::Interrupted(_) => INTERRUPTED,
        }
    }
}

/// The exit code of a run that Ctrl-C ended: 128 + SIGINT, as shells report it.
pub const INTERRUPTED: u8 = 130;

/// The exit code of a scan that stopped before its end (its `--budget` ran out, or its output
/// could not be written): a job engine must not count it as done.
pub const UNFINISHED: u8 = 3;

/// A line on stderr for a person, ignoring a stderr that is closed: a scan whose reader has
/// gone must end quietly, not with a panic about printing.
pub fn note(line: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "{line}");
}

/// Text on stdout at once; a reader that has gone (`| head`) is no reason to stop, nor to
/// panic.
pub fn say(text: &str) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes());
    let _ = out.flush();
}

/// Whether stderr is a terminal: progress is drawn only there.
pub fn stderr_is_terminal() -> bool {
    use std::io::IsTerminal;
    std::io::stderr().is_terminal()
}
