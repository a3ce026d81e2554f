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
        // Slurm, the whole array declared 1-n as the sbatch file does.
        let slurm: Vec<String> = (1..=n).map(|id| slurm_task(id, 1, n, n).unwrap()).collect();
        let expected: Vec<String> = (1..=n).map(|i| format!("{i}/{n}")).collect();
        assert_eq!(kubernetes, expected);
        assert_eq!(slurm, expected);

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
    assert_eq!(shard(&[("JOB_COMPLETION_INDEX", "0".to_string())]), Err(2));
}

/// `shard.sh` in task `id` of a Slurm array whose tasks in this run go from `min` to `max`,
/// in a scan of `shards` shards.
fn slurm_task(id: usize, min: usize, max: usize, shards: usize) -> Result<String, i32> {
    shard(&[
        ("SLURM_ARRAY_TASK_ID", id.to_string()),
        ("SLURM_ARRAY_TASK_MIN", min.to_string()),
        ("SLURM_ARRAY_TASK_MAX", max.to_string()),
        ("SLURM_ARRAY_TASK_COUNT", (max - min + 1).to_string()),
        ("SHARDS", shards.to_string()),
    ])
}

#[test]
fn a_slurm_task_is_its_own_shard_however_the_array_is_run_again() {
    // One failed task run again alone (`sbatch --array=3`): the task's minimum and count are
    // then 3 and 1, and it is still shard 3 of 4.
    assert_eq!(slurm_task(3, 3, 3, 4), Ok("3/4".into()));
    // `--array=2,4` and a step (`--array=1-8:2`, tasks 1, 3, 5, 7 of 8).
    assert_eq!(slurm_task(2, 2, 4, 4), Ok("2/4".into()));
    assert_eq!(slurm_task(4, 2, 4, 4), Ok("4/4".into()));
    assert_eq!(slurm_task(5, 1, 7, 8), Ok("5/8".into()));
    // An array that reaches past the shard count is refused in every task, even task 1, before
    // anything is probed; so are task 0 and a missing shard count.
    assert_eq!(slurm_task(1, 1, 8, 4), Err(2));
    assert_eq!(slurm_task(0, 0, 3, 4), Err(2));
    assert_eq!(
        shard(&[("SLURM_ARRAY_TASK_ID", "2".to_string())]),
        Err(2),
        "no SHARDS"
    );
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

    // Kubernetes as operators run it: retries per index, bad input (exit 2) not retried, no
    // root, results on a volume rather than in the logs.
    for needed in [
        "backoffLimitPerIndex:",
        "podFailurePolicy:",
        "action: FailIndex",
        "values: [2]",
        "runAsNonRoot: true",
        "allowPrivilegeEscalation: false",
        "persistentVolumeClaim:",
        "value: /results",
    ] {
        assert!(job.contains(needed), "the Job lacks {needed}");
    }
    assert!(
        !job.contains("backoffLimit:"),
        "a job-wide backoffLimit fails every shard"
    );
    // Shipped unchanged, neither file can probe a public network: their targets are loopback
    // and nothing allows public addresses.
    for (name, text, targets) in [
        ("indexed-job.yaml", &job, value(&job, "TARGETS:")),
        (
            "wardial-array.sbatch",
            &sbatch,
            value(&sbatch, "export TARGETS="),
        ),
    ] {
        let targets = targets
            .trim_start_matches("${TARGETS:-")
            .trim_end_matches('}');
        let net: wardial_probe::Cidr = targets.parse().unwrap();
        assert!(
            wardial::targets::gate::check_allowed(&[net], false).is_ok()
                && net.first().is_loopback(),
            "{name}: {targets}"
        );
        // Outside comments (which tell the user when to add it), however it is spelled.
        let allows = text
            .lines()
            .filter(|l| !l.trim_start().starts_with('#'))
            .any(|l| l.contains("--allow-public"));
        assert!(!allows, "{name} allows public targets");
    }
}

#[test]
// One scenario from start to end, as a user would run it: its steps depend on each other.
#[allow(clippy::too_many_lines)]
fn the_run_script_scans_its_shard_with_the_shared_settings() {
    // run-shard.sh as a job runs it, on ports nothing listens on (every probe a quick
    // refusal): each shard appends to its own file in OUT, and the merge of all of them holds
    // every (address, port) once.
    let n = 3;
    let dir = std::env::temp_dir().join(format!("wardial-run-shard-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let run = |i: usize| {
        Command::new("sh")
            .arg(deploy().join("run-shard.sh"))
            .env("OUT", &dir)
            .env("JOB_COMPLETION_INDEX", i.to_string())
            .env("SHARDS", n.to_string())
            .env("TARGETS", "127.0.0.0/26")
            .env("SEED", "5")
            .env("PORT", "9,10")
            .env("WARDIAL", env!("CARGO_BIN_EXE_wardial"))
            .output()
            .unwrap()
    };
    for i in 0..n {
        let out = run(i);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let files: Vec<String> = (1..=n)
        .map(|i| {
            dir.join(format!("shard-{i}-{n}.jsonl"))
                .display()
                .to_string()
        })
        .collect();
    let merge = |files: &[String]| {
        Command::new(env!("CARGO_BIN_EXE_wardial"))
            .arg("merge")
            .args(files)
            .output()
            .unwrap()
    };
    let merged = merge(&files);
    assert!(
        merged.status.success(),
        "{}",
        String::from_utf8_lossy(&merged.stderr)
    );
    let seen: Vec<String> = String::from_utf8(merged.stdout)
        .unwrap()
        .lines()
        .filter_map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            Some(format!("{}:{}", v["addr"].as_str()?, v["port"]))
        })
        .collect();
    assert_covers_once(seen, 128, "run-shard.sh");

    // A shard run again once it is done changes nothing; a merge without it names it.
    let before = std::fs::read(&files[1]).unwrap();
    assert!(run(1).status.success());
    assert_eq!(std::fs::read(&files[1]).unwrap(), before);
    let partial = merge(&[files[0].clone(), files[2].clone()]);
    assert_eq!(partial.status.code(), Some(1));
    let said = String::from_utf8_lossy(&partial.stderr);
    assert!(said.contains("missing shards: 2/3"), "{said}");
    std::fs::remove_dir_all(&dir).unwrap();

    // Without a seed, a shard would walk an order of its own: refused.
    let out = Command::new("sh")
        .arg(deploy().join("run-shard.sh"))
        .env("JOB_COMPLETION_INDEX", "0")
        .env("SHARDS", "2")
        .env("TARGETS", "127.0.0.0/26")
        .env("OUT", std::env::temp_dir())
        .env("WARDIAL", env!("CARGO_BIN_EXE_wardial"))
        .env_remove("SEED")
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && said.contains("set SEED"), "{said}");
}
