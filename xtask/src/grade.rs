//! `cargo xtask grade`: runs the homework's task tests and prints the points, task by task, and
//! which task to do next. A task's points count when all of its tests pass.
//!
//! Every task test runs in a process of its own, for at most [`LIMIT`]: a test that never ends,
//! whatever the code under test does, is stopped and reported as such, and a test that takes its
//! process down (a stack overflow, an allocation that fails) takes no other test with it. So a
//! grade always ends, and says why each failing test failed.
//!
//! This file is the grader in the course workspace and in every starter (copied there as is), so
//! it uses nothing but the standard library.

use std::fmt::Write as _;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The longest a task test may run. The tests bound their own waits well within it and say
/// what never ended; this is for the rest.
pub const LIMIT: Duration = Duration::from_secs(60);

/// Task tests run at once: most of their time is spent waiting for sockets and timers.
const AT_ONCE: usize = 4;

/// After this long, tests not yet started are not started: the whole grade stays within five
/// minutes even when every test would run out its limit.
const BUDGET: Duration = Duration::from_secs(240);

/// One task of the homework.
pub struct Task {
    pub number: u32,
    pub points: u32,
    pub what: &'static str,
    /// Where to start reading.
    pub read: &'static str,
    /// The package that holds its tests.
    pub package: &'static str,
}

/// The tasks, in the order to do them.
pub const TASKS: [Task; 4] = [
    Task {
        number: 1,
        points: 5,
        what: "the lazy CIDR iterator: `next` and `next_back` in crates/probe/src/cidr.rs",
        read: "the notes' \"The shared core\" (its section on the lazy CIDR iterator) and std's `Iterator` and `DoubleEndedIterator`",
        package: "wardial-probe",
    },
    Task {
        number: 2,
        points: 10,
        what: "the async probe: `talk` in crates/tokio/src/lib.rs",
        read: "the notes' \"The shared core\" (the exchange) and \"async/await\" (`.await`, `tokio::time::timeout`, `TcpStream`)",
        package: "wardial-tokio",
    },
    Task {
        number: 3,
        points: 10,
        what: "the concurrent scan: `scan_with` in crates/tokio/src/lib.rs",
        read: "the notes' \"async/await\" (the scan) and \"Cancellation and structured concurrency\" (`JoinSet`)",
        package: "wardial-tokio",
    },
    Task {
        number: 4,
        points: 5,
        what: "stretch: waking a task in the runtime from scratch: `wake` in crates/own-runtime/src/executor.rs",
        read: "the notes' \"Under the hood\" (the executor) and `std::task::Wake`",
        package: "wardial-own-runtime",
    },
];

/// The points of all tasks together.
pub fn total() -> u32 {
    TASKS.iter().map(|t| t.points).sum()
}

/// One test's result, with what its failure said: the message's first line, and the first line
/// that names a clause of the contract (`[truth] ...`), where the message has one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestResult {
    pub name: String,
    pub passed: bool,
    pub message: Option<String>,
}

/// The grade of a workspace: every task test's result (empty if it does not compile, with the
/// compiler's first error in `broken`).
#[derive(Debug, Default)]
pub struct Grade {
    pub tests: Vec<TestResult>,
    pub broken: Option<String>,
}

impl Grade {
    fn of(&self, task: u32) -> Vec<&TestResult> {
        let prefix = format!("task{task}_");
        self.tests
            .iter()
            .filter(|t| t.name.starts_with(&prefix))
            .collect()
    }

    /// Whether all of `task`'s tests pass (and it has some).
    pub fn done(&self, task: u32) -> bool {
        let tests = self.of(task);
        !tests.is_empty() && tests.iter().all(|t| t.passed)
    }

    pub fn points(&self) -> u32 {
        TASKS
            .iter()
            .filter(|t| self.done(t.number))
            .map(|t| t.points)
            .sum()
    }

    /// The table, and what to do next.
    pub fn report(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "wardial homework: {} of {} points\n",
            self.points(),
            total()
        );
        if let Some(error) = &self.broken {
            let _ = writeln!(
                out,
                "the workspace does not compile, so the tests of the package it stops did not run:\n  {error}\n"
            );
        }
        let _ = writeln!(out, "task  points   tests passed  what");
        for task in &TASKS {
            let tests = self.of(task.number);
            let passed = tests.iter().filter(|t| t.passed).count();
            let got = if self.done(task.number) {
                task.points
            } else {
                0
            };
            let _ = writeln!(
                out,
                "{:>4}  {:>2} / {:<2}  {:>5} of {:<3}  {}",
                task.number,
                got,
                task.points,
                passed,
                tests.len(),
                task.what
            );
        }
        match TASKS.iter().find(|t| !self.done(t.number)) {
            None => {
                let _ = writeln!(out, "\nevery task is done.");
            }
            Some(next) => {
                let _ = writeln!(
                    out,
                    "\nnext: task {} ({} points), {}\n  read: {}",
                    next.number, next.points, next.what, next.read
                );
                for t in self.of(next.number).iter().filter(|t| !t.passed) {
                    let why = t.message.as_deref().unwrap_or("failed");
                    let _ = writeln!(out, "  {} fails: {why}", t.name);
                }
            }
        }
        out
    }
}

/// How to grade: where to build, which task (all by default), and whether to say what runs.
#[derive(Debug, Default, Clone, Copy)]
pub struct Run<'a> {
    pub target_dir: Option<&'a Path>,
    pub task: Option<u32>,
    /// Nothing on stderr while it runs (for `cargo xtask check`, which grades many times).
    pub quiet: bool,
}

/// Runs every task test of the workspace in `dir` (see [`Run::grade`]).
pub fn run(dir: &Path, target_dir: Option<&Path>) -> Result<Grade, String> {
    Run {
        target_dir,
        ..Run::default()
    }
    .grade(dir)
}

impl Run<'_> {
    /// Builds the workspace in `dir` and runs its task tests, each in a process of its own
    /// within [`LIMIT`]. `Err` only when cargo itself cannot be run.
    pub fn grade(&self, dir: &Path) -> Result<Grade, String> {
        self.say("building the workspace and its tests...");
        let package = self
            .task
            .and_then(|n| TASKS.iter().find(|t| t.number == n))
            .map(|t| t.package);
        let (binaries, broken) = match self.build(dir, package)? {
            Ok(binaries) => (binaries, None),
            Err(broken) if package.is_none() => {
                // Code that does not compile stops only its own package: the others' tests
                // still run, so one task's compile error costs no other package's task.
                let mut packages: Vec<&str> = TASKS.iter().map(|t| t.package).collect();
                packages.dedup();
                let mut binaries = Vec::new();
                for package in packages {
                    binaries.extend(self.build(dir, Some(package))?.unwrap_or_default());
                }
                (binaries, Some(broken))
            }
            Err(broken) => (Vec::new(), Some(broken)),
        };
        let prefix = self.task.map(|t| format!("task{t}_"));
        let mut tests = Vec::new();
        for binary in &binaries {
            for name in binary.list()? {
                let wanted = match &prefix {
                    Some(p) => name.starts_with(p.as_str()),
                    None => name.starts_with("task"),
                };
                if wanted {
                    tests.push((binary, name));
                }
            }
        }
        tests.sort_by(|a, b| a.1.cmp(&b.1));
        self.say(&format!(
            "running {} task tests, {AT_ONCE} at a time, each stopped after {} s...",
            tests.len(),
            LIMIT.as_secs()
        ));
        Ok(Grade {
            tests: self.run_all(&tests)?,
            broken,
        })
    }

    fn say(&self, line: &str) {
        if !self.quiet {
            eprintln!("{line}");
        }
    }

    /// `cargo test --no-run`, of `package` or of the whole workspace: the test binaries, or the
    /// compiler's first error.
    fn build(
        &self,
        dir: &Path,
        package: Option<&str>,
    ) -> Result<Result<Vec<Binary>, String>, String> {
        let mut cmd = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
        cmd.args([
            "test",
            "--no-run",
            "--message-format=json-render-diagnostics",
        ])
        .current_dir(dir);
        match package {
            Some(package) => cmd.args(["--package", package]),
            None => cmd.arg("--workspace"),
        };
        if let Some(target) = self.target_dir {
            cmd.env("CARGO_TARGET_DIR", target);
        }
        let output = cmd
            .output()
            .map_err(|e| format!("cannot run cargo test: {e}"))?;
        let stdout = String::from_utf8_lossy(&output.stdout);
        let stderr = String::from_utf8_lossy(&output.stderr);
        if !output.status.success() {
            return Ok(Err(first_error(&stderr)));
        }
        Ok(Ok(stdout
            .lines()
            .filter_map(Binary::from_artifact)
            .collect()))
    }

    /// Runs `tests`, [`AT_ONCE`] at a time, and returns their results in the same order.
    fn run_all(&self, tests: &[(&Binary, String)]) -> Result<Vec<TestResult>, String> {
        let started = Instant::now();
        let mut results: Vec<Option<TestResult>> = vec![None; tests.len()];
        let mut running: Vec<(usize, Running)> = Vec::new();
        let mut next = 0;
        while next < tests.len() || !running.is_empty() {
            while running.len() < AT_ONCE && next < tests.len() {
                let (binary, name) = &tests[next];
                if started.elapsed() > BUDGET {
                    results[next] = Some(TestResult {
                        name: name.clone(),
                        passed: false,
                        message: Some("not run: the grade ran out of time before it got here (other tests ran out their limit)".into()),
                    });
                } else {
                    running.push((next, binary.start(name, next)?));
                }
                next += 1;
            }
            let mut i = 0;
            while i < running.len() {
                if let Some(result) = running[i].1.poll()? {
                    let (at, run) = running.swap_remove(i);
                    self.say(&format!(
                        "  {} ... {} ({:.1} s)",
                        result.name,
                        if result.passed { "ok" } else { "FAILED" },
                        run.started.elapsed().as_secs_f64()
                    ));
                    results[at] = Some(result);
                } else {
                    i += 1;
                }
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Ok(results.into_iter().flatten().collect())
    }
}

/// A test binary that `cargo test --no-run` built, and the package folder it runs in.
#[derive(Debug)]
struct Binary {
    path: PathBuf,
    package: PathBuf,
}

impl Binary {
    /// From one line of cargo's JSON output: a binary built in test mode.
    fn from_artifact(line: &str) -> Option<Binary> {
        if !line.contains("\"reason\":\"compiler-artifact\"") {
            return None;
        }
        let profile = line.split("\"profile\":{").nth(1)?;
        let profile = &profile[..profile.find('}')?];
        if !profile.contains("\"test\":true") {
            return None;
        }
        let path = PathBuf::from(json_string(line, "executable")?);
        let manifest = PathBuf::from(json_string(line, "manifest_path")?);
        Some(Binary {
            path,
            package: manifest.parent()?.to_path_buf(),
        })
    }

    /// The names of its tests.
    fn list(&self) -> Result<Vec<String>, String> {
        let out = Command::new(&self.path)
            .args(["--list", "--format", "terse"])
            .current_dir(&self.package)
            .output()
            .map_err(|e| format!("cannot run {}: {e}", self.path.display()))?;
        Ok(String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter_map(|l| l.strip_suffix(": test"))
            .map(str::to_string)
            .collect())
    }

    /// Starts test `name` alone in a process of its own, its output going to files numbered `n`.
    fn start(&self, name: &str, n: usize) -> Result<Running, String> {
        let files = std::env::temp_dir().join(format!("wardial-grade-{}-{n}", std::process::id()));
        let (out, err) = (files.with_extension("out"), files.with_extension("err"));
        let create = |p: &Path| File::create(p).map_err(|e| format!("{}: {e}", p.display()));
        let child = Command::new(&self.path)
            .args(["--exact", name, "--test-threads", "1"])
            .current_dir(&self.package)
            .env("CARGO_MANIFEST_DIR", &self.package)
            .env("RUST_BACKTRACE", "0")
            .stdin(Stdio::null())
            .stdout(create(&out)?)
            .stderr(create(&err)?)
            .spawn()
            .map_err(|e| format!("cannot run {}: {e}", self.path.display()))?;
        Ok(Running {
            name: name.to_string(),
            child,
            started: Instant::now(),
            out,
            err,
        })
    }
}

/// A test running in its own process.
struct Running {
    name: String,
    child: Child,
    started: Instant,
    out: PathBuf,
    err: PathBuf,
}

impl Running {
    /// Its result once it has ended (or has been stopped for running out of [`LIMIT`]).
    fn poll(&mut self) -> Result<Option<TestResult>, String> {
        let status = self
            .child
            .try_wait()
            .map_err(|e| format!("waiting for {}: {e}", self.name))?;
        let stopped = status.is_none() && self.started.elapsed() > LIMIT;
        if status.is_none() && !stopped {
            return Ok(None);
        }
        if stopped {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
        let stdout = std::fs::read_to_string(&self.out).unwrap_or_default();
        let stderr = std::fs::read_to_string(&self.err).unwrap_or_default();
        let _ = std::fs::remove_file(&self.out);
        let _ = std::fs::remove_file(&self.err);
        let mut grade = parse(&stdout, "");
        if let Some(found) = grade.tests.drain(..).find(|t| t.name == self.name) {
            return Ok(Some(found));
        }
        // No verdict from the test harness: the test was stopped, or its process died.
        let message = if stopped {
            format!(
                "did not end within {} s and was stopped: something in it waits forever",
                LIMIT.as_secs()
            )
        } else {
            let said = |text: &str| {
                text.lines()
                    .rfind(|l| !l.trim().is_empty())
                    .map(str::to_string)
            };
            let last = said(&stderr).or_else(|| said(&stdout)).unwrap_or_default();
            let how = status.map_or_else(String::new, |s| s.to_string());
            format!("its process died before the test ended ({how}): {last}")
        };
        Ok(Some(TestResult {
            name: self.name.clone(),
            passed: false,
            message: Some(message),
        }))
    }
}

/// The compiler's first error, and where it is.
fn first_error(stderr: &str) -> String {
    let mut lines = stderr.lines().skip_while(|l| !l.starts_with("error"));
    let Some(error) = lines.next() else {
        return "could not compile".into();
    };
    match lines
        .next()
        .map(str::trim)
        .and_then(|l| l.strip_prefix("--> "))
    {
        Some(place) => format!("{error} (at {place})"),
        None => error.to_string(),
    }
}

/// The string value of `"key":"..."` in a line of JSON, unescaped.
fn json_string(line: &str, key: &str) -> Option<String> {
    let start = line.find(&format!("\"{key}\":\""))? + key.len() + 4;
    let mut value = String::new();
    let mut chars = line[start..].chars();
    while let Some(c) = chars.next() {
        match c {
            '"' => return Some(value),
            '\\' => match chars.next()? {
                'n' => value.push('\n'),
                't' => value.push('\t'),
                'u' => {
                    let hex: String = chars.by_ref().take(4).collect();
                    value.push(char::from_u32(u32::from_str_radix(&hex, 16).ok()?)?);
                }
                other => value.push(other),
            },
            c => value.push(c),
        }
    }
    None
}

/// Reads `cargo test`'s output: each `test NAME ... ok|FAILED` line, and for a failure the
/// first line of its panic message.
pub fn parse(stdout: &str, stderr: &str) -> Grade {
    let mut grade = Grade::default();
    if stderr.contains("could not compile") {
        grade.broken = Some(first_error(stderr));
    }
    grade.tests = outcomes(stdout);
    attach_messages(stdout, &mut grade.tests);
    grade
}

/// Each `test NAME ... ok|FAILED` line, in order.
fn outcomes(stdout: &str) -> Vec<TestResult> {
    let mut tests = Vec::new();
    for line in stdout.lines() {
        let Some(rest) = line.strip_prefix("test ") else {
            continue;
        };
        let (name, passed) = if let Some(name) = rest.strip_suffix(" ... ok") {
            (name, true)
        } else if let Some(name) = rest.strip_suffix(" ... FAILED") {
            (name, false)
        } else {
            continue;
        };
        tests.push(TestResult {
            name: name.to_string(),
            passed,
            message: None,
        });
    }
    tests
}

/// The first line of each failure's panic message (and the conformance clause it names, if
/// any), attached to its test. Where a test's output holds several panics (one on a thread of
/// the test's, then the test's own), the first is the cause.
fn attach_messages(stdout: &str, tests: &mut [TestResult]) {
    // The failures' output: "---- NAME stdout ----", then "thread '...' panicked at ...:",
    // then the message.
    let mut current: Option<String> = None;
    let mut lines = stdout.lines().peekable();
    while let Some(line) = lines.next() {
        if let Some(name) = line
            .strip_prefix("---- ")
            .and_then(|l| l.strip_suffix(" stdout ----"))
        {
            current = Some(name.to_string());
        } else if line.contains("panicked at") {
            // The message runs until a blank line or the backtrace's note.
            let mut said: Vec<&str> = Vec::new();
            while let Some(next) = lines.peek() {
                if next.trim().is_empty()
                    || next.starts_with("note:")
                    || next.starts_with("stack backtrace")
                {
                    break;
                }
                said.push(lines.next().unwrap_or("").trim());
            }
            let first = said.first().copied().unwrap_or("");
            let clause = said.iter().skip(1).find(|l| l.starts_with('['));
            let message = match clause {
                Some(clause) => format!("{first} {clause}"),
                None => first.to_string(),
            };
            if let Some(name) = &current {
                if let Some(t) = tests
                    .iter_mut()
                    .find(|t| &t.name == name && t.message.is_none())
                {
                    t.message = Some(message);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn points_count_when_every_test_of_a_task_passes() {
        let stdout = "\
test task1_a ... ok
test task1_b ... ok
test task2_a ... FAILED
test task3_a ... ok
test a_panicking_task_is_reported ... ok

failures:

---- task2_a stdout ----

thread 'task2_a' panicked at crates/tokio/src/lib.rs:40:5:
not yet implemented: Task 2: the async probe
note: run with `RUST_BACKTRACE=1`
";
        let grade = parse(stdout, "");
        assert_eq!(grade.points(), 5 + 10);
        let report = grade.report();
        assert!(
            report.starts_with("wardial homework: 15 of 30 points"),
            "{report}"
        );
        assert!(report.contains("next: task 2"), "{report}");
        assert!(
            report.contains("task2_a fails: not yet implemented: Task 2: the async probe"),
            "{report}"
        );
        // A task with no tests at all is not done.
        assert!(!grade.done(4));
    }

    #[test]
    fn the_first_panic_of_a_test_is_its_message() {
        let stdout = "\
test task2_b ... FAILED

failures:

---- task2_b stdout ----

thread 'task2_b' panicked at crates/tokio/src/lib.rs:40:5:
not yet implemented: Task 2: the async probe

thread 'task2_b' panicked at crates/testkit/src/lib.rs:9:5:
the probe failed
";
        let grade = parse(stdout, "");
        assert_eq!(
            grade.tests[0].message.as_deref(),
            Some("not yet implemented: Task 2: the async probe")
        );
    }

    #[test]
    fn test_binaries_are_read_from_cargos_messages() {
        let line = r#"{"reason":"compiler-artifact","package_id":"x","manifest_path":"/w/crates/tokio/Cargo.toml","target":{"kind":["test"],"name":"task2_probe","test":true},"profile":{"opt_level":"0","test":true},"features":[],"filenames":["/w/target/debug/deps/task2_probe-1"],"executable":"/w/target/debug/deps/task2_probe-1","fresh":true}"#;
        let binary = Binary::from_artifact(line).expect("a test binary");
        assert_eq!(binary.path, Path::new("/w/target/debug/deps/task2_probe-1"));
        assert_eq!(binary.package, Path::new("/w/crates/tokio"));
        let built = line.replace(r#""opt_level":"0","test":true"#, r#""test":false"#);
        assert!(Binary::from_artifact(&built).is_none(), "not a test build");
        assert_eq!(
            json_string(r#"{"a":"C:\\w\\x \"y\""}"#, "a").as_deref(),
            Some(r#"C:\w\x "y""#)
        );
    }
}
