//! Outside scanners in the race: any program, in any language, scans the same simulated
//! internet (served at real loopback addresses, one port) and gets a row beside the models,
//! judged by the same ground truth.
//!
//! ```text
//! wardial race --external 'mine=python3 wardial.py {range} --port {port}'
//! wardial race --python      # the reference scanners of python/, where Python 3 is installed
//! ```
//!
//! Each command runs in a process of its own (see [`crate::check::process`]): its row's time is
//! the process's, from start to exit, so an interpreter's start-up is in it; its CPU per probe
//! and peak memory come from the kernel's accounting of that process and everything it
//! started. What it printed is read as `wardial check` reads it ([`crate::check::findings`]).
//! A command that cannot start, crashes or reports nothing gets a row that says so.
//!
//! - this file: `--external NAME=COMMAND`, and the outside rows raced one after another;
//! - [`python`]: the reference scanners built in for `--python`, and whether they can run here;
//! - [`lap`]: the hosts served at their addresses, one scanner run there and judged into a row;
//! - [`figures`]: what each scanner's process cost, under the race's table and in its JSON.

pub mod figures;
pub mod lap;
pub mod python;

pub use figures::{json, print_outside, Outside};

use wardial_probe::Stop;

use self::figures::unavailable;
use self::lap::OutsideLap;
use self::python::python_entries;
use super::options::RaceOptions;
use super::report::{ModelResult, RaceReport};
use crate::Failure;

/// `--external NAME=COMMAND`: a row's name, and the command line (with placeholders) that
/// scans the race's range.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct External {
    pub name: String,
    pub command: String,
}

/// Parses `NAME=COMMAND` (for clap).
pub fn parse(s: &str) -> Result<External, String> {
    let Some((name, command)) = s.split_once('=') else {
        return Err(format!(
            "'{s}' is not NAME=COMMAND (for example: mine='python3 wardial.py {{range}} --port {{port}}')"
        ));
    };
    let name = name.trim();
    let ok = |c: char| c.is_ascii_alphanumeric() || "-_.".contains(c);
    if name.is_empty() || !name.chars().all(ok) {
        return Err(format!(
            "'{name}' is no row name: letters, digits, '-', '_' and '.' only"
        ));
    }
    if command.trim().is_empty() {
        return Err(format!("{name}= has no command"));
    }
    Ok(External {
        name: name.to_string(),
        command: command.trim().to_string(),
    })
}

/// A row to race: its name and command line, or why it cannot run here.
type Entry = (String, Result<String, String>);

/// Races every outside scanner on the race's world, after the models: adds a row per scanner
/// to `report.models` and returns what each process cost.
pub fn race_outside(
    list: &[External],
    python: bool,
    opts: &RaceOptions,
    report: &mut RaceReport,
    interrupt: &Stop,
    progress: &mut dyn FnMut(&str),
) -> Result<Vec<Outside>, Failure> {
    if list.is_empty() && !python {
        return Ok(Vec::new());
    }
    let scripts = std::env::temp_dir().join(format!("wardial-python-{}", std::process::id()));
    let mut entries: Vec<Entry> = list
        .iter()
        .map(|e| (e.name.clone(), Ok(e.command.clone())))
        .collect();
    if python {
        entries.extend(python_entries(&scripts));
    }
    let world = opts.world()?;
    let lap = match OutsideLap::start(world, opts, report) {
        Ok(lap) => lap,
        Err(why) => {
            for (name, _) in &mut entries {
                report
                    .models
                    .push(ModelResult::unavailable(name, why.clone()));
            }
            return Ok(entries.iter().map(|(n, _)| unavailable(n, &why)).collect());
        }
    };
    let mut outside = Vec::new();
    for (name, command) in entries {
        if interrupt.is_stopped() {
            break;
        }
        let (row, figures) = match command {
            Err(why) => {
                progress(&format!("  {name}: unavailable here: {why}"));
                (
                    ModelResult::unavailable(&name, why.clone()),
                    unavailable(&name, &why),
                )
            }
            Ok(command) => {
                progress(&format!("racing {name} (outside scanner)..."));
                lap.race(&name, &command, interrupt)
            }
        };
        report.models.push(row);
        outside.push(figures);
    }
    let _ = std::fs::remove_dir_all(&scripts);
    Ok(outside)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn name_equals_command() {
        let e = parse("mine=python3 wardial.py {range} --port {port}").unwrap();
        assert_eq!(e.name, "mine");
        assert_eq!(e.command, "python3 wardial.py {range} --port {port}");
        // The command may hold '=' itself.
        assert_eq!(parse("a=x --y=z").unwrap().command, "x --y=z");
        for bad in ["no-equals", "=cmd", "two words=cmd", "name=", "name=   "] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }
}
