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
//! - `cargo xtask starter OUT_DIR` writes a standalone workspace (probe, simnet, testkit, tokio,
//!   own-runtime) with every region replaced by its starter code or `todo!("Task N: hint")`, and
//!   the task tests that grade it.
//! - `cargo xtask grade [DIR]` grades a workspace (see [`grade`]).
//! - `cargo xtask check` is the rustlings-style checker CI runs (see [`check`]): each task fails
//!   without its solution and costs no other task its points, the starter builds without a
//!   warning, known wrong solutions lose their points with a message that names the mistake,
//!   and no solution is in the handout (the book's pages, the starter's files), also not with
//!   other names.
//!   (The solutions pass because they are the workspace's own code, tested by `cargo test`.)
//! - `cargo xtask results` measures every figure of the results chapter again (see [`results`]).
//! - `cargo xtask book` writes the listings of the files with solutions, checks every
//!   `{{#include FILE:ANCHOR}}` of the course notes, builds the book and checks its pages (see
//!   [`book`]).

mod book;
mod check;
mod grade;
mod handout;
mod results;

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use check::Wrong;

/// The crates a starter holds: each one's `src/`, all of it, and these other files.
const CRATES: [(&str, &[&str]); 5] = [
    ("probe", &["tests/task1_cidr.rs", "tests/task1_lazy.rs"]),
    ("simnet", &[]),
    ("testkit", &[]),
    (
        "tokio",
        &[
            "examples/scan.rs",
            "tests/task2_probe.rs",
            "tests/task3_concurrent.rs",
        ],
    ),
    ("own-runtime", &["tests/task4_wake.rs"]),
];

/// Every file below `dir`, in every folder, sorted.
pub fn files_under(dir: &Path) -> Result<Vec<PathBuf>, String> {
    let mut files = Vec::new();
    let mut dirs = vec![dir.to_path_buf()];
    while let Some(d) = dirs.pop() {
        let entries = std::fs::read_dir(&d).map_err(|e| format!("{}: {e}", d.display()))?;
        for path in entries.flatten().map(|e| e.path()) {
            if path.is_dir() {
                dirs.push(path);
            } else {
                files.push(path);
            }
        }
    }
    files.sort();
    Ok(files)
}

/// The files of `krate` that a starter holds (see [`CRATES`]), from the crate's folder.
fn crate_files(krate: &str, extra: &[&str]) -> Result<Vec<String>, String> {
    let dir = root().join("crates").join(krate);
    let mut files: Vec<String> = files_under(&dir.join("src"))?
        .iter()
        .filter(|p| p.extension().is_some_and(|e| e == "rs"))
        .map(|p| {
            let relative = p.strip_prefix(&dir).unwrap_or(p);
            relative.to_string_lossy().replace('\\', "/")
        })
        .collect();
    files.extend(extra.iter().map(|f| (*f).to_string()));
    Ok(files)
}

const TASKS: [u32; 4] = [1, 2, 3, 4];

/// `cargo xtask grade [DIR]`: the points of the workspace in DIR (this one by default).
fn grade_here(dir: &Path) -> Result<(), String> {
    let grade = grade::run(dir, None)?;
    print!("{}", grade.report());
    Ok(())
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.iter().map(String::as_str).collect::<Vec<_>>()[..] {
        ["starter", out] => starter(Path::new(out), None),
        ["starter", out, "--only", n] => match n.parse() {
            Ok(n) if TASKS.contains(&n) => starter(Path::new(out), Some(n)),
            _ => Err(format!("--only takes a task number: {TASKS:?}")),
        },
        ["check"] => check::check(),
        ["book"] => book::book(),
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
    if out.exists()
        && std::fs::read_dir(out)
            .map_err(|e| format!("read OUT_DIR: {e}"))?
            .next()
            .is_some()
    {
        return Err(format!("{} exists and is not empty", out.display()));
    }
    write_starter(out, only, None)?;
    println!(
        "wrote the homework starter to {}; there, `cargo xtask grade` says what to do first",
        out.display()
    );
    Ok(())
}

/// Writes a starter: every task's region replaced by its starter code (or only task `only`'s:
/// `Some(0)` keeps every solution), and, if `wrong` is given, that region holding a wrong
/// solution instead. Over a starter already in `out`, only the files that differ are written,
/// so that cargo rebuilds only what changed.
fn write_starter(out: &Path, only: Option<u32>, wrong: Option<&Wrong>) -> Result<(), String> {
    let root = root();
    let mut manifests = String::new();
    for (krate, extra) in CRATES {
        let files = crate_files(krate, extra)?;
        manifests.push_str(&write_starter_crate(
            &root, out, krate, &files, only, wrong,
        )?);
    }
    write_grader(out)?;
    let workspace =
        std::fs::read_to_string(root.join("Cargo.toml")).map_err(|e| format!("Cargo.toml: {e}"))?;
    write_file(
        &out.join("Cargo.toml"),
        &workspace_manifest(&workspace, &manifests),
    )?;
    // The same dependency versions as the course workspace, so it builds as it was tested.
    let lock =
        std::fs::read_to_string(root.join("Cargo.lock")).map_err(|e| format!("Cargo.lock: {e}"))?;
    write_file(&out.join("Cargo.lock"), &lock)?;
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
    files: &[String],
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
            text = check::replace_region(&text, w.hint, w.code)?;
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

/// Writes `text` to `dest`, making its folder first; a file that already says `text` is left
/// as it is (and so is its time stamp, by which cargo tells what to rebuild).
fn write_file(dest: &Path, text: &str) -> Result<(), String> {
    if std::fs::read(dest).is_ok_and(|old| old == text.as_bytes()) {
        return Ok(());
    }
    std::fs::create_dir_all(dest.parent().expect("a file has a folder"))
        .map_err(|e| format!("mkdir: {e}"))?;
    std::fs::write(dest, text).map_err(|e| format!("{}: {e}", dest.display()))
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
