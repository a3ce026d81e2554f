//! The `wardial` command, as a library so its pieces can be tested without a process.
//!
//! - [`race`]: every model on the same simulated internet, as a table and a bar chart, with
//!   [`timeline`] (each probe as a bar in time) and [`memory`] (per probe in flight);
//! - [`scan`]: one model on a real network (the user's own), as lines or JSON;
//! - [`serve`]: the simulated internet in the foreground, for other programs to scan;
//! - [`models`]: every model by name; [`args`]: parsers and the public-address gate;
//!   [`limits`]: open-file limits.

pub mod args;
pub mod limits;
pub mod memory;
pub mod models;
pub mod order;
pub mod race;
pub mod resume;
pub mod scan;
pub mod serve;
pub mod timeline;

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

/// Whether stderr is a terminal: progress is drawn only there.
pub fn stderr_is_terminal() -> bool {
    use std::io::IsTerminal;
    std::io::stderr().is_terminal()
}
