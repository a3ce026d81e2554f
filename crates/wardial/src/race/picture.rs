//! The race's timeline: a lane per model that ran, as text for a terminal or as an SVG image.

use super::report::RaceReport;
use super::timeline::{svg, text, Lane};
use crate::human;

/// The lanes that tell the lecture's story when every model raced: one at a time, a thread per
/// probe, an event loop, and an async runtime. Sixteen lanes would bury it; `--models` names
/// others.
const STORY: [&str; 4] = ["blocking", "threads", "callbacks", "tokio"];

/// The race's lanes: every model that ran, or the story's when the race ran them all.
fn lanes(report: &RaceReport) -> Vec<Lane<'_>> {
    let all = report.config.models.len() == crate::models::NAMES.len();
    report
        .ran()
        .filter(|m| !all || STORY.contains(&m.model.as_str()))
        .map(|m| Lane {
            name: &m.model,
            spans: &m.timeline,
        })
        .collect()
}

/// The race's timeline as text, `columns` wide, for a terminal.
pub fn race_text(report: &RaceReport, columns: usize) -> String {
    text(&lanes(report), report.config.max_connections, columns)
}

/// The race's timeline as an SVG image.
pub fn race_svg(report: &RaceReport) -> String {
    let c = &report.config;
    let title = format!(
        "timeline: {} simulated hosts ({} mix), {} connections, timeout {}",
        report.hosts,
        c.mix,
        c.max_connections,
        human::duration(c.timeout.as_secs_f64())
    );
    svg(&title, &lanes(report), report.hosts)
}
