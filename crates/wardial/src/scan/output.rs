//! What a scan prints: a line per finding for people or for programs, the record of how it
//! ended, and the summary.

use std::time::SystemTime;

use serde::{Deserialize, Serialize};
use wardial_probe::{Finding, Outcome, ScanSummary};

use super::plan::timestamp;

/// One finding as a JSON line. The key names are a contract: scripts read them.
#[derive(Debug, Serialize)]
struct JsonFinding {
    addr: String,
    port: u16,
    outcome: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    status: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
    /// The `Server` header and the page's `<title>`, where the server sent them.
    #[serde(skip_serializing_if = "Option::is_none")]
    server: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    title: Option<String>,
    ms: u64,
    /// The finding's place in the plan's order (a merge and a resume count findings by it).
    #[serde(skip_serializing_if = "Option::is_none")]
    position: Option<u64>,
    /// When the finding was made.
    #[serde(skip_serializing_if = "Option::is_none")]
    at: Option<String>,
}

/// One finding as a JSON line, without its place in a plan (for a line on its own).
pub fn json_line(f: &Finding) -> String {
    serde_json::to_string(&json_finding(f)).expect("plain data serializes")
}

/// One finding of a scan's output: with its position in the plan and the time it was made.
pub fn json_record(f: &Finding, position: u64, at: SystemTime) -> String {
    let line = JsonFinding {
        position: Some(position),
        at: Some(timestamp(at)),
        ..json_finding(f)
    };
    serde_json::to_string(&line).expect("plain data serializes")
}

fn json_finding(f: &Finding) -> JsonFinding {
    JsonFinding {
        addr: f.target.addr.to_string(),
        port: f.target.port,
        outcome: f.outcome.kind(),
        status: f.outcome.status(),
        // What the OS said ("Too many open files (os error 24)"), for an `error` outcome.
        error: match f.outcome {
            Outcome::Error(failure) => Some(failure.to_string()),
            _ => None,
        },
        server: f
            .outcome
            .about()
            .and_then(|a| a.server)
            .map(|l| l.to_string()),
        title: f
            .outcome
            .about()
            .and_then(|a| a.title)
            .map(|l| l.to_string()),
        ms: f.elapsed.as_millis() as u64,
        position: None,
        at: None,
    }
}

/// Reads an output's lines back (for a restart, or a merge): each whole line, as JSON (`Null`
/// for one that is not) and as the bytes it was written with. A last line without its newline
/// was cut short by a kill and is left out, its target counted as not reported; lines are read
/// as bytes, so a cut inside a character of a title is no error. Returns how many bytes the
/// whole lines take.
pub fn read_records(
    lines: &mut impl std::io::BufRead,
    mut each: impl FnMut(&serde_json::Value, &[u8]) -> std::io::Result<()>,
) -> std::io::Result<u64> {
    let (mut whole, mut line) = (0, Vec::new());
    loop {
        line.clear();
        let n = lines.read_until(b'\n', &mut line)?;
        if n == 0 || line.last() != Some(&b'\n') {
            return Ok(whole);
        }
        whole += n as u64;
        let record = serde_json::from_slice(&line).unwrap_or(serde_json::Value::Null);
        each(&record, &line[..n - 1])?;
    }
}

/// The last line of a run of a scan: how it ended, and what it had found.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct End {
    /// Always `"end"`.
    pub record: String,
    pub plan: String,
    pub shard: String,
    /// `complete`, `interrupted` or `budget`.
    pub ended: String,
    /// Findings of this run (a resumed output holds one end line per run).
    pub completed: u64,
    pub servers: u64,
    pub at: String,
    /// A paced run's probes started this many a second (first start to last), which is what
    /// `--rate` limits: the run's own probes per second also count the wait of its last probes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_per_second: Option<f64>,
}

impl End {
    pub fn new(plan: &super::plan::Plan, ended: &str, summary: &ScanSummary) -> End {
        End {
            record: "end".into(),
            plan: plan.plan.clone(),
            shard: plan.shard.clone(),
            ended: ended.into(),
            completed: summary.completed,
            servers: summary.servers,
            at: timestamp(SystemTime::now()),
            started_per_second: None,
        }
    }

    pub fn line(&self) -> String {
        serde_json::to_string(self).expect("plain data serializes")
    }
}

pub fn human_line(f: &Finding) -> String {
    match f.outcome {
        Outcome::Http { status, about } => {
            // What it says about itself after the status: `(200, nginx/1.22.1, "Welcome")`.
            let mut said = status.to_string();
            if let Some(server) = about.server {
                said.push_str(&format!(", {server}"));
            }
            if let Some(title) = about.title {
                said.push_str(&format!(", {:?}", title.as_str()));
            }
            format!(
                "server at http://{}:{} ({said})",
                f.target.addr, f.target.port
            )
        }
        other => format!(
            "{}:{} {other} ({} ms)",
            f.target.addr,
            f.target.port,
            f.elapsed.as_millis()
        ),
    }
}

pub fn summary_line(s: &ScanSummary, interrupted: bool) -> String {
    let kinds: Vec<String> = ScanSummary::KINDS
        .iter()
        .zip(s.by_kind)
        .filter(|(_, n)| *n > 0)
        .map(|(k, n)| format!("{n} {k}"))
        .collect();
    format!(
        "{}scanned {} address{} in {:.2} s ({:.0} probes/s): {} server{} found{}",
        if interrupted { "interrupted: " } else { "" },
        s.completed,
        if s.completed == 1 { "" } else { "es" },
        s.elapsed.as_secs_f64(),
        s.rate(),
        s.servers,
        if s.servers == 1 { "" } else { "s" },
        if kinds.is_empty() {
            String::new()
        } else {
            format!(" ({})", kinds.join(", "))
        }
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;
    use std::time::Duration;
    use wardial_probe::Target;

    fn finding(outcome: Outcome) -> Finding {
        Finding {
            target: Target::direct(Ipv4Addr::new(127, 0, 0, 1), 8080),
            outcome,
            elapsed: Duration::from_millis(12),
        }
    }

    #[test]
    fn what_a_server_says_about_itself() {
        let about = wardial_probe::About {
            server: wardial_probe::Label::new("nginx/1.22.1"),
            title: wardial_probe::Label::new("Welcome \"home\""),
        };
        let f = finding(Outcome::Http { status: 200, about });
        assert_eq!(
            human_line(&f),
            r#"server at http://127.0.0.1:8080 (200, nginx/1.22.1, "Welcome \"home\"")"#
        );
        assert_eq!(
            json_line(&f),
            r#"{"addr":"127.0.0.1","port":8080,"outcome":"http","status":200,"server":"nginx/1.22.1","title":"Welcome \"home\"","ms":12}"#
        );
    }

    #[test]
    fn lines_for_people_and_programs() {
        let f = finding(Outcome::http(200));
        assert_eq!(human_line(&f), "server at http://127.0.0.1:8080 (200)");
        assert_eq!(
            json_line(&f),
            r#"{"addr":"127.0.0.1","port":8080,"outcome":"http","status":200,"ms":12}"#
        );
        let f = finding(Outcome::Refused);
        assert_eq!(human_line(&f), "127.0.0.1:8080 refused (12 ms)");
        assert_eq!(
            json_line(&f),
            r#"{"addr":"127.0.0.1","port":8080,"outcome":"refused","ms":12}"#
        );
        let f = finding(Outcome::Error(std::io::ErrorKind::PermissionDenied.into()));
        assert!(json_line(&f).contains(r#""outcome":"error","error":"permission denied""#));
        let emfile = std::io::Error::from_raw_os_error(24);
        let f = finding(Outcome::Error((&emfile).into()));
        let line = json_line(&f);
        assert!(line.contains(r#""outcome":"error""#), "{line}");
        assert!(line.contains(&format!(r#""error":"{emfile}""#)), "{line}");
        assert!(human_line(&f).contains("os error 24"), "{}", human_line(&f));
    }
}
