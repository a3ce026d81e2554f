//! `cargo xtask grade`: runs the homework's task tests and prints the points, task by task, and
//! which task to do next. A task's points count when all of its tests pass.
//!
//! This file is the grader in the course workspace and in every starter (copied there as is), so
//! it uses nothing but the standard library.

use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;

/// One task of the homework.
pub struct Task {
    pub number: u32,
    pub points: u32,
    pub what: &'static str,
    /// Where to start reading.
    pub read: &'static str,
}

/// The tasks, in the order to do them: each builds on the ones before.
pub const TASKS: [Task; 4] = [
    Task {
        number: 1,
        points: 5,
        what: "the lazy CIDR iterator: `next` and `next_back` in crates/probe/src/cidr.rs",
        read: "the notes' \"The shared core\" (its section on the lazy CIDR iterator) and std's `Iterator` and `DoubleEndedIterator`",
    },
    Task {
        number: 2,
        points: 10,
        what: "the async probe: `probe` in crates/tokio/src/lib.rs",
        read: "the notes' \"The shared core\" (the exchange) and \"async/await\" (`tokio::time::timeout`, `TcpStream`)",
    },
    Task {
        number: 3,
        points: 10,
        what: "the concurrent scan: `scan` in crates/tokio/src/lib.rs",
        read: "the notes' \"async/await\" (the scan) and \"Cancellation and structured concurrency\"; `futures::StreamExt`, `tokio::spawn`",
    },
    Task {
        number: 4,
        points: 5,
        what: "stretch: waking a task in the runtime from scratch: `wake` in crates/own-runtime/src/executor.rs",
        read: "the notes' \"Under the hood\" (the executor) and `std::task::Wake`",
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
                "the workspace does not compile, so no test ran:\n  {error}\n"
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

/// Runs the task tests of the workspace in `dir` (`cargo test` with `target_dir`, if given).
pub fn run(dir: &Path, target_dir: Option<&Path>) -> Result<Grade, String> {
    let mut cmd = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    cmd.args(["test", "--no-fail-fast", "--workspace", "task"])
        .current_dir(dir);
    if let Some(target) = target_dir {
        cmd.env("CARGO_TARGET_DIR", target);
    }
    let output = cmd
        .output()
        .map_err(|e| format!("cannot run cargo test: {e}"))?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    Ok(parse(&stdout, &stderr))
}

/// Reads `cargo test`'s output: each `test NAME ... ok|FAILED` line, and for a failure the
/// first line of its panic message.
pub fn parse(stdout: &str, stderr: &str) -> Grade {
    let mut grade = Grade::default();
    if stderr.contains("could not compile") {
        let first = stderr
            .lines()
            .find(|l| l.starts_with("error"))
            .unwrap_or("could not compile");
        grade.broken = Some(first.to_string());
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
/// any), attached to its test.
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
            if let Some(name) = current.take() {
                if let Some(t) = tests
                    .iter_mut()
                    .find(|t| t.name == name && t.message.is_none())
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
}
