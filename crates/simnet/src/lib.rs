//! The simulated internet: a small server on 127.0.0.1 that plays a whole range of virtual hosts,
//! so that a scan can be raced, benchmarked and tested on a machine with no network.
//!
//! - [`world`]: who lives where. Each virtual host's [`Behaviour`] is a pure function of the
//!   seed and its address, which gives the ground truth ([`World::truth`]) for free.
//! - [`server`]: the listeners behind it (a few per behaviour) and their counters ([`Stats`]):
//!   connections accepted, and the peak open at once, which is how tests prove concurrency
//!   without a stopwatch.
//! - [`addresses`]: the same hosts at their own loopback addresses on one port, for programs
//!   that know nothing of the simnet (curl, a Python scanner), with real refusals and real
//!   unanswered connects;
//! - [`conformance`]: the suite every model passes.
//!
//! A virtual address (say `127.64.3.7`) maps to the socket of its behaviour; the probe names the
//! virtual address in its `Host` header, as name-based virtual hosting does, and live hosts
//! answer for it. The virtual ranges lie inside 127.0.0.0/8, so that even a bug that dials a
//! virtual address directly stays on this machine.

pub mod addresses;
pub mod conformance;
pub mod server;
pub mod world;

pub use addresses::AtAddresses;
pub use server::{Phases, Simnet, Stats};
pub use world::{Behaviour, Mix, Truth, World};

/// The `Server` header every live host sends (and its page's title is `simulated host ADDR`),
/// so the suite can check that a finding carries what the host said about itself.
pub const SERVER_HEADER: &str = "wardial-simnet";
