//! The simulated world a race or `wardial simnet` plays, from the command's options: the range
//! (inside 127.0.0.0/8), the mix of hosts, their latency and the seed.

use std::time::Duration;

use clap::Args;
use wardial_probe::Cidr;
use wardial_simnet::{Mix, World};

use crate::{args, Failure};

#[derive(Debug, Args)]
pub struct WorldArgs {
    /// The simulated range, inside 127.0.0.0/8
    #[arg(long, default_value = "127.64.0.0/22", value_parser = args::cidr)]
    pub range: Cidr,
    /// Which hosts live there: realistic (mostly silent), live (all answer), every (all behaviours), silent (none answer)
    #[arg(long, default_value = "realistic", value_parser = parse_mix)]
    pub mix: String,
    /// Latency of every live host (default: a 20-200 ms spread)
    #[arg(long, value_parser = args::duration_or_zero)]
    pub latency: Option<Duration>,
    /// Seed of the simulated internet (which host does what)
    #[arg(long, default_value = "1")]
    pub seed: u64,
}

impl WorldArgs {
    /// The world these options describe.
    pub fn world(&self) -> Result<World, Failure> {
        world(&self.range.to_string(), &self.mix, self.latency, self.seed)
    }
}

/// The host mixes a race can use.
pub const MIXES: [&str; 4] = ["realistic", "live", "every", "silent"];

pub fn parse_mix(s: &str) -> Result<String, String> {
    if MIXES.contains(&s) {
        Ok(s.to_string())
    } else {
        Err(format!(
            "unknown mix '{s}' (choose from: {})",
            MIXES.join(", ")
        ))
    }
}

pub fn mix(name: &str) -> Mix {
    match name {
        "live" => Mix::all_live(),
        "every" => Mix::every_behaviour(),
        "silent" => Mix::only("blackhole").expect("a behaviour"),
        _ => Mix::realistic(),
    }
}

/// A simulated world from the command's options; the range must lie in 127.0.0.0/8.
pub fn world(
    range: &str,
    mix_name: &str,
    latency: Option<Duration>,
    seed: u64,
) -> Result<World, Failure> {
    let range: Cidr = range
        .parse()
        .map_err(|e| Failure::Usage(format!("--range: {e}")))?;
    if !Cidr::LOOPBACK.covers(&range) {
        return Err(Failure::Usage(format!(
            "--range {range} is outside 127.0.0.0/8: the simulated internet plays loopback addresses only"
        )));
    }
    if range.len() > 1 << 20 {
        return Err(Failure::Usage(format!(
            "--range {range} has {} hosts; the simulated internet plays at most a /12 (1048576)",
            range.len()
        )));
    }
    let mut world = World {
        seed,
        range,
        mix: mix(mix_name),
        ..World::default()
    };
    if let Some(latency) = latency {
        world.latencies = vec![latency];
    }
    Ok(world)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn range_must_be_loopback() {
        let world = |range: &str| world(range, "every", None, 3);
        assert!(
            matches!(world("10.0.0.0/24"), Err(Failure::Usage(m)) if m.contains("127.0.0.0/8"))
        );
        assert!(world("127.0.0.0/7").is_err());
        assert!(world("127.0.0.0/11").is_err());
        assert!(world("127.64.0.0/22").is_ok());
    }
}
