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
//!   own-runtime) with every
//!   region replaced by its starter code or `todo!("Task N: hint")`, and the task tests that grade
//!   it.
//! - `cargo xtask check` is the rustlings-style checker CI runs: for each task, a starter with only
//!   that task removed must compile, fail every one of that task's tests, and pass every other
//!   test except those of later tasks (which build on it); the full starter must fail every task
//!   test.
//!   (The solutions pass because they are the workspace's own code, tested by `cargo test`.)
//! - `cargo xtask results` measures every figure of the results chapter again (see [`results`]).
//! - `cargo xtask book` checks that every `{{#include FILE:ANCHOR}}` in the course notes names a
//!   file and an anchor that exist, so the book cannot silently lose a snippet.

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
            "tests/task2_block_on.rs",
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
        _ => Err(
            "usage: cargo xtask starter OUT_DIR [--only TASK] | cargo xtask check | cargo xtask book | cargo xtask results"
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
    enum State {
        Outside,
        Solution {
            task: u32,
            hint: String,
            indent: String,
            kept: Vec<String>,
        },
        Starter {
            task: u32,
            hint: String,
            indent: String,
            kept: Vec<String>,
            starter: Vec<String>,
        },
    }
    let mut out = String::new();
    let mut state = State::Outside;
    for (n, line) in source.lines().enumerate() {
        let trimmed = line.trim_start();
        let indent = line[..line.len() - trimmed.len()].to_string();
        state = match state {
            State::Outside => {
                if let Some(rest) = trimmed.strip_prefix("// BEGIN SOLUTION Task ") {
                    let (task, hint) = rest.split_once(':').ok_or(format!(
                        "line {}: expected '// BEGIN SOLUTION Task N: hint'",
                        n + 1
                    ))?;
                    let task = task
                        .trim()
                        .parse()
                        .map_err(|_| format!("line {}: bad task number", n + 1))?;
                    State::Solution {
                        task,
                        hint: hint.trim().to_string(),
                        indent,
                        kept: Vec::new(),
                    }
                } else {
                    out.push_str(line);
                    out.push('\n');
                    State::Outside
                }
            }
            State::Solution {
                task,
                hint,
                indent,
                mut kept,
            } => {
                if trimmed == "// STARTER" {
                    State::Starter {
                        task,
                        hint,
                        indent,
                        kept,
                        starter: Vec::new(),
                    }
                } else if trimmed == "// END SOLUTION" {
                    emit(&mut out, task, &hint, &indent, &kept, &[], only);
                    State::Outside
                } else {
                    kept.push(line.to_string());
                    State::Solution {
                        task,
                        hint,
                        indent,
                        kept,
                    }
                }
            }
            State::Starter {
                task,
                hint,
                indent,
                kept,
                mut starter,
            } => {
                if trimmed == "// END SOLUTION" {
                    emit(&mut out, task, &hint, &indent, &kept, &starter, only);
                    State::Outside
                } else {
                    let code = trimmed
                        .strip_prefix("// ")
                        .or_else(|| trimmed.strip_prefix("//"))
                        .ok_or(format!("line {}: starter lines are comments", n + 1))?;
                    starter.push(format!("{indent}{code}"));
                    State::Starter {
                        task,
                        hint,
                        indent,
                        kept,
                        starter,
                    }
                }
            }
        };
    }
    match state {
        State::Outside => Ok(out),
        _ => Err("a solution region is not closed with '// END SOLUTION'".into()),
    }
}

fn emit(
    out: &mut String,
    task: u32,
    hint: &str,
    indent: &str,
    kept: &[String],
    starter: &[String],
    only: Option<u32>,
) {
    let replace = only.is_none_or(|t| t == task);
    if !replace {
        for line in kept {
            let _ = writeln!(out, "{line}");
        }
    } else if starter.is_empty() {
        // A statement, so it fits both tail and statement positions: a block that ends in a
        // diverging statement may have any type.
        let _ = writeln!(out, "{indent}todo!({:?});", format!("Task {task}: {hint}"));
    } else {
        let _ = writeln!(out, "{indent}// Task {task}: {hint}");
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
/// without the crates the starter does not hold.
fn workspace_manifest(root_manifest: &str) -> String {
    let start = root_manifest.find("[workspace.package]").unwrap_or(0);
    let end = root_manifest
        .find("\n[package]")
        .unwrap_or(root_manifest.len());
    let shared: Vec<&str> = root_manifest[start..end]
        .lines()
        .filter(|l| {
            !l.starts_with("wardial-")
                || CRATES
                    .iter()
                    .any(|(c, _)| l.starts_with(&format!("wardial-{c} ")))
        })
        .collect();
    format!(
        "# The wardial homework: generated by `cargo xtask starter`; see README.md.\n[workspace]\nmembers = [\"crates/*\"]\nresolver = \"2\"\n\n{}\n",
        shared.join("\n").trim_end()
    )
}

fn starter(out: &Path, only: Option<u32>) -> Result<(), String> {
    let root = root();
    let io = |what: &str, e: std::io::Error| format!("{what}: {e}");
    if out.exists()
        && std::fs::read_dir(out)
            .map_err(|e| io("read OUT_DIR", e))?
            .next()
            .is_some()
    {
        return Err(format!("{} exists and is not empty", out.display()));
    }
    for (krate, files) in CRATES {
        let from = root.join("crates").join(krate);
        let to = out.join("crates").join(krate);
        for file in files.iter().chain(&["Cargo.toml"]) {
            let text = std::fs::read_to_string(from.join(file)).map_err(|e| io(file, e))?;
            let text = if file.starts_with("src/") {
                strip_solutions(&without_unit_tests(&text), only)
                    .map_err(|e| format!("{krate}/{file}: {e}"))?
            } else {
                text
            };
            let dest = to.join(file);
            std::fs::create_dir_all(dest.parent().expect("a file has a folder"))
                .map_err(|e| io("mkdir", e))?;
            std::fs::write(&dest, text).map_err(|e| io("write", e))?;
        }
    }
    let manifest =
        std::fs::read_to_string(root.join("Cargo.toml")).map_err(|e| io("Cargo.toml", e))?;
    std::fs::write(out.join("Cargo.toml"), workspace_manifest(&manifest))
        .map_err(|e| io("write", e))?;
    // The same dependency versions as the course workspace, so it builds as it was tested.
    std::fs::copy(root.join("Cargo.lock"), out.join("Cargo.lock"))
        .map_err(|e| io("Cargo.lock", e))?;
    let readme = std::fs::read_to_string(root.join("docs/src/homework.md"))
        .map_err(|e| io("homework.md", e))?;
    std::fs::write(out.join("README.md"), readme).map_err(|e| io("write", e))?;
    println!(
        "wrote the homework starter to {}; run `cargo test` there",
        out.display()
    );
    Ok(())
}

/// Runs `cargo test` in a starter; returns (passed, failed) test names.
fn test_results(dir: &Path) -> Result<(Vec<String>, Vec<String>), String> {
    let output = Command::new(env!("CARGO"))
        .args(["test", "--no-fail-fast"])
        .env("CARGO_TARGET_DIR", root().join("target/starter-check"))
        .current_dir(dir)
        .output()
        .map_err(|e| format!("run cargo test: {e}"))?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    if stderr.contains("error[E") || stderr.contains("could not compile") {
        return Err(format!(
            "the starter in {} does not compile:\n{stderr}",
            dir.display()
        ));
    }
    let (mut passed, mut failed) = (Vec::new(), Vec::new());
    for line in stdout.lines() {
        if let Some(rest) = line.strip_prefix("test ") {
            if let Some(name) = rest.strip_suffix(" ... ok") {
                passed.push(name.to_string());
            } else if let Some(name) = rest.strip_suffix(" ... FAILED") {
                failed.push(name.to_string());
            }
        }
    }
    Ok((passed, failed))
}

fn check() -> Result<(), String> {
    let base = std::env::temp_dir().join(format!("wardial-starter-check-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&base);
    let mut problems = Vec::new();
    for task in TASKS {
        let dir = base.join(format!("task{task}"));
        starter(&dir, Some(task))?;
        let (passed, failed) = test_results(&dir)?;
        let own = |name: &String| name.starts_with(&format!("task{task}_"));
        let task_tests = passed.iter().chain(&failed).filter(|n| own(n)).count();
        if task_tests == 0 {
            problems.push(format!("task {task}: no tests named task{task}_*"));
        }
        for name in passed.iter().filter(|n| own(n)) {
            problems.push(format!("task {task}: '{name}' passes without the solution"));
        }
        // The tasks build on each other (the scan needs the CIDR iterator, the concurrent scan
        // needs the runtime), so a later task's tests may fail too; everything else must pass.
        let later = |name: &String| {
            TASKS
                .iter()
                .any(|t| *t > task && name.starts_with(&format!("task{t}_")))
        };
        for name in failed.iter().filter(|n| !own(n) && !later(n)) {
            problems.push(format!(
                "task {task}: '{name}' fails, but it is not task {task}'s test"
            ));
        }
        println!(
            "task {task}: {} of its tests fail as shipped; {} other tests pass",
            failed.iter().filter(|n| own(n)).count(),
            passed.len()
        );
    }
    // And the whole starter, as students get it: compiles, every task test fails.
    let dir = base.join("all");
    starter(&dir, None)?;
    let (passed, failed) = test_results(&dir)?;
    for name in passed.iter().filter(|n| n.starts_with("task")) {
        problems.push(format!(
            "full starter: '{name}' passes without any solution"
        ));
    }
    println!("full starter: {} task tests fail as shipped", failed.len());
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

/// The lines of every solution region that are long enough to be telling (short ones, such as
/// a closing brace, appear everywhere).
fn solution_lines() -> Result<Vec<(String, String)>, String> {
    let mut lines = Vec::new();
    for (path, text) in files_with_solutions()? {
        let mut inside = false;
        for line in text.lines() {
            let t = line.trim();
            if t.starts_with("// BEGIN SOLUTION") {
                inside = true;
            } else if t.starts_with("// STARTER") || t.starts_with("// END SOLUTION") {
                inside = false;
            } else if inside && t.len() >= 30 && !t.starts_with("//") {
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
            "fn a() -> u32 {\n    todo!(\"Task 1: add one\");\n}\nfn b() {\n    // Task 2: loop\n    slow();\n}\n"
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
