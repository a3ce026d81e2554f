//! How an outside command ended (by itself, by a signal, at its deadline, by Ctrl-C, or not at
//! all) and what it cost this machine.

use std::process::ExitStatus;

use serde::{Deserialize, Serialize};

/// How the command ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ended {
    /// It exited by itself, with this code.
    Exited(i32),
    /// A signal ended it (a crash), not us.
    Signalled(i32),
    /// Stopped at its deadline.
    Deadline,
    /// Stopped by Ctrl-C.
    Interrupted,
    /// It could not be started at all.
    NotStarted(String),
}

impl std::fmt::Display for Ended {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Ended::Exited(code) => write!(f, "exited with code {code}"),
            Ended::Signalled(signal) => write!(f, "was killed by signal {signal}"),
            Ended::Deadline => f.write_str("was stopped at its deadline"),
            Ended::Interrupted => f.write_str("was interrupted"),
            Ended::NotStarted(why) => write!(f, "could not start: {why}"),
        }
    }
}

/// What the command cost: CPU seconds and context switches of the command and everything it
/// started, and the peak resident memory of the largest of those processes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Usage {
    pub user_seconds: f64,
    pub system_seconds: f64,
    /// Its threads waited (a blocking read, a lock, an empty run queue).
    pub voluntary_switches: u64,
    /// The scheduler took a core away.
    pub involuntary_switches: u64,
    pub peak_memory_bytes: u64,
}

/// How a command that was waited for ended; `None` (no exit status) counts as not started.
pub(super) fn ended(status: Option<ExitStatus>) -> Ended {
    let Some(status) = status else {
        return Ended::NotStarted("no exit status".into());
    };
    if let Some(code) = status.code() {
        return Ended::Exited(code);
    }
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        if let Some(signal) = status.signal() {
            return Ended::Signalled(signal);
        }
    }
    Ended::Exited(-1)
}
