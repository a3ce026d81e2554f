//! The plan: what decides which target sits at which position of a scan's order, and so which
//! outputs belong together. Its hash begins every output and checkpoint, so that shards of
//! different plans are never merged or resumed into one another.

use std::time::SystemTime;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use wardial_probe::{Cidr, Target};

use super::options::ScanOptions;
use crate::targets::{Order, Permutation, Ports, Shard, Spec, TargetSet};

/// Raised when the way a plan orders its targets changes: outputs of another version of the
/// order are of another plan, whatever their options.
const ORDER_VERSION: u32 = 1;

/// A scan's plan and where this run stands in it: the first line of every output.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    /// Always `"plan"`: what kind of line this is.
    pub record: String,
    /// The wardial that wrote it.
    pub version: String,
    /// A hash of everything that decides the order: targets, exclusions, special ranges,
    /// ports, seed and number of shards (not the shard itself: all shards share the plan).
    pub plan: String,
    /// This output's shard, `I/N`.
    pub shard: String,
    pub targets: Vec<String>,
    pub excludes: Vec<String>,
    pub skip_special: bool,
    pub ports: String,
    /// `None` for sequential order.
    pub seed: Option<u64>,
    /// How many targets the whole plan holds, and this shard of it.
    pub set_len: u64,
    pub shard_len: u64,
    /// When this output was begun.
    pub started: String,
    /// Whether the output holds every finding (`--all`, or an `--output` file), not only the
    /// servers: only then can a merge tell a target never probed from one with no server.
    #[serde(default)]
    pub every: bool,
}

impl Plan {
    /// The plan of `opts` over `set` (its target set).
    pub fn of(opts: &ScanOptions, set: &TargetSet) -> Plan {
        let targets: Vec<String> = opts.targets.iter().map(ToString::to_string).collect();
        let excludes: Vec<String> = opts.excludes.iter().map(ToString::to_string).collect();
        let seed = match opts.order {
            Order::Random { seed } => Some(seed),
            Order::Sequential => None,
        };
        let ports = opts.ports.to_string();
        // One line per field, in a fixed order: the same plan always hashes the same.
        let canonical = format!(
            "wardial plan, order {ORDER_VERSION}\ntargets {}\nexcludes {}\nskip_special {}\nports {ports}\nseed {seed:?}\nshards {}\n",
            targets.join(" "),
            excludes.join(" "),
            opts.skip_special,
            opts.shard.count,
        );
        let digest = Sha256::digest(canonical.as_bytes());
        let plan = digest[..8].iter().map(|b| format!("{b:02x}")).collect();
        Plan {
            record: "plan".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            plan,
            shard: opts.shard.to_string(),
            targets,
            excludes,
            skip_special: opts.skip_special,
            ports,
            seed,
            set_len: set.len(),
            shard_len: opts.shard.len_of(set.len()),
            started: timestamp(SystemTime::now()),
            every: opts.all || opts.output.is_some(),
        }
    }

    /// The target at `position` of this plan's order: what a merge names for a gap.
    pub fn target_at(&self, position: u64) -> Result<Target, String> {
        let specs = self
            .targets
            .iter()
            .map(|t| Spec::parse(t))
            .collect::<Result<Vec<_>, _>>()?;
        let excludes = self
            .excludes
            .iter()
            .map(|e| e.parse::<Cidr>().map_err(|e| e.to_string()))
            .collect::<Result<Vec<_>, _>>()?;
        let ports = Ports::parse(&self.ports)?;
        let set = TargetSet::new(&specs, &ports, &excludes, self.skip_special);
        let order = self
            .seed
            .map_or(Order::Sequential, |seed| Order::Random { seed });
        if position >= set.len() {
            return Err(format!(
                "position {position} is past the plan's {} targets",
                set.len()
            ));
        }
        Ok(set.get(Permutation::new(order, set.len()).permute(position)))
    }

    /// The shard this output is of.
    pub fn shard(&self) -> Result<Shard, String> {
        Shard::parse(&self.shard)
    }

    /// Whether `other` is the same plan and shard (a run to append to this output).
    pub fn same_run(&self, other: &Plan) -> bool {
        self.plan == other.plan && self.shard == other.shard
    }
}

/// A time as findings and records carry it: RFC 3339, UTC, to the millisecond.
pub fn timestamp(t: SystemTime) -> String {
    humantime::format_rfc3339_millis(t).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::targets::{Ports, Spec};

    fn opts(targets: &str, shard: &str, seed: u64) -> ScanOptions {
        let mut o = ScanOptions::new(vec![Spec::parse(targets).unwrap()], Ports::one(80), "tokio");
        o.order = Order::Random { seed };
        o.shard = Shard::parse(shard).unwrap();
        o
    }

    #[test]
    fn one_plan_for_all_shards_and_another_for_anything_that_moves_a_target() {
        let plan = |o: &ScanOptions| Plan::of(o, &o.target_set());
        let a = plan(&opts("127.0.0.0/24", "1/4", 9));
        let b = plan(&opts("127.0.0.0/24", "3/4", 9));
        assert_eq!(a.plan, b.plan);
        assert!(!a.same_run(&b));
        assert_eq!((a.set_len, a.shard_len), (256, 64));
        assert_ne!(a.plan, plan(&opts("127.0.0.0/24", "1/8", 9)).plan);
        assert_ne!(a.plan, plan(&opts("127.0.0.0/24", "1/4", 10)).plan);
        assert_ne!(a.plan, plan(&opts("127.0.1.0/24", "1/4", 9)).plan);
        let mut other_ports = opts("127.0.0.0/24", "1/4", 9);
        other_ports.ports = Ports::parse("80,8080").unwrap();
        assert_ne!(a.plan, plan(&other_ports).plan);
        let mut excluded = opts("127.0.0.0/24", "1/4", 9);
        excluded.excludes = vec!["127.0.0.7".parse().unwrap()];
        assert_ne!(a.plan, plan(&excluded).plan);
        assert_eq!(a.plan.len(), 16);
        // Position p of the plan is the walk's p-th target: shard 1/4's k-th is position 4k.
        let o = opts("127.0.0.0/24", "1/4", 9);
        let set = std::sync::Arc::new(o.target_set());
        let walked: Vec<Target> = set.walk(o.order, o.shard, 0).take(3).collect();
        for (k, t) in walked.iter().enumerate() {
            assert_eq!(a.target_at(4 * k as u64).unwrap(), *t);
        }
        assert!(a.target_at(256).is_err());
        assert!(a.started.ends_with('Z'), "{}", a.started);
    }
}
