//! The simulated hosts of a race, in a process of their own: so that what the race measures of
//! a model (its CPU time, its context switches) is the model's, not the servers'.
//!
//! The race starts this same program as `wardial race-servers` with the world's options. The
//! child serves the world and says where its listeners are; then it answers one line per
//! command on its stdin (its counters, a settle, the phases it recorded), and ends when its
//! stdin closes, so it never outlives the race. The ground truth needs no asking: it is a pure
//! function of the world, which the race knows too.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::net::{Ipv4Addr, SocketAddr};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, SystemTime};

use serde::{Deserialize, Serialize};
use wardial_probe::{Stop, Target};
use wardial_simnet::{Simnet, Truth, World};

use crate::world::WorldArgs;
use crate::Failure;

/// The child's first line: where each behaviour listens.
#[derive(Debug, Serialize, Deserialize)]
struct Hello {
    listeners: Vec<(String, SocketAddr)>,
}

/// The child's answer to `stats`.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize)]
pub struct Counts {
    pub accepted: u64,
    pub open: usize,
    pub peak_open: usize,
}

/// One host's phases, in microseconds since the epoch: accepted, answered.
type Times = (Ipv4Addr, u64, u64);

fn micros(t: SystemTime) -> u64 {
    t.duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as u64)
}

/// The child: serves the world, and answers commands until its stdin closes.
pub fn child(world: &WorldArgs, interrupt: &Stop) -> Result<(), Failure> {
    let sim = Simnet::start(world.world()?)
        .map_err(|e| Failure::Run(format!("cannot start the simulated internet: {e}")))?;
    let listeners = sim
        .listeners()
        .into_iter()
        .map(|(k, a)| (k.to_string(), a))
        .collect();
    let mut out = std::io::stdout().lock();
    let say = |out: &mut std::io::StdoutLock, line: String| -> Result<(), Failure> {
        writeln!(out, "{line}")
            .and_then(|()| out.flush())
            .map_err(|e| Failure::Run(format!("the race has gone: {e}")))
    };
    say(
        &mut out,
        serde_json::to_string(&Hello { listeners }).expect("plain data"),
    )?;
    for line in std::io::stdin().lock().lines() {
        if interrupt.is_stopped() {
            break;
        }
        let Ok(line) = line else { break };
        say(&mut out, answer(&sim, line.trim()))?;
    }
    Ok(())
}

/// The answer to one command, as a JSON line.
fn answer(sim: &Simnet, command: &str) -> String {
    match command {
        "stats" => {
            let s = sim.stats();
            serde_json::to_string(&Counts {
                accepted: s.accepted,
                open: s.open,
                peak_open: s.peak_open,
            })
            .expect("plain data")
        }
        "settle" => {
            sim.settle();
            sim.record_phases();
            "{}".into()
        }
        // Its own CPU time so far, user and system, in microseconds: the hosts' part of the
        // work the race's CPU bound counts.
        "usage" => {
            let cpu = crate::usage::Usage::now().map_or(0, |u| u.cpu().as_micros() as u64);
            format!("{{\"cpu_us\":{cpu}}}")
        }
        "phases" => {
            let times: Vec<Times> = sim
                .take_phases()
                .into_iter()
                .map(|(a, p)| (a, micros(p.accepted), micros(p.answered)))
                .collect();
            serde_json::to_string(&times).expect("plain data")
        }
        other => format!("{{\"error\":\"unknown command {other:?}\"}}"),
    }
}

/// The race's side: the hosts in a child process, or (where this program is not `wardial`
/// itself, as in a unit test) in this one.
#[derive(Debug)]
pub enum Servers {
    Apart(Apart),
    Here(Simnet),
}

/// The child, and a line to it.
#[derive(Debug)]
pub struct Apart {
    world: World,
    listeners: Vec<(String, SocketAddr)>,
    child: Child,
    /// Its stdin and stdout; `None` once dropped (its stdin closed: the child ends).
    talk: Mutex<Option<(ChildStdin, BufReader<ChildStdout>)>>,
}

impl Servers {
    /// The hosts of `world` in this process.
    pub fn here(world: World) -> Result<Servers, Failure> {
        Simnet::start(world)
            .map(Servers::Here)
            .map_err(|e| Failure::Run(format!("cannot start the simulated internet: {e}")))
    }

    pub fn world(&self) -> &World {
        match self {
            Servers::Apart(a) => &a.world,
            Servers::Here(sim) => sim.world(),
        }
    }

    /// The targets of the range, dialling the hosts' listeners.
    pub fn targets(&self) -> Box<dyn Iterator<Item = Target> + Send> {
        match self {
            Servers::Apart(a) => Box::new(Simnet::targets_of_listeners(&a.world, &a.listeners)),
            Servers::Here(sim) => Box::new(sim.targets()),
        }
    }

    pub fn truth(&self, addr: Ipv4Addr, timeout: Duration) -> Truth {
        self.world().truth(addr, timeout)
    }

    /// The hosts' counters (zero if they cannot say).
    pub fn stats(&self) -> Counts {
        match self {
            Servers::Apart(a) => serde_json::from_str(&a.ask("stats")).unwrap_or_default(),
            Servers::Here(sim) => {
                let s = sim.stats();
                Counts {
                    accepted: s.accepted,
                    open: s.open,
                    peak_open: s.peak_open,
                }
            }
        }
    }

    /// Waits until the last model's connections are gone, zeroes the counters, and records the
    /// phases of the next scan.
    pub fn settle(&self) {
        match self {
            Servers::Apart(a) => {
                a.ask("settle");
            }
            Servers::Here(sim) => {
                sim.settle();
                sim.record_phases();
            }
        }
    }

    /// The CPU time the hosts have used so far beyond this process's own (zero when they run
    /// in this process: their time is already in its count).
    pub fn cpu(&self) -> Duration {
        match self {
            Servers::Apart(a) => {
                let said: serde_json::Value =
                    serde_json::from_str(&a.ask("usage")).unwrap_or_default();
                Duration::from_micros(said["cpu_us"].as_u64().unwrap_or(0))
            }
            Servers::Here(_) => Duration::ZERO,
        }
    }

    /// The phases the hosts recorded since the last settle, by host: accepted and answered.
    pub fn phases(&self) -> HashMap<Ipv4Addr, (SystemTime, SystemTime)> {
        match self {
            Servers::Apart(a) => {
                let times: Vec<Times> = serde_json::from_str(&a.ask("phases")).unwrap_or_default();
                let at = |us: u64| SystemTime::UNIX_EPOCH + Duration::from_micros(us);
                times
                    .into_iter()
                    .map(|(h, acc, ans)| (h, (at(acc), at(ans))))
                    .collect()
            }
            Servers::Here(sim) => sim
                .take_phases()
                .into_iter()
                .map(|(h, p)| (h, (p.accepted, p.answered)))
                .collect(),
        }
    }
}

impl Apart {
    /// Starts `wardial race-servers` for `world` (given as the options that make it).
    pub fn start(world: World, args: &[String]) -> Result<Servers, Failure> {
        let failed = |e: String| Failure::Run(format!("cannot start the simulated hosts: {e}"));
        let exe = std::env::current_exe().map_err(|e| failed(e.to_string()))?;
        let mut child = Command::new(exe)
            .arg("race-servers")
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|e| failed(e.to_string()))?;
        let stdin = child.stdin.take().expect("piped");
        let mut stdout = BufReader::new(child.stdout.take().expect("piped"));
        let mut first = String::new();
        stdout
            .read_line(&mut first)
            .map_err(|e| failed(e.to_string()))?;
        let hello: Hello = serde_json::from_str(&first)
            .map_err(|_| failed(format!("it said {:?}", first.trim())))?;
        Ok(Servers::Apart(Apart {
            world,
            listeners: hello.listeners,
            child,
            talk: Mutex::new(Some((stdin, stdout))),
        }))
    }

    /// One command, one line back.
    fn ask(&self, command: &str) -> String {
        let mut talk = wardial_probe::lock(&self.talk);
        let Some((stdin, stdout)) = talk.as_mut() else {
            return String::new();
        };
        let mut line = String::new();
        let asked = writeln!(stdin, "{command}").and_then(|()| stdin.flush());
        if asked.is_ok() {
            let _ = stdout.read_line(&mut line);
        }
        line
    }
}

impl Drop for Apart {
    fn drop(&mut self) {
        // Its stdin closes: the child ends, and the wait reaps it.
        drop(wardial_probe::lock(&self.talk).take());
        let _ = self.child.wait();
    }
}
