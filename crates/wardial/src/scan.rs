//! `wardial scan`: one model over real networks (the user's own), printing servers as found.

use std::io::{BufRead, BufReader, Write};
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde::Serialize;
use wardial_probe::{Cidr, Finding, Outcome, ScanConfig, ScanSummary, Stop, Target};

use crate::{args, limits, models, Failure};

/// What to scan: a network, or one address reached through another socket address (the lines
/// `wardial simnet --targets` writes: a virtual host and the listener that plays it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Spec {
    Net(Cidr),
    Mapped { addr: Ipv4Addr, dial: SocketAddr },
}

impl Spec {
    pub fn parse(s: &str) -> Result<Spec, String> {
        let mut words = s.split_whitespace();
        match (words.next(), words.next(), words.next()) {
            (Some(net), None, _) => args::cidr(net).map(Spec::Net),
            (Some(addr), Some(dial), None) => {
                let addr = addr
                    .parse()
                    .map_err(|_| format!("'{addr}' is not an IPv4 address"))?;
                let dial = dial
                    .parse()
                    .map_err(|_| format!("'{dial}' is not a socket address like 127.0.0.1:8080"))?;
                Ok(Spec::Mapped { addr, dial })
            }
            _ => Err(format!(
                "'{s}' is not a target: expected a CIDR, an address, or 'ADDRESS HOST:PORT'"
            )),
        }
    }

    /// How many addresses it holds.
    pub fn len(&self) -> u64 {
        match self {
            Spec::Net(net) => net.len(),
            Spec::Mapped { .. } => 1,
        }
    }

    /// Never true; for clippy.
    pub fn is_empty(&self) -> bool {
        false
    }

    /// The networks the responsible-scanning gate must allow: every address that names a host,
    /// and every address that is dialled.
    pub fn networks(&self) -> Vec<Cidr> {
        match *self {
            Spec::Net(net) => vec![net],
            Spec::Mapped { addr, dial } => {
                let mut nets = vec![Cidr::new(addr, 32)];
                match dial.ip() {
                    std::net::IpAddr::V4(ip) => nets.push(Cidr::new(ip, 32)),
                    // The gate knows IPv4 ranges only: [::1] is this machine, and any other
                    // IPv6 address counts as public (0.0.0.0/0 is what makes the gate say so).
                    std::net::IpAddr::V6(ip) if ip.is_loopback() => {}
                    std::net::IpAddr::V6(_) => nets.push(Cidr::new(Ipv4Addr::UNSPECIFIED, 0)),
                }
                nets
            }
        }
    }

    /// The targets, lazily.
    pub fn targets(self, port: u16) -> Box<dyn Iterator<Item = Target> + Send> {
        match self {
            Spec::Net(net) => Box::new(net.into_iter().map(move |a| Target::direct(a, port))),
            Spec::Mapped { addr, dial } => Box::new(std::iter::once(Target { addr, port, dial })),
        }
    }
}

#[derive(Debug, Clone)]
pub struct ScanOptions {
    pub targets: Vec<Spec>,
    pub port: u16,
    pub model: String,
    pub timeout: Duration,
    pub max_connections: usize,
    pub json: bool,
    pub all: bool,
    pub progress: bool,
}

/// Reads targets, one per line (`-` is stdin): a CIDR, an address, or `ADDRESS HOST:PORT` to
/// probe ADDRESS by dialling HOST:PORT (what `wardial simnet --targets` writes). Blank lines and
/// `#` comments are skipped. All of it is read and checked before the scan starts, so a bad line
/// (or a public address) is refused before any socket exists.
///
/// Reading can wait forever (a terminal, a pipe whose writer never closes), and a blocked read
/// cannot be interrupted: so the lines are read on a thread of their own, and this one gives up
/// when `interrupt` is set (Ctrl-C), leaving that thread to end with the process.
pub fn read_targets(path: &str, interrupt: &Stop) -> Result<Vec<Spec>, Failure> {
    let reader: Box<dyn BufRead + Send> = if path == "-" {
        Box::new(BufReader::new(std::io::stdin()))
    } else {
        let file = std::fs::File::open(path)
            .map_err(|e| Failure::Usage(format!("cannot read targets file '{path}': {e}")))?;
        Box::new(BufReader::new(file))
    };
    let (lines_tx, lines) = mpsc::channel();
    std::thread::spawn(move || {
        for line in reader.lines() {
            let failed = line.is_err();
            if lines_tx.send(line).is_err() || failed {
                return;
            }
        }
    });
    let mut nets = Vec::new();
    let mut n = 0;
    loop {
        // Checked at every line too, not only while waiting: a writer that never pauses (a
        // huge file, `yes`) must not keep the read going past a Ctrl-C.
        if interrupt.is_stopped() {
            return Err(Failure::Interrupted(format!(
                "interrupted while reading targets from {}: nothing was scanned",
                if path == "-" { "stdin" } else { path }
            )));
        }
        let line = match lines.recv_timeout(Duration::from_millis(50)) {
            Ok(line) => line,
            Err(mpsc::RecvTimeoutError::Timeout) => continue,
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
        };
        n += 1;
        let line =
            line.map_err(|e| Failure::Usage(format!("cannot read targets file '{path}': {e}")))?;
        let line = line.split('#').next().unwrap_or("").trim();
        if line.is_empty() {
            continue;
        }
        let spec = Spec::parse(line).map_err(|e| Failure::Usage(format!("{path}:{n}: {e}")))?;
        nets.push(spec);
    }
    Ok(nets)
}

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
    ms: u64,
}

pub fn json_line(f: &Finding) -> String {
    let line = JsonFinding {
        addr: f.target.addr.to_string(),
        port: f.target.port,
        outcome: f.outcome.kind(),
        status: f.outcome.status(),
        // What the OS said ("Too many open files (os error 24)"), for an `error` outcome.
        error: match f.outcome {
            Outcome::Error(failure) => Some(failure.to_string()),
            _ => None,
        },
        ms: f.elapsed.as_millis() as u64,
    };
    serde_json::to_string(&line).expect("plain data serializes")
}

pub fn human_line(f: &Finding) -> String {
    match f.outcome {
        Outcome::Http { status } => format!(
            "server at http://{}:{} ({status})",
            f.target.addr, f.target.port
        ),
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

/// Runs the scan; returns its summary and whether Ctrl-C ended it.
pub fn run(opts: &ScanOptions, interrupt: &Stop) -> Result<(ScanSummary, bool), Failure> {
    if opts.max_connections == 0 {
        return Err(Failure::Usage(
            "--max-connections must be at least 1".into(),
        ));
    }
    let model = match models::build(&opts.model) {
        None => return Err(Failure::Usage(models::parse(&opts.model).unwrap_err())),
        Some(Ok(model)) => model,
        Some(Err(reason)) => {
            return Err(Failure::Run(format!(
                "model '{}' is unavailable here: {reason}",
                opts.model
            )))
        }
    };
    let (max_connections, warning) =
        limits::clamp_connections(opts.max_connections, 1, limits::raise_open_files());
    if let Some(w) = warning {
        eprintln!("{w}");
    }
    // Ctrl-C stops this scan: the handler's flag is the scan's.
    let config = ScanConfig::new(opts.timeout, max_connections).with_stop(interrupt.clone());

    let total: u64 = opts.targets.iter().map(Spec::len).sum();
    let port = opts.port;
    let mut targets = opts
        .targets
        .clone()
        .into_iter()
        .flat_map(move |spec| spec.targets(port));

    // A progress bar on stderr, drawn only on a terminal and only once the scan has run for a
    // moment: a scan of a few hosts should print its lines and nothing else.
    let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::hidden());
    bar.set_style(
        ProgressStyle::with_template(
            "[{elapsed_precise}] {wide_bar} {pos}/{len} ({eta} left) {msg}",
        )
        .expect("a valid template"),
    );
    let started = Instant::now();
    let mut shown = false;
    let stdout = std::io::stdout();
    let mut servers = 0u64;
    let summary = model.scan(&mut targets, &config, &mut |f| {
        if opts.progress && !shown && started.elapsed() > Duration::from_millis(500) {
            bar.set_draw_target(ProgressDrawTarget::stderr());
            shown = true;
        }
        bar.inc(1);
        if f.outcome.is_server() {
            servers += 1;
            bar.set_message(format!("{servers} found"));
        }
        if opts.all || f.outcome.is_server() {
            let line = if opts.json {
                json_line(&f)
            } else {
                human_line(&f)
            };
            // Whole lines only, with the bar out of the way: a line already printed stays valid
            // output whenever the scan is stopped.
            bar.suspend(|| {
                let mut out = stdout.lock();
                let _ = writeln!(out, "{line}");
                let _ = out.flush();
            });
        }
    });
    bar.finish_and_clear();
    Ok((summary, interrupt.is_stopped()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    fn finding(outcome: Outcome) -> Finding {
        Finding {
            target: Target::direct(Ipv4Addr::new(127, 0, 0, 1), 8080),
            outcome,
            elapsed: Duration::from_millis(12),
        }
    }

    #[test]
    fn lines_for_people_and_programs() {
        let f = finding(Outcome::Http { status: 200 });
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

    #[test]
    fn targets_file_reports_the_bad_line() {
        let dir = std::env::temp_dir().join(format!("wardial-targets-{}", std::process::id()));
        std::fs::write(
            &dir,
            "# mine\n127.0.0.1\n\n127.0.1.0/24  # lab\n127.0.0.300\n",
        )
        .unwrap();
        let err = read_targets(dir.to_str().unwrap(), &Stop::new()).unwrap_err();
        assert!(err.message().ends_with(":5: '127.0.0.300' is not an IPv4 address: expected four numbers 0-255 separated by dots, like 10.0.0.0/16"), "{err:?}");
        std::fs::write(&dir, "127.0.0.1\n127.0.1.0/24 # lab\n").unwrap();
        assert_eq!(
            read_targets(dir.to_str().unwrap(), &Stop::new())
                .unwrap()
                .len(),
            2
        );
        std::fs::remove_file(&dir).unwrap();
        assert_eq!(
            read_targets("/nonexistent/wardial", &Stop::new())
                .unwrap_err()
                .code(),
            2
        );
    }

    #[test]
    fn mapped_targets_dial_elsewhere() {
        let spec = Spec::parse("127.64.0.9 127.0.0.1:4000").unwrap();
        let t: Vec<Target> = spec.targets(80).collect();
        assert_eq!(t[0].addr, Ipv4Addr::new(127, 64, 0, 9));
        assert_eq!(t[0].dial, "127.0.0.1:4000".parse().unwrap());
        assert_eq!(t[0].host_header(), "127.64.0.9");
        // Both the named and the dialled address pass through the gate.
        let nets = Spec::parse("127.64.0.9 8.8.8.8:80").unwrap().networks();
        assert!(crate::args::check_allowed(&nets, false).is_err());
        assert!(Spec::parse("127.0.0.1 nowhere").is_err());
        assert!(Spec::parse("a b c").is_err());
    }
}
