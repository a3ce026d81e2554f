//! `cargo xtask check`, the rustlings-style checker CI runs. It writes the starter in one
//! folder again and again, each time a little different (only what differs is rewritten, so
//! cargo rebuilds only that), and grades it:
//!
//! - the whole starter, as students get it: it builds without a warning, and grades 0 points
//!   with task 1 to do first; and none of its files, and no page of the book, holds a solution,
//!   also not with other names (see [`crate::handout`]);
//! - for each task, the starter with only that task removed: each of that task's tests fails,
//!   and every other task keeps its points (a task's points depend only on its own code);
//! - each wrong solution of [`WRONG`], in an otherwise solved starter: its task loses its
//!   points, a failing test says what is wrong, and every other task keeps its points.
//!
//! (The solutions pass because they are the workspace's own code, tested by `cargo test`.)

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use crate::grade::{self, Grade};
use crate::handout::Place;
use crate::{book, root, write_starter, TASKS};

/// A plausible wrong solution: the task, the file, a part of its region's hint, the code a
/// student might write, and what a failing test of the task must say about it.
#[derive(Debug)]
pub struct Wrong {
    pub task: u32,
    pub file: &'static str,
    pub hint: &'static str,
    pub code: &'static str,
    pub says: &'static str,
}

const CIDR: &str = "crates/probe/src/cidr.rs";
const TOKIO: &str = "crates/tokio/src/lib.rs";
const EXECUTOR: &str = "crates/own-runtime/src/executor.rs";
/// Parts of the hints of the regions, to find them by.
const NEXT_BACK: &str = "the same from the other end";
const TALK: &str = "hand what each read returns";
const SCAN: &str = "this loop awaits one probe";
const WAKE: &str = "put this task back on its run queue";

/// Wrong solutions the task tests must catch, each with a message that names the mistake.
pub const WRONG: [Wrong; 12] = [
    // A `next_back` that returns the last address and never moves: `.rev()` never ends.
    Wrong {
        task: 1,
        file: CIDR,
        hint: NEXT_BACK,
        code: "        if self.next >= self.end {\n            return None;\n        }\n        Some(Ipv4Addr::from((self.end - 1) as u32))",
        says: "next_back returned",
    },
    // No deadline: the natural first attempt, which waits forever for a silent host.
    Wrong {
        task: 2,
        file: TOKIO,
        hint: TALK,
        code: r#"    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use wardial_probe::http::Step;
    let _ = timeout;
    let conversation = async {
        let mut stream = tokio::net::TcpStream::connect(target.dial).await?;
        stream.write_all(&target.request()).await?;
        let mut buf = [0u8; 1024];
        loop {
            let n = stream.read(&mut buf).await?;
            if let Step::Done(outcome) = exchange.on_read(&buf[..n]) {
                return Ok(outcome);
            }
        }
    };
    Ok(conversation.await)"#,
        says: "never ended on a silent host",
    },
    // The blocking probe's calls inside the async fn: right answers, one probe at a time.
    Wrong {
        task: 2,
        file: TOKIO,
        hint: TALK,
        code: r#"    use std::io::{Read, Write};
    use wardial_probe::http::Step;
    let deadline = Instant::now() + timeout;
    let left = || deadline.saturating_duration_since(Instant::now()).max(Duration::from_millis(1));
    let mut conversation = || -> io::Result<Outcome> {
        let mut stream = std::net::TcpStream::connect_timeout(&target.dial, left())?;
        stream.set_write_timeout(Some(left()))?;
        stream.write_all(&target.request())?;
        let mut buf = [0u8; 1024];
        loop {
            stream.set_read_timeout(Some(left()))?;
            let n = stream.read(&mut buf)?;
            if let Step::Done(outcome) = exchange.on_read(&buf[..n]) {
                return Ok(outcome);
            }
        }
    };
    Ok(conversation())"#,
        says: "blocks the thread",
    },
    // asyncio.gather in batches: each batch waits for its slowest probe.
    Wrong {
        task: 3,
        file: TOKIO,
        hint: SCAN,
        code: r#"    let timeout = config.timeout();
    let mut targets = config.until_stopped(targets);
    loop {
        let batch: Vec<_> = targets
            .by_ref()
            .take(config.max_connections())
            .map(|t| tokio::spawn(probe(t, timeout)))
            .collect();
        if batch.is_empty() {
            break;
        }
        for finding in futures::future::join_all(batch).await {
            report.finding(finding.expect("a probe task panicked"));
        }
    }"#,
        says: "held the others back",
    },
    // A target taken, then a wait for a free slot, then its probe started: after a stop that
    // landed during the wait.
    Wrong {
        task: 3,
        file: TOKIO,
        hint: SCAN,
        code: r#"    let timeout = config.timeout();
    let mut probes = tokio::task::JoinSet::new();
    for target in config.until_stopped(targets) {
        while probes.len() >= config.max_connections() {
            if let Some(ended) = probes.join_next().await {
                report.finding(ended.expect("a probe task panicked"));
            }
        }
        probes.spawn(probe(target, timeout));
    }
    while let Some(ended) = probes.join_next().await {
        report.finding(ended.expect("a probe task panicked"));
    }"#,
        says: "started after the stop",
    },
    // The targets' blocking `next` inside the loop: a paced scan sleeps there, and the findings
    // of the probes in flight wait until the next start.
    Wrong {
        task: 3,
        file: TOKIO,
        hint: SCAN,
        code: r#"    let timeout = config.timeout();
    let mut targets = config.until_stopped(targets);
    let mut probes = tokio::task::JoinSet::new();
    loop {
        while let Some(ended) = probes.try_join_next() {
            report.finding(ended.expect("a probe task panicked"));
        }
        while probes.len() >= config.max_connections() {
            if let Some(ended) = probes.join_next().await {
                report.finding(ended.expect("a probe task panicked"));
            }
        }
        let Some(target) = targets.next() else {
            break;
        };
        probes.spawn(probe(target, timeout));
    }
    while let Some(ended) = probes.join_next().await {
        report.finding(ended.expect("a probe task panicked"));
    }"#,
        says: "keep handing on findings",
    },
    // Every probe polled inside the scan's own task: concurrent, but starved under load.
    Wrong {
        task: 3,
        file: TOKIO,
        hint: SCAN,
        code: r#"    use futures::stream::{self, StreamExt};
    let timeout = config.timeout();
    let probes = stream::iter(config.until_stopped(targets)).map(|t| probe(t, timeout));
    let mut findings = probes.buffer_unordered(config.max_connections());
    while let Some(finding) = findings.next().await {
        report.finding(finding);
    }"#,
        says: "spawn a task per probe",
    },
    // asyncio.gather's way: every target collected, every probe started, then all joined.
    Wrong {
        task: 3,
        file: TOKIO,
        hint: SCAN,
        code: r#"    let timeout = config.timeout();
    let all: Vec<Target> = config.until_stopped(targets).collect();
    let tasks: Vec<_> = all.into_iter().map(|t| tokio::spawn(probe(t, timeout))).collect();
    for finding in futures::future::join_all(tasks).await {
        report.finding(finding.expect("a probe task panicked"));
    }"#,
        says: "collects its targets",
    },
    // The scan the handout shows (own-runtime's and smol's), with tokio's spawn: its tasks are
    // detached when the scan is dropped.
    Wrong {
        task: 3,
        file: TOKIO,
        hint: SCAN,
        code: r#"    use futures::stream::{self, StreamExt};
    let timeout = config.timeout();
    let probes =
        stream::iter(config.until_stopped(targets)).map(|t| tokio::spawn(probe(t, timeout)));
    let mut findings = probes.buffer_unordered(config.max_connections());
    while let Some(finding) = findings.next().await {
        report.finding(finding.expect("a probe task panicked"));
    }"#,
        says: "left running",
    },
    // A `wake` that queues the task however often it is woken.
    Wrong {
        task: 4,
        file: EXECUTOR,
        hint: WAKE,
        code: "        self.schedule();",
        says: "queued twice",
    },
    // A `wake` that does nothing: no task that waits ever runs again.
    Wrong {
        task: 4,
        file: EXECUTOR,
        hint: WAKE,
        code: "        let _ = self;",
        says: "never polled again",
    },
    // A `wake` that marks the task queued and forgets to queue it.
    Wrong {
        task: 4,
        file: EXECUTOR,
        hint: WAKE,
        code: "        self.queued.store(true, Ordering::Release);",
        says: "never polled again",
    },
];

/// Replaces the solution region of `source` whose marker line contains `hint` by `code`, kept as
/// the solution (so a starter built with every solution holds this one wrong).
pub fn replace_region(source: &str, hint: &str, code: &str) -> Result<String, String> {
    let mut out = String::new();
    let mut skipping = false;
    let mut found = false;
    for line in source.lines() {
        let t = line.trim();
        if t.starts_with("// BEGIN SOLUTION") && t.contains(hint) {
            found = true;
            skipping = true;
            let _ = writeln!(out, "{line}");
            let _ = writeln!(out, "{code}");
            continue;
        }
        if skipping && t.starts_with("// END SOLUTION") {
            skipping = false;
        }
        if !skipping {
            let _ = writeln!(out, "{line}");
        }
    }
    if found {
        Ok(out)
    } else {
        Err(format!("no solution region with the hint '{hint}'"))
    }
}

/// Where starters are built when checked: one target directory for all, so each build reuses
/// the last one's work.
fn starter_target() -> PathBuf {
    root().join("target/starter-check")
}

/// `cargo xtask check` (see the module's documentation).
pub fn check() -> Result<(), String> {
    let started = Instant::now();
    let base = std::env::temp_dir().join(format!("wardial-starter-check-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&base);
    let (work, target) = (base.join("starter"), starter_target());
    let mut problems = Vec::new();
    problems.extend(check_full_starter(&work, &target)?);
    problems.extend(answers_not_in_the_starter(&work)?);
    problems.extend(answers_not_in_the_book(&base.join("book"))?);
    for task in TASKS {
        problems.extend(check_without_task(&work, &target, task)?);
    }
    for (i, wrong) in WRONG.iter().enumerate() {
        problems.extend(check_wrong_solution(&work, &target, i, wrong)?);
    }
    let _ = std::fs::remove_dir_all(&base);
    if problems.is_empty() {
        println!(
            "homework check: ok ({:.0} s)",
            started.elapsed().as_secs_f64()
        );
        Ok(())
    } else {
        Err(format!(
            "homework check failed:\n  {}",
            problems.join("\n  ")
        ))
    }
}

fn grade_quietly(dir: &Path, target: &Path) -> Result<Grade, String> {
    grade::Run {
        target_dir: Some(target),
        task: None,
        quiet: true,
    }
    .grade(dir)
}

/// The tasks other than `task` that have lost their points in `grade`, said as problems.
fn others_lost(grade: &Grade, task: u32, why: &str) -> Vec<String> {
    TASKS
        .iter()
        .filter(|t| **t != task && !grade.done(**t))
        .map(|t| {
            let failing: Vec<String> = grade
                .tests
                .iter()
                .filter(|r| !r.passed && r.name.starts_with(&format!("task{t}_")))
                .map(|r| format!("{} ({})", r.name, r.message.as_deref().unwrap_or("failed")))
                .collect();
            format!(
                "{why} costs task {t} its points: a task's points must depend on its own code only; failing: {}",
                failing.join("; ")
            )
        })
        .collect()
}

/// The starter with only `task` removed: it compiles, each of that task's tests fails, and
/// every other task keeps its points. Returns what is wrong with it.
fn check_without_task(work: &Path, target: &Path, task: u32) -> Result<Vec<String>, String> {
    let started = Instant::now();
    write_starter(work, Some(task), None)?;
    let grade = grade_quietly(work, target)?;
    if let Some(error) = &grade.broken {
        return Err(format!(
            "the starter without task {task} does not compile: {error}"
        ));
    }
    let own = |name: &str| name.starts_with(&format!("task{task}_"));
    let mut problems = Vec::new();
    if !grade.tests.iter().any(|t| own(&t.name)) {
        problems.push(format!("task {task}: no tests named task{task}_*"));
    }
    for t in grade.tests.iter().filter(|t| own(&t.name) && t.passed) {
        problems.push(format!(
            "task {task}: '{}' passes without the solution",
            t.name
        ));
    }
    problems.extend(others_lost(
        &grade,
        task,
        &format!("the starter of task {task}"),
    ));
    println!(
        "task {task}: {} of its tests fail without its solution ({:.0} s)",
        grade
            .tests
            .iter()
            .filter(|t| own(&t.name) && !t.passed)
            .count(),
        started.elapsed().as_secs_f64()
    );
    Ok(problems)
}

/// The whole starter, as students get it: builds without a warning, and grades 0 points with
/// task 1 to do first. Returns what is wrong with it.
fn check_full_starter(work: &Path, target: &Path) -> Result<Vec<String>, String> {
    let started = Instant::now();
    write_starter(work, None, None)?;
    let build = Command::new(env!("CARGO"))
        .args(["build", "--workspace", "--all-targets"])
        .env("CARGO_TARGET_DIR", target)
        .current_dir(work)
        .output()
        .map_err(|e| format!("run cargo build: {e}"))?;
    let stderr = String::from_utf8_lossy(&build.stderr);
    let warnings: Vec<&str> = stderr
        .lines()
        .filter(|l| l.starts_with("warning"))
        .collect();
    let mut problems = Vec::new();
    if !build.status.success() || !warnings.is_empty() {
        problems.push(format!(
            "the starter must build without a warning:\n{stderr}"
        ));
    }
    let grade = grade_quietly(work, target)?;
    let report = grade.report();
    if grade.points() != 0 || !report.contains("next: task 1") {
        problems.push(format!(
            "the starter as shipped must grade 0 points, task 1 first:\n{report}"
        ));
    }
    println!(
        "full starter: {} ({:.0} s)",
        report.lines().next().unwrap_or(""),
        started.elapsed().as_secs_f64()
    );
    Ok(problems)
}

/// The `i`th of the wrong solutions, `wrong`: its task loses its points, a failing test of that
/// task says what is wrong, and no other task loses its points. Returns what is wrong.
fn check_wrong_solution(
    work: &Path,
    target: &Path,
    i: usize,
    wrong: &Wrong,
) -> Result<Vec<String>, String> {
    let started = Instant::now();
    write_starter(work, Some(0), Some(wrong))?;
    let grade = grade_quietly(work, target)?;
    let said = grade
        .tests
        .iter()
        .filter(|t| !t.passed && t.name.starts_with(&format!("task{}_", wrong.task)))
        .any(|t| t.message.as_deref().is_some_and(|m| m.contains(wrong.says)));
    let mut problems = Vec::new();
    if grade.done(wrong.task) || !said {
        problems.push(format!(
            "wrong solution {} of task {} ('{}') must fail its tests saying '{}':\n{}",
            i + 1,
            wrong.task,
            wrong.hint,
            wrong.says,
            grade.report()
        ));
    }
    problems.extend(others_lost(
        &grade,
        wrong.task,
        &format!("wrong solution {} of task {}", i + 1, wrong.task),
    ));
    println!(
        "wrong solution {} of task {}: {} ({:.0} s)",
        i + 1,
        wrong.task,
        if said {
            "caught, with its message"
        } else {
            "NOT caught"
        },
        started.elapsed().as_secs_f64()
    );
    Ok(problems)
}

/// No file of the starter in `work` holds a solution, also not renamed.
fn answers_not_in_the_starter(work: &Path) -> Result<Vec<String>, String> {
    let answers = book::all_answers()?;
    let mut problems = Vec::new();
    let mut files = 0;
    for path in crate::files_under(work)? {
        // Binary files (a build's output) hold no code to compare.
        let Ok(text) = std::fs::read_to_string(&path) else {
            continue;
        };
        files += 1;
        let name = path.strip_prefix(work).unwrap_or(&path).to_string_lossy();
        let place = Place::new(&format!("the starter's {name}"), &text);
        problems.extend(answers.iter().filter_map(|a| place.find(a)));
    }
    println!(
        "starter: {files} files compared with {} solutions",
        answers.len()
    );
    Ok(problems)
}

/// No rendered page of the book holds a solution, also not renamed: the book is built into
/// `dest` (so the one in docs/book is left alone).
fn answers_not_in_the_book(dest: &Path) -> Result<Vec<String>, String> {
    let mut problems: Vec<String> = book::stale_listings()?
        .into_iter()
        .map(|l| format!("the listing of {l} is out of date: `cargo xtask book` writes it again"))
        .collect();
    book::build(dest)?;
    problems.extend(book::pages_show_no_solution(dest)?);
    Ok(problems)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_wrong_solution_names_a_region() {
        for wrong in &WRONG {
            let source = std::fs::read_to_string(root().join(wrong.file)).unwrap();
            let replaced = replace_region(&source, wrong.hint, wrong.code).unwrap();
            assert!(replaced.contains(wrong.code));
            assert!(crate::handout::answers(wrong.file, &source)
                .iter()
                .any(|a| a.task == wrong.task));
        }
    }
}
