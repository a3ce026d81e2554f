//! `cargo xtask`: the homework, generated from the crates themselves.
//!
//! Solution regions in the crates are marked, as nbgrader marks them:
//!
//! ```text
//! // BEGIN SOLUTION Task 3: the hint a student sees
//! ...the solution, compiled and tested with the rest of the workspace...
//! // STARTER
//! // ...optional: what the student gets instead (commented out here); without it, todo!()
//! // END SOLUTION
//! ```
//!
//! - `cargo xtask starter OUT_DIR` writes a standalone workspace (probe, simnet, tokio,
//!   own-runtime) with every region replaced by its starter code or `todo!("Task N: hint")`, and
//!   the task tests that grade it.
//! - `cargo xtask check` is the rustlings-style checker CI runs: for each task, a starter with only
//!   that task removed must compile, fail every one of that task's tests, and pass every other
//!   test except those of later tasks (which build on it); the full starter must fail every task
//!   test.
//!   (The solutions pass because they are the workspace's own code, tested by `cargo test`.)
//! - `cargo xtask results` measures every figure of the results chapter again (see [`results`]).
//! - `cargo xtask book` checks that every `{{#include FILE:ANCHOR}}` in the course notes names a
//!   file and an anchor that exist, so the book cannot silently lose a snippet.

mod grade;
mod results;

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

/// The crates a starter holds, and the files of each that it copies.
const CRATES: [(&str, &[&str]); 4] = [
    (
        "probe",
        &[
            "src/lib.rs",
            "src/cidr.rs",
            "src/http.rs",
            "tests/task1_cidr.rs",
            "tests/task1_lazy.rs",
        ],
    ),
    (
        "simnet",
        &[
            "src/lib.rs",
            "src/world.rs",
            "src/server.rs",
            "src/conformance.rs",
        ],
    ),
    (
        "tokio",
        &[
            "src/lib.rs",
            "examples/scan.rs",
            "tests/task2_probe.rs",
            "tests/task3_concurrent.rs",
        ],
    ),
    (
        "own-runtime",
        &[
            "src/lib.rs",
            "src/executor.rs",
            "src/reactor.rs",
            "src/io.rs",
            "src/state_machine.rs",
            "src/promises.rs",
            "src/async_fn.rs",
            "tests/task4_wake.rs",
        ],
    ),
];

const TASKS: [u32; 4] = [1, 2, 3, 4];

/// A plausible wrong solution: the task, the file, a part of its region's hint, the code a
/// student might write, and what the failing test must say about it.
struct Wrong {
    task: u32,
    file: &'static str,
    hint: &'static str,
    code: &'static str,
    says: &'static str,
}

/// Wrong solutions the task tests must catch, each with a message that says what is wrong.
const WRONG: [Wrong; 3] = [
    // A `next_back` that returns the last address and never moves: `.rev()` never ends.
    Wrong {
        task: 1,
        file: "crates/probe/src/cidr.rs",
        hint: "the same from the other end",
        code: "        if self.next >= self.end {\n            return None;\n        }\n        Some(Ipv4Addr::from((self.end - 1) as u32))",
        says: "next_back returned",
    },
    // Every probe polled inside the scan's own task: concurrent, but starved under load.
    Wrong {
        task: 3,
        file: "crates/tokio/src/lib.rs",
        hint: "this loop awaits one probe",
        code: "    use futures::stream::{self, StreamExt};\n    let timeout = config.timeout();\n    let probes = stream::iter(config.until_stopped(targets)).map(|t| probe(t, timeout));\n    let mut findings = probes.buffer_unordered(config.max_connections());\n    while let Some(finding) = findings.next().await {\n        report.finding(finding);\n    }",
        says: "spawn a task per probe",
    },
    // asyncio.gather's way: every target collected, every probe started, then all joined.
    Wrong {
        task: 3,
        file: "crates/tokio/src/lib.rs",
        hint: "this loop awaits one probe",
        code: "    let timeout = config.timeout();\n    let all: Vec<Target> = config.until_stopped(targets).collect();\n    let tasks: Vec<_> = all.into_iter().map(|t| tokio::spawn(probe(t, timeout))).collect();\n    for finding in futures::future::join_all(tasks).await {\n        report.finding(finding.expect(\"a probe task panicked\"));\n    }",
        says: "collects its targets",
    },
];

/// `cargo xtask grade [DIR]`: the points of the workspace in DIR (this one by default).
fn grade_here(dir: &Path) -> Result<(), String> {
    let grade = grade::run(dir, None)?;
    print!("{}", grade.report());
    Ok(())
}

/// Replaces the solution region of `source` whose marker line contains `hint` by `code`, kept as
/// the solution (so a starter built with every solution holds this one wrong).
fn replace_region(source: &str, hint: &str, code: &str) -> Result<String, String> {
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

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.iter().map(String::as_str).collect::<Vec<_>>()[..] {
        ["starter", out] => starter(Path::new(out), None),
        ["starter", out, "--only", n] => match n.parse() {
            Ok(n) if TASKS.contains(&n) => starter(Path::new(out), Some(n)),
            _ => Err(format!("--only takes a task number: {TASKS:?}")),
        },
        ["check"] => check(),
        ["book"] => book(),
        ["results"] => results::results(),
        ["grade"] => grade_here(&root()),
        ["grade", dir] => grade_here(Path::new(dir)),
        _ => Err(
            "usage: cargo xtask starter OUT_DIR [--only TASK] | cargo xtask check | cargo xtask grade [DIR] | cargo xtask book | cargo xtask results"
                .into(),
        ),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: {e}");
            ExitCode::from(2)
        }
    }
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives in the workspace")
        .to_path_buf()
}

/// Replaces the solution regions of `source` (all, or only task `only`'s).
pub fn strip_solutions(source: &str, only: Option<u32>) -> Result<String, String> {
    let mut out = String::new();
    let mut region: Option<Region> = None;
    for (n, line) in source.lines().enumerate() {
        let trimmed = line.trim_start();
        region = match region {
            None => {
                if let Some(rest) = trimmed.strip_prefix("// BEGIN SOLUTION Task ") {
                    let indent = &line[..line.len() - trimmed.len()];
                    Some(Region::begin(rest, indent, n + 1)?)
                } else {
                    out.push_str(line);
                    out.push('\n');
                    None
                }
            }
            Some(region) if trimmed == "// END SOLUTION" => {
                region.emit(&mut out, only);
                None
            }
            Some(mut region) => {
                region.push_line(line, trimmed, n + 1)?;
                Some(region)
            }
        };
    }
    match region {
        None => Ok(out),
        Some(_) => Err("a solution region is not closed with '// END SOLUTION'".into()),
    }
}

/// A solution region of a source, read up to its `// END SOLUTION`.
struct Region {
    task: u32,
    hint: String,
    /// The indentation of its `// BEGIN SOLUTION` line, which the hint, the `todo!()` and the
    /// starter code take.
    indent: String,
    /// The solution's lines, as they are.
    kept: Vec<String>,
    /// The starter's lines, uncommented: `None` until the `// STARTER` line.
    starter: Option<Vec<String>>,
}

impl Region {
    /// Opens a region at line `n`, from what follows `// BEGIN SOLUTION Task ` (`N: hint`).
    fn begin(rest: &str, indent: &str, n: usize) -> Result<Self, String> {
        let (task, hint) = rest.split_once(':').ok_or(format!(
            "line {n}: expected '// BEGIN SOLUTION Task N: hint'"
        ))?;
        let task = task
            .trim()
            .parse()
            .map_err(|_| format!("line {n}: bad task number"))?;
        Ok(Self {
            task,
            hint: hint.trim().to_string(),
            indent: indent.to_string(),
            kept: Vec::new(),
            starter: None,
        })
    }

    /// Takes line `n` of the region (not its end): the `// STARTER` line, or a line of the
    /// solution or of the starter.
    fn push_line(&mut self, line: &str, trimmed: &str, n: usize) -> Result<(), String> {
        let Some(starter) = &mut self.starter else {
            if trimmed == "// STARTER" {
                self.starter = Some(Vec::new());
            } else {
                self.kept.push(line.to_string());
            }
            return Ok(());
        };
        let code = trimmed
            .strip_prefix("// ")
            .or_else(|| trimmed.strip_prefix("//"))
            .ok_or(format!("line {n}: starter lines are comments"))?;
        starter.push(format!("{}{code}", self.indent));
        Ok(())
    }

    /// Writes the region to `out`: replaced by its hint and starter code (or `todo!()`) if its
    /// task is `only` or `only` is `None`, else its solution as it is.
    fn emit(&self, out: &mut String, only: Option<u32>) {
        let (task, indent) = (self.task, &self.indent);
        let replace = only.is_none_or(|t| t == task);
        if !replace {
            for line in &self.kept {
                let _ = writeln!(out, "{line}");
            }
            return;
        }
        // The hint as a comment, wrapped to the code's 100 columns.
        let mut line = format!("{indent}// Task {task}:");
        for word in self.hint.split_whitespace() {
            if line.len() + 1 + word.len() > 100 {
                let _ = writeln!(out, "{line}");
                line = format!("{indent}//");
            }
            line.push(' ');
            line.push_str(word);
        }
        let _ = writeln!(out, "{line}");
        let starter = self.starter.as_deref().unwrap_or_default();
        if starter.is_empty() {
            // A statement, so it fits both tail and statement positions: a block that ends in
            // a diverging statement may have any type.
            let _ = writeln!(
                out,
                "{indent}todo!(\"Task {task}: see the comment above\");"
            );
        }
        for line in starter {
            let _ = writeln!(out, "{line}");
        }
    }
}

/// Drops the `#[cfg(test)]` module at the end of a file: a starter is graded by its task tests
/// only.
fn without_unit_tests(source: &str) -> String {
    match source.find("\n#[cfg(test)]") {
        Some(i) => source[..=i].to_string(),
        None => source.to_string(),
    }
}

/// The starter's workspace manifest: the root's shared sections, without the root package and
/// with only the dependencies the starter's crates (their `manifests`, together) use.
fn workspace_manifest(root_manifest: &str, manifests: &str) -> String {
    let start = root_manifest.find("[workspace.package]").unwrap_or(0);
    let end = root_manifest
        .find("\n[package]")
        .unwrap_or(root_manifest.len());
    // Every section as it is, but the dependencies: only those a starter crate names; and no
    // comments, which speak of crates the starter does not have.
    let mut shared = Vec::new();
    let mut in_dependencies = false;
    for line in root_manifest[start..end].lines() {
        let t = line.trim();
        if t.starts_with('[') {
            in_dependencies = t == "[workspace.dependencies]";
        }
        if t.starts_with('#') {
            continue;
        }
        let line = line.split(" #").next().unwrap_or(line).trim_end();
        let name = t.split([' ', '=']).next().unwrap_or("");
        if in_dependencies
            && !t.starts_with('[')
            && !name.is_empty()
            && !manifests.contains(&format!("\n{name}.workspace"))
        {
            continue;
        }
        shared.push(line);
    }
    format!(
        "# The wardial homework; see README.md.\n[workspace]\nmembers = [\"crates/*\", \"xtask\"]\nresolver = \"2\"\n\n{}\n",
        shared.join("\n").trim_end()
    )
}

fn starter(out: &Path, only: Option<u32>) -> Result<(), String> {
    write_starter(out, only, None)?;
    println!(
        "wrote the homework starter to {}; there, `cargo xtask grade` says what to do first",
        out.display()
    );
    Ok(())
}

/// Writes a starter: every task's region replaced by its starter code (or only task `only`'s:
/// `Some(0)` keeps every solution), and, if `wrong` is given, that region holding a wrong
/// solution instead.
fn write_starter(out: &Path, only: Option<u32>, wrong: Option<&Wrong>) -> Result<(), String> {
    let root = root();
    if out.exists()
        && std::fs::read_dir(out)
            .map_err(|e| format!("read OUT_DIR: {e}"))?
            .next()
            .is_some()
    {
        return Err(format!("{} exists and is not empty", out.display()));
    }
    let mut manifests = String::new();
    for (krate, files) in CRATES {
        manifests.push_str(&write_starter_crate(&root, out, krate, files, only, wrong)?);
    }
    write_grader(out)?;
    let workspace =
        std::fs::read_to_string(root.join("Cargo.toml")).map_err(|e| format!("Cargo.toml: {e}"))?;
    write_file(
        &out.join("Cargo.toml"),
        &workspace_manifest(&workspace, &manifests),
    )?;
    // The same dependency versions as the course workspace, so it builds as it was tested.
    std::fs::copy(root.join("Cargo.lock"), out.join("Cargo.lock"))
        .map_err(|e| format!("Cargo.lock: {e}"))?;
    let readme = std::fs::read_to_string(root.join("docs/src/homework.md"))
        .map_err(|e| format!("homework.md: {e}"))?;
    write_file(&out.join("README.md"), &readme)
}

/// Copies `files` of `krate` into the starter in `out`, with the solution regions of its
/// sources replaced as [`write_starter`] says, and writes the crate's manifest for the starter;
/// returns that manifest.
fn write_starter_crate(
    root: &Path,
    out: &Path,
    krate: &str,
    files: &[&str],
    only: Option<u32>,
    wrong: Option<&Wrong>,
) -> Result<String, String> {
    let from = root.join("crates").join(krate);
    let to = out.join("crates").join(krate);
    let mut sources = String::new();
    for file in files {
        let mut text =
            std::fs::read_to_string(from.join(file)).map_err(|e| format!("{file}: {e}"))?;
        if let Some(w) = wrong.filter(|w| w.file == format!("crates/{krate}/{file}")) {
            text = replace_region(&text, w.hint, w.code)?;
        }
        let text = if file.starts_with("src/") {
            strip_solutions(&without_unit_tests(&text), only)
                .map_err(|e| format!("{krate}/{file}: {e}"))?
        } else {
            text
        };
        sources.push_str(&text);
        write_file(&to.join(file), &text)?;
    }
    let manifest =
        std::fs::read_to_string(from.join("Cargo.toml")).map_err(|e| format!("Cargo.toml: {e}"))?;
    let manifest = crate_manifest(&manifest, &sources);
    write_file(&to.join("Cargo.toml"), &manifest)?;
    Ok(manifest)
}

/// The grader, as `cargo xtask grade`.
fn write_grader(out: &Path) -> Result<(), String> {
    write_file(&out.join("xtask/Cargo.toml"), GRADER_MANIFEST)?;
    write_file(&out.join("xtask/src/main.rs"), GRADER_MAIN)?;
    write_file(
        &out.join("xtask/src/grade.rs"),
        &without_unit_tests(include_str!("grade.rs")),
    )?;
    write_file(
        &out.join(".cargo/config.toml"),
        "[alias]\n# Your points, task by task, and what to do next.\nxtask = \"run --quiet --package xtask --\"\n",
    )
}

/// Writes `text` to `dest`, making its folder first.
fn write_file(dest: &Path, text: &str) -> Result<(), String> {
    std::fs::create_dir_all(dest.parent().expect("a file has a folder"))
        .map_err(|e| format!("mkdir: {e}"))?;
    std::fs::write(dest, text).map_err(|e| format!("write: {e}"))
}

/// The starter's grader crate.
const GRADER_MANIFEST: &str =
    "[package]\nname = \"xtask\"\nversion = \"0.1.0\"\nedition = \"2021\"\npublish = false\n";
const GRADER_MAIN: &str = "//! `cargo xtask grade`: your points, task by task, and what to do next.\n\nmod grade;\n\nfn main() -> std::process::ExitCode {\n    let workspace = std::path::Path::new(env!(\"CARGO_MANIFEST_DIR\")).join(\"..\");\n    match std::env::args().nth(1).as_deref() {\n        Some(\"grade\") => match grade::run(&workspace, None) {\n            Ok(grade) => {\n                print!(\"{}\", grade.report());\n                std::process::ExitCode::SUCCESS\n            }\n            Err(e) => {\n                eprintln!(\"xtask: {e}\");\n                std::process::ExitCode::from(2)\n            }\n        },\n        _ => {\n            eprintln!(\"usage: cargo xtask grade\");\n            std::process::ExitCode::from(2)\n        }\n    }\n}\n";

/// A crate's manifest for the starter: without what the starter has no use for (benches, and
/// dev-dependencies that none of its copied files names).
fn crate_manifest(manifest: &str, sources: &str) -> String {
    let mut out = String::new();
    let mut section = "";
    for line in manifest.lines() {
        let t = line.trim();
        if t.starts_with('[') {
            section = if t == "[dev-dependencies]" { "dev" } else { "" };
        }
        if t == "bench = false" {
            continue;
        }
        if section == "dev" {
            if let Some(name) = t
                .split(['.', ' ', '='])
                .next()
                .filter(|n| !n.is_empty() && !n.starts_with('['))
            {
                if !sources.contains(&name.replace('-', "_")) {
                    continue;
                }
            }
        }
        let _ = writeln!(out, "{line}");
    }
    // A section left empty (`[lib]` without its `bench = false`) says nothing: drop it.
    out.replace("[lib]\n\n", "")
        .replace("[dev-dependencies]\n\n", "")
}

/// Where starters are built when checked: one target directory for all, so each build reuses
/// the last one's work.
fn starter_target() -> PathBuf {
    root().join("target/starter-check")
}

/// `cargo xtask check`, the rustlings-style checker CI runs:
/// - for each task, a starter with only that task removed: that task's tests fail, and every
///   other test passes except later tasks' (which build on it);
/// - the whole starter as students get it: builds without a warning, and grades 0 points with
///   task 1 to do first;
/// - each wrong solution in [`WRONG`]: its task loses its points, with the message that says
///   what is wrong.
///
/// (The solutions pass because they are the workspace's own code, tested by `cargo test`.)
fn check() -> Result<(), String> {
    let base = std::env::temp_dir().join(format!("wardial-starter-check-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&base);
    let target = starter_target();
    let mut problems = Vec::new();
    for task in TASKS {
        problems.extend(check_without_task(&base, &target, task)?);
    }
    problems.extend(check_full_starter(&base, &target)?);
    for (i, wrong) in WRONG.iter().enumerate() {
        problems.extend(check_wrong_solution(&base, &target, i, wrong)?);
    }
    let _ = std::fs::remove_dir_all(&base);
    if problems.is_empty() {
        println!("homework check: ok");
        Ok(())
    } else {
        Err(format!(
            "homework check failed:\n  {}",
            problems.join("\n  ")
        ))
    }
}

/// A starter with only `task` removed, built in `base` with the target directory `target`:
/// it compiles, that task's tests fail, and every other test passes except later tasks'.
/// Returns what is wrong with it.
fn check_without_task(base: &Path, target: &Path, task: u32) -> Result<Vec<String>, String> {
    let dir = base.join(format!("task{task}"));
    write_starter(&dir, Some(task), None)?;
    let grade = grade::run(&dir, Some(target))?;
    if let Some(error) = &grade.broken {
        return Err(format!(
            "the starter without task {task} does not compile: {error}"
        ));
    }
    let own = |name: &str| name.starts_with(&format!("task{task}_"));
    let later = |name: &str| {
        TASKS
            .iter()
            .any(|t| *t > task && name.starts_with(&format!("task{t}_")))
    };
    let mut problems = Vec::new();
    if !grade.tests.iter().any(|t| own(&t.name)) {
        problems.push(format!("task {task}: no tests named task{task}_*"));
    }
    for t in &grade.tests {
        if own(&t.name) && t.passed {
            problems.push(format!(
                "task {task}: '{}' passes without the solution",
                t.name
            ));
        }
        if !own(&t.name) && !later(&t.name) && !t.passed {
            problems.push(format!(
                "task {task}: '{}' fails, but it is not task {task}'s test",
                t.name
            ));
        }
    }
    println!(
        "task {task}: {} of its tests fail without its solution",
        grade
            .tests
            .iter()
            .filter(|t| own(&t.name) && !t.passed)
            .count()
    );
    Ok(problems)
}

/// The whole starter, as students get it: builds without a warning, and grades 0 points with
/// task 1 to do first. Returns what is wrong with it.
fn check_full_starter(base: &Path, target: &Path) -> Result<Vec<String>, String> {
    let dir = base.join("all");
    write_starter(&dir, None, None)?;
    let build = Command::new(env!("CARGO"))
        .args(["build", "--workspace", "--all-targets"])
        .env("CARGO_TARGET_DIR", target)
        .current_dir(&dir)
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
    let grade = grade::run(&dir, Some(target))?;
    let report = grade.report();
    if grade.points() != 0 || !report.contains("next: task 1") {
        problems.push(format!(
            "the starter as shipped must grade 0 points, task 1 first:\n{report}"
        ));
    }
    println!("full starter: {}", report.lines().next().unwrap_or(""));
    Ok(problems)
}

/// The `i`th of the wrong solutions, `wrong`: its task loses its points, and a failing test of
/// that task says what is wrong. Returns the problem if not.
fn check_wrong_solution(
    base: &Path,
    target: &Path,
    i: usize,
    wrong: &Wrong,
) -> Result<Option<String>, String> {
    let dir = base.join(format!("wrong{i}"));
    write_starter(&dir, Some(0), Some(wrong))?;
    let grade = grade::run(&dir, Some(target))?;
    let said = grade
        .tests
        .iter()
        .filter(|t| !t.passed && t.name.starts_with(&format!("task{}_", wrong.task)))
        .any(|t| t.message.as_deref().is_some_and(|m| m.contains(wrong.says)));
    let problem = (grade.done(wrong.task) || !said).then(|| {
        format!(
            "a wrong solution of task {} ('{}') must fail its tests saying '{}':\n{}",
            wrong.task,
            wrong.hint,
            wrong.says,
            grade.report()
        )
    });
    println!(
        "wrong solution {} of task {}: {}",
        i + 1,
        wrong.task,
        if said {
            "caught, with its message"
        } else {
            "NOT caught"
        }
    );
    Ok(problem)
}

/// The markers of a solution region, which a page of the book must never show.
const MARKERS: [&str; 3] = ["BEGIN SOLUTION", "END SOLUTION", "// STARTER"];

/// Where the book's copy of a crate file with solution regions lives: what a student gets
/// (the starter version of each region), so the notes never print a solution or its markers.
const LISTINGS: &str = "docs/src/listings";

/// `cargo xtask book`: writes the listings, checks every include, and, where `mdbook` is
/// installed, builds the book and checks that no rendered page shows a marker or a line of a
/// solution.
fn book() -> Result<(), String> {
    let stale = write_listings()?;
    book_includes()?;
    let mut problems = Vec::new();
    if !stale.is_empty() {
        problems.push(format!(
            "these listings were out of date and have been rewritten (commit them): {}",
            stale.join(", ")
        ));
    }
    let mdbook = Command::new("mdbook")
        .args(["build", "docs"])
        .current_dir(root())
        .output();
    match mdbook {
        Err(_) => println!("book: mdbook is not installed; rendered pages not checked"),
        Ok(out) if !out.status.success() => {
            problems.push(format!(
                "mdbook build failed:\n{}",
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        Ok(_) => problems.extend(rendered_pages_show_no_solution()?),
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join("\n"))
    }
}

/// Every crate source file with solution regions, as (path from the root, text).
fn files_with_solutions() -> Result<Vec<(String, String)>, String> {
    let mut found = Vec::new();
    for (krate, files) in CRATES {
        for file in files.iter().filter(|f| f.starts_with("src/")) {
            let path = format!("crates/{krate}/{file}");
            let text =
                std::fs::read_to_string(root().join(&path)).map_err(|e| format!("{path}: {e}"))?;
            if text.contains(MARKERS[0]) {
                found.push((path, text));
            }
        }
    }
    Ok(found)
}

/// Writes `docs/src/listings/CRATE/FILE` for each file with solution regions: the file as the
/// starter has it (anchors kept, so the book includes it by the same anchors). Returns the
/// listings that changed.
fn write_listings() -> Result<Vec<String>, String> {
    let mut changed = Vec::new();
    for (path, text) in files_with_solutions()? {
        let listing = strip_solutions(&without_unit_tests(&text), None)
            .map_err(|e| format!("{path}: {e}"))?;
        let dest = root()
            .join(LISTINGS)
            .join(path.trim_start_matches("crates/"));
        if std::fs::read_to_string(&dest).ok().as_deref() != Some(&listing) {
            std::fs::create_dir_all(dest.parent().expect("a file has a folder"))
                .map_err(|e| format!("{}: {e}", dest.display()))?;
            std::fs::write(&dest, listing).map_err(|e| format!("{}: {e}", dest.display()))?;
            changed.push(path);
        }
    }
    Ok(changed)
}

/// Every line of the workspace's Rust sources outside the homework files: course material that
/// the book may show, even where a solution has the same line.
fn course_lines() -> Result<std::collections::HashSet<String>, String> {
    let homework: Vec<String> = files_with_solutions()?
        .into_iter()
        .map(|(p, _)| p)
        .collect();
    let mut lines = std::collections::HashSet::new();
    let mut dirs = vec![root().join("crates")];
    while let Some(dir) = dirs.pop() {
        let entries = std::fs::read_dir(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                dirs.push(path);
                continue;
            }
            let relative = path
                .strip_prefix(root())
                .unwrap_or(&path)
                .to_string_lossy()
                .to_string();
            if path.extension().is_some_and(|e| e == "rs") && !homework.contains(&relative) {
                let text = std::fs::read_to_string(&path).unwrap_or_default();
                lines.extend(text.lines().map(|l| l.trim().to_string()));
            }
        }
    }
    Ok(lines)
}

/// The lines of every solution region that are telling: long enough (a closing brace appears
/// everywhere) and found nowhere else in the course's code (a line every model shares, such as
/// asking the exchange what an error means, is course material, not the solution).
fn solution_lines() -> Result<Vec<(String, String)>, String> {
    let course = course_lines()?;
    let mut lines = Vec::new();
    for (path, text) in files_with_solutions()? {
        let mut inside = false;
        for line in text.lines() {
            let t = line.trim();
            if t.starts_with("// BEGIN SOLUTION") {
                inside = true;
            } else if t.starts_with("// STARTER") || t.starts_with("// END SOLUTION") {
                inside = false;
            } else if inside && t.len() >= 30 && !t.starts_with("//") && !course.contains(t) {
                lines.push((path.clone(), t.to_string()));
            }
        }
    }
    Ok(lines)
}

/// Every rendered page of the book, checked for the markers and for lines of a solution.
fn rendered_pages_show_no_solution() -> Result<Vec<String>, String> {
    let escape = |s: &str| {
        s.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
            .replace('"', "&quot;")
    };
    let solutions = solution_lines()?;
    let book = root().join("docs/book");
    let mut problems = Vec::new();
    let mut pages = 0;
    let entries = std::fs::read_dir(&book).map_err(|e| format!("{}: {e}", book.display()))?;
    for entry in entries.flatten() {
        let path = entry.path();
        let name = path
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .to_string();
        // print.html repeats every page; the search index is data, not a page.
        if !name.ends_with(".html") || name == "print.html" {
            continue;
        }
        pages += 1;
        let html = std::fs::read_to_string(&path).map_err(|e| format!("{name}: {e}"))?;
        for marker in MARKERS {
            if html.contains(&escape(marker)) || html.contains(marker) {
                problems.push(format!("book page {name} shows the marker '{marker}'"));
            }
        }
        for (file, line) in &solutions {
            if html.contains(&escape(line)) {
                problems.push(format!(
                    "book page {name} shows a line of a solution in {file}: {line}"
                ));
            }
        }
    }
    println!(
        "book: {pages} rendered pages checked for markers and {} solution lines",
        solutions.len()
    );
    Ok(problems)
}

/// Every `{{#include FILE:ANCHOR}}` in docs/src resolves to a file with that anchor, and none
/// includes a file with solution regions (the listing of it must be included instead).
fn book_includes() -> Result<(), String> {
    let src = root().join("docs/src");
    let mut problems = Vec::new();
    let mut count = 0;
    let pages = std::fs::read_dir(&src).map_err(|e| format!("{}: {e}", src.display()))?;
    for page in pages.flatten() {
        let path = page.path();
        if path.extension().is_none_or(|e| e != "md") {
            continue;
        }
        let text =
            std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        for (i, line) in text.lines().enumerate() {
            let Some(rest) = line.trim().strip_prefix("{{#include ") else {
                continue;
            };
            let spec = rest.trim_end_matches("}}").trim();
            let (file, anchor) = spec.split_once(':').unwrap_or((spec, ""));
            let where_ = format!(
                "{}:{}",
                path.file_name().unwrap_or_default().to_string_lossy(),
                i + 1
            );
            count += 1;
            let Ok(code) = std::fs::read_to_string(src.join(file)) else {
                problems.push(format!("{where_}: no file {file}"));
                continue;
            };
            if code.contains(MARKERS[0]) {
                let listing = file.trim_start_matches("../../crates/");
                problems.push(format!(
                    "{where_}: {file} holds homework solutions; include listings/{listing} instead"
                ));
            }
            let has = |marker: &str| code.contains(&format!("{marker}: {anchor}\n"));
            let found = anchor.is_empty() || (has("ANCHOR") && has("ANCHOR_END"));
            if !found {
                problems.push(format!("{where_}: {file} has no anchor '{anchor}'"));
            }
        }
    }
    if problems.is_empty() {
        println!("book: {count} includes resolve");
        Ok(())
    } else {
        Err(problems.join("\n"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regions_become_todo_or_starter_code() {
        let src = "fn a() -> u32 {\n    // BEGIN SOLUTION Task 1: add one\n    1 + 1\n    // END SOLUTION\n}\nfn b() {\n    // BEGIN SOLUTION Task 2: loop\n    fast();\n    // STARTER\n    // slow();\n    // END SOLUTION\n}\n";
        let all = strip_solutions(src, None).unwrap();
        assert_eq!(
            all,
            "fn a() -> u32 {\n    // Task 1: add one\n    todo!(\"Task 1: see the comment above\");\n}\nfn b() {\n    // Task 2: loop\n    slow();\n}\n"
        );
        let only2 = strip_solutions(src, Some(2)).unwrap();
        assert!(
            only2.contains("    1 + 1\n") && only2.contains("slow();") && !only2.contains("fast")
        );
        assert!(strip_solutions("// BEGIN SOLUTION Task 1: x\n", None).is_err());
    }

    #[test]
    fn unit_tests_are_dropped() {
        assert_eq!(
            without_unit_tests("fn a() {}\n#[cfg(test)]\nmod tests {}\n"),
            "fn a() {}\n"
        );
    }
}
