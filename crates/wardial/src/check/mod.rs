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
//! - [`process`]: running a command from outside: placeholders, a process group, a deadline,
//!   its output as it comes, its CPU and peak memory (the race's outside rows run this too);
//! - [`findings`]: what it reported, from JSON lines or a list of the servers it found;
//! - [`clauses`]: the clauses visible from outside, each judged;
//! - [`command`](mod@command): the arguments, the run, and the report with its score.

pub mod clauses;
pub mod command;
pub mod findings;
pub mod process;

pub use command::{command, CheckArgs};
