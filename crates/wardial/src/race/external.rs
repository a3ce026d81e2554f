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

use std::io::Write;
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use serde::Serialize;
use wardial_probe::Stop;
use wardial_simnet::addresses::check_files;
use wardial_simnet::{AtAddresses, Simnet, World};

use super::options::RaceOptions;
use super::report::{ModelResult, RaceReport};
use super::timeline::Span;
use crate::check::clauses::agrees;
use crate::check::findings::{self, Form, Kind, Output};
use crate::check::process::{self, Ended, Placeholders, Run, RunSpec};
use crate::{human, Failure};

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

/// The reference scanners of `python/`, built into this program so that `--python` works from
/// any directory: a row name, the file, and its text.
const PYTHON: [(&str, &str, &str); 3] = [
    (
        "python-aiohttp",
        "wardial_aiohttp.py",
        include_str!("../../../../python/wardial_aiohttp.py"),
    ),
    (
        "python-streams",
        "wardial_streams.py",
        include_str!("../../../../python/wardial_streams.py"),
    ),
    (
        "python-threads",
        "wardial_threads.py",
        include_str!("../../../../python/wardial_threads.py"),
    ),
];

/// What the three share.
const PYTHON_COMMON: (&str, &str) = (
    "wardial_common.py",
    include_str!("../../../../python/wardial_common.py"),
);

/// What an outside scanner's process cost, which the models' rows have no column for.
#[derive(Debug, Clone, Serialize)]
pub struct Outside {
    pub name: String,
    /// The command as run, placeholders filled in.
    pub command: String,
    /// How its process ended.
    pub ended: String,
    /// CPU time of its process and all it started, in all (its row has it per probe).
    pub user_seconds: Option<f64>,
    pub system_seconds: Option<f64>,
    /// The peak resident memory of its largest process.
    pub peak_memory_bytes: Option<u64>,
    /// Why it has no row of figures, where it has none.
    pub unavailable: Option<String>,
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

fn unavailable(name: &str, why: &str) -> Outside {
    Outside {
        name: name.to_string(),
        command: String::new(),
        ended: String::new(),
        user_seconds: None,
        system_seconds: None,
        peak_memory_bytes: None,
        unavailable: Some(why.to_string()),
    }
}

/// The rows `--python` adds: the reference scanners written to `dir`, or why they cannot run.
fn python_entries(dir: &Path) -> Vec<Entry> {
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

/// What every outside row of a race shares: the simulated internet at real addresses, and
/// the race's settings.
struct OutsideLap<'a> {
    sim: Simnet,
    opts: &'a RaceOptions,
    hosts: u64,
    max_connections: usize,
    /// The wait-bound ideal time of the range.
    ideal: f64,
    helper: Option<PathBuf>,
}

impl<'a> OutsideLap<'a> {
    /// Serves the race's world at real addresses; or why outside scanners cannot race here.
    fn start(
        world: World,
        opts: &'a RaceOptions,
        report: &RaceReport,
    ) -> Result<OutsideLap<'a>, String> {
        if report.hosts < world.range.len() {
            return Err(format!(
                "--hosts races {} of the range's {} hosts, and an outside scanner is given the whole range",
                report.hosts,
                world.range.len()
            ));
        }
        let max_connections = report.config.max_connections;
        let options = AtAddresses {
            connections: max_connections + 64,
            ..AtAddresses::default()
        };
        check_files(&world, &options)?;
        let sim = Simnet::start_at_addresses(world, &options)
            .map_err(|e| format!("cannot serve the hosts at their addresses: {e}"))?;
        Ok(OutsideLap {
            sim,
            opts,
            hosts: report.hosts,
            max_connections,
            ideal: report.ideal_seconds,
            helper: std::env::current_exe().ok(),
        })
    }

    /// Runs one outside scanner within the race's budget.
    fn race(&self, name: &str, template: &str, interrupt: &Stop) -> (ModelResult, Outside) {
        self.sim.settle();
        let placeholders = Placeholders {
            range: self.sim.world().range,
            port: self.sim.port_at_addresses().unwrap_or(0),
            timeout: self.opts.timeout,
            max_connections: self.max_connections,
        };
        let command = process::expand(template, &placeholders);
        let run = process::run(&RunSpec {
            command: &command,
            deadline: self.opts.budget,
            helper: self.helper.as_deref(),
            interrupt,
            max_lines: 4 * self.hosts as usize + 1000,
        });
        let output = findings::read(&run.stdout, &run.stderr);
        let row = match failed(&run, &output, self.opts.budget) {
            Some(why) => ModelResult::unavailable(name, why),
            None => self.row(name, &run, &output),
        };
        let figures = self.figures(name, command, &run, &row);
        (row, figures)
    }

    /// The row of a scanner that reported: time, rate, found, agreement with the truth.
    fn row(&self, name: &str, run: &Run, output: &Output) -> ModelResult {
        let range = self.sim.world().range;
        let mut seen = std::collections::HashSet::new();
        let reported: Vec<_> = output
            .findings
            .iter()
            .filter(|f| range.contains(f.addr) && seen.insert(f.addr))
            .collect();
        let exited = run.ended == Ended::Exited(0);
        let completed = match output.form {
            Form::Outcomes => reported.len() as u64,
            // A list of servers says nothing of the other hosts until it is complete.
            Form::ServersOnly if exited => self.hosts,
            Form::ServersOnly => 0,
        };
        let seconds = run.seconds.max(1e-9);
        let rate = completed as f64 / seconds;
        let finished = exited && completed == self.hosts;
        let projected = (!finished && rate > 0.0).then(|| self.hosts as f64 / rate);
        let (wrong, wrong_examples) = self.wrong(output.form, &reported, exited);
        let mut row = ModelResult {
            model: name.to_string(),
            seconds: run.seconds,
            completed,
            finished,
            probes_per_second: rate,
            found: reported.iter().filter(|f| f.kind == Kind::Http).count() as u64,
            agrees_with_truth: wrong == 0,
            efficiency: (self.ideal >= 1e-3)
                .then(|| self.ideal / projected.unwrap_or(seconds).max(1e-9)),
            wait_bound_seconds: self.ideal,
            timeline: reported
                .iter()
                .map(|f| {
                    let took = f.elapsed.unwrap_or(Duration::ZERO);
                    Span::new(f.at, took, &f.kind.outcome(f.status))
                })
                .collect(),
            projected_seconds: projected,
            wrong,
            wrong_examples,
            peak_open: self.sim.stats().peak_open,
            ..ModelResult::default()
        };
        // The same figures as a model's (its process's CPU time and switches per probe), from
        // the kernel's accounting of the scanner's process and all it started.
        if let Some(u) = run.usage.filter(|_| completed > 0) {
            let per = |x: f64| Some(x / completed as f64);
            row.cpu_user_us_per_probe = per(u.user_seconds * 1e6);
            row.cpu_system_us_per_probe = per(u.system_seconds * 1e6);
            row.switches_voluntary_per_probe = per(u.voluntary_switches as f64);
            row.switches_involuntary_per_probe = per(u.involuntary_switches as f64);
        }
        row
    }

    /// The hosts it got wrong, and the first few of them. A list of servers judges the hosts it
    /// left out as "no server", once the list is complete.
    fn wrong(
        &self,
        form: Form,
        reported: &[&findings::Reported],
        complete: bool,
    ) -> (u64, Vec<String>) {
        let world = self.sim.world();
        let by_addr: std::collections::HashMap<Ipv4Addr, _> =
            reported.iter().map(|f| (f.addr, *f)).collect();
        let mut wrong = 0;
        let mut examples = Vec::new();
        for addr in world.range {
            let truth = world.truth(addr, self.opts.timeout);
            let (right, said) = match (by_addr.get(&addr), form) {
                (Some(f), _) => (agrees(&truth, Some(f.kind), f.status), f.said()),
                (None, Form::ServersOnly) if complete => {
                    (agrees(&truth, None, None), "no server".into())
                }
                (None, _) => continue,
            };
            if !right {
                wrong += 1;
                if examples.len() < 3 {
                    examples.push(format!("{addr}: {said}, expected {truth}"));
                }
            }
        }
        (wrong, examples)
    }

    fn figures(&self, name: &str, command: String, run: &Run, row: &ModelResult) -> Outside {
        let usage = run.usage.filter(|_| row.unavailable.is_none());
        Outside {
            name: name.to_string(),
            command,
            ended: run.ended.to_string(),
            user_seconds: usage.map(|u| u.user_seconds),
            system_seconds: usage.map(|u| u.system_seconds),
            peak_memory_bytes: usage.map(|u| u.peak_memory_bytes),
            unavailable: row.unavailable.clone(),
        }
    }
}

/// Why a scanner's run gives no row of figures: it could not start, crashed, or reported
/// nothing; `None` when it reported.
fn failed(run: &Run, output: &Output, budget: Duration) -> Option<String> {
    let said = run
        .last_words()
        .map(|w| format!(": {w}"))
        .unwrap_or_default();
    let reported = output.findings.len();
    match &run.ended {
        Ended::NotStarted(why) => Some(format!("could not start: {why}")),
        Ended::Exited(127) => Some(format!("command not found{said}")),
        Ended::Exited(code) if *code != 0 => Some(format!(
            "exited with code {code} after reporting {reported} hosts{said}"
        )),
        Ended::Signalled(signal) => Some(format!(
            "crashed (signal {signal}) after reporting {reported} hosts{said}"
        )),
        _ if reported > 0 => None,
        Ended::Deadline => Some(format!(
            "reported nothing within the budget of {}",
            human::duration(budget.as_secs_f64())
        )),
        Ended::Interrupted => Some("interrupted".into()),
        Ended::Exited(_) => Some(format!("exited, having printed no address{said}")),
    }
}

/// The outside scanners' processes, under the race's table: what the models' rows have no
/// column for (a whole process's peak memory), and the command each ran.
pub fn print_outside(outside: &[Outside], out: &mut dyn Write) -> std::io::Result<()> {
    if outside.iter().all(|o| o.unavailable.is_some()) {
        return Ok(());
    }
    writeln!(
        out,
        "\noutside scanners: each a process of its own, on the same hosts at their own addresses"
    )?;
    writeln!(
        out,
        "{:<16} {:>9} {:>12}  command",
        "scanner", "CPU", "peak memory"
    )?;
    for o in outside.iter().filter(|o| o.unavailable.is_none()) {
        let cpu = o.user_seconds.zip(o.system_seconds).map(|(u, s)| u + s);
        writeln!(
            out,
            "{:<16} {:>9} {:>12}  {}",
            o.name,
            cpu.map_or("n/a".into(), human::duration),
            o.peak_memory_bytes
                .map_or("n/a".into(), |b| human::bytes(b as f64)),
            o.command
        )?;
    }
    writeln!(
        out,
        "their time and CPU include the program's start-up (an interpreter's too); CPU and peak memory: the kernel's accounting of the process and all it started (getrusage)"
    )
}

/// The race as one JSON document, with the outside scanners' process figures under `outside`.
pub fn json(report: &RaceReport, outside: &[Outside]) -> serde_json::Value {
    let mut value = serde_json::to_value(report).expect("plain data");
    if !outside.is_empty() {
        if let Some(object) = value.as_object_mut() {
            let figures = serde_json::to_value(outside).expect("plain data");
            object.insert("outside".into(), figures);
        }
    }
    value
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
