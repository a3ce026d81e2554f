//! The clauses of the contract that can be seen from outside a scanner, each judged from what
//! it printed and what the simulated internet counted while it ran.
//!
//! The in-process suite (`wardial_simnet::conformance`) sees every finding as the workspace's
//! [`Outcome`]; an outside scanner says less, and may say it in less
//! detail, so the truth is judged on what it claims:
//!
//! - whether a host is a web server is the lecture's question, and is always judged; a status,
//!   where given, must be the host's;
//! - a reason for "no server" (refused, timeout, closed, not_http), where given, must be the
//!   host's; `error` names none, and is right for any host that is not a server;
//! - a host whose only answer in time is an interim `100 Continue` (its final status comes
//!   after the deadline) is a server by the workspace's rules, but an HTTP library hands over
//!   final answers only (aiohttp does), so "no server, timeout" is accepted there too.

use std::collections::HashMap;
use std::net::Ipv4Addr;
use std::time::Duration;

use serde::Serialize;
use wardial_probe::{Cidr, Outcome};
use wardial_simnet::conformance::clause;
use wardial_simnet::{Behaviour, Simnet, Stats, Truth, World};

use super::findings::{Form, Kind, Output, Reported};
use super::process::{Ended, Run};

// How far past its timeout a probe may say it took before the deadline clause names it: the
// in-process suite's slack (a busy machine is not the scanner's fault).
use wardial_simnet::conformance::DEADLINE_SLACK as SLACK;

/// How many problems a clause lists; the count says how many there were in all.
const LISTED: usize = 12;

/// One clause's verdict.
#[derive(Debug, Clone, Serialize)]
pub struct Verdict {
    pub clause: &'static str,
    pub passed: bool,
    /// What was judged, in one line.
    pub summary: String,
    /// Each violation, at most `LISTED` of them (the summary counts them all).
    pub problems: Vec<String>,
}

impl Verdict {
    fn new(clause: &'static str, problems: Vec<String>, pass: String, fail: String) -> Verdict {
        let passed = problems.is_empty();
        Verdict {
            clause,
            passed,
            summary: if passed { pass } else { fail },
            problems: problems.into_iter().take(LISTED).collect(),
        }
    }
}

/// What the clauses judge.
#[derive(Debug)]
pub struct Evidence<'a> {
    pub sim: &'a Simnet,
    /// The simnet's counters, read once the scanner had ended.
    pub stats: Stats,
    pub timeout: Duration,
    pub max_connections: usize,
    /// How long the whole scan was allowed.
    pub deadline: Duration,
    /// How many addresses around the range listened.
    pub neighbours: usize,
    pub output: &'a Output,
    pub run: &'a Run,
}

impl Evidence<'_> {
    fn range(&self) -> Cidr {
        self.sim.world().range
    }

    fn behaviour(&self, addr: Ipv4Addr) -> &'static str {
        self.sim.world().behaviour(addr).name()
    }
}

/// What the report says besides the clauses, not graded: hosts connected to more than once
/// (an HTTP library may retry a GET whose connection was reset, which HTTP allows: no harm to
/// a grade, but worth knowing when counting what a scan costs a network), and a total line
/// that disagrees with the servers reported.
pub fn notes(e: &Evidence) -> Vec<String> {
    let mut notes = Vec::new();
    let again: Vec<String> = e
        .range()
        .iter()
        .filter_map(|a| Some((a, e.sim.accepted_by(a).filter(|n| *n > 1)?)))
        .map(|(a, n)| format!("{a} ({}, {n} times)", e.behaviour(a)))
        .collect();
    if !again.is_empty() {
        notes.push(format!(
            "{} hosts were connected to more than once: {}",
            again.len(),
            again.join(", ")
        ));
    }
    let servers = e
        .output
        .findings
        .iter()
        .filter(|f| f.kind == Kind::Http)
        .count() as u64;
    if let Some(total) = e.output.total.filter(|t| *t != servers) {
        notes.push(format!(
            "its total line says {total} servers, but it reported {servers}"
        ));
    }
    notes
}

/// Every clause judged, in the order the report lists them.
pub const CLAUSES: [fn(&Evidence) -> Verdict; 6] = [
    truth,
    exactly_once,
    deadline,
    max_connections,
    concurrency,
    outside,
];

/// The verdict of every clause.
pub fn judge(e: &Evidence) -> Vec<Verdict> {
    CLAUSES.iter().map(|clause| clause(e)).collect()
}

/// The outcomes the truth accepts for a host.
fn acceptable(truth: &Truth) -> Vec<Outcome> {
    match *truth {
        Truth::Exactly(o) => vec![o],
        Truth::Either(a, b) => vec![a, b],
    }
}

/// Whether the truth accepts what a scanner said of a host (see the module's documentation):
/// `None` as the kind is "no server", said by leaving the host out of a list of servers.
pub fn agrees(truth: &Truth, kind: Option<Kind>, status: Option<u16>) -> bool {
    let ok = acceptable(truth);
    let late_interim = ok
        .iter()
        .any(|o| o.status().is_some_and(|s| (100..200).contains(&s)));
    match kind {
        Some(Kind::Http) => ok
            .iter()
            .any(|o| o.is_server() && status.is_none_or(|s| o.status() == Some(s))),
        None | Some(Kind::Error) => late_interim || ok.iter().any(|o| !o.is_server()),
        Some(Kind::Timeout) if late_interim => true,
        Some(kind) => ok.iter().any(|o| o.kind() == kind.name()),
    }
}

/// A trickle host reported as a server: only a timeout per read waits for its whole status
/// line. The deadline clause names it, as the cause, rather than the truth.
fn heard_a_trickle(e: &Evidence, f: &Reported) -> bool {
    let world = e.sim.world();
    world.behaviour(f.addr) == Behaviour::Trickle
        && f.kind == Kind::Http
        && !agrees(&world.truth(f.addr, e.timeout), Some(f.kind), f.status)
}

/// One host of the range as a scanner reported it, against the truth.
#[derive(Debug)]
pub struct Judged<'a> {
    pub addr: Ipv4Addr,
    /// What it reported (`None`: a list of servers left the host out).
    pub reported: Option<&'a Reported>,
    /// As the report shows it: `http 200`, `timeout`, `no server`.
    pub said: String,
    pub truth: Truth,
    pub right: bool,
}

/// Every host of `world`'s range the scanner said something of, judged against the truth:
/// each one it reported (its first report: the exactly-once clause judges repeats), and, in a
/// list of servers that is `complete`, each one it left out, as "no server". (A list of
/// outcomes says nothing of a host it left out.) The race and `wardial check` both judge here.
pub fn judge_hosts<'a>(
    world: &World,
    timeout: Duration,
    output: &'a Output,
    complete: bool,
) -> Vec<Judged<'a>> {
    let by_addr: HashMap<Ipv4Addr, &Reported> = output
        .first_reports_in(world.range)
        .into_iter()
        .map(|f| (f.addr, f))
        .collect();
    let listed = output.form == Form::ServersOnly && complete;
    world
        .range
        .iter()
        .filter_map(|addr| {
            let truth = world.truth(addr, timeout);
            let reported = by_addr.get(&addr).copied();
            let (right, said) = match reported {
                Some(f) => (agrees(&truth, Some(f.kind), f.status), f.said()),
                None if listed => (agrees(&truth, None, None), "no server".to_string()),
                None => return None,
            };
            Some(Judged {
                addr,
                reported,
                said,
                truth,
                right,
            })
        })
        .collect()
}

fn truth(e: &Evidence) -> Verdict {
    let mut problems = Vec::new();
    let mut judged = 0;
    for j in judge_hosts(e.sim.world(), e.timeout, e.output, true) {
        if j.reported.is_some_and(|f| heard_a_trickle(e, f)) {
            continue;
        }
        judged += 1;
        if !j.right {
            problems.push(format!(
                "{}: got {} but the host is {} (expected {})",
                j.addr,
                j.said,
                e.behaviour(j.addr),
                j.truth
            ));
        }
    }
    let wrong = problems.len();
    Verdict::new(
        clause::TRUTH,
        problems,
        format!("{judged} hosts agree with the truth"),
        format!("{wrong} of {judged} hosts disagree with the truth"),
    )
}

fn exactly_once(e: &Evidence) -> Verdict {
    let range = e.range();
    let mut times: HashMap<Ipv4Addr, usize> = HashMap::new();
    let mut problems = Vec::new();
    for f in &e.output.findings {
        if !range.contains(f.addr) {
            problems.push(format!("{}: reported, but it is not in {range}", f.addr));
        }
        *times.entry(f.addr).or_default() += 1;
    }
    for addr in range {
        match times.get(&addr).copied().unwrap_or(0) {
            0 if e.output.form == Form::Outcomes => {
                problems.push(format!("{addr}: never reported"));
            }
            0 | 1 => {}
            n => problems.push(format!("{addr}: reported {n} times")),
        }
    }
    let n = problems.len();
    Verdict::new(
        clause::EXACTLY_ONCE,
        problems,
        match e.output.form {
            Form::Outcomes => "each host reported once".into(),
            Form::ServersOnly => {
                "each server reported once (a list of servers only: the other hosts are not listed)"
                    .into()
            }
        },
        format!("{n} problems"),
    )
}

fn deadline(e: &Evidence) -> Verdict {
    let mut problems = Vec::new();
    if e.run.ended == Ended::Deadline {
        problems.push(format!(
            "the scan had not ended after {:.0} s and was stopped (a scan of {} hosts, {} at a time, needs far less)",
            e.deadline.as_secs_f64(),
            e.range().len(),
            e.max_connections
        ));
    }
    let trickle = e.sim.world().trickle_time();
    for f in &e.output.findings {
        if e.range().contains(f.addr) && heard_a_trickle(e, f) {
            problems.push(format!(
                "{}: got {} from a trickle host, whose status line takes {:.2} s to arrive: the {:.2} s timeout must be a deadline for the whole probe, not a timeout per read",
                f.addr, f.said(), trickle.as_secs_f64(), e.timeout.as_secs_f64()
            ));
        }
        if let Some(took) = f.elapsed.filter(|t| *t > e.timeout + SLACK) {
            problems.push(format!(
                "{}: took {:.2} s, past its {:.2} s deadline",
                f.addr,
                took.as_secs_f64(),
                e.timeout.as_secs_f64()
            ));
        }
    }
    let n = problems.len();
    Verdict::new(
        clause::DEADLINE,
        problems,
        format!(
            "every probe within its {:.2} s deadline, the scan within {:.0} s",
            e.timeout.as_secs_f64(),
            e.deadline.as_secs_f64()
        ),
        format!("{n} problems"),
    )
}

fn max_connections(e: &Evidence) -> Verdict {
    let (peak, max) = (e.stats.peak_open, e.max_connections);
    let problems = if peak > max {
        vec![format!(
            "peak open connections {peak} > max_connections {max} (counted by the hosts)"
        )]
    } else {
        Vec::new()
    };
    Verdict::new(
        clause::MAX_CONNECTIONS,
        problems,
        format!("at most {peak} connections open at once (max_connections {max})"),
        format!("{peak} connections open at once, more than {max}"),
    )
}

fn concurrency(e: &Evidence) -> Verdict {
    let peak = e.stats.peak_open;
    let problems = if e.max_connections > 1 && peak <= 1 {
        vec![format!(
            "peak open connections {peak}: the scan never ran two probes at once"
        )]
    } else {
        Vec::new()
    };
    Verdict::new(
        clause::CONCURRENCY,
        problems,
        format!("{peak} probes in flight at once at the peak"),
        "one probe at a time".into(),
    )
}

fn outside(e: &Evidence) -> Verdict {
    let n = e.stats.outside;
    let problems = if n > 0 {
        vec![format!(
            "{n} connections to addresses outside {} (the {} addresses around it listen, to count them)",
            e.range(),
            e.neighbours
        )]
    } else {
        Vec::new()
    };
    Verdict::new(
        clause::OUTSIDE,
        problems,
        format!(
            "no connection outside {} (its {} neighbouring addresses listened)",
            e.range(),
            e.neighbours
        ),
        format!("{n} connections outside the range"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_claim_is_judged_on_what_it_says() {
        let http = Truth::Exactly(Outcome::http(200));
        assert!(agrees(&http, Some(Kind::Http), Some(200)));
        assert!(agrees(&http, Some(Kind::Http), None), "no status said");
        assert!(!agrees(&http, Some(Kind::Http), Some(404)));
        assert!(!agrees(&http, Some(Kind::Timeout), None));
        assert!(!agrees(&http, None, None), "a server left out of the list");
        assert!(!agrees(&http, Some(Kind::Error), None));

        let reset = Truth::Exactly(Outcome::Closed);
        assert!(agrees(&reset, Some(Kind::Closed), None));
        assert!(agrees(&reset, Some(Kind::Error), None), "no reason named");
        assert!(agrees(&reset, None, None));
        assert!(
            !agrees(&reset, Some(Kind::NotHttp), None),
            "the wrong reason"
        );
        assert!(!agrees(&reset, Some(Kind::Http), None));

        // The final answer after the deadline: the interim one counts, and so does a timeout.
        let late = Truth::Exactly(Outcome::http(100));
        assert!(agrees(&late, Some(Kind::Http), Some(100)));
        assert!(agrees(&late, Some(Kind::Timeout), None));
        assert!(agrees(&late, None, None));
        assert!(!agrees(&late, Some(Kind::Refused), None));

        let near = Truth::Either(Outcome::http(301), Outcome::Timeout);
        assert!(agrees(&near, Some(Kind::Http), Some(301)));
        assert!(agrees(&near, Some(Kind::Timeout), None));
        assert!(!agrees(&near, Some(Kind::Http), Some(200)));
    }
}
