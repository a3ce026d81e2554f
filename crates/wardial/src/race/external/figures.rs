//! The outside scanners' process figures (how each ended, its CPU time, its peak memory),
//! printed under the race's table and added to the race's JSON.

use std::io::Write;

use serde::Serialize;

use crate::human;
use crate::race::report::RaceReport;

/// What an outside scanner's process cost, which the models' rows have no column for.
#[derive(Debug, Clone, Serialize)]
pub struct Outside {
    pub name: String,
    /// The command as run, placeholders filled in.
    pub command: String,
    /// How its process ended.
    pub ended: String,
    /// CPU time of its process and all it started, in all (its row has it per probe).
    pub user_seconds: Option<f64>,
    pub system_seconds: Option<f64>,
    /// The peak resident memory of its largest process.
    pub peak_memory_bytes: Option<u64>,
    /// Why it has no row of figures, where it has none.
    pub unavailable: Option<String>,
}

/// The figures of a scanner that could not race, and why.
pub(super) fn unavailable(name: &str, why: &str) -> Outside {
    Outside {
        name: name.to_string(),
        command: String::new(),
        ended: String::new(),
        user_seconds: None,
        system_seconds: None,
        peak_memory_bytes: None,
        unavailable: Some(why.to_string()),
    }
}

/// The outside scanners' processes, under the race's table: what the models' rows have no
/// column for (a whole process's peak memory), and the command each ran.
pub fn print_outside(outside: &[Outside], out: &mut dyn Write) -> std::io::Result<()> {
    if outside.iter().all(|o| o.unavailable.is_some()) {
        return Ok(());
    }
    writeln!(
        out,
        "\noutside scanners: each a process of its own, on the same hosts at their own addresses"
    )?;
    writeln!(
        out,
        "{:<16} {:>9} {:>12}  command",
        "scanner", "CPU", "peak memory"
    )?;
    for o in outside.iter().filter(|o| o.unavailable.is_none()) {
        let cpu = o.user_seconds.zip(o.system_seconds).map(|(u, s)| u + s);
        writeln!(
            out,
            "{:<16} {:>9} {:>12}  {}",
            o.name,
            cpu.map_or("n/a".into(), human::duration),
            o.peak_memory_bytes
                .map_or("n/a".into(), |b| human::bytes(b as f64)),
            o.command
        )?;
    }
    writeln!(
        out,
        "their time and CPU include the program's start-up (an interpreter's too); CPU and peak memory: the kernel's accounting of the process and all it started (getrusage)"
    )
}

/// The race as one JSON document, with the outside scanners' process figures under `outside`.
pub fn json(report: &RaceReport, outside: &[Outside]) -> serde_json::Value {
    let mut value = serde_json::to_value(report).expect("plain data");
    if !outside.is_empty() {
        if let Some(object) = value.as_object_mut() {
            let figures = serde_json::to_value(outside).expect("plain data");
            object.insert("outside".into(), figures);
        }
    }
    value
}
