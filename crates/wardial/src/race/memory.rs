//! Memory per probe in flight, for every model in the race: "threads cost memory" as a number
//! next to "threads are fast enough", with the part the kernel holds for them.
//!
//! How it is measured, and why so: each model runs in a child process of its own (this same
//! program, `wardial measure-memory`), so that one model's memory can neither hide in nor be
//! blamed on another's (an allocator keeps what it freed, so in one process a model run after
//! another would start with the first one's pages). The child probes silent hosts of a
//! simulated internet served by the race, all at once, so all of them are in flight until their
//! timeout, and is measured twice: with [`FEW`] probes and with [`IN_FLIGHT`]. The figure is the
//! difference of the two peaks over the difference of the probes in flight (which the simnet
//! counts): what one more probe costs, whatever the model's fixed costs (a runtime, a pool),
//! counted the same way for every model.
//!
//! The peak is the child's memory cgroup's ([`super::cgroup`]): what the kernel holds for it
//! (thread stacks and task structs, socket buffers, page tables) as well as what it allocates.
//! Where no cgroup can be made, the child's own peak of mapped pages (`VmHWM`) stands in, and
//! the note says the kernel's part is missing. Linux only: other systems have neither, and the
//! race shows the column as not measured there.

use std::io::{BufRead, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use clap::Args;
use serde::{Deserialize, Serialize};
use wardial_probe::{ScanConfig, Stop, Target};
use wardial_simnet::{Mix, Simnet, World};

use super::cgroup::Cgroup;
use super::report::RaceReport;
use crate::targets::Spec;
use crate::watchdog::watchdog;
use crate::{models, Failure};

/// What the child reports: its peak resident memory, in KiB as `/proc` gives it (the
/// fallback where no cgroup counts the kernel's part; the probes it held, the parent counts on
/// the simulated hosts).
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct Reading {
    pub peak_kib: u64,
}

/// One model's figure.
#[derive(Debug, Clone, Copy)]
pub struct PerProbe {
    /// Bytes per probe in flight, the kernel's part included where it was measured.
    pub bytes: f64,
    /// The kernel's part of it, where the cgroup reports it apart.
    pub kernel_bytes: Option<f64>,
    pub in_flight: usize,
    /// Whether the kernel's part is in `bytes` (a cgroup), or not (`VmHWM`).
    pub with_kernel: bool,
}

/// One child's run: its peak in bytes (and the kernel's part), and the probes it held at once.
#[derive(Debug, Clone, Copy)]
struct Run {
    peak: u64,
    kernel: Option<u64>,
    in_flight: usize,
    with_kernel: bool,
}

/// The probes in flight of the smaller of the two runs.
pub const FEW: usize = 100;

/// A line of `/proc/self/status` in KiB (`VmRSS:     1234 kB`).
#[cfg(target_os = "linux")]
fn status_kib(field: &str) -> Result<u64, String> {
    let status = std::fs::read_to_string("/proc/self/status")
        .map_err(|e| format!("cannot read /proc/self/status: {e}"))?;
    status
        .lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .ok_or_else(|| format!("no {field} in /proc/self/status"))
}

#[cfg(not(target_os = "linux"))]
fn status_kib(_field: &str) -> Result<u64, String> {
    Err(NOT_HERE.to_string())
}

/// How many probes the child holds in flight: enough that a runtime's own threads and buffers,
/// paid once, add little to each probe's share.
pub const IN_FLIGHT: usize = 1000;

/// Fewer probes in flight than this (a blocking model has one) give no per-probe figure: what
/// the process grew by is then its fixed costs, not the probes'.
pub const MEANINGFUL: usize = 8;

/// Why there is no figure on this system.
pub const NOT_HERE: &str = "memory is measured on Linux only (it reads VmHWM in /proc)";

/// Whether this system can measure.
pub fn available() -> bool {
    cfg!(target_os = "linux")
}

/// The arguments of the hidden `wardial measure-memory`, which the race starts as the child.
#[derive(Debug, Args)]
pub struct MeasureMemoryArgs {
    #[arg(long, value_parser = models::parse)]
    pub model: String,
    #[arg(long, value_parser = crate::args::duration)]
    pub timeout: Duration,
    #[arg(long, value_parser = crate::args::positive)]
    pub max_connections: usize,
}

/// The child: probes the targets on stdin (`ADDRESS HOST:PORT` lines), all at once, for one
/// timeout, and prints its [`Reading`] as one JSON line.
pub fn child(
    model: &str,
    timeout: Duration,
    max_connections: usize,
    interrupt: &Stop,
) -> Result<(), Failure> {
    // The targets first: the parent sends them once this process is in its cgroup, so the
    // model's fixed costs (a runtime, a pool) are counted the same way for every model.
    let mut targets = Vec::new();
    for line in std::io::stdin().lock().lines() {
        let line = line.map_err(|e| Failure::Run(format!("cannot read stdin: {e}")))?;
        if line.trim().is_empty() {
            continue;
        }
        match Spec::parse(&line).map_err(Failure::Usage)? {
            Spec::Mapped { addr, dial } => targets.push(Target {
                addr,
                port: 80,
                dial,
            }),
            Spec::Net(net) => targets.extend(net.iter().map(|a| Target::direct(a, 80))),
        }
    }
    let model = models::require(model)?;
    // There are as many targets as connections, so a concurrent model holds them all in flight
    // for one timeout and is done. A model that probes one or two at a time would take a
    // timeout per target: it is stopped one timeout after its first probe ends (and gets no
    // per-probe figure). Counted from the first probe's end, not from the start, because a
    // pool of a thousand threads can take longer to start than a timeout.
    let config = ScanConfig::new(timeout, max_connections).with_stop(interrupt.clone());
    let mut dog = None;
    model.scan(&mut targets.into_iter(), &config, &mut |_| {
        dog.get_or_insert_with(|| watchdog(config.stop().clone(), Stop::new(), Some(timeout)));
    });
    drop(dog);
    let reading = Reading {
        peak_kib: status_kib("VmHWM").map_err(Failure::Run)?,
    };
    let line = serde_json::to_string(&reading).expect("plain numbers");
    println!("{line}");
    Ok(())
}

/// The parent's side: a silent simulated internet, and a child per model. Models that fail to
/// measure get the reason instead of a figure.
#[derive(Debug)]
pub struct Meter {
    sim: Simnet,
    targets: String,
    timeout: Duration,
    max_connections: usize,
}

impl Meter {
    pub fn start(max_connections: usize) -> Result<Meter, Failure> {
        let world = World {
            // Any virtual hosts will do (all are silent), as long as there are enough.
            range: wardial_probe::Cidr::new(std::net::Ipv4Addr::new(127, 96, 0, 0), 20),
            mix: Mix::only("blackhole").expect("a behaviour"),
            ..World::default()
        };
        let sim = Simnet::start(world)
            .map_err(|e| Failure::Run(format!("cannot start the simulated internet: {e}")))?;
        let mut targets = String::new();
        for t in sim.targets().take(max_connections) {
            targets.push_str(&format!("{} {}\n", t.addr, t.dial));
        }
        Ok(Meter {
            sim,
            targets,
            // Long enough for a thousand threads to start and all probes to be in flight at
            // once, short enough that sixteen models add seconds, not minutes, to the race.
            timeout: Duration::from_millis(300),
            max_connections,
        })
    }

    /// Measures `model` by running `exe measure-memory` (this program) as a child, with
    /// [`FEW`] probes and with all of them: the slope between the two is the figure.
    pub fn measure(&self, exe: &Path, model: &str) -> Result<PerProbe, String> {
        let few = self.run(exe, model, FEW.min(self.max_connections))?;
        let many = self.run(exe, model, self.max_connections)?;
        let extra = many.in_flight.saturating_sub(few.in_flight);
        if extra < MEANINGFUL {
            // A model that holds one or two at a time: no slope to take.
            return Ok(PerProbe {
                bytes: f64::NAN,
                kernel_bytes: None,
                in_flight: many.in_flight,
                with_kernel: many.with_kernel,
            });
        }
        let slope = |a: u64, b: u64| b.saturating_sub(a) as f64 / extra as f64;
        Ok(PerProbe {
            bytes: slope(few.peak, many.peak),
            kernel_bytes: few.kernel.zip(many.kernel).map(|(a, b)| slope(a, b)),
            in_flight: many.in_flight,
            with_kernel: many.with_kernel,
        })
    }

    /// One child with `probes` targets and as many connections: its peak.
    fn run(&self, exe: &Path, model: &str, probes: usize) -> Result<Run, String> {
        self.sim.settle();
        let mut child = Command::new(exe)
            // The child inherits this process's raised open-file limit: it needs a file per
            // probe, and the simnet here one more.
            .args([
                "measure-memory",
                "--model",
                model,
                "--timeout",
                &format!("{}ms", self.timeout.as_millis()),
                "--max-connections",
                &probes.to_string(),
            ])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", exe.display()))?;
        // In a cgroup of its own before it reads a target (see the module's notes).
        let group = Cgroup::create(&format!("wardial-{}-{model}-{probes}", std::process::id()))
            .and_then(|g| g.add(child.id()).map(|()| g))
            .ok();
        let mut stdin = child.stdin.take().expect("piped");
        let targets: String = self
            .targets
            .lines()
            .take(probes)
            .map(|l| l.to_string() + "\n")
            .collect();
        // A child that fails early stops reading: its message on stderr says why, not this.
        let _ = stdin.write_all(targets.as_bytes());
        drop(stdin);
        let out = child
            .wait_with_output()
            .map_err(|e| format!("measuring {model}: {e}"))?;
        if !out.status.success() {
            let err = String::from_utf8_lossy(&out.stderr);
            return Err(err.lines().last().unwrap_or("failed").to_string());
        }
        let reading: Reading = serde_json::from_slice(&out.stdout)
            .map_err(|e| format!("measuring {model}: unreadable report: {e}"))?;
        let in_flight = self.sim.stats().peak_open.max(1);
        Ok(match group.map(|g| g.peak()) {
            Some(Ok(peak)) => Run {
                peak: peak.total,
                kernel: peak.kernel,
                in_flight,
                with_kernel: true,
            },
            _ => Run {
                peak: reading.peak_kib * 1024,
                kernel: None,
                in_flight,
                with_kernel: false,
            },
        })
    }
}

/// The memory phase: each model that ran, in a child process of its own.
pub fn measure_memory(
    report: &mut RaceReport,
    interrupt: &Stop,
    progress: &mut dyn FnMut(&str),
) -> Result<(), Failure> {
    let ran = report.models.iter_mut().filter(|m| m.unavailable.is_none());
    if !available() {
        for m in ran {
            m.memory_note = Some(NOT_HERE.to_string());
        }
        return Ok(());
    }
    let exe = std::env::current_exe()
        .map_err(|e| Failure::Run(format!("cannot find this program to measure memory: {e}")))?;
    let meter = Meter::start(IN_FLIGHT)?;
    progress(&format!(
        "measuring memory: {FEW} and {IN_FLIGHT} probes in flight per model, each model in a process (and a memory cgroup) of its own..."
    ));
    for m in ran {
        if interrupt.is_stopped() {
            break;
        }
        match meter.measure(&exe, &m.model) {
            Ok(per) => {
                m.memory_in_flight = Some(per.in_flight);
                if per.bytes.is_finite() {
                    m.memory_per_probe_bytes = Some(per.bytes);
                    m.memory_kernel_per_probe_bytes = per.kernel_bytes;
                    if !per.with_kernel {
                        m.memory_note = Some(
                            "no memory cgroup could be made here: mapped pages only (VmHWM), without what the kernel holds".into(),
                        );
                    }
                } else {
                    m.memory_note = Some(format!(
                        "{} probe(s) in flight at once: no second figure to tell a probe's cost from the model's fixed costs",
                        per.in_flight
                    ));
                }
            }
            Err(why) => {
                progress(&format!("  {}: memory not measured: {why}", m.model));
                m.memory_note = Some(why);
            }
        }
    }
    Ok(())
}
