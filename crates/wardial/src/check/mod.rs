//! `wardial check COMMAND`: the conformance suite from outside, for a scanner in any language.
//!
//! The command is run against a simulated internet served at real loopback addresses (every
//! behaviour, a host each, on one port), and graded by what can be seen from outside it: what
//! it printed, judged against the ground truth, and what the hosts counted while it ran. An
//! instructor grades a Python homework with it:
//!
//! ```text
//! wardial check 'python3 wardial.py'
//! wardial check 'python3 wardial.py {range} --port {port} --timeout {timeout}'
//! ```
//!
//! - [`template`]: a command template's placeholders filled in (`{range}`, `{port}`...);
//! - [`outcome`]: how a command ended, and what it cost (CPU, switches, peak memory);
//! - [`group`]: the shell that runs a command line, its process group, the signals that stop it;
//! - [`measured`]: the hidden `wardial run-measured`, the helper that runs one command and
//!   reports what it cost (the kernel's accounting of its children), and reading its report;
//! - [`process`]: running a command from outside: a deadline, its output as it comes, its
//!   figures through the helper (the race's outside rows run this too);
//! - [`findings`]: what it reported, from JSON lines or a list of the servers it found;
//! - [`clauses`]: the clauses visible from outside, each judged;
//! - [`command`](mod@command): the arguments, the run, and the report with its score.

pub mod clauses;
pub mod command;
pub mod findings;
pub mod group;
pub mod measured;
pub mod outcome;
pub mod process;
pub mod template;

pub use command::{command, CheckArgs};
