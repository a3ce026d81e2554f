//! The reference scanners of `python/`, built into this program for `wardial race --python`:
//! written to a directory of their own, with the reason each cannot run where Python 3 or
//! aiohttp is missing.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The reference scanners of `python/`, built into this program so that `--python` works from
/// any directory: a row name, the file, and its text.
const PYTHON: [(&str, &str, &str); 3] = [
    (
        "python-aiohttp",
        "wardial_aiohttp.py",
        include_str!("../../../../../python/wardial_aiohttp.py"),
    ),
    (
        "python-streams",
        "wardial_streams.py",
        include_str!("../../../../../python/wardial_streams.py"),
    ),
    (
        "python-threads",
        "wardial_threads.py",
        include_str!("../../../../../python/wardial_threads.py"),
    ),
];

/// What the three share.
const PYTHON_COMMON: (&str, &str) = (
    "wardial_common.py",
    include_str!("../../../../../python/wardial_common.py"),
);

/// The rows `--python` adds, each a row name and its command line, or why it cannot run here:
/// the reference scanners written to `dir`.
pub(super) fn python_entries(dir: &Path) -> Vec<(String, Result<String, String>)> {
    let rows = |why: &str| {
        PYTHON
            .iter()
            .map(|(name, _, _)| (name.to_string(), Err(why.to_string())))
            .collect()
    };
    let python = python3();
    if let Err(why) = has_python(python) {
        return rows(&why);
    }
    if let Err(e) = write_scripts(dir) {
        return rows(&format!(
            "cannot write the scripts to {}: {e}",
            dir.display()
        ));
    }
    let aiohttp = imports(python, "aiohttp");
    PYTHON
        .iter()
        .map(|(name, file, text)| {
            let needs_aiohttp = text.contains("import aiohttp");
            let command = match (&aiohttp, needs_aiohttp) {
                (Err(why), true) => Err(why.clone()),
                _ => Ok(format!("{python} '{}'", dir.join(file).display())),
            };
            (name.to_string(), command)
        })
        .collect()
}

/// The Python 3 interpreter's name: `python3` where it has one, `python` on Windows.
fn python3() -> &'static str {
    if cfg!(windows) {
        "python"
    } else {
        "python3"
    }
}

/// Whether `python` runs, and is Python 3.8 or later (what the scripts are written for).
fn has_python(python: &str) -> Result<(), String> {
    let check = "import sys; sys.exit(0 if sys.version_info >= (3, 8) else 3)";
    match quiet(python, check) {
        Ok(0) => Ok(()),
        Ok(_) => Err(format!("{python} is older than Python 3.8")),
        Err(e) => Err(format!("{python} not found ({e})")),
    }
}

/// Whether `python` can import `module`.
fn imports(python: &str, module: &str) -> Result<(), String> {
    match quiet(python, &format!("import {module}")) {
        Ok(0) => Ok(()),
        _ => Err(format!(
            "{module} is not installed for {python} (pip install -r python/requirements.txt)"
        )),
    }
}

/// Runs `python -c code` and gives its exit code.
fn quiet(python: &str, code: &str) -> std::io::Result<i32> {
    let status = Command::new(python)
        .args(["-c", code])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()?;
    Ok(status.code().unwrap_or(-1))
}

fn write_scripts(dir: &Path) -> std::io::Result<PathBuf> {
    std::fs::create_dir_all(dir)?;
    let files = PYTHON
        .iter()
        .map(|(_, file, text)| (*file, *text))
        .chain([PYTHON_COMMON]);
    for (file, text) in files {
        std::fs::write(dir.join(file), text)?;
    }
    Ok(dir.to_path_buf())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_python_or_module_is_a_reason() {
        let none = has_python("wardial-no-such-python").unwrap_err();
        assert!(none.contains("not found"), "{none}");
        let module = imports(python3(), "wardial_no_such_module").unwrap_err();
        assert!(
            module.contains("pip install -r python/requirements.txt"),
            "{module}"
        );
    }

    #[test]
    fn the_python_scripts_are_built_in_whole() {
        for (name, file, text) in PYTHON {
            assert!(name.starts_with("python-") && file.ends_with(".py"));
            assert!(text.contains("from wardial_common import"), "{file}");
            assert!(text.contains("if __name__ == \"__main__\""), "{file}");
        }
        assert!(PYTHON_COMMON.1.contains("total ips found"));
    }
}
