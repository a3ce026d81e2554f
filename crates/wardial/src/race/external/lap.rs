//! One outside scanner's lap of the race: the race's world served at real addresses, the
//! scanner's command run there within the race's budget, and what it printed judged into a
//! row beside the models' (or the reason it has none).

use std::path::PathBuf;
use std::time::Duration;

use wardial_probe::Stop;
use wardial_simnet::addresses::check_files;
use wardial_simnet::{AtAddresses, Simnet, World};

use super::figures::Outside;
use crate::check::clauses::{judge_hosts, Judged};
use crate::check::findings::{self, Form, Kind, Output};
use crate::check::process::{self, Ended, Placeholders, Run, RunSpec};
use crate::human;
use crate::race::options::RaceOptions;
use crate::race::report::{ModelResult, RaceReport};
use crate::race::timeline::Span;

/// What every outside row of a race shares: the simulated internet at real addresses, and
/// the race's settings.
pub(super) struct OutsideLap<'a> {
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
    pub(super) fn start(
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
    pub(super) fn race(
        &self,
        name: &str,
        template: &str,
        interrupt: &Stop,
    ) -> (ModelResult, Outside) {
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
        let reported = output.first_reports_in(self.sim.world().range);
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
        let (wrong, wrong_examples) = self.wrong(output, exited);
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
    fn wrong(&self, output: &Output, complete: bool) -> (u64, Vec<String>) {
        let judged = judge_hosts(self.sim.world(), self.opts.timeout, output, complete);
        let wrong: Vec<&Judged> = judged.iter().filter(|j| !j.right).collect();
        let examples = wrong
            .iter()
            .take(3)
            .map(|j| format!("{}: {}, expected {}", j.addr, j.said, j.truth))
            .collect();
        (wrong.len() as u64, examples)
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
