//! The resume file: what a stopped scan needs to go on where it stopped, and nothing twice.
//!
//! A scan walks its shard's positions `0, 1, 2, ...` through the seeded permutation (see
//! [`crate::targets`]), so where it is comes down to one number, `position`: every target before
//! it is done. Probes finish out of order and a stop can leave a target taken but never probed,
//! so a few targets after `position` may be done too: they are listed in `done`, and skipped
//! when the scan resumes. Everything else that decides which targets come in which order
//! (the targets, exclusions, ports, seed, shard) is in the file too, so that `--resume FILE`
//! needs nothing else, and a file that does not match what it is resumed with is refused.
//!
//! A running scan writes the file every [`CHECKPOINT_EVERY`] as well, so that a scan killed
//! without warning (out of memory, a lost node) loses at most that much. When it writes to an
//! `--output` file, the checkpoint records how long that file was: findings after that length
//! were reported after the checkpoint, and a restart counts them done instead of probing them
//! again ([`read_output`]).

use std::collections::HashSet;
use std::io::{BufRead, BufReader, Seek, SeekFrom};
use std::path::Path;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use wardial_probe::Cidr;

use super::options::ScanOptions;
use super::plan::Plan;
use crate::targets::{Order, Spec};
use crate::Failure;

/// Raised when the file's meaning changes; a file of another format is refused.
const FORMAT: u32 = 2;

/// How often a running scan writes its checkpoint.
pub const CHECKPOINT_EVERY: Duration = Duration::from_secs(10);

/// The resume file's contents.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResumeState {
    /// The wardial version that wrote it: another version may order targets differently.
    pub version: String,
    pub format: u32,
    /// The targets as given (`CIDR`, `ADDRESS`, or `ADDRESS HOST:PORT`).
    pub targets: Vec<String>,
    /// The exclusions, as the networks read from `--exclude` (not the file's name: the file
    /// may change, the scan may not).
    pub excludes: Vec<String>,
    /// Whether the IANA special-purpose ranges are skipped (a public scan).
    pub skip_special: bool,
    /// The ports, as `80,443,8000-8100`.
    pub ports: String,
    /// `None` for sequential order.
    pub seed: Option<u64>,
    /// `I/N`.
    pub shard: String,
    /// How many targets the set held (a check that it is rebuilt the same).
    pub set_len: u64,
    /// The plan's hash (see [`Plan`]).
    pub plan: String,
    /// How long the `--output` file was when this was written (0 without one), and the start
    /// time its plan line carries: a checkpoint counts only for the file it was written for,
    /// not for a new file at the same path.
    pub output_bytes: u64,
    #[serde(default)]
    pub output_started: Option<String>,
    /// Every target of the shard before this one is done.
    pub position: u64,
    /// Targets of the shard at or after `position` that are done too.
    pub done: Vec<u64>,
    /// The options of the scan, so the rest runs as the first part did.
    pub model: String,
    pub timeout_ms: u64,
    pub max_connections: usize,
    pub rate: Option<f64>,
    pub user_agent: Option<String>,
    pub all: bool,
    pub json: bool,
}

impl ResumeState {
    pub fn save(&self, path: &Path) -> Result<(), String> {
        let text = serde_json::to_string_pretty(self).expect("plain data serializes");
        // Written next to its final name and renamed, so a crash mid-write never leaves a
        // half-written resume file where a whole one was.
        let partial = path.with_extension("partial");
        std::fs::write(&partial, text + "\n")
            .and_then(|()| std::fs::rename(&partial, path))
            .map_err(|e| format!("cannot write resume file '{}': {e}", path.display()))
    }

    pub fn load(path: &Path) -> Result<ResumeState, String> {
        let name = path.display();
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read resume file '{name}': {e}"))?;
        // The version first, from a loose reading: a file from another version may not parse
        // as this version's format, and "another version" is the message it deserves.
        let loose: serde_json::Value = serde_json::from_str(&text)
            .map_err(|e| format!("resume file '{name}' is truncated or not a resume file: {e}"))?;
        let version = loose["version"].as_str().unwrap_or("unknown");
        if version != env!("CARGO_PKG_VERSION") || loose["format"] != FORMAT {
            return Err(format!(
                "resume file '{name}' was written by wardial {version}; this is {} (start the scan again)",
                env!("CARGO_PKG_VERSION")
            ));
        }
        serde_json::from_value(loose).map_err(|e| format!("resume file '{name}' is damaged: {e}"))
    }

    /// A new state for a scan that has not started.
    pub fn header() -> (String, u32) {
        (env!("CARGO_PKG_VERSION").to_string(), FORMAT)
    }

    /// The positions to skip, as a set.
    pub fn done_set(&self) -> HashSet<u64> {
        self.done.iter().copied().collect()
    }
}

/// Where a stopped scan resumes: the lowest position not done, and the positions after it that
/// are done. `next` is the first position never taken, `unfinished` the positions taken but not
/// reported (a stop made the model drop them), `skipped` the positions a previous run had done.
pub fn resume_point(
    next: u64,
    unfinished: &HashSet<u64>,
    skipped: &HashSet<u64>,
) -> (u64, Vec<u64>) {
    let position = unfinished.iter().copied().min().unwrap_or(next).min(next);
    let mut done: Vec<u64> = (position..next)
        .filter(|p| !unfinished.contains(p))
        .chain(skipped.iter().copied().filter(|&p| p >= next))
        .collect();
    done.sort_unstable();
    done.dedup();
    (position, done)
}

impl ScanOptions {
    /// What a resume file needs to continue this scan of `plan` from `position`.
    pub(super) fn resume_state(
        &self,
        plan: &Plan,
        (position, done): (u64, Vec<u64>),
        output_bytes: u64,
    ) -> ResumeState {
        let output_started = self.output.is_some().then(|| {
            self.output_started
                .clone()
                .unwrap_or_else(|| plan.started.clone())
        });
        let (version, format) = ResumeState::header();
        ResumeState {
            version,
            format,
            targets: self.targets.iter().map(Spec::to_string).collect(),
            excludes: self.excludes.iter().map(Cidr::to_string).collect(),
            skip_special: self.skip_special,
            ports: self.ports.to_string(),
            seed: match self.order {
                Order::Random { seed } => Some(seed),
                Order::Sequential => None,
            },
            shard: self.shard.to_string(),
            set_len: plan.set_len,
            plan: plan.plan.clone(),
            output_bytes,
            output_started,
            position,
            done,
            model: self.model.clone(),
            timeout_ms: self.timeout.as_millis() as u64,
            max_connections: self.max_connections,
            rate: self.rate,
            user_agent: self.user_agent.clone(),
            all: self.all,
            json: self.json,
        }
    }
}

/// What an `--output` file says about the run that writes to it.
#[derive(Debug, PartialEq)]
pub enum Appending {
    /// Nothing there yet: a new output, which begins with the plan.
    Fresh,
    /// A run of this plan and shard already completed it: nothing to do.
    Complete,
    /// A run of this plan and shard stopped: go on from `start`, skipping `done`, after
    /// cutting the file to `keep` bytes (a line half written when the run was killed).
    /// `started` is the file's own plan line's start time.
    Resume {
        start: u64,
        done: HashSet<u64>,
        keep: u64,
        started: String,
    },
}

/// Reads the `--output` file at `path` for a scan of `plan`: whether it is new, complete or to
/// be continued, and from where. `checkpoint` is the scan's last checkpoint, if any: the lines
/// it already counts are not read again.
pub fn read_output(
    path: &Path,
    plan: &Plan,
    checkpoint: Option<&ResumeState>,
) -> Result<Appending, Failure> {
    let name = path.display();
    let file = match std::fs::File::open(path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Appending::Fresh),
        Err(e) => return Err(Failure::Usage(format!("cannot read '{name}': {e}"))),
        Ok(file) => file,
    };
    let mut lines = BufReader::new(file);
    let mut first = String::new();
    let read = |e: std::io::Error| Failure::Run(format!("cannot read '{name}': {e}"));
    lines.read_line(&mut first).map_err(read)?;
    if first.is_empty() {
        return Ok(Appending::Fresh);
    }
    let theirs: Plan = serde_json::from_str(&first).map_err(|_| {
        Failure::Usage(format!(
            "'{name}' is not the output of a wardial scan (it does not begin with a plan): give another --output"
        ))
    })?;
    if !theirs.same_run(plan) {
        return Err(Failure::Usage(format!(
            "'{name}' holds shard {} of plan {}, not shard {} of plan {}: give another --output (or the same targets, ports, exclusions, seed and shards)",
            theirs.shard, theirs.plan, plan.shard, plan.plan
        )));
    }
    let length = lines.get_ref().metadata().map_or(0, |m| m.len());
    let trusted = checkpoint.filter(|c| {
        c.plan == plan.plan
            && c.shard == plan.shard
            && c.output_started.as_deref() == Some(theirs.started.as_str())
            && c.output_bytes <= length
    });
    let (start, mut done, from) = match trusted {
        Some(c) if c.output_bytes >= first.len() as u64 => {
            (c.position, c.done_set(), c.output_bytes)
        }
        _ => (0, HashSet::new(), first.len() as u64),
    };
    lines.seek(SeekFrom::Start(from)).map_err(read)?;
    let shard = plan.shard().map_err(Failure::Usage)?;
    let (complete, keep) = count_findings(&mut lines, from, shard, &mut done).map_err(read)?;
    Ok(if complete {
        Appending::Complete
    } else {
        Appending::Resume {
            start,
            done,
            keep,
            started: theirs.started,
        }
    })
}

/// Reads the lines from byte `from` on, adding every finding of `shard` to `done` (as the
/// walk counts it: its `k`-th target). Returns whether the last end record says the run
/// completed, and the length of the whole lines.
fn count_findings(
    lines: &mut impl BufRead,
    from: u64,
    shard: crate::targets::Shard,
    done: &mut HashSet<u64>,
) -> std::io::Result<(bool, u64)> {
    let mut complete = false;
    let whole = super::output::read_records(lines, |record, _| {
        if let Some(k) = record["position"].as_u64().and_then(|p| shard.k_of(p)) {
            done.insert(k);
        }
        if record["record"] == "end" {
            complete = record["ended"] == "complete";
        }
        Ok(())
    })?;
    Ok((complete, from + whole))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state() -> ResumeState {
        let (version, format) = ResumeState::header();
        ResumeState {
            version,
            format,
            targets: vec!["127.0.0.0/20".into()],
            excludes: vec![],
            skip_special: false,
            ports: "8080".into(),
            seed: Some(7),
            shard: "1/4".into(),
            set_len: 4096,
            plan: "0123456789abcdef".into(),
            output_bytes: 0,
            output_started: None,
            position: 10,
            done: vec![12],
            model: "tokio".into(),
            timeout_ms: 500,
            max_connections: 64,
            rate: None,
            user_agent: None,
            all: true,
            json: true,
        }
    }

    #[test]
    fn the_point_is_the_first_target_not_done() {
        let none = HashSet::new();
        // Everything taken was reported: go on from the next.
        assert_eq!(resume_point(10, &none, &none), (10, vec![]));
        // 7 and 9 were taken and dropped: 7 first, then skip 8.
        let dropped: HashSet<u64> = [7, 9].into();
        assert_eq!(resume_point(10, &dropped, &none), (7, vec![8]));
        // A previous run did 12 already: it stays done.
        let earlier: HashSet<u64> = [12].into();
        assert_eq!(resume_point(10, &dropped, &earlier), (7, vec![8, 12]));
    }

    #[test]
    fn a_file_round_trips_and_bad_files_are_refused() {
        let dir = std::env::temp_dir().join(format!("wardial-resume-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("scan.resume");
        state().save(&path).unwrap();
        assert_eq!(ResumeState::load(&path).unwrap(), state());

        // Truncated.
        let text = std::fs::read_to_string(&path).unwrap();
        std::fs::write(&path, &text[..text.len() / 2]).unwrap();
        let err = ResumeState::load(&path).unwrap_err();
        assert!(err.contains("truncated"), "{err}");
        // Another version.
        std::fs::write(&path, text.replace(env!("CARGO_PKG_VERSION"), "0.0.1")).unwrap();
        let err = ResumeState::load(&path).unwrap_err();
        assert!(err.contains("written by wardial 0.0.1"), "{err}");
        // Not there.
        std::fs::remove_dir_all(&dir).unwrap();
        assert!(ResumeState::load(&path)
            .unwrap_err()
            .contains("cannot read"));
    }
}
