//! [`ScanOptions`]: everything that decides what a scan probes, how, and where it goes on.

use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use wardial_probe::Cidr;

use crate::targets::{Order, Ports, Shard, Spec, TargetSet, Walk};
use crate::Failure;

/// Where a stopped scan writes its resume file unless told otherwise.
pub const RESUME_FILE: &str = "wardial-resume.json";

#[derive(Debug, Clone)]
pub struct ScanOptions {
    pub targets: Vec<Spec>,
    pub ports: Ports,
    pub model: String,
    pub timeout: Duration,
    pub max_connections: usize,
    pub json: bool,
    pub all: bool,
    pub progress: bool,
    /// Networks never probed (`--exclude`).
    pub excludes: Vec<Cidr>,
    /// Skip the IANA special-purpose ranges in public networks (a scan with `--allow-public`).
    pub skip_special: bool,
    pub order: Order,
    pub shard: Shard,
    /// Probes started per second, at most.
    pub rate: Option<f64>,
    /// Stop starting probes after this long (and write the resume file).
    pub budget: Option<Duration>,
    /// The User-Agent given with `--user-agent` (kept for the resume file).
    pub user_agent: Option<String>,
    /// Where to continue: the shard's first position not done, and done ones after it.
    pub start: u64,
    pub done: HashSet<u64>,
    /// Where the scan writes its checkpoints (and a stopped scan its resume file).
    pub resume_file: PathBuf,
    /// The file the findings are appended to, as JSON lines, instead of stdout.
    pub output: Option<PathBuf>,
    /// The start time in the `--output` file's own plan line (a resumed file keeps the time it
    /// was begun at), which its checkpoints record.
    pub output_started: Option<String>,
    /// How often a running scan writes its checkpoint.
    pub checkpoint_every: Duration,
    /// A seed chosen for this run, to say on stderr once the scan surely starts.
    pub announce_seed: Option<u64>,
}

impl ScanOptions {
    /// Options for `targets` with every choice at its default: the order as given, one shard,
    /// no rate limit, nothing excluded. (Used by tests and as a base to override.)
    pub fn new(targets: Vec<Spec>, ports: Ports, model: &str) -> ScanOptions {
        ScanOptions {
            targets,
            ports,
            model: model.to_string(),
            timeout: Duration::from_secs(10),
            max_connections: 500,
            json: false,
            all: false,
            progress: false,
            excludes: Vec::new(),
            skip_special: false,
            order: Order::Sequential,
            shard: Shard::ALL,
            rate: None,
            budget: None,
            user_agent: None,
            start: 0,
            done: HashSet::new(),
            resume_file: PathBuf::from(RESUME_FILE),
            output: None,
            output_started: None,
            checkpoint_every: super::resume::CHECKPOINT_EVERY,
            announce_seed: None,
        }
    }

    /// The targets this scan walks.
    pub fn target_set(&self) -> TargetSet {
        TargetSet::new(
            &self.targets,
            &self.ports,
            &self.excludes,
            self.skip_special,
        )
    }

    /// The walk this scan takes (its shard of the set, from where it resumes), and how many
    /// targets it has left.
    pub fn walk(&self) -> Result<(Arc<TargetSet>, Walk, u64), Failure> {
        let set = Arc::new(self.target_set());
        if set.is_empty() {
            return Err(Failure::Usage(
                "nothing to scan: every target is excluded".into(),
            ));
        }
        let walk = set.clone().walk(self.order, self.shard, self.start);
        let skipped = self.done.iter().filter(|&&p| p >= self.start).count() as u64;
        let left = walk
            .shard_len()
            .saturating_sub(self.start)
            .saturating_sub(skipped);
        Ok((set, walk, left))
    }
}
