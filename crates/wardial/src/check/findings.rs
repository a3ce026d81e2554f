//! What an outside scanner reported, read from what it printed.
//!
//! Two forms are understood, so that both a scanner written for this workspace and the
//! lecture's unmodified homework can be judged:
//!
//! - **JSON lines**, one per address, as `wardial scan --json` and the Python reference
//!   scanners print them: `{"addr": "127.64.0.7", "outcome": "http", "status": 200, "ms": 31}`
//!   (`addr` may also be spelled `address`, `ip` or `host`; `status` and `ms` are optional;
//!   the outcomes are `wardial scan`'s: http, not_http, refused, closed, timeout, error);
//! - **the servers found**, one per line: the first IPv4 address on each line of stdout
//!   (`server at http://127.64.0.7`, or the bare address). If stdout names none, the lines of
//!   stderr that say `server at` are read instead: Python's `logging`, which the homework uses
//!   for them, writes to stderr.
//!
//! A line `total ips found = N` (the homework's last line), on either stream, is kept too.

use std::collections::HashSet;
use std::net::Ipv4Addr;
use std::time::Duration;

use wardial_probe::{Cidr, Outcome};

use super::process::Line;

/// An outcome as a scanner names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Http,
    NotHttp,
    Refused,
    Closed,
    Timeout,
    /// Not a server, for a reason the scanner does not name (or a name this program does not
    /// know).
    Error,
}

impl Kind {
    fn parse(s: &str) -> Kind {
        match s.trim().to_ascii_lowercase().as_str() {
            "http" | "server" => Kind::Http,
            "not_http" | "not-http" | "nothttp" => Kind::NotHttp,
            "refused" => Kind::Refused,
            "closed" => Kind::Closed,
            "timeout" => Kind::Timeout,
            _ => Kind::Error,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Kind::Http => "http",
            Kind::NotHttp => "not_http",
            Kind::Refused => "refused",
            Kind::Closed => "closed",
            Kind::Timeout => "timeout",
            Kind::Error => "error",
        }
    }

    /// The workspace's outcome of this kind (for the race's timeline, which colours by kind).
    pub fn outcome(self, status: Option<u16>) -> Outcome {
        match self {
            Kind::Http => Outcome::http(status.unwrap_or(0)),
            Kind::NotHttp => Outcome::NotHttp,
            Kind::Refused => Outcome::Refused,
            Kind::Closed => Outcome::Closed,
            Kind::Timeout => Outcome::Timeout,
            Kind::Error => Outcome::Error(std::io::ErrorKind::Other.into()),
        }
    }
}

/// One address as the scanner reported it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Reported {
    pub addr: Ipv4Addr,
    pub kind: Kind,
    pub status: Option<u16>,
    /// How long the scanner says the probe took, if it says.
    pub elapsed: Option<Duration>,
    /// When the line arrived, from the scanner's start.
    pub at: Duration,
}

impl Reported {
    /// As the report shows it: `http 200`, `http` (no status said), `timeout`.
    pub fn said(&self) -> String {
        match self.status {
            Some(status) => format!("{} {status}", self.kind.name()),
            None => self.kind.name().to_string(),
        }
    }
}

/// Which of the two forms the scanner printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Form {
    /// A line per address, with its outcome.
    Outcomes,
    /// Only the addresses of the servers found.
    ServersOnly,
}

/// Everything the scanner reported.
#[derive(Debug, Clone)]
pub struct Output {
    pub form: Form,
    pub findings: Vec<Reported>,
    /// The `total ips found = N` line, if there was one.
    pub total: Option<u64>,
}

impl Output {
    /// The first report of each host in `range`, in the order printed: the exactly-once clause
    /// judges repeats, everything else the first word on a host.
    pub fn first_reports_in(&self, range: Cidr) -> Vec<&Reported> {
        let mut seen = HashSet::new();
        self.findings
            .iter()
            .filter(|f| range.contains(f.addr) && seen.insert(f.addr))
            .collect()
    }
}

/// Reads what a scanner printed (see the module's documentation).
pub fn read(stdout: &[Line], stderr: &[String]) -> Output {
    let total = stdout
        .iter()
        .map(|l| l.text.as_str())
        .chain(stderr.iter().map(String::as_str))
        .find_map(total_line);
    let json: Vec<Reported> = stdout.iter().filter_map(json_line).collect();
    if !json.is_empty() {
        return Output {
            form: Form::Outcomes,
            findings: json,
            total,
        };
    }
    let server = |addr, at| Reported {
        addr,
        kind: Kind::Http,
        status: None,
        elapsed: None,
        at,
    };
    let mut findings: Vec<Reported> = stdout
        .iter()
        .filter(|l| total_line(&l.text).is_none())
        .filter_map(|l| Some(server(first_address(&l.text)?, l.at)))
        .collect();
    if findings.is_empty() {
        findings = stderr
            .iter()
            .filter(|l| l.contains("server at") && !l.contains("no server at"))
            .filter_map(|l| Some(server(first_address(l)?, Duration::ZERO)))
            .collect();
    }
    Output {
        form: Form::ServersOnly,
        findings,
        total,
    }
}

/// A JSON line naming an address and its outcome.
fn json_line(line: &Line) -> Option<Reported> {
    let value: serde_json::Value = serde_json::from_str(line.text.trim()).ok()?;
    let object = value.as_object()?;
    let addr = ["addr", "address", "ip", "host"]
        .iter()
        .find_map(|k| object.get(*k)?.as_str()?.trim().parse().ok())?;
    let kind = Kind::parse(object.get("outcome")?.as_str()?);
    let status = object
        .get("status")
        .and_then(serde_json::Value::as_u64)
        .and_then(|s| u16::try_from(s).ok());
    let elapsed = object
        .get("ms")
        .and_then(serde_json::Value::as_f64)
        .filter(|ms| ms.is_finite() && *ms >= 0.0)
        .map(|ms| Duration::from_secs_f64(ms / 1000.0));
    Some(Reported {
        addr,
        kind,
        status: status.filter(|_| kind == Kind::Http),
        elapsed,
        at: line.at,
    })
}

/// N from `total ips found = N`.
fn total_line(line: &str) -> Option<u64> {
    let (_, n) = line.split_once("total ips found")?;
    n.trim().trim_start_matches('=').trim().parse().ok()
}

/// The first dotted-quad IPv4 address in `text`.
fn first_address(text: &str) -> Option<Ipv4Addr> {
    text.split(|c: char| !(c.is_ascii_digit() || c == '.'))
        .filter(|token| !token.is_empty())
        .find_map(|token| token.trim_matches('.').parse().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(text: &[&str]) -> Vec<Line> {
        text.iter()
            .enumerate()
            .map(|(i, t)| Line {
                at: Duration::from_millis(i as u64),
                text: t.to_string(),
            })
            .collect()
    }

    #[test]
    fn json_lines_with_outcomes() {
        let out = read(
            &lines(&[
                r#"{"addr": "127.64.0.7", "port": 8080, "outcome": "http", "status": 200, "ms": 31}"#,
                r#"{"ip": "127.64.0.8", "outcome": "timeout", "status": 7}"#,
                r#"{"addr": "127.64.0.9", "outcome": "whatever"}"#,
                "server at http://127.64.0.10 (a line that is no JSON: not a finding here)",
                r#"{"addr": "not an address", "outcome": "http"}"#,
            ]),
            &["total ips found = 1".to_string()],
        );
        assert_eq!(out.form, Form::Outcomes);
        assert_eq!(out.total, Some(1));
        let said: Vec<(String, String)> = out
            .findings
            .iter()
            .map(|f| (f.addr.to_string(), f.said()))
            .collect();
        assert_eq!(
            said,
            [
                ("127.64.0.7".into(), "http 200".into()),
                ("127.64.0.8".into(), "timeout".into()),
                ("127.64.0.9".into(), "error".into()),
            ]
        );
        assert_eq!(out.findings[0].elapsed, Some(Duration::from_millis(31)));
    }

    #[test]
    fn servers_only_from_stdout_or_the_homeworks_log() {
        let out = read(
            &lines(&[
                "server at http://127.64.0.7:8080",
                "127.64.0.9",
                "total ips found = 2",
            ]),
            &[],
        );
        assert_eq!(out.form, Form::ServersOnly);
        let addrs: Vec<String> = out.findings.iter().map(|f| f.addr.to_string()).collect();
        assert_eq!(addrs, ["127.64.0.7", "127.64.0.9"]);
        assert_eq!(out.total, Some(2));

        let log = [
            "INFO:root:server at http://127.64.0.44".to_string(),
            "DEBUG:root:no server at http://127.64.0.45".to_string(),
            "total ips found = 1".to_string(),
        ];
        let out = read(&lines(&["total ips found = 1"]), &log);
        let addrs: Vec<String> = out.findings.iter().map(|f| f.addr.to_string()).collect();
        assert_eq!(addrs, ["127.64.0.44"]);
        assert_eq!(out.findings[0].kind, Kind::Http);

        let nothing = read(&[], &["Traceback: 127.0.0.1 refused".to_string()]);
        assert!(nothing.findings.is_empty() && nothing.total.is_none());
    }
}
