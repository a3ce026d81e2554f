//! Running a scanner from outside: its command line run by the shell in a process group of its
//! own under a deadline, its output read line by line as it comes, and what it cost this
//! machine (through the helper of [`measured`](super::measured), where there is one).
//!
//! The names a caller needs are all here: the template's ([`expand`], [`Placeholders`]), how a
//! run ended and what it cost ([`Ended`], [`Usage`]) and the helper's ([`measured`],
//! [`RunMeasuredArgs`]) are re-exported from the files that hold them.

use std::io::BufRead;
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use wardial_probe::Stop;

use super::group::{interrupt_helper, kill_group, own_group, shell};
use super::measured::read_usage;
use super::outcome::ended;

pub use super::measured::{measured, RunMeasuredArgs};
pub use super::outcome::{Ended, Usage};
pub use super::template::{expand, Placeholders, DEFAULT_ARGS};

/// How to run one command.
#[derive(Debug)]
pub struct RunSpec<'a> {
    /// The command line, for the shell.
    pub command: &'a str,
    /// When the command is stopped if it has not ended.
    pub deadline: Duration,
    /// This program, to run the command under `wardial run-measured` for its figures; `None`
    /// (a unit test, or not Unix) runs it directly, without them.
    pub helper: Option<&'a Path>,
    /// Ctrl-C: stops the command at once.
    pub interrupt: &'a Stop,
    /// Lines of stdout kept at most (a command that prints forever must not fill memory).
    pub max_lines: usize,
}

/// One line the command printed on stdout, and when it arrived (from the command's start).
#[derive(Debug, Clone)]
pub struct Line {
    pub at: Duration,
    pub text: String,
}

/// What came of running a command.
#[derive(Debug, Clone)]
pub struct Run {
    pub stdout: Vec<Line>,
    /// Lines of stdout past [`RunSpec::max_lines`], counted and dropped.
    pub dropped: usize,
    /// Every line of stderr (the last [`STDERR_LINES`] of them).
    pub stderr: Vec<String>,
    /// From start to end, as this program saw it (the interpreter's start-up included).
    pub seconds: f64,
    pub ended: Ended,
    pub usage: Option<Usage>,
}

impl Run {
    /// The last line of stderr that says something, to show why a command failed.
    pub fn last_words(&self) -> Option<&str> {
        self.stderr
            .iter()
            .rev()
            .map(|l| l.trim())
            .find(|l| !l.is_empty())
    }
}

/// Lines of stderr kept: the end of a traceback says what went wrong.
pub const STDERR_LINES: usize = 200;

/// How long, after the command ended, its output may still be drained: a process it left
/// behind could hold the pipes open forever.
const DRAIN: Duration = Duration::from_secs(2);

/// How long the helper gets, past the deadline, to stop the command and report.
const GRACE: Duration = Duration::from_secs(5);

enum Event {
    Out(Line),
    Err(String),
    Closed,
}

/// Runs `spec.command` with the shell and collects what it printed and what it cost.
pub fn run(spec: &RunSpec) -> Run {
    let started = Instant::now();
    let report = std::env::temp_dir().join(format!(
        "wardial-usage-{}-{}.json",
        std::process::id(),
        next_serial()
    ));
    let helper = spec.helper.filter(|_| cfg!(unix));
    let mut child = match spawn(spec, helper, &report) {
        Ok(child) => child,
        Err(e) => return not_started(e.to_string()),
    };
    let events = read_output(&mut child, started);
    let mut run = collect(spec, &mut child, &events, started, helper.is_some());
    if helper.is_some() {
        run.usage = read_usage(&report, &mut run.ended);
        let _ = std::fs::remove_file(&report);
    }
    run
}

/// A number that differs between calls in one process, so that two runs never share a report
/// file.
fn next_serial() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    N.fetch_add(1, Ordering::Relaxed)
}

fn not_started(why: String) -> Run {
    Run {
        stdout: Vec::new(),
        dropped: 0,
        stderr: Vec::new(),
        seconds: 0.0,
        ended: Ended::NotStarted(why),
        usage: None,
    }
}

fn spawn(spec: &RunSpec, helper: Option<&Path>, report: &Path) -> std::io::Result<Child> {
    let mut command = match helper {
        Some(exe) => {
            let mut c = Command::new(exe);
            c.arg("run-measured")
                .arg("--out")
                .arg(report)
                .arg("--deadline")
                .arg(format!("{}ms", spec.deadline.as_millis().max(1)))
                .arg("--");
            let sh = shell(spec.command);
            c.arg(sh.get_program()).args(sh.get_args());
            c
        }
        None => {
            let mut c = shell(spec.command);
            own_group(&mut c);
            c
        }
    };
    command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
}

/// A thread per pipe, sending each line as it arrives.
fn read_output(child: &mut Child, started: Instant) -> mpsc::Receiver<Event> {
    let (tx, rx) = mpsc::channel();
    if let Some(out) = child.stdout.take() {
        let tx = tx.clone();
        std::thread::spawn(move || {
            for_each_line(out, |text| {
                let at = started.elapsed();
                tx.send(Event::Out(Line { at, text })).is_ok()
            });
            let _ = tx.send(Event::Closed);
        });
    }
    if let Some(err) = child.stderr.take() {
        std::thread::spawn(move || {
            for_each_line(err, |text| tx.send(Event::Err(text)).is_ok());
            let _ = tx.send(Event::Closed);
        });
    }
    rx
}

/// Each line of `pipe`, as text even where it is not UTF-8, until the pipe closes or `line`
/// says stop.
fn for_each_line(pipe: impl std::io::Read, mut line: impl FnMut(String) -> bool) {
    let mut reader = std::io::BufReader::new(pipe);
    let mut buf = Vec::new();
    loop {
        buf.clear();
        match reader.read_until(b'\n', &mut buf) {
            Ok(0) | Err(_) => return,
            Ok(_) => {
                let text = String::from_utf8_lossy(&buf);
                if !line(text.trim_end_matches(['\n', '\r']).to_string()) {
                    return;
                }
            }
        }
    }
}

/// Waits for the command (stopping it at its deadline or on Ctrl-C) while taking in its output.
fn collect(
    spec: &RunSpec,
    child: &mut Child,
    events: &mpsc::Receiver<Event>,
    started: Instant,
    measured: bool,
) -> Run {
    let mut run = not_started(String::new());
    let mut open_pipes = 2;
    let mut status: Option<ExitStatus> = None;
    let mut stopped: Option<Ended> = None;
    let mut drain_until = None;
    // The helper stops the command at its deadline itself; this one is a backstop for a helper
    // that does not.
    let hard_deadline = spec.deadline + if measured { GRACE } else { Duration::ZERO };
    while open_pipes > 0 || status.is_none() {
        match events.recv_timeout(Duration::from_millis(10)) {
            Ok(Event::Out(line)) if run.stdout.len() < spec.max_lines => run.stdout.push(line),
            Ok(Event::Out(_)) => run.dropped += 1,
            Ok(Event::Err(text)) => {
                if run.stderr.len() == STDERR_LINES {
                    run.stderr.remove(0);
                }
                run.stderr.push(text);
            }
            Ok(Event::Closed) => open_pipes -= 1,
            Err(mpsc::RecvTimeoutError::Disconnected) => open_pipes = 0,
            Err(mpsc::RecvTimeoutError::Timeout) => {}
        }
        if status.is_none() {
            status = child.try_wait().ok().flatten();
            if status.is_some() {
                run.seconds = started.elapsed().as_secs_f64();
                drain_until = Some(Instant::now() + DRAIN);
            } else if spec.interrupt.is_stopped() && stopped.is_none() {
                stopped = Some(Ended::Interrupted);
                stop(child, measured);
            } else if started.elapsed() >= hard_deadline && stopped.is_none() {
                stopped = Some(Ended::Deadline);
                kill_group(child);
            }
        } else if drain_until.is_some_and(|d| Instant::now() >= d) {
            break;
        }
    }
    run.ended = stopped.unwrap_or_else(|| ended(status));
    run
}

/// Stops the command on Ctrl-C: through its helper (which still reports what it cost), or at
/// once.
fn stop(child: &mut Child, measured: bool) {
    if measured {
        interrupt_helper(child);
    } else {
        kill_group(child);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec<'a>(command: &'a str, deadline: Duration, interrupt: &'a Stop) -> RunSpec<'a> {
        RunSpec {
            command,
            deadline,
            helper: None,
            interrupt,
            max_lines: 1000,
        }
    }

    #[cfg(unix)]
    #[test]
    fn output_exit_codes_and_a_deadline() {
        let never = Stop::new();
        let ran = run(&spec(
            "echo one; echo two >&2; echo three; exit 3",
            Duration::from_secs(20),
            &never,
        ));
        let out: Vec<&str> = ran.stdout.iter().map(|l| l.text.as_str()).collect();
        assert_eq!(out, ["one", "three"]);
        assert_eq!(ran.stderr, ["two"]);
        assert_eq!(ran.ended, Ended::Exited(3));

        let missing = run_missing(&never);
        assert_eq!(missing.ended, Ended::Exited(127));
        assert!(missing.last_words().unwrap().contains("not found"));

        // A command that would sleep far past its deadline is stopped there, with whatever it
        // started (the shell's child in the same group).
        let started = Instant::now();
        let slow = run(&spec(
            "echo early; sleep 30",
            Duration::from_millis(300),
            &never,
        ));
        assert_eq!(slow.ended, Ended::Deadline);
        assert_eq!(slow.stdout.len(), 1);
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "not waited out"
        );
    }

    #[cfg(unix)]
    fn run_missing(never: &Stop) -> Run {
        run(&spec(
            "wardial-no-such-command-anywhere",
            Duration::from_secs(20),
            never,
        ))
    }

    #[cfg(unix)]
    #[test]
    fn ctrl_c_stops_the_command() {
        let interrupt = Stop::new();
        interrupt.stop();
        let ran = run(&spec("sleep 30", Duration::from_secs(60), &interrupt));
        assert_eq!(ran.ended, Ended::Interrupted);
    }
}
