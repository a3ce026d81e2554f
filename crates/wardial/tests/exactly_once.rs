//! A scan that is stopped, killed, paced, split or read by a reader that goes away: every
//! target reported once, an exit code that says whether it is done, no panic. Every address
//! here is on 127.0.0.0/8.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

mod common;

use common::{finish, text, wardial};

/// A folder of this test's own, emptied.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("wardial-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A listener that accepts into its backlog and never answers: every probe of it waits out its
/// timeout. Returns its address (it lives as long as the test process).
fn silent() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for conn in listener.incoming().flatten() {
            held.push(conn);
        }
    });
    addr
}

/// A targets file of `n` virtual hosts (127.78.0.1 ..), all played by `dial`.
fn hosts(dir: &Path, n: usize, dial: SocketAddr) -> PathBuf {
    let path = dir.join("hosts");
    let lines: Vec<String> = (1..=n).map(|i| format!("127.78.0.{i} {dial}")).collect();
    std::fs::write(&path, lines.join("\n")).unwrap();
    path
}

/// The `addr:port` of every finding in JSON lines (records left out).
fn reported(lines: &str) -> Vec<String> {
    lines
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|v| v.get("position").is_some())
        .map(|v| format!("{}:{}", v["addr"].as_str().unwrap(), v["port"]))
        .collect()
}

fn assert_each_once(mut seen: Vec<String>, n: usize) {
    seen.sort();
    let all = seen.len();
    seen.dedup();
    assert_eq!(all, seen.len(), "a target reported twice");
    assert_eq!(seen.len(), n, "every target");
}

/// Polls `done` every 20 ms; fails (never hangs) once `bound` has passed.
fn wait_for(what: &str, bound: Duration, mut done: impl FnMut() -> bool) {
    let give_up = Instant::now() + bound;
    while !done() {
        assert!(
            Instant::now() < give_up,
            "{what} did not happen within {bound:?}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A scan of the targets file `hosts` into `out` that a test can kill and run again: few
/// connections and a short timeout (so it is surely mid-scan when killed), a checkpoint `every`.
fn resumable(hosts: &Path, out: &Path, seed: &str, every: &str) -> Vec<String> {
    let (hosts, out) = (hosts.display().to_string(), out.display().to_string());
    [
        "scan",
        "-i",
        &hosts,
        "-m",
        "threads",
        "-c",
        "3",
        "-t",
        "300ms",
        "--seed",
        seed,
        "-o",
        &out,
        "--checkpoint-every",
        every,
    ]
    .map(String::from)
    .to_vec()
}

/// How many targets the output `out` reports so far (none while it does not exist yet).
fn findings_so_far(out: &Path) -> usize {
    reported(&std::fs::read_to_string(out).unwrap_or_default()).len()
}

/// Runs the scan `args` (whose output is `out`), and kills it without warning (SIGKILL: no
/// handler runs) once it has written a checkpoint and then at least `more` findings.
fn kill_after_checkpoint(args: &[&str], out: &Path, more: usize) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_wardial"))
        .args(args)
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let checkpoint = PathBuf::from(format!("{}.resume.json", out.display()));
    wait_for("a checkpoint", Duration::from_secs(30), || {
        checkpoint.exists()
    });
    let at_checkpoint = findings_so_far(out);
    wait_for("findings after it", Duration::from_secs(30), || {
        findings_so_far(out) >= at_checkpoint + more
    });
    child.kill().unwrap();
    child.wait().unwrap();
}

#[test]
fn a_killed_scan_run_again_goes_on_from_its_output_and_reports_no_target_twice() {
    let dir = scratch("kill");
    let hosts = hosts(&dir, 30, silent());
    let out = dir.join("out.jsonl");
    let args = resumable(&hosts, &out, "4", "200ms");
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    // Killed without warning (SIGKILL: no handler runs) after a checkpoint and some findings
    // after it, so the restart needs both the checkpoint and the lines that came later.
    kill_after_checkpoint(&args, &out, 2);
    let checkpoint = dir.join("out.jsonl.resume.json");
    let before = findings_so_far(&out);
    assert!(before < 30, "killed too late to tell: {before} of 30 done");

    let again = wardial(&args);
    assert_eq!(again.status.code(), Some(0), "{}", text(&again.stderr));
    assert!(
        text(&again.stderr).contains("continuing"),
        "{}",
        text(&again.stderr)
    );
    let lines = std::fs::read_to_string(&out).unwrap();
    assert_each_once(reported(&lines), 30);
    // One plan line, at the top; the last line says the scan is complete.
    assert_eq!(lines.matches(r#""record":"plan""#).count(), 1);
    assert!(lines
        .lines()
        .last()
        .unwrap()
        .contains(r#""ended":"complete""#));
    assert!(
        !checkpoint.exists(),
        "a complete scan removes its checkpoint"
    );
    // Run a third time: nothing to do, nothing written.
    let third = wardial(&args);
    assert_eq!(third.status.code(), Some(0));
    assert_eq!(std::fs::read_to_string(&out).unwrap(), lines);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_checkpoint_counts_only_for_the_file_it_was_written_for() {
    let dir = scratch("stale");
    let hosts = hosts(&dir, 24, silent());
    let out = dir.join("out.jsonl");
    let args = resumable(&hosts, &out, "6", "100ms");
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    // A run killed after a checkpoint; then its output is deleted, and a new run of the same
    // scan must not take the old checkpoint for the new file's.
    kill_after_checkpoint(&args, &out, 6);
    std::fs::remove_file(&out).unwrap();
    let again = wardial(&args);
    assert_eq!(again.status.code(), Some(0), "{}", text(&again.stderr));
    let lines = std::fs::read_to_string(&out).unwrap();
    assert!(!lines.contains('\0'), "no padding");
    assert_each_once(reported(&lines), 24);
    // A merge may write over one of its own inputs: it reads them all first.
    let merged = wardial(&["merge", out.to_str().unwrap(), "-o", out.to_str().unwrap()]);
    assert_eq!(merged.status.code(), Some(0), "{}", text(&merged.stderr));
    assert_each_once(reported(&std::fs::read_to_string(&out).unwrap()), 24);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_budget_stop_exits_3_and_a_resumed_scan_keeps_its_state_in_its_file() {
    let dir = scratch("budget");
    let hosts = hosts(&dir, 24, silent());
    let state = dir.join("r2.json");
    let mut seen = Vec::new();
    let first = wardial(&[
        "scan",
        "-i",
        hosts.to_str().unwrap(),
        "-m",
        "threads",
        "-c",
        "2",
        "-t",
        "300ms",
        "--json",
        "--all",
        "--budget",
        "700ms",
        "--resume-file",
        state.to_str().unwrap(),
    ]);
    assert_eq!(first.status.code(), Some(3), "{}", text(&first.stderr));
    seen.extend(reported(&text(&first.stdout)));
    let position = |p: &Path| -> u64 {
        let v: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap();
        v["position"].as_u64().unwrap()
    };
    let mut last = position(&state);
    // Resumed with a budget again and again: each run saves into the file it came from, so
    // resuming that file again never probes a host twice.
    for _ in 0..20 {
        let run = wardial(&[
            "scan",
            "--resume",
            state.to_str().unwrap(),
            "--budget",
            "700ms",
        ]);
        seen.extend(reported(&text(&run.stdout)));
        match run.status.code() {
            Some(3) => {
                let now = position(&state);
                assert!(now > last, "the state in its own file moved on");
                last = now;
            }
            Some(0) => {
                assert!(!state.exists(), "a finished scan removes its resume file");
                assert!(!dir.join("wardial-resume.json").exists());
                assert_each_once(seen, 24);
                std::fs::remove_dir_all(&dir).unwrap();
                return;
            }
            code => panic!("exit {code:?}: {}", text(&run.stderr)),
        }
    }
    panic!("20 runs of 700 ms did not finish 24 hosts");
}

#[test]
fn a_reader_that_goes_away_ends_the_scan_quietly() {
    // 4096 refused probes: far more lines than the reader takes.
    let mut child = Command::new(env!("CARGO_BIN_EXE_wardial"))
        .args([
            "scan",
            "127.0.0.0/20",
            "-p",
            "9",
            "--all",
            "--order",
            "sequential",
        ])
        .current_dir(scratch("pipe"))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = [0u8; 64];
    child
        .stdout
        .as_mut()
        .unwrap()
        .read_exact(&mut first)
        .unwrap();
    drop(child.stdout.take());
    // The closed pipe stops the scan: not done (3), and no panic about a failed print.
    let out = finish(child, "a scan whose stdout closed");
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    // The same with stderr closed from the start and a budget that ends the scan early.
    let mut child = Command::new(env!("CARGO_BIN_EXE_wardial"))
        .args([
            "scan",
            "127.0.0.0/20",
            "-p",
            "9",
            "--budget",
            "50ms",
            "--rate",
            "100",
        ])
        .current_dir(scratch("pipe2"))
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stderr.take());
    let out = finish(child, "a scan whose stderr is closed");
    assert_eq!(out.status.code(), Some(3));
}

#[test]
fn several_ports_split_over_shards_cover_every_pair_once() {
    let mut seen = Vec::new();
    for i in 1..=3 {
        let out = wardial(&[
            "scan",
            "127.0.0.0/27",
            "--port",
            "80,8080,9000-9001",
            "--seed",
            "12",
            "--shard",
            &format!("{i}/3"),
            "--dry-run",
            "--json",
        ]);
        assert!(out.status.success(), "{}", text(&out.stderr));
        for line in text(&out.stdout).lines() {
            let v: serde_json::Value = serde_json::from_str(line).unwrap();
            seen.push(format!("{}:{}", v["addr"].as_str().unwrap(), v["port"]));
        }
    }
    assert_each_once(seen.clone(), 32 * 4);
    assert!(seen.iter().any(|s| s.ends_with(":9001")));
}

/// A loopback server that answers 200 and hands the request it read to the test.
fn recording_server() -> (u16, std::sync::mpsc::Receiver<String>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(mut conn) = conn else { continue };
            let mut buf = [0u8; 2048];
            let n = conn.read(&mut buf).unwrap_or(0);
            let _ = tx.send(String::from_utf8_lossy(&buf[..n]).into_owned());
            let _ = conn.write_all(b"HTTP/1.0 200 OK\r\n\r\n");
        }
    });
    (port, rx)
}

#[test]
fn every_model_sends_the_user_agent_and_the_contact_it_is_given() {
    let (port, requests) = recording_server();
    let port = port.to_string();
    for model in ["blocking-ureq", "blocking", "tokio"] {
        let out = wardial(&[
            "scan",
            "127.0.0.1",
            "-p",
            &port,
            "-m",
            model,
            "--user-agent",
            "lab-scanner/2 (+mailto:lab@example.invalid)",
        ]);
        assert!(out.status.success(), "{model}: {}", text(&out.stderr));
        // Header names are case-insensitive (ureq writes them in lower case).
        let request = requests
            .recv_timeout(Duration::from_secs(10))
            .unwrap()
            .to_lowercase();
        assert!(
            request.contains("user-agent: lab-scanner/2 (+mailto:lab@example.invalid)\r\n"),
            "{model}: {request}"
        );
    }
    let out = wardial(&[
        "scan",
        "127.0.0.1",
        "-p",
        &port,
        "-m",
        "blocking-ureq",
        "--contact",
        "https://lab.example.invalid/scans",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let request = requests.recv_timeout(Duration::from_secs(10)).unwrap();
    assert!(
        request.contains("(concurrency course scanner; +https://lab.example.invalid/scans)\r\n"),
        "{request}"
    );
    let both = wardial(&["scan", "127.0.0.1", "--user-agent", "a", "--contact", "b"]);
    assert_eq!(both.status.code(), Some(2));
}

/// The outputs of three shards of `127.0.0.0/27` on a port nothing listens on (every probe a
/// quick refusal, every address reported), in `dir`.
fn shard_outputs(dir: &Path, seed: &str) -> Vec<PathBuf> {
    (1..=3)
        .map(|i| {
            let out = dir.join(format!("seed{seed}-shard-{i}.jsonl"));
            let shard = format!("{i}/3");
            let args = [
                "scan",
                "127.0.0.0/27",
                "-p",
                "9",
                "--seed",
                seed,
                "--shard",
                &shard,
            ];
            let run = wardial(&[&args[..], &["-o", out.to_str().unwrap()]].concat());
            assert_eq!(run.status.code(), Some(0), "{}", text(&run.stderr));
            out
        })
        .collect()
}

#[test]
fn merge_keeps_each_target_once_and_refuses_what_is_not_its_plan() {
    let dir = scratch("merge");
    let files = shard_outputs(&dir, "3");
    let names: Vec<&str> = files.iter().map(|f| f.to_str().unwrap()).collect();
    let merge = |files: &[&str]| wardial(&[&["merge"], files].concat());

    // A shard given twice, and a line cut short by a kill at the end of another: the target of
    // the cut line is a gap, the repeated ones are dropped, and the gap is named.
    let mut cut = std::fs::read_to_string(&files[2]).unwrap();
    let last_finding = cut
        .lines()
        .rev()
        .find(|l| l.contains("\"position\""))
        .unwrap()
        .to_string();
    cut = cut.replace(
        &format!("{last_finding}\n"),
        &last_finding[..last_finding.len() / 2],
    );
    let cut_file = dir.join("cut.jsonl");
    std::fs::write(&cut_file, cut).unwrap();
    let out = merge(&[names[0], names[1], names[1], cut_file.to_str().unwrap()]);
    let said = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{said}");
    assert!(
        said.contains(" 1 gap") && said.contains("never reported: 127.0.0."),
        "{said}"
    );
    let merged = reported(&text(&out.stdout));
    assert_eq!(merged.len(), 31, "{said}");
    assert_each_once(merged, 31);
    let duplicates = reported(&std::fs::read_to_string(&files[1]).unwrap()).len();
    assert!(
        said.contains(&format!("{duplicates} duplicates dropped")),
        "{said}"
    );

    // Another seed is another plan; a file that is not an output; one with servers only.
    let other = shard_outputs(&dir, "4");
    let refused = merge(&[names[0], other[1].to_str().unwrap()]);
    assert_eq!(refused.status.code(), Some(2));
    assert!(text(&refused.stderr).contains("cannot be merged"));
    let not_output = dir.join("notes.txt");
    std::fs::write(&not_output, "hello\n").unwrap();
    let refused = merge(&[names[0], not_output.to_str().unwrap()]);
    assert_eq!(refused.status.code(), Some(2));
    assert!(text(&refused.stderr).contains("does not begin with a plan"));
    let servers_only = wardial(&[
        "scan",
        "127.0.0.0/27",
        "-p",
        "9",
        "--seed",
        "3",
        "--shard",
        "1/3",
        "--json",
    ]);
    let servers_file = dir.join("servers.jsonl");
    std::fs::write(&servers_file, &servers_only.stdout).unwrap();
    let refused = merge(&[servers_file.to_str().unwrap(), names[1], names[2]]);
    assert_eq!(refused.status.code(), Some(2));
    assert!(text(&refused.stderr).contains("only the servers"));
    std::fs::remove_dir_all(&dir).unwrap();
}
