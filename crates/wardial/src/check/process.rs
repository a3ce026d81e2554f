//! Running a scanner from outside: its command line with the placeholders filled in, run by the
//! shell in a process group of its own under a deadline, its output read line by line as it
//! comes, and what it cost this machine.
//!
//! What it cost comes from the kernel's accounting of a finished child (`getrusage` with
//! `RUSAGE_CHILDREN`): CPU time, user and system, of the command and everything it started,
//! and the peak resident memory of the largest of them. That accounting is per process and
//! cumulative (and its peak is the largest of all children ever waited for), so each command
//! runs under a small helper of its own, this same program (`wardial run-measured`): the
//! helper's only child is the command, and what the helper reads after waiting for it is the
//! command's and nothing else's. Unix only; elsewhere the command runs without figures.

use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use clap::Args;
use serde::{Deserialize, Serialize};
use wardial_probe::{Cidr, Stop};

use crate::Failure;

/// What a command template's placeholders stand for.
#[derive(Debug, Clone, Copy)]
pub struct Placeholders {
    pub range: Cidr,
    pub port: u16,
    pub timeout: Duration,
    pub max_connections: usize,
}

/// The arguments appended to a template that names no `{range}`: the reference scanners' (and
/// the lecture's homework's) command line.
pub const DEFAULT_ARGS: &str =
    " {range} --port {port} --timeout {timeout} --max_connections {max_connections}";

/// The command line a template makes: `{range}`, `{port}`, `{timeout}` (seconds, a whole
/// number where it is one, as the homework's `--timeout` takes an int) and
/// `{max_connections}` replaced. A template without `{range}` gets [`DEFAULT_ARGS`].
pub fn expand(template: &str, p: &Placeholders) -> String {
    let template = if template.contains("{range}") {
        template.to_string()
    } else {
        format!("{template}{DEFAULT_ARGS}")
    };
    let secs = p.timeout.as_secs_f64();
    let timeout = if secs.fract() == 0.0 {
        format!("{secs:.0}")
    } else {
        format!("{secs}")
    };
    template
        .replace("{range}", &p.range.to_string())
        .replace("{port}", &p.port.to_string())
        .replace("{timeout}", &timeout)
        .replace("{max_connections}", &p.max_connections.to_string())
}

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

/// How the command ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ended {
    /// It exited by itself, with this code.
    Exited(i32),
    /// A signal ended it (a crash), not us.
    Signalled(i32),
    /// Stopped at its deadline.
    Deadline,
    /// Stopped by Ctrl-C.
    Interrupted,
    /// It could not be started at all.
    NotStarted(String),
}

impl std::fmt::Display for Ended {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Ended::Exited(code) => write!(f, "exited with code {code}"),
            Ended::Signalled(signal) => write!(f, "was killed by signal {signal}"),
            Ended::Deadline => f.write_str("was stopped at its deadline"),
            Ended::Interrupted => f.write_str("was interrupted"),
            Ended::NotStarted(why) => write!(f, "could not start: {why}"),
        }
    }
}

/// What the command cost: CPU seconds and context switches of the command and everything it
/// started, and the peak resident memory of the largest of those processes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Usage {
    pub user_seconds: f64,
    pub system_seconds: f64,
    /// Its threads waited (a blocking read, a lock, an empty run queue).
    pub voluntary_switches: u64,
    /// The scheduler took a core away.
    pub involuntary_switches: u64,
    pub peak_memory_bytes: u64,
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

/// The shell that runs a command line. A simple command (no pipe, list, redirection or
/// substitution) replaces the shell (`exec`), so that the scanner is the helper's own child:
/// one stopped at its deadline is then waited for by the helper, and its CPU and memory are
/// counted; a shell killed before it could wait for its child would take them along.
fn shell(command: &str) -> Command {
    if cfg!(windows) {
        let mut c = Command::new("cmd");
        c.args(["/C", command]);
        return c;
    }
    let first = command.split_whitespace().next().unwrap_or("");
    let simple = !command.contains([';', '&', '|', '<', '>', '(', ')', '$', '`', '\n'])
        && !first.contains('=');
    let mut c = Command::new("sh");
    if simple {
        c.args(["-c", &format!("exec {command}")]);
    } else {
        c.args(["-c", command]);
    }
    c
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

/// Starts the child in a process group of its own, so that stopping it stops everything it
/// started (a shell's children, an interpreter's workers).
fn own_group(command: &mut Command) {
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt;
        command.process_group(0);
    }
    #[cfg(not(unix))]
    let _ = command;
}

/// Stops the child and its process group now.
fn kill_group(child: &mut Child) {
    #[cfg(unix)]
    {
        use nix::sys::signal::{killpg, Signal};
        use nix::unistd::Pid;
        if let Ok(pid) = i32::try_from(child.id()) {
            let _ = killpg(Pid::from_raw(pid), Signal::SIGKILL);
        }
    }
    let _ = child.kill();
}

/// Asks the helper to stop its command and report (as Ctrl-C would).
fn interrupt_helper(child: &Child) {
    #[cfg(unix)]
    {
        use nix::sys::signal::{kill, Signal};
        use nix::unistd::Pid;
        if let Ok(pid) = i32::try_from(child.id()) {
            let _ = kill(Pid::from_raw(pid), Signal::SIGINT);
        }
    }
    #[cfg(not(unix))]
    let _ = child;
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

fn ended(status: Option<ExitStatus>) -> Ended {
    let Some(status) = status else {
        return Ended::NotStarted("no exit status".into());
    };
    if let Some(code) = status.code() {
        return Ended::Exited(code);
    }
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        if let Some(signal) = status.signal() {
            return Ended::Signalled(signal);
        }
    }
    Ended::Exited(-1)
}

/// What the helper wrote: the figures, and whether it stopped the command (then the run ended
/// at its deadline or by Ctrl-C, not by itself).
#[derive(Debug, Serialize, Deserialize)]
struct Measured {
    usage: Usage,
    stopped: bool,
    /// How the command itself ended, as the helper saw it.
    code: Option<i32>,
    signal: Option<i32>,
}

fn read_usage(report: &Path, ended: &mut Ended) -> Option<Usage> {
    let text = std::fs::read_to_string(report).ok()?;
    let measured: Measured = serde_json::from_str(&text).ok()?;
    // The helper's exit code stands for its command's; say how the command really ended.
    match (measured.stopped, measured.code, measured.signal, &*ended) {
        (true, ..) if *ended != Ended::Interrupted => *ended = Ended::Deadline,
        (false, Some(code), _, _) => *ended = Ended::Exited(code),
        (false, None, Some(signal), _) => *ended = Ended::Signalled(signal),
        _ => {}
    }
    Some(measured.usage)
}

/// The arguments of the hidden `wardial run-measured`, which runs a command and reports what
/// it cost (see the module's documentation).
#[derive(Debug, Args)]
pub struct RunMeasuredArgs {
    /// Where to write the figures (JSON)
    #[arg(long)]
    out: PathBuf,
    /// Stop the command after this long
    #[arg(long, value_parser = crate::args::duration)]
    deadline: Duration,
    /// The command and its arguments
    #[arg(last = true, required = true)]
    command: Vec<String>,
}

/// The helper: runs the command in a process group of its own (so that stopping it stops all
/// it started), stops it at the deadline or on Ctrl-C, and writes what it cost.
pub fn measured(a: RunMeasuredArgs, interrupt: &Stop) -> Result<ExitCode, Failure> {
    let mut command = Command::new(&a.command[0]);
    command.args(&a.command[1..]);
    own_group(&mut command);
    let mut child = command
        .spawn()
        .map_err(|e| Failure::Run(format!("cannot start {}: {e}", a.command[0])))?;
    let until = Instant::now() + a.deadline;
    let mut stopped = false;
    let status = loop {
        if let Some(status) = child.try_wait().ok().flatten() {
            break status;
        }
        if !stopped && (interrupt.is_stopped() || Instant::now() >= until) {
            stopped = true;
            kill_group(&mut child);
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let measured = Measured {
        usage: children_usage(),
        stopped,
        code: status.code(),
        signal: match ended(Some(status)) {
            Ended::Signalled(signal) => Some(signal),
            _ => None,
        },
    };
    let json = serde_json::to_string(&measured).expect("plain numbers");
    std::fs::write(&a.out, json)
        .map_err(|e| Failure::Run(format!("cannot write {}: {e}", a.out.display())))?;
    Ok(ExitCode::from(
        status.code().unwrap_or(1).clamp(0, 255) as u8
    ))
}

/// The CPU and peak memory of this process's children that have been waited for.
#[cfg(unix)]
fn children_usage() -> Usage {
    use nix::sys::resource::{getrusage, UsageWho};
    let Ok(usage) = getrusage(UsageWho::RUSAGE_CHILDREN) else {
        return Usage::default();
    };
    let secs = |t: nix::sys::time::TimeVal| t.tv_sec() as f64 + t.tv_usec() as f64 / 1e6;
    // ru_maxrss is in KiB on Linux and the BSDs, in bytes on macOS.
    let rss = u64::try_from(usage.max_rss()).unwrap_or(0);
    let peak_memory_bytes = if cfg!(target_os = "macos") {
        rss
    } else {
        rss * 1024
    };
    Usage {
        user_seconds: secs(usage.user_time()),
        system_seconds: secs(usage.system_time()),
        voluntary_switches: u64::try_from(usage.voluntary_context_switches()).unwrap_or(0),
        involuntary_switches: u64::try_from(usage.involuntary_context_switches()).unwrap_or(0),
        peak_memory_bytes,
    }
}

#[cfg(not(unix))]
fn children_usage() -> Usage {
    Usage::default()
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

    #[test]
    fn placeholders_are_filled_and_missing_ones_appended() {
        let p = Placeholders {
            range: "127.77.0.64/26".parse().unwrap(),
            port: 8080,
            timeout: Duration::from_secs(1),
            max_connections: 8,
        };
        assert_eq!(
            expand("scan {range}:{port} -t {timeout} -n {max_connections}", &p),
            "scan 127.77.0.64/26:8080 -t 1 -n 8"
        );
        assert_eq!(
            expand("python3 x.py", &p),
            "python3 x.py 127.77.0.64/26 --port 8080 --timeout 1 --max_connections 8"
        );
        let half = Placeholders {
            timeout: Duration::from_millis(500),
            ..p
        };
        assert_eq!(expand("t {range} {timeout}", &half), "t 127.77.0.64/26 0.5");
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
