//! `cargo xtask book`: the course notes, checked.
//!
//! Crate files with solution regions are shown in the book as students get them: `listings/`
//! holds each such file with its regions replaced by their starter code (anchors kept, so a
//! page includes a listing by the same anchor as the file). `cargo xtask book` writes those
//! listings, checks that every `{{#include FILE:ANCHOR}}` resolves (and that none includes a
//! file with solutions), builds the book with mdbook, and checks that no rendered page shows a
//! region's markers or a solution, also not with other names (see [`crate::handout`]).

use std::path::Path;
use std::process::Command;

use crate::handout::{self, Answer, Place};
use crate::{crate_files, root, strip_solutions, without_unit_tests, CRATES};

/// The markers of a solution region, which a page of the book must never show.
const MARKERS: [&str; 3] = ["BEGIN SOLUTION", "END SOLUTION", "// STARTER"];

/// Where the book's copy of a crate file with solution regions lives.
const LISTINGS: &str = "docs/src/listings";

/// `cargo xtask book` (see the module's documentation). The book is built where mdbook builds
/// it, `docs/book`.
pub fn book() -> Result<(), String> {
    let stale = write_listings()?;
    book_includes()?;
    let mut problems = Vec::new();
    if !stale.is_empty() {
        problems.push(format!(
            "these listings were out of date and have been rewritten (commit them): {}",
            stale.join(", ")
        ));
    }
    let dest = root().join("docs/book");
    build(&dest)?;
    problems.extend(pages_show_no_solution(&dest)?);
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join("\n"))
    }
}

/// Builds the book into `dest` with mdbook.
pub fn build(dest: &Path) -> Result<(), String> {
    let out = Command::new("mdbook")
        .args(["build", "docs", "--dest-dir"])
        .arg(dest)
        .current_dir(root())
        .output()
        .map_err(|e| {
            format!("cannot run mdbook ({e}); the rendered pages are checked, so install it: cargo install mdbook --locked")
        })?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "mdbook build failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

/// Every crate source file with solution regions, as (path from the root, text).
fn files_with_solutions() -> Result<Vec<(String, String)>, String> {
    let mut found = Vec::new();
    for (krate, extra) in CRATES {
        for file in crate_files(krate, extra)? {
            let path = format!("crates/{krate}/{file}");
            if !file.starts_with("src/") {
                continue;
            }
            let text =
                std::fs::read_to_string(root().join(&path)).map_err(|e| format!("{path}: {e}"))?;
            if text.contains(MARKERS[0]) {
                found.push((path, text));
            }
        }
    }
    Ok(found)
}

/// The solution of every region of the homework.
pub fn all_answers() -> Result<Vec<Answer>, String> {
    Ok(files_with_solutions()?
        .iter()
        .flat_map(|(path, text)| handout::answers(path, text))
        .collect())
}

/// Each file with solutions, where its listing goes, and what the listing must say.
fn listings() -> Result<Vec<(String, std::path::PathBuf, String)>, String> {
    let mut all = Vec::new();
    for (path, text) in files_with_solutions()? {
        let listing = strip_solutions(&without_unit_tests(&text), None)
            .map_err(|e| format!("{path}: {e}"))?;
        let dest = root()
            .join(LISTINGS)
            .join(path.trim_start_matches("crates/"));
        all.push((path, dest, listing));
    }
    Ok(all)
}

/// The listings that do not say what their files would have them say.
pub fn stale_listings() -> Result<Vec<String>, String> {
    Ok(listings()?
        .into_iter()
        .filter(|(_, dest, listing)| std::fs::read_to_string(dest).ok().as_deref() != Some(listing))
        .map(|(path, _, _)| path)
        .collect())
}

/// Writes `docs/src/listings/CRATE/FILE` for each file with solution regions: the file as the
/// starter has it. Returns the listings that changed.
fn write_listings() -> Result<Vec<String>, String> {
    let mut changed = Vec::new();
    for (path, dest, listing) in listings()? {
        if std::fs::read_to_string(&dest).ok().as_deref() != Some(&listing) {
            std::fs::create_dir_all(dest.parent().expect("a file has a folder"))
                .map_err(|e| format!("{}: {e}", dest.display()))?;
            std::fs::write(&dest, listing).map_err(|e| format!("{}: {e}", dest.display()))?;
            changed.push(path);
        }
    }
    Ok(changed)
}

/// Every rendered page of the book in `dir` (print.html, which repeats them all, aside),
/// checked for the markers and for solutions by their shape.
pub fn pages_show_no_solution(dir: &Path) -> Result<Vec<String>, String> {
    let answers = all_answers()?;
    let mut problems = Vec::new();
    let mut pages = 0;
    let entries = std::fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    for entry in entries.flatten() {
        let path = entry.path();
        let name = path
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .to_string();
        if !name.ends_with(".html") || name == "print.html" {
            continue;
        }
        pages += 1;
        let html = std::fs::read_to_string(&path).map_err(|e| format!("{name}: {e}"))?;
        let text = handout::html_text(&html);
        for marker in MARKERS {
            if text.contains(marker) {
                problems.push(format!("book page {name} shows the marker '{marker}'"));
            }
        }
        let place = Place::new(&format!("the book's page {name}"), &text);
        problems.extend(answers.iter().filter_map(|a| place.find(a)));
    }
    println!(
        "book: {pages} rendered pages compared with {} solutions",
        answers.len()
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
