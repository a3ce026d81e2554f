//! The command as a user runs it: a process, its stdout, stderr and exit code. Every address
//! here is on 127.0.0.0/8.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::process::{Command, Stdio};

mod common;

use common::{finish, text, wardial};

/// The first line a running child prints on stdout, read a byte at a time so that nothing after
/// it is taken from the pipe (the rest stays for [`finish`]).
fn first_line(child: &mut std::process::Child) -> String {
    let mut first = String::new();
    let stdout = child.stdout.as_mut().unwrap();
    let mut byte = [0u8; 1];
    while !first.ends_with('\n') && stdout.read(&mut byte).unwrap() == 1 {
        first.push(byte[0] as char);
    }
    first
}

/// The first finding a running child prints on stdout (JSON lines): the lines before it are
/// records (the plan), read and dropped.
fn first_finding(child: &mut std::process::Child) -> String {
    loop {
        let line = first_line(child);
        if line.is_empty() || !line.contains(r#""record":"#) {
            return line;
        }
    }
}

/// The findings among a scan's JSON lines (not its plan and end records).
fn findings(stdout: &[u8]) -> Vec<serde_json::Value> {
    text(stdout)
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter(|v| v.get("record").is_none())
        .collect()
}

/// An HTTP server on a free loopback port; answers every connection with 200 and a page that
/// says what it is, as a real web server does.
fn http_server() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(mut conn) = conn else { continue };
            let mut buf = [0u8; 1024];
            let _ = conn.read(&mut buf);
            let page =
                "<!doctype html><html><head><title>It works &amp; more</title></head></html>";
            let answer = format!(
                "HTTP/1.0 200 OK\r\nServer: Apache/2.4.62 (Debian)\r\nContent-Type: text/html\r\nContent-Length: {}\r\n\r\n{page}",
                page.len()
            );
            let _ = conn.write_all(answer.as_bytes());
        }
    });
    port
}

#[test]
fn bad_input_is_one_line_and_exit_code_2() {
    let file = std::env::temp_dir().join(format!("wardial-cli-{}", std::process::id()));
    std::fs::write(&file, "127.0.0.1\nnot-a-network\n").unwrap();
    let bad_file = file.to_str().unwrap();
    for (args, says) in [
        (vec!["scan", "1.2.3.4/33"], "prefix length"),
        (vec!["scan", "1.2.3/24"], "not an IPv4 address"),
        (
            vec!["scan", "127.0.0.1", "--model", "fast"],
            "choose from: blocking",
        ),
        (vec!["scan", "127.0.0.1", "--port", "0"], "port 0"),
        (vec!["scan", "127.0.0.1", "--port", "65536"], "1 to 65535"),
        (vec!["scan", "127.0.0.1", "--port", "90-80"], "backwards"),
        (
            vec!["scan", "127.0.0.1", "--timeout", "0"],
            "more than zero",
        ),
        (
            vec!["scan", "127.0.0.1", "--timeout", "-2s"],
            "more than zero",
        ),
        (
            vec!["scan", "127.0.0.1", "--max-connections", "0"],
            "at least 1",
        ),
        (
            vec!["scan", "--input", "/nonexistent/targets"],
            "cannot read targets file",
        ),
        (vec!["scan", "--input", bad_file], ":2: 'not-a-network'"),
        (vec!["scan"], "no targets"),
        (
            vec!["race", "--models", "tokio,nope"],
            "unknown model 'nope'",
        ),
        (
            vec!["race", "--range", "192.168.0.0/24"],
            "outside 127.0.0.0/8",
        ),
        (vec!["race", "--mix", "weird"], "choose from: realistic"),
        (vec!["frobnicate"], "unrecognized subcommand"),
    ] {
        let out = wardial(&args);
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert_eq!(err.lines().count(), 1, "{args:?}: one line, got {err:?}");
        assert!(
            err.starts_with("wardial: ") && err.contains(says),
            "{args:?}: {err}"
        );
        assert!(
            !err.contains("panicked") && out.stdout.is_empty(),
            "{args:?}"
        );
    }
    std::fs::remove_file(&file).unwrap();
}

#[test]
fn scan_finds_a_server_and_reports_a_closed_port() {
    let port = http_server().to_string();
    let out = wardial(&["scan", "127.0.0.1/32", "--port", &port]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(
        stdout.contains(&format!(
            r#"server at http://127.0.0.1:{port} (200, Apache/2.4.62 (Debian), "It works & more")"#
        )),
        "{stdout}"
    );
    assert!(stdout.contains("1 server found"), "{stdout}");

    // A port nothing listens on: `--all --json` reports it as refused.
    let closed = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let out = wardial(&[
        "scan",
        "127.0.0.1",
        "--port",
        &closed.to_string(),
        "--all",
        "--json",
    ]);
    let lines = findings(&out.stdout);
    assert_eq!(lines.len(), 1, "{}", text(&out.stdout));
    let line = &lines[0];
    assert_eq!(line["addr"], "127.0.0.1");
    assert_eq!(line["port"], closed);
    assert_eq!(line["outcome"], "refused");
    assert!(line["ms"].is_u64() && line.get("status").is_none());
    // Where it stands in its plan, and when it was made; the plan first, how it ended last.
    assert_eq!(line["position"], 0);
    assert!(line["at"].as_str().unwrap().ends_with('Z'), "{line}");
    let all: Vec<serde_json::Value> = text(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(all[0]["record"], "plan");
    assert_eq!(all[0]["shard"], "1/1");
    assert_eq!(all[2]["record"], "end");
    assert_eq!(all[2]["ended"], "complete");
    assert_eq!(all[0]["plan"], all[2]["plan"]);
}

#[test]
fn every_model_scans_from_a_targets_file() {
    let port = http_server().to_string();
    let file = std::env::temp_dir().join(format!("wardial-in-{}", std::process::id()));
    std::fs::write(&file, "# lab\n127.0.0.1\n127.0.0.2 # nobody\n").unwrap();
    // Every model that can run here (io_uring may be refused).
    for model in wardial::models::NAMES
        .into_iter()
        .filter(|m| matches!(wardial::models::build(m), Some(Ok(_))))
    {
        let out = wardial(&[
            "scan",
            "-i",
            file.to_str().unwrap(),
            "-p",
            &port,
            "-m",
            model,
            // Two targets: a pool of 500 threads (rayon-sized's default) would only load the
            // machine that the other tests share.
            "-c",
            "4",
            "--json",
            "--all",
        ]);
        let lines = findings(&out.stdout);
        assert_eq!(lines.len(), 2, "{model}");
        let server = lines.iter().find(|l| l["addr"] == "127.0.0.1").unwrap();
        assert_eq!(
            (&server["outcome"], &server["status"]),
            (&"http".into(), &200.into())
        );
        // What the server says about itself, through the shared exchange, in every model.
        assert_eq!(server["server"], "Apache/2.4.62 (Debian)", "{model}");
        assert_eq!(server["title"], "It works & more", "{model}");
    }
    std::fs::remove_file(&file).unwrap();
}

/// What the race measures of a model that finished: a floor it does not beat, its CPU, its
/// switches and its lateness.
fn assert_measured(m: &serde_json::Value) {
    // The floor is the larger of the wait bound and the CPU bound (the cheapest model's CPU
    // cost of every host's probe over the cores); no model beats it by more than noise.
    let floor = m["limit_seconds"].as_f64().unwrap();
    let bounds = m["wait_bound_seconds"]
        .as_f64()
        .unwrap()
        .max(m["cpu_bound_seconds"].as_f64().unwrap());
    assert!((floor - bounds).abs() < 1e-9, "{m}");
    let efficiency = m["limit_efficiency"].as_f64().unwrap();
    assert!(efficiency > 0.0 && efficiency < 1.1, "{m}");
    // What the race measures of the model itself: CPU, switches, lateness.
    // User and system together: the kernel counts in ticks, and 64 probes of an event
    // loop may spend none of them in user mode.
    let cpu = m["cpu_user_us_per_probe"].as_f64().unwrap()
        + m["cpu_system_us_per_probe"].as_f64().unwrap();
    assert!(cpu > 0.0, "{m}");
    assert!(m["switches_voluntary_per_probe"].as_f64().is_some(), "{m}");
    let (p50, p99, max) = (
        m["lateness_ms_p50"].as_f64().unwrap(),
        m["lateness_ms_p99"].as_f64().unwrap(),
        m["lateness_ms_max"].as_f64().unwrap(),
    );
    assert!(
        p50 >= 0.0 && p50 <= p99 && p99 <= max && max.is_finite(),
        "{m}"
    );
}

#[test]
fn race_json_has_the_documented_keys_and_draws_the_timeline() {
    let timeline =
        std::env::temp_dir().join(format!("wardial-timeline-{}.svg", std::process::id()));
    let out = wardial(&[
        "race",
        "--range",
        "127.64.0.0/26",
        "--mix",
        "every",
        // Far from every live host's latency (200 ms at most), so that a machine loaded by the
        // other tests cannot push an answer past the deadline.
        "--timeout",
        "1s",
        "--models",
        "callbacks,tokio-current-thread",
        // Far more than the second the range needs: only a hang may stop a model here.
        "--budget",
        "60s",
        "--json",
        "--timeline",
        timeline.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(doc["ideal_seconds"].as_f64().unwrap() > 0.0);
    assert!(doc["cores"].as_u64().unwrap() >= 1);
    assert_eq!(doc["config"]["max_connections"], 512);
    let models = doc["models"].as_array().unwrap();
    assert_eq!(models.len(), 2);
    for m in models {
        for key in wardial::race::MODEL_KEYS {
            assert!(m.get(key).is_some(), "missing {key} in {m}");
        }
        assert_eq!(m["completed"], 64);
        assert_eq!(m["agrees_with_truth"], true, "{m}");
        assert_measured(m);
        if cfg!(target_os = "linux") {
            // Measured in a child process: some memory per probe, with many in flight.
            assert!(m["memory_per_probe_bytes"].as_f64().unwrap() > 0.0, "{m}");
            assert!(m["memory_in_flight"].as_u64().unwrap() > 100, "{m}");
        }
    }
    // One bar per probe of each model, in a picture a browser reads.
    let svg = std::fs::read_to_string(&timeline).unwrap();
    std::fs::remove_file(&timeline).unwrap();
    assert!(svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""));
    assert!(svg.trim_end().ends_with("</svg>"));
    assert!(svg.matches("<rect").count() >= 2 * 64, "{svg}");
}

#[test]
fn ctrl_c_stops_a_scan_with_a_partial_summary_and_exit_130() {
    let resume_file =
        std::env::temp_dir().join(format!("wardial-ctrl-c-{}.resume", std::process::id()));
    // Accepts into the backlog and never answers: the probe waits for its timeout.
    let silent = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = silent.local_addr().unwrap().port().to_string();
    let mut child = Command::new(env!("CARGO_BIN_EXE_wardial"))
        .args([
            "scan",
            "127.0.0.0/30",
            "-p",
            &port,
            "--json",
            "--all",
            "-m",
            "blocking",
            "-t",
            "2s",
            "--order",
            "sequential",
            "--resume-file",
            resume_file.to_str().unwrap(),
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Wait for the first finding (127.0.0.0 is refused at once), not for a fixed time: then
    // the Ctrl-C handler is surely installed and the probe of 127.0.0.1 is in flight.
    let first = first_finding(&mut child);
    assert!(first.contains(r#""outcome":"refused""#), "{first}");
    let sent = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
    let out = finish(child, "wardial after Ctrl-C");
    assert_eq!(out.status.code(), Some(130));
    let err = text(&out.stderr);
    assert!(err.contains("interrupted: scanned"), "{err}");
    assert!(err.contains("--resume"), "{err}");
    std::fs::remove_file(&resume_file).unwrap();
    // Lines printed before the stop are whole JSON objects.
    for line in first.lines().chain(text(&out.stdout).lines()) {
        serde_json::from_str::<serde_json::Value>(line).unwrap();
    }
}

/// The addresses of a scan's JSON lines.
fn addresses(stdout: &[u8]) -> Vec<String> {
    findings(stdout)
        .iter()
        .map(|v| v["addr"].as_str().unwrap().to_string())
        .collect()
}

#[test]
// One scenario from start to end, as a user would run it: its steps depend on each other.
#[allow(clippy::too_many_lines)]
fn an_interrupted_scan_resumes_and_probes_every_target_once() {
    // Twenty virtual hosts, all played by one listener that accepts and never answers: every
    // probe waits its whole timeout, so the scan is surely unfinished when it is interrupted.
    let silent = TcpListener::bind("127.0.0.1:0").unwrap();
    let dial = silent.local_addr().unwrap();
    let dir = std::env::temp_dir().join(format!("wardial-resume-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let hosts = dir.join("hosts");
    let all: Vec<String> = (1..=20).map(|i| format!("127.77.0.{i}")).collect();
    let lines: Vec<String> = all.iter().map(|a| format!("{a} {dial}")).collect();
    std::fs::write(&hosts, lines.join("\n")).unwrap();
    let resume = dir.join("scan.resume");

    let mut child = Command::new(env!("CARGO_BIN_EXE_wardial"))
        .args(["scan", "-i", hosts.to_str().unwrap(), "--json", "--all"])
        .args(["-m", "threads", "-c", "3", "-t", "300ms", "--seed", "11"])
        .args(["--resume-file", resume.to_str().unwrap()])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Interrupted once its first probe has ended (so its Ctrl-C handler is surely installed).
    let first = first_finding(&mut child);
    Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    let out = finish(child, "wardial after Ctrl-C");
    assert_eq!(out.status.code(), Some(130), "{}", text(&out.stderr));
    let mut seen = addresses(first.as_bytes());
    seen.extend(addresses(&out.stdout));
    assert!(seen.len() < all.len(), "{seen:?}");

    // Another target set, and a damaged file: refused, nothing scanned.
    let other = wardial(&["scan", "127.0.0.1", "--resume", resume.to_str().unwrap()]);
    assert_eq!(other.status.code(), Some(2));
    assert!(
        text(&other.stderr).contains("another target set"),
        "{}",
        text(&other.stderr)
    );
    assert!(other.stdout.is_empty());
    let saved = std::fs::read_to_string(&resume).unwrap();
    let damaged = dir.join("damaged.resume");
    std::fs::write(&damaged, &saved[..saved.len() / 3]).unwrap();
    let out = wardial(&["scan", "--resume", damaged.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("truncated"),
        "{}",
        text(&out.stderr)
    );

    // The rest, with the same targets given again (allowed: they are the same).
    let rest = wardial(&[
        "scan",
        "-i",
        hosts.to_str().unwrap(),
        "--resume",
        resume.to_str().unwrap(),
    ]);
    assert_eq!(rest.status.code(), Some(0), "{}", text(&rest.stderr));
    assert!(
        text(&rest.stderr).contains("complete"),
        "{}",
        text(&rest.stderr)
    );
    assert!(!resume.exists(), "a finished scan removes its resume file");
    seen.extend(addresses(&rest.stdout));
    seen.sort();
    let mut expected = all.clone();
    expected.sort();
    assert_eq!(seen, expected, "every target exactly once");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn simnet_writes_its_targets_and_serves_until_interrupted() {
    let file = std::env::temp_dir().join(format!("wardial-hosts-{}", std::process::id()));
    let _ = std::fs::remove_file(&file);
    let mut child = Command::new(env!("CARGO_BIN_EXE_wardial"))
        .args([
            "simnet",
            "--range",
            "127.64.0.0/28",
            "--targets",
            file.to_str().unwrap(),
        ])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let first = first_line(&mut child);
    assert!(
        first.starts_with("simnet: playing 127.64.0.0/28 (16 hosts"),
        "{first}"
    );
    let hosts = std::fs::read_to_string(&file).unwrap();
    assert_eq!(hosts.lines().count(), 16);
    let (vaddr, dial) = hosts.lines().next().unwrap().split_once(' ').unwrap();
    assert_eq!(vaddr, "127.64.0.0");
    assert!(dial.starts_with("127.0.0.1:"));
    Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    let out = finish(child, "wardial after Ctrl-C");
    assert_eq!(out.status.code(), Some(0));
    assert!(text(&out.stdout).contains("simnet: stopped after"));
    std::fs::remove_file(&file).unwrap();
}

/// Sends SIGINT, as Ctrl-C in a terminal does.
fn ctrl_c(child: &std::process::Child) {
    let sent = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
}

/// A port where nothing listens (one the kernel just handed out, then freed): every probe to
/// it is refused at once.
fn closed_port() -> String {
    let closed = TcpListener::bind("127.0.0.1:0").unwrap();
    closed.local_addr().unwrap().port().to_string()
}

/// `wardial scan ARGS` with its standard output to read and nothing on the others.
fn scan_to_read(args: &[&str]) -> std::process::Child {
    Command::new(env!("CARGO_BIN_EXE_wardial"))
        .arg("scan")
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

#[test]
fn a_second_ctrl_c_quits_even_while_stdout_is_a_full_pipe() {
    // Every probe refused at once, and a /16 prints far more lines than a pipe holds.
    let port = closed_port();
    let mut child = scan_to_read(&["127.0.0.0/16", "-p", &port, "--all", "-m", "callbacks"]);
    // Read the first line, then nothing more: the pipe fills (about 64 KiB, some 2000 lines)
    // and the scan blocks writing to it.
    first_line(&mut child);
    let stdout = child.stdout.take();
    std::thread::sleep(std::time::Duration::from_millis(500));
    ctrl_c(&child);
    std::thread::sleep(std::time::Duration::from_millis(200));
    ctrl_c(&child);
    let out = finish(child, "wardial after a second Ctrl-C");
    assert_eq!(out.status.code(), Some(130));
    drop(stdout);
}

#[test]
fn ctrl_c_ends_a_paced_scan_that_waits_for_its_next_start() {
    // One start every 1000 s: after the first probe (refused at once), each model waits for
    // the second, in a sleep, on a timer of its loop or on its runtime's; Ctrl-C must end it.
    let port = closed_port();
    for model in ["threads", "callbacks", "tokio"] {
        let resume = std::env::temp_dir().join(format!(
            "wardial-paced-{model}-{}.resume",
            std::process::id()
        ));
        let resume_arg = resume.to_string_lossy();
        let mut child = scan_to_read(&[
            "127.0.0.0/30",
            "-p",
            &port,
            "--all",
            "--rate",
            "0.001",
            "-m",
            model,
            "--resume-file",
            &resume_arg,
        ]);
        // The first finding: the scan now waits for its second start.
        first_line(&mut child);
        ctrl_c(&child);
        let out = finish(child, "a paced scan after Ctrl-C");
        assert_eq!(out.status.code(), Some(130), "{model}");
        // Where it stopped is saved: after the one target taken.
        let state = std::fs::read_to_string(&resume).unwrap();
        assert!(state.contains("\"position\": 1,"), "{model}: {state}");
        std::fs::remove_file(&resume).unwrap();
    }
}

#[test]
fn a_paced_scan_says_how_fast_its_probes_started() {
    let port = closed_port();
    let end = |extra: &[&str]| {
        let mut args = vec!["scan", "127.0.0.0/29", "-p", &port, "--json"];
        args.extend(extra);
        let out = wardial(&args);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        let last = text(&out.stdout).lines().last().unwrap().to_string();
        let end: serde_json::Value = serde_json::from_str(&last).unwrap();
        assert_eq!(end["record"], "end");
        (end, text(&out.stderr))
    };
    let (paced, said) = end(&["--rate", "50"]);
    // Eight starts on a fixed schedule span at least seven intervals; the figure times each
    // start a little after its slot, which may shorten the span it sees, by far less than one
    // more interval. A pace that was not kept shows hundreds or thousands a second.
    let started = paced["started_per_second"].as_f64().unwrap();
    assert!(started > 0.0 && started <= 50.0 * 7.0 / 6.0, "{paced}");
    assert!(
        said.contains("paced at --rate 50: probes started"),
        "{said}"
    );
    let (unpaced, said) = end(&[]);
    assert!(unpaced.get("started_per_second").is_none(), "{unpaced}");
    assert!(!said.contains("paced"), "{said}");
}

#[test]
fn ctrl_c_while_reading_targets_from_stdin_stops_reading() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_wardial"))
        .args(["scan", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // One target, and stdin kept open: the scan cannot start until stdin ends.
    let mut stdin = child.stdin.take().unwrap();
    writeln!(stdin, "127.0.0.1").unwrap();
    wait_for_sigint_handler(&child);
    ctrl_c(&child);
    let out = finish(child, "wardial reading stdin after Ctrl-C");
    assert_eq!(out.status.code(), Some(130));
    let err = text(&out.stderr);
    assert!(
        err.contains("interrupted while reading targets from stdin"),
        "{err}"
    );
    drop(stdin);
}

/// Waits until the child catches SIGINT, so the signal is handled rather than fatal. On Linux
/// `/proc` says so (bit 1 of SigCgt is SIGINT); elsewhere a pause stands in for it.
fn wait_for_sigint_handler(child: &std::process::Child) {
    let status = format!("/proc/{}/status", child.id());
    let give_up = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while std::time::Instant::now() < give_up {
        let Ok(text) = std::fs::read_to_string(&status) else {
            std::thread::sleep(std::time::Duration::from_secs(1));
            return;
        };
        let caught = text
            .lines()
            .find_map(|l| l.strip_prefix("SigCgt:"))
            .and_then(|mask| u64::from_str_radix(mask.trim(), 16).ok())
            .is_some_and(|mask| mask & 0b10 != 0);
        if caught {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
}

#[test]
// One scenario from start to end, as a user would run it: its steps depend on each other.
#[allow(clippy::too_many_lines)]
fn shards_of_a_dry_run_cover_the_range_once_and_exclusions_hold() {
    // Dry runs open no socket; the port is never dialled.
    let mut seen = Vec::new();
    for i in 1..=3 {
        let shard = format!("{i}/3");
        let out = wardial(&[
            "scan",
            "127.0.0.0/22",
            "--port",
            "9",
            "--shard",
            &shard,
            "--seed",
            "7",
            "--dry-run",
        ]);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        seen.extend(text(&out.stdout).lines().map(str::to_string));
    }
    assert_eq!(seen.len(), 1024);
    let mut sorted = seen.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(sorted.len(), 1024, "no address twice");
    // Not ascending: the order is shuffled.
    assert_ne!(seen, sorted);

    let exclude = std::env::temp_dir().join(format!("wardial-exclude-{}", std::process::id()));
    std::fs::write(
        &exclude,
        "# the first half\n127.0.0.0/23\n127.0.2.7 # and one more\n",
    )
    .unwrap();
    let out = wardial(&[
        "scan",
        "127.0.0.0/22",
        "--dry-run",
        "--order",
        "sequential",
        "--exclude",
        exclude.to_str().unwrap(),
    ]);
    let lines = text(&out.stdout);
    assert_eq!(lines.lines().count(), 511);
    assert_eq!(lines.lines().next(), Some("127.0.2.0"));
    assert!(!lines.lines().any(|l| l == "127.0.2.7"));
    std::fs::write(&exclude, "127.0.0.0/33\n").unwrap();
    let out = wardial(&[
        "scan",
        "127.0.0.0/22",
        "--dry-run",
        "--exclude",
        exclude.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains(":1: cannot exclude"),
        "{}",
        text(&out.stderr)
    );
    assert!(out.stdout.is_empty());
    std::fs::remove_file(&exclude).unwrap();

    for bad in ["0/4", "5/4", "1/0", "x"] {
        let out = wardial(&[
            "scan",
            "127.0.0.0/22",
            "--seed",
            "1",
            "--shard",
            bad,
            "--dry-run",
        ]);
        assert_eq!(out.status.code(), Some(2), "{bad}");
        assert_eq!(text(&out.stderr).lines().count(), 1, "{bad}");
    }
    let out = wardial(&["scan", "127.0.0.1", "--rate", "0"]);
    assert_eq!(out.status.code(), Some(2));
}
