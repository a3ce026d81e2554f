//! The race as a person reads it: a line on what was raced, a row per model, the notes that say
//! what the columns mean, and the bar chart.

use std::io::Write;

use super::chart::{self, NAME};
use super::memory::IN_FLIGHT;
use super::report::{ModelResult, RaceReport};
use crate::human;

/// The table, the notes under it and the bar chart.
pub fn print_table(report: &RaceReport, out: &mut dyn Write) -> std::io::Result<()> {
    header(report, out)?;
    for m in &report.models {
        row(m, out)?;
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
    chart::text(report, out)?;
    if report.interrupted {
        writeln!(
            out,
            "\ninterrupted: the race was stopped before every model ran"
        )?;
    }
    Ok(())
}

/// What was raced, the bounds, and the column heads.
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
        "wait-bound ideal {}: every host's wait, {} at a time, with no work",
        human::duration(report.ideal_seconds),
        c.max_connections
    )?;
    if report.calibration_hosts > 0 {
        writeln!(
            out,
            "limit = wait-bound ideal + CPU-bound limit (each model's cost per probe, measured on {} hosts with no latency, times {} hosts)",
            report.calibration_hosts, report.hosts
        )?;
    }
    writeln!(
        out,
        "\n{:<NAME$} {:>9} {:>9} {:>5} {:>5} {:>6} {:>9} {:>5} {:>10} {:>10}",
        "model",
        "time",
        "probes/s",
        "done",
        "found",
        "truth",
        "limit",
        "bound",
        "efficiency",
        "mem/probe"
    )
}

/// One model's row.
fn row(m: &ModelResult, out: &mut dyn Write) -> std::io::Result<()> {
    if let Some(reason) = &m.unavailable {
        return writeln!(out, "{:<NAME$} unavailable: {reason}", m.model);
    }
    let time = match m.projected_seconds {
        Some(p) => format!("{}*", human::duration(p)),
        None => human::duration(m.seconds),
    };
    let truth = match (m.agrees_with_truth, m.finished) {
        (true, true) => "yes".to_string(),
        (true, false) => "yes*".to_string(),
        (false, _) => format!("NO:{}", m.wrong),
    };
    let n_a = || "n/a".to_string();
    writeln!(
        out,
        "{:<NAME$} {:>9} {:>9.1} {:>5} {:>5} {:>6} {:>9} {:>5} {:>10} {:>10}",
        m.model,
        time,
        m.probes_per_second,
        m.completed,
        m.found,
        truth,
        m.limit_seconds.map_or_else(n_a, human::duration),
        m.bound.unwrap_or("n/a"),
        m.limit_efficiency
            .or(m.efficiency)
            .map_or_else(n_a, |e| format!("{:.1}%", e * 100.0)),
        m.memory_per_probe_bytes.map_or_else(n_a, human::bytes),
    )
}

/// What the columns mean, for this race.
fn notes(report: &RaceReport, out: &mut dyn Write) -> std::io::Result<()> {
    if report.calibration_hosts > 0 {
        writeln!(
            out,
            "limit: the time this machine allows: its waits plus its work (bound: the larger part); efficiency = limit ÷ time"
        )?;
    } else {
        writeln!(out, "efficiency = wait-bound ideal ÷ time")?;
    }
    if report.ran().any(|m| m.memory_per_probe_bytes.is_some()) {
        writeln!(
            out,
            "mem/probe: peak memory per probe in flight (up to {IN_FLIGHT} at once to silent hosts, each model in a process of its own; n/a: a model that waits for one or two at a time)"
        )?;
    } else if let Some(note) = report.ran().find_map(|m| m.memory_note.as_deref()) {
        writeln!(out, "mem/probe: n/a: {note}")?;
    }
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
