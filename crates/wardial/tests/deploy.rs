//! The files in `deploy/` that run shards on a job engine: the index each engine gives a job
//! becomes `--shard I/N` through `deploy/shard.sh`, and the shards of one scan must cover every
//! target exactly once. Checked here with the scripts themselves and `--dry-run` (no sockets).
#![cfg(unix)]

use std::path::{Path, PathBuf};
use std::process::Command;

fn deploy() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../deploy")
}

/// Runs `deploy/shard.sh` with `env`; its `I/N`, or `Err` with its exit code.
fn shard(env: &[(&str, String)]) -> Result<String, i32> {
    let out = Command::new("sh")
        .arg(deploy().join("shard.sh"))
        .env_clear()
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .output()
        .unwrap();
    match out.status.code() {
        Some(0) => Ok(String::from_utf8(out.stdout).unwrap().trim().to_string()),
        code => Err(code.unwrap_or(-1)),
    }
}

/// The addresses a dry run of one shard prints.
fn dry_run(range: &str, shard: &str) -> Vec<String> {
    let out = Command::new(env!("CARGO_BIN_EXE_wardial"))
        .args(["scan", range, "--seed", "9", "--shard", shard, "--dry-run"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(String::from)
        .collect()
}

fn assert_covers_once(mut seen: Vec<String>, hosts: usize, engine: &str) {
    assert_eq!(seen.len(), hosts, "{engine}: every target, none twice");
    seen.sort();
    seen.dedup();
    assert_eq!(seen.len(), hosts, "{engine}: no target twice");
}

#[test]
fn every_engine_index_becomes_a_shard_and_the_shards_cover_a_range_once() {
    for n in [1usize, 2, 3, 4, 7] {
        // Kubernetes: JOB_COMPLETION_INDEX 0..n.
        let kubernetes: Vec<String> = (0..n)
            .map(|i| {
                shard(&[
                    ("JOB_COMPLETION_INDEX", i.to_string()),
                    ("SHARDS", n.to_string()),
                ])
                .unwrap()
            })
            .collect();
        // Slurm, with the array declared 1-n (as the sbatch file does) and 0-(n-1).
        let slurm = |min: usize| -> Vec<String> {
            (min..min + n)
                .map(|id| {
                    shard(&[
                        ("SLURM_ARRAY_TASK_ID", id.to_string()),
                        ("SLURM_ARRAY_TASK_MIN", min.to_string()),
                        ("SLURM_ARRAY_TASK_COUNT", n.to_string()),
                    ])
                    .unwrap()
                })
                .collect()
        };
        let expected: Vec<String> = (1..=n).map(|i| format!("{i}/{n}")).collect();
        assert_eq!(kubernetes, expected);
        assert_eq!(slurm(1), expected);
        assert_eq!(slurm(0), expected);

        let seen = kubernetes
            .iter()
            .flat_map(|s| dry_run("127.0.0.0/25", s))
            .collect();
        assert_covers_once(seen, 128, &format!("{n} shards"));
    }
    // An index outside the job's size, or none at all: refused, not guessed.
    let too_far = [
        ("JOB_COMPLETION_INDEX", "4".to_string()),
        ("SHARDS", "4".to_string()),
    ];
    assert_eq!(shard(&too_far), Err(2));
    assert_eq!(shard(&[]), Err(2));
}

#[test]
fn the_job_files_agree_on_the_shard_count_and_use_the_shard_script() {
    let job = std::fs::read_to_string(deploy().join("kubernetes/indexed-job.yaml")).unwrap();
    let sbatch = std::fs::read_to_string(deploy().join("slurm/wardial-array.sbatch")).unwrap();
    let value = |text: &str, key: &str| -> String {
        let line = text
            .lines()
            .find(|l| l.trim_start().starts_with(key))
            .unwrap();
        let v = line.trim_start()[key.len()..].split('#').next().unwrap();
        v.trim().trim_matches('"').to_string()
    };
    // The Job's size and the shard count it passes are one number.
    assert_eq!(value(&job, "completions:"), value(&job, "SHARDS:"));
    assert!(job.contains("completionMode: Indexed"));
    assert!(job.contains("/opt/wardial/run-shard.sh"));
    // The array's size and the shard count it passes are one number.
    let array = value(&sbatch, "#SBATCH --array=");
    let shards = value(&sbatch, "export SHARDS=");
    assert_eq!(array, format!("1-{shards}"));
    assert!(sbatch.contains("deploy/run-shard.sh"));
}

#[test]
fn the_run_script_scans_its_shard_with_the_shared_settings() {
    // run-shard.sh as a job runs it, with the dry run passed through WARDIAL_ARGS: the
    // addresses of all its shards together are the range, once each.
    let n = 3;
    let mut seen = Vec::new();
    for i in 0..n {
        let out = Command::new("sh")
            .arg(deploy().join("run-shard.sh"))
            .env("JOB_COMPLETION_INDEX", i.to_string())
            .env("SHARDS", n.to_string())
            .env("TARGETS", "127.0.0.0/26")
            .env("SEED", "5")
            .env("PORT", "9")
            .env("WARDIAL", env!("CARGO_BIN_EXE_wardial"))
            .env("WARDIAL_ARGS", "--dry-run")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        for line in String::from_utf8(out.stdout).unwrap().lines() {
            let v: serde_json::Value = serde_json::from_str(line).unwrap();
            seen.push(v["addr"].as_str().unwrap().to_string());
        }
    }
    assert_covers_once(seen, 64, "run-shard.sh");
    // Without a seed, a shard would walk an order of its own: refused.
    let out = Command::new("sh")
        .arg(deploy().join("run-shard.sh"))
        .env("JOB_COMPLETION_INDEX", "0")
        .env("SHARDS", "2")
        .env("TARGETS", "127.0.0.0/26")
        .env_remove("SEED")
        .output()
        .unwrap();
    assert!(!out.status.success());
}
