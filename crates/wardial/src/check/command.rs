//! `wardial check`: its arguments, the run, and the report (tagged by clause, as the in-process
//! suite's, with a score).

use std::process::ExitCode;
use std::time::Duration;

use clap::Args;
use serde::Serialize;
use wardial_probe::{Cidr, Stop};
use wardial_simnet::addresses::{check_files, neighbours};
use wardial_simnet::conformance::hostile_world;
use wardial_simnet::world::KINDS;
use wardial_simnet::{AtAddresses, Simnet, World};

use super::clauses::{judge, notes, Evidence, Verdict};
use super::findings::{self, Form, Output};
use super::process::{self, Ended, Placeholders, Run, RunSpec, Usage};
use crate::{args, human, say, Failure};

const AFTER_HELP: &str = "\
Placeholders in COMMAND: {range} {port} {timeout} (seconds) {max_connections}. A COMMAND without
{range} gets ' {range} --port {port} --timeout {timeout} --max_connections {max_connections}'
appended: the command line of the lecture's homework and of the reference scanners in python/.

The scanner may print JSON lines, one per address ({\"addr\": ..., \"outcome\": \"http\",
\"status\": 200}, as `wardial scan --json` does), or just the servers it found, one per line.

Examples:
  wardial check 'python3 python/wardial_aiohttp.py'
  wardial check 'python3 python/broken/wardial_broken.py'
  wardial check 'wardial scan {range} --port {port} --timeout {timeout}s --max-connections {max_connections} --json --all'";

#[derive(Debug, Args)]
#[command(after_help = AFTER_HELP)]
pub struct CheckArgs {
    /// The scanner's command line, run by the shell (see the placeholders below)
    command: String,
    /// The range the scanner is given, inside 127.0.0.0/8, from a /16 to a /27; the addresses
    /// just around it listen too, to catch a scanner that strays outside it
    #[arg(long, default_value = "127.77.0.64/26", value_parser = args::cidr)]
    range: Cidr,
    /// Total deadline of one probe, as the scanner is told it ({timeout})
    #[arg(long, default_value = "1s", value_parser = args::duration)]
    timeout: Duration,
    /// Connections the scanner may have open at once ({max_connections})
    #[arg(long, default_value = "8", value_parser = args::positive)]
    max_connections: usize,
    /// The port every host listens on ({port}; 0: a free one)
    #[arg(long, default_value = "0")]
    port: u16,
    /// How long the whole scan may take before it is stopped (default: ten seconds plus three
    /// timeouts per round of max_connections hosts)
    #[arg(long, value_parser = args::duration)]
    deadline: Option<Duration>,
    /// Print one JSON document instead of the report
    #[arg(long)]
    json: bool,
}

/// How many addresses on each side of the range listen, to catch a scanner that strays.
const NEIGHBOURS: u32 = 64;

/// Runs `wardial check`.
pub fn command(a: CheckArgs, interrupt: &Stop) -> Result<ExitCode, Failure> {
    let (sim, outside) = start_hosts(&a)?;
    let port = sim.port_at_addresses().unwrap_or(a.port);
    let placeholders = Placeholders {
        range: a.range,
        port,
        timeout: a.timeout,
        max_connections: a.max_connections,
    };
    let command = process::expand(&a.command, &placeholders);
    let deadline = a.deadline.unwrap_or_else(|| default_deadline(&a));
    if !a.json {
        say(&format!(
            "{}\nscanner: {command}\n",
            heading(&sim, &a, port)
        ));
    }
    let helper = std::env::current_exe().ok();
    let run = process::run(&RunSpec {
        command: &command,
        deadline,
        helper: helper.as_deref(),
        interrupt,
        max_lines: 16 * a.range.len() as usize + 1000,
    });
    if run.ended == Ended::Interrupted {
        return Err(Failure::Interrupted(
            "interrupted: the scanner was stopped before it finished, so it is not graded".into(),
        ));
    }
    let output = findings::read(&run.stdout, &run.stderr);
    let evidence = Evidence {
        sim: &sim,
        stats: sim.stats(),
        timeout: a.timeout,
        max_connections: a.max_connections,
        deadline,
        neighbours: outside.len(),
        output: &output,
        run: &run,
    };
    let verdicts = if output.findings.is_empty() {
        Vec::new()
    } else {
        judge(&evidence)
    };
    let mut report = Graded::new(&command, &a, port, &run, &output, verdicts);
    report.notes = notes(&evidence);
    if a.json {
        let json = serde_json::to_string_pretty(&report).expect("plain data");
        say(&format!("{json}\n"));
    } else {
        say(&report.text(&run));
    }
    Ok(if report.score == report.out_of {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// The hosts the scanner is checked on, at their own addresses, and the neighbours outside
/// the range that listen only to catch a scanner that strays.
fn start_hosts(a: &CheckArgs) -> Result<(Simnet, Vec<std::net::Ipv4Addr>), Failure> {
    let world = check_world(a.range, a.timeout)?;
    let outside = neighbours(a.range, NEIGHBOURS.min(a.range.len() as u32));
    let options = AtAddresses {
        port: a.port,
        outside: outside.clone(),
        connections: a.max_connections * 2 + 64,
    };
    check_files(&world, &options).map_err(Failure::Usage)?;
    let sim = Simnet::start_at_addresses(world, &options)
        .map_err(|e| Failure::Run(format!("cannot start the simulated internet: {e}")))?;
    Ok((sim, outside))
}

/// The world a scanner is checked on: every behaviour present, a live host too slow for the
/// timeout, and a trickle that only a total deadline stops (the in-process suite's world).
fn check_world(range: Cidr, timeout: Duration) -> Result<World, Failure> {
    if !Cidr::LOOPBACK.covers(&range) || !(16..=27).contains(&range.prefix()) {
        return Err(Failure::Usage(format!(
            "--range {range}: a check needs a range inside 127.0.0.0/8 from a /16 to a /27 (at least 32 hosts, so that every behaviour lives there)"
        )));
    }
    Ok(hostile_world(range, timeout))
}

/// Ten seconds for the interpreter and slack, plus three timeouts per round of
/// `max_connections` hosts: several times what a correct scanner needs.
fn default_deadline(a: &CheckArgs) -> Duration {
    let rounds = a.range.len().div_ceil(a.max_connections as u64) as u32;
    Duration::from_secs(10) + a.timeout * 3 * rounds
}

fn heading(sim: &Simnet, a: &CheckArgs, port: u16) -> String {
    let census: Vec<String> = KINDS
        .iter()
        .zip(sim.world().census())
        .filter(|(_, n)| *n > 0)
        .map(|(k, n)| format!("{n} {k}"))
        .collect();
    format!(
        "wardial check: {} hosts of {} at their own addresses on port {port} ({}), timeout {}, max_connections {}",
        a.range.len(),
        a.range,
        census.join(", "),
        human::duration(a.timeout.as_secs_f64()),
        a.max_connections
    )
}

/// The grade, as `--json` prints it.
#[derive(Debug, Serialize)]
struct Graded {
    command: String,
    range: String,
    port: u16,
    timeout_seconds: f64,
    max_connections: usize,
    seconds: f64,
    ended: String,
    /// `outcomes` (a line per address) or `servers_only`.
    form: &'static str,
    reported: usize,
    total_line: Option<u64>,
    usage: Option<Usage>,
    clauses: Vec<Verdict>,
    score: usize,
    out_of: usize,
    /// Worth knowing, not graded.
    notes: Vec<String>,
}

/// Clauses judged: all of them, even when the scanner reported nothing (then none passed).
const CLAUSES: usize = super::clauses::CLAUSES.len();

impl Graded {
    fn new(
        command: &str,
        a: &CheckArgs,
        port: u16,
        run: &Run,
        output: &Output,
        clauses: Vec<Verdict>,
    ) -> Graded {
        Graded {
            command: command.to_string(),
            range: a.range.to_string(),
            port,
            timeout_seconds: a.timeout.as_secs_f64(),
            max_connections: a.max_connections,
            seconds: run.seconds,
            ended: run.ended.to_string(),
            form: match output.form {
                Form::Outcomes => "outcomes",
                Form::ServersOnly => "servers_only",
            },
            reported: output.findings.len(),
            total_line: output.total,
            usage: run.usage,
            score: clauses.iter().filter(|v| v.passed).count(),
            out_of: CLAUSES,
            clauses,
            notes: Vec::new(),
        }
    }

    /// The report for people: how the scanner ran, each problem tagged by its clause, a line
    /// per clause, and the score.
    fn text(&self, run: &Run) -> String {
        let mut text = format!("it {} after {:.2} s, ", self.ended, self.seconds);
        if self.reported == 0 {
            text += "and reported no address";
            if let Some(words) = run.last_words() {
                text += &format!("; it said: {words}");
            }
        } else {
            text += &format!(
                "reporting {} {}",
                self.reported,
                match self.form {
                    "outcomes" => "addresses with their outcomes",
                    _ => "servers (a list of servers only: hosts left out are judged as no server)",
                }
            );
        }
        if let Some(u) = &self.usage {
            text += &format!(
                "; CPU {:.2} s user + {:.2} s system, peak memory {}",
                u.user_seconds,
                u.system_seconds,
                human::bytes(u.peak_memory_bytes as f64)
            );
        }
        text += "\n";
        if let Some(total) = self.total_line {
            text += &format!("its total line: total ips found = {total}\n");
        }
        for note in &self.notes {
            text += &format!("note (not graded): {note}\n");
        }
        text + &self.verdicts()
    }

    fn verdicts(&self) -> String {
        if self.clauses.is_empty() {
            return format!(
                "\nscore: 0/{CLAUSES} (nothing to judge: the scanner reported no address)\n"
            );
        }
        let mut text = String::from("\n");
        for v in self.clauses.iter().filter(|v| !v.passed) {
            for p in &v.problems {
                text += &format!("{} {p}\n", v.clause);
            }
        }
        if self.clauses.iter().any(|v| !v.passed) {
            text += "\n";
        }
        for v in &self.clauses {
            let verdict = if v.passed { "pass" } else { "FAIL" };
            text += &format!("{:<20} {verdict}  {}\n", v.clause, v.summary);
        }
        text + &format!("score: {}/{}\n", self.score, self.out_of)
    }
}
