//! `wardial scan`: one model over real networks (the user's own), printing servers as found.
//!
//! The targets are walked in a seeded pseudo-random order, a shard at a time, skipping
//! exclusions ([`crate::targets`]); probes start at most `--rate` a second, evenly spaced
//! ([`wardial_probe::feed::Pacer`], kept by every model through its targets' feed); a stopped
//! scan writes where it stopped ([`resume`]).
//!
//! - [`command`](mod@command): the arguments, and how they become [`options`] (new, or from a resume file);
//! - [`run`](mod@run): the scan itself, with [`track`] (which positions are in flight),
//!   [`progress`] (the bar), [`output`] and [`sink`] (the lines it writes, and where);
//! - [`plan`]: what ties a scan's outputs together (the hash every output begins with);
//! - [`dry_run`]: the order a scan would take, with no socket.

pub mod command;
pub mod dry_run;
pub mod options;
pub mod output;
pub mod plan;
pub mod progress;
pub mod resume;
pub mod run;
pub mod sink;
pub mod track;

pub use command::{command, ScanArgs};
pub use options::{ScanOptions, RESUME_FILE};
pub use run::{run, Ended, ScanResult};
