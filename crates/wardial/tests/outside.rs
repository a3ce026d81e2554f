//! Scanners from outside, as a class uses them: the simulated internet at real addresses, the
//! Python reference scanners graded by `wardial check` (and a broken one failed, naming the
//! clauses it broke), and the Python rows of the race. Every address is on 127.0.0.0/8.
//!
//! The Python tests need python3 and aiohttp (`pip install -r python/requirements.txt`); where
//! they are missing each test says so and skips, except under CI, which installs them and
//! where a skip would hide that the Python rows went untested.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Duration;

mod common;

use common::{text, wardial};

fn script(name: &str) -> String {
    let path: PathBuf = [env!("CARGO_MANIFEST_DIR"), "..", "..", "python", name]
        .iter()
        .collect();
    path.to_str().unwrap().to_string()
}

/// Whether python3 can import `module` (`sys` for python3 itself). Where it cannot: a line
/// saying so, and `false`; under CI, a failure.
fn python_has(module: &str) -> bool {
    let ok = Command::new("python3")
        .args(["-c", &format!("import {module}")])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        let why = format!("python3 cannot import {module}: pip install -r python/requirements.txt");
        assert!(
            std::env::var_os("CI").is_none(),
            "{why} (CI must install it)"
        );
        println!("skipped: {why}");
    }
    ok
}

/// `wardial check` on a scanner: its exit code and report.
fn check(script_name: &str) -> (Option<i32>, String) {
    let command = format!("python3 '{}'", script(script_name));
    let out = wardial(&["check", &command]);
    (out.status.code(), text(&out.stdout) + &text(&out.stderr))
}

#[test]
fn the_reference_scanners_get_full_marks() {
    let scripts = [
        ("sys", "wardial_streams.py"),
        ("sys", "wardial_threads.py"),
        ("aiohttp", "wardial_aiohttp.py"),
    ];
    // One scanner after another: each check counts the connections of its own scanner.
    for (needs, name) in scripts {
        if !python_has(needs) {
            continue;
        }
        let (code, report) = check(name);
        assert_eq!(code, Some(0), "{name}:\n{report}");
        assert!(report.contains("score: 6/6"), "{name}:\n{report}");
        assert!(
            report.contains("[truth]              pass  64 hosts agree"),
            "{report}"
        );
    }
}

#[test]
fn a_broken_scanner_fails_with_the_clauses_it_broke() {
    if !python_has("aiohttp") {
        return;
    }
    let (code, report) = check("broken/wardial_broken.py");
    assert_eq!(code, Some(1), "{report}");
    // A timeout per read hears the trickle hosts out; no limit connects every host at once.
    assert!(report.contains("[deadline]           FAIL"), "{report}");
    assert!(
        report.contains("from a trickle host") && report.contains("not a timeout per read"),
        "{report}"
    );
    assert!(report.contains("[max_connections]    FAIL"), "{report}");
    assert!(report.contains("[outside the range]  pass"), "{report}");
    assert!(!report.contains("score: 6/6"), "{report}");
}

#[test]
fn a_scanner_that_is_missing_or_prints_nothing_scores_nothing() {
    let out = wardial(&["check", "wardial-no-such-scanner-anywhere"]);
    let report = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{report}");
    assert!(report.contains("exited with code 127"), "{report}");
    assert!(report.contains("not found"), "{report}");
    assert!(report.contains("score: 0/6"), "{report}");
    // A range a check cannot use is refused before anything runs.
    let out = wardial(&["check", "--range", "127.77.0.0/30", "true"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("from a /16 to a /27"));
}

#[test]
fn the_race_shows_the_python_rows_beside_the_models() {
    if !python_has("aiohttp") {
        return;
    }
    let out = wardial(&[
        "race",
        "--python",
        "--models",
        "tokio",
        "--range",
        "127.64.0.0/24",
        // Far from every host's latency (at most 200 ms), so that a busy machine cannot put
        // an answer on the other side of the deadline.
        "--timeout",
        "2s",
        "--no-memory",
        "--no-calibration",
        "--budget",
        "30s",
        "--json",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let models = report["models"].as_array().unwrap();
    let names: Vec<&str> = models
        .iter()
        .map(|m| m["model"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "tokio",
            "python-aiohttp",
            "python-streams",
            "python-threads"
        ]
    );
    for m in &models[1..] {
        assert_eq!(m["unavailable"], serde_json::Value::Null, "{m}");
        assert_eq!(m["completed"], 256, "{m}");
        assert_eq!(m["agrees_with_truth"], true, "{m}");
        assert_eq!(m["found"], models[0]["found"], "{m}");
        assert!(m["cpu_user_us_per_probe"].as_f64().unwrap() > 0.0, "{m}");
    }
    let outside = report["outside"].as_array().unwrap();
    assert_eq!(outside.len(), 3);
    assert!(outside
        .iter()
        .all(|o| o["peak_memory_bytes"].as_u64().unwrap() > 1 << 20));
}

#[test]
fn a_missing_external_command_gets_a_row_that_says_so() {
    let out = wardial(&[
        "race",
        "--models",
        "callbacks",
        "--range",
        "127.64.0.0/26",
        "--no-memory",
        "--no-calibration",
        "--external",
        "gone=wardial-no-such-scanner-anywhere",
    ]);
    let table = text(&out.stdout);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let row = table
        .lines()
        .find(|l| l.starts_with("gone "))
        .expect(&table);
    assert!(row.contains("unavailable: command not found"), "{row}");
    let bad = wardial(&["race", "--external", "no name"]);
    assert_eq!(bad.status.code(), Some(2));
}

/// A child process that is stopped when the test ends, passed or failed: a server left
/// running would hold its ports and the test runner's pipes.
struct Running(std::process::Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The first lines a running child prints, up to the one that starts with `last`.
fn lines_until(child: &mut std::process::Child, last: &str) -> String {
    let stdout = child.stdout.as_mut().unwrap();
    let mut got = String::new();
    let mut byte = [0u8; 1];
    while !got.lines().any(|l| l.starts_with(last)) {
        assert_eq!(stdout.read(&mut byte).unwrap(), 1, "ended early: {got}");
        got.push(byte[0] as char);
    }
    got
}

#[cfg(target_os = "linux")]
#[test]
fn simnet_serves_each_host_at_its_own_address() {
    let child = Command::new(env!("CARGO_BIN_EXE_wardial"))
        .args([
            "simnet",
            "--at-addresses",
            "--port",
            "0",
            "--range",
            "127.68.0.0/26",
            "--mix",
            "every",
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut child = Running(child);
    let banner = lines_until(&mut child.0, "or scan it");
    assert!(
        banner.contains("listening on the loopback device only"),
        "{banner}"
    );
    // The example is a live host: a plain GET with no special header finds it.
    let example = banner
        .lines()
        .find_map(|l| l.strip_prefix("for example: curl -sv http://"))
        .unwrap()
        .trim_end_matches('/');
    let at: std::net::SocketAddr = example.parse().unwrap();
    let mut s = TcpStream::connect_timeout(&at, Duration::from_secs(10)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s.write_all(b"GET / HTTP/1.0\r\n\r\n").unwrap();
    let mut answer = String::new();
    s.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 "), "{answer}");
    let host = example.split(':').next().unwrap();
    assert!(
        answer.contains(&format!("simulated host {host}")),
        "{answer}"
    );
    let _ = Command::new("kill")
        .args(["-INT", &child.0.id().to_string()])
        .status();
    assert!(child.0.wait().unwrap().success());
}

#[cfg(target_os = "linux")]
#[test]
fn a_range_past_the_file_limit_is_refused_with_the_reason() {
    // Under a limit of 1024 files, a /18 (about 14 000 listeners) cannot be served.
    let out = Command::new("sh")
        .args([
            "-c",
            "ulimit -n 1024 && exec \"$0\" simnet --at-addresses --range 127.64.0.0/18",
            env!("CARGO_BIN_EXE_wardial"),
        ])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("open files") && err.contains("may open 1024"),
        "{err}"
    );
}
