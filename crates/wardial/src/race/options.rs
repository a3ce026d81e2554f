//! [`RaceOptions`]: what to race, as the JSON report repeats it.

use std::time::Duration;

use serde::Serialize;
use wardial_simnet::World;

use crate::world::world;
use crate::Failure;

/// What to race.
#[derive(Debug, Clone, Serialize)]
pub struct RaceOptions {
    pub range: String,
    pub mix: String,
    /// The latency of every live host; `None` for the world's default spread (20-200 ms).
    #[serde(serialize_with = "opt_secs")]
    pub latency: Option<Duration>,
    #[serde(serialize_with = "secs")]
    pub timeout: Duration,
    pub max_connections: usize,
    pub models: Vec<String>,
    #[serde(serialize_with = "secs")]
    pub budget: Duration,
    pub seed: u64,
    /// Race only the first this many hosts of the range (all of it if `None`).
    pub hosts: Option<u64>,
    /// Measure each model's memory per probe in flight, each in a child process of this
    /// program (so only where this program is `wardial` itself, not in a unit test).
    pub memory: bool,
    /// Serve the simulated hosts from a child process of this program while the models race,
    /// so that the race's CPU and context-switch figures are the model's alone (again only
    /// where this program is `wardial` itself).
    pub hosts_apart: bool,
}

fn secs<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64(d.as_secs_f64())
}

fn opt_secs<S: serde::Serializer>(d: &Option<Duration>, s: S) -> Result<S::Ok, S::Error> {
    match d {
        Some(d) => s.serialize_f64(d.as_secs_f64()),
        None => s.serialize_none(),
    }
}

impl RaceOptions {
    /// The world this race plays.
    pub fn world(&self) -> Result<World, Failure> {
        world(&self.range, &self.mix, self.latency, self.seed)
    }
}
