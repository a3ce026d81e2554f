//! The race as a person reads it: a line on what was raced, a row per model, the notes that say
//! what the columns mean, the lecture's takeaways in this race's figures, and the bar chart.

use std::io::Write;

use super::chart::{self, NAME};
use super::memory::{FEW, IN_FLIGHT};
use super::report::{ModelResult, RaceReport};
use crate::human;

/// One column: its head, its width, and its cell for a model that ran.
struct Column {
    head: &'static str,
    width: usize,
    cell: fn(&ModelResult) -> String,
}

fn n_a() -> String {
    "n/a".to_string()
}

fn time(m: &ModelResult) -> String {
    match (m.projected_seconds, m.completed) {
        (_, 0) if !m.finished => "none done".into(),
        (Some(p), _) => format!("{}*", human::duration(p)),
        (None, _) => human::duration(m.seconds),
    }
}

fn truth(m: &ModelResult) -> String {
    match (m.agrees_with_truth, m.finished) {
        (true, true) => "yes".into(),
        (true, false) => "yes*".into(),
        (false, _) => format!("NO:{}", m.wrong),
    }
}

fn micros(us: Option<f64>) -> String {
    us.map_or_else(n_a, |us| {
        if us >= 1000.0 {
            format!("{:.1} ms", us / 1000.0)
        } else {
            format!("{us:.0} µs")
        }
    })
}

fn millis(ms: Option<f64>) -> String {
    ms.map_or_else(n_a, |ms| human::duration(ms / 1000.0))
}

fn one(x: Option<f64>) -> String {
    x.map_or_else(n_a, |x| format!("{x:.1}"))
}

/// The model's CPU time per probe, user and system together, in µs.
fn cpu_us(m: &ModelResult) -> Option<f64> {
    m.cpu_user_us_per_probe
        .zip(m.cpu_system_us_per_probe)
        .map(|(u, s)| u + s)
}

/// The model's context switches per probe, of both kinds.
fn switches(m: &ModelResult) -> Option<f64> {
    m.switches_voluntary_per_probe
        .zip(m.switches_involuntary_per_probe)
        .map(|(v, i)| v + i)
}

const fn col(head: &'static str, width: usize, cell: fn(&ModelResult) -> String) -> Column {
    Column { head, width, cell }
}

/// The columns a class needs, in 100 columns of terminal.
#[rustfmt::skip] // a table: one column a line reads better than rustfmt's five
const NARROW: &[Column] = &[
    col("time", 9, time),
    col("probes/s", 8, |m| format!("{:.0}", m.probes_per_second)),
    col("found", 5, |m| m.found.to_string()),
    col("truth", 5, truth),
    col("effic.", 6, |m| m.limit_efficiency.or(m.efficiency).map_or_else(n_a, |e| format!("{:.0}%", e * 100.0))),
    col("cpu/probe", 9, |m| micros(cpu_us(m))),
    col("switch/p", 8, |m| one(switches(m))),
    col("late p99", 8, |m| millis(m.lateness_ms_p99)),
    col("mem/probe", 9, |m| m.memory_per_probe_bytes.map_or_else(n_a, human::bytes)),
];

/// The rest, with `--wide`.
#[rustfmt::skip] // a table, as above
const WIDE: &[Column] = &[
    col("done", 6, |m| m.completed.to_string()),
    col("floor", 8, |m| m.limit_seconds.map_or_else(n_a, human::duration)),
    col("bound", 5, |m| m.bound.unwrap_or("n/a").to_string()),
    col("user/p", 8, |m| micros(m.cpu_user_us_per_probe)),
    col("sys/p", 8, |m| micros(m.cpu_system_us_per_probe)),
    col("vol/p", 6, |m| one(m.switches_voluntary_per_probe)),
    col("invol/p", 7, |m| one(m.switches_involuntary_per_probe)),
    col("late p50", 8, |m| millis(m.lateness_ms_p50)),
    col("late max", 8, |m| millis(m.lateness_ms_max)),
    col("kernel/p", 9, |m| m.memory_kernel_per_probe_bytes.map_or_else(n_a, human::bytes)),
];

/// The columns shown: the narrow ones, and with `wide` the rest.
fn columns(wide: bool) -> impl Iterator<Item = &'static Column> {
    NARROW.iter().chain(WIDE.iter().filter(move |_| wide))
}

/// The table, the notes under it and the bar chart. `wide` adds the columns that do not fit in
/// 100 (every CPU and lateness figure, the floor).
pub fn print_table(report: &RaceReport, wide: bool, out: &mut dyn Write) -> std::io::Result<()> {
    header(report, out)?;
    let mut head = format!("\n{:<NAME$}", "model");
    for c in columns(wide) {
        head.push_str(&format!(" {:>w$}", c.head, w = c.width));
    }
    writeln!(out, "{head}")?;
    for m in &report.models {
        row(m, wide, out)?;
    }
    for m in report.models.iter().filter(|m| m.wrong > 0) {
        writeln!(
            out,
            "\n{} disagrees with the ground truth on {} hosts, for example:",
            m.model, m.wrong
        )?;
        for example in &m.wrong_examples {
            writeln!(out, "  {example}")?;
        }
    }
    writeln!(out)?;
    notes(report, out)?;
    takeaways(report, out)?;
    chart::text(report, out)?;
    if report.interrupted {
        writeln!(
            out,
            "\ninterrupted: the race was stopped before every model ran"
        )?;
    }
    Ok(())
}

/// What was raced, and the bounds.
fn header(report: &RaceReport, out: &mut dyn Write) -> std::io::Result<()> {
    let c = &report.config;
    writeln!(
        out,
        "wardial race: {} simulated hosts ({}, {} mix, seed {}), timeout {}, {} connections",
        report.hosts,
        c.range,
        c.mix,
        c.seed,
        human::duration(c.timeout.as_secs_f64()),
        c.max_connections
    )?;
    writeln!(
        out,
        "wait bound {}: every host's wait, {} at a time, with no work",
        human::duration(report.ideal_seconds),
        c.max_connections
    )?;
    writeln!(
        out,
        "CPU bound: the cheapest model's CPU time per probe (its process's and the hosts', measured as it raced) × {} hosts ÷ {} cores",
        report.hosts, report.cores
    )?;
    Ok(())
}

/// One model's row.
fn row(m: &ModelResult, wide: bool, out: &mut dyn Write) -> std::io::Result<()> {
    if let Some(reason) = &m.unavailable {
        return writeln!(out, "{:<NAME$} unavailable: {reason}", m.model);
    }
    let mut line = format!("{:<NAME$}", m.model);
    for c in columns(wide) {
        line.push_str(&format!(" {:>w$}", (c.cell)(m), w = c.width));
    }
    writeln!(out, "{line}")
}

/// What the columns mean, for this race.
fn notes(report: &RaceReport, out: &mut dyn Write) -> std::io::Result<()> {
    writeln!(
        out,
        "effic.: the floor (the larger of the wait bound and the CPU bound, which no model can beat) ÷ time"
    )?;
    writeln!(
        out,
        "cpu/probe, switch/p: the scanner's CPU time and context switches per probe (the hosts run in a process of their own); late p99: how long a probe ran past its host's answer (or its deadline), by the probe's own clock"
    )?;
    if report.ran().any(|m| m.memory_per_probe_bytes.is_some()) {
        writeln!(
            out,
            "mem/probe: what one more probe in flight costs, the kernel's part (stacks, socket buffers) included: the peaks of {FEW} and {IN_FLIGHT} probes to silent hosts, each model in a process and memory cgroup of its own (n/a: a model that holds one or two at a time)"
        )?;
    } else if let Some(note) = report.ran().find_map(|m| m.memory_note.as_deref()) {
        writeln!(out, "mem/probe: n/a: {note}")?;
    }
    lockstep(report, out)?;
    if report.near_timeout > 0 {
        writeln!(
            out,
            "{} hosts answer within {} of the timeout: for them either outcome agrees with the truth (which side of the deadline they land on is the machine's timing, not the model's doing)",
            report.near_timeout,
            human::duration(report.margin_seconds)
        )?;
    }
    if report.ran().any(|m| !m.finished) {
        writeln!(
            out,
            "* projected: stopped after {} (the --budget) with part of the range done; the time shown is the whole range at the rate measured",
            human::duration(report.config.budget.as_secs_f64())
        )?;
    }
    Ok(())
}

/// The lecture's two points in this race's own figures, where the models that show them ran:
/// blocking wastes time, not CPU; a thread costs more than a task.
fn takeaways(report: &RaceReport, out: &mut dyn Write) -> std::io::Result<()> {
    let find = |name: &str| report.ran().find(|m| m.model == name);
    if let Some(b) = find("blocking").filter(|b| b.completed > 0) {
        if let Some(per_probe) = cpu_us(b) {
            let cpu = per_probe * b.completed as f64 / 1e6;
            writeln!(
                out,
                "\nblocking wastes time, not CPU: {} probes took {} of wall time and {} of CPU ({:.2}% busy; the rest, waiting)",
                b.completed,
                human::duration(b.seconds),
                human::duration(cpu),
                100.0 * cpu / b.seconds.max(1e-9)
            )?;
        }
    }
    let task = find("tokio").or_else(|| find("smol"));
    if let (Some(t), Some(a)) = (find("threads"), task) {
        let cost = |m: &ModelResult| {
            let switches = one(switches(m));
            match m.memory_per_probe_bytes {
                Some(b) => format!(
                    "{} in flight and {switches} context switches per probe",
                    human::bytes(b)
                ),
                None => format!("{switches} context switches per probe"),
            }
        };
        writeln!(
            out,
            "a thread per probe costs {}; a task ({}) {}",
            cost(t),
            a.model,
            cost(a)
        )?;
    }
    Ok(())
}

/// Why concurrent models fall short of the floor when every host has the same latency, in
/// this race's figures.
fn lockstep(report: &RaceReport, out: &mut dyn Write) -> std::io::Result<()> {
    let Some(latency) = report.config.latency.filter(|l| !l.is_zero()) else {
        return Ok(());
    };
    // Concurrent models that finished short of a floor set by the waits: what lockstep
    // explains (a model that probes one host at a time is slow for another reason).
    let short: Vec<&ModelResult> = report
        .ran()
        .filter(|m| m.finished && m.peak_open > 1 && m.bound == Some("wait"))
        .filter(|m| m.limit_efficiency.is_some_and(|e| e < 0.9))
        .collect();
    let Some(example) = short.first() else {
        return Ok(());
    };
    // The example's own work, spread over the cores: what each round adds to its wait.
    let (wait, cpu) = (
        example.wait_bound_seconds,
        example.cpu_seconds_per_probe.unwrap_or(0.0) * report.hosts as f64
            / report.cores.max(1) as f64,
    );
    writeln!(
        out,
        "lockstep: every host answers after {}, so the probes of a round wait together and then work together; a round costs its wait plus its work, and the floor counts only the larger (for {}: wait {} + work {} = {}, against {} measured)",
        human::duration(latency.as_secs_f64()),
        example.model,
        human::duration(wait),
        human::duration(cpu),
        human::duration(wait + cpu),
        human::duration(example.seconds),
    )
}
