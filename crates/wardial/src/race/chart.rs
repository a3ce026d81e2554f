//! The bar charts: probes per second on a log scale (the rates span four decades, from one
//! blocking probe at a time to hundreds in flight), as text under the table and as an SVG image
//! with memory per probe beside it.

use std::fmt::Write as _;
use std::io::Write;

use super::report::{ModelResult, RaceReport};
use crate::human;

/// The top of the log scale: the power of ten at or above the best rate (at least 10).
fn log_top(report: &RaceReport) -> f64 {
    let best = report
        .ran()
        .map(|m| m.probes_per_second)
        .fold(1.0, f64::max);
    10f64.powf(best.log10().ceil()).max(10.0)
}

/// Where `rate` falls on a log scale from 1 to `top`, from 0 to 1 (rates under 1 are 0).
fn log_fraction(rate: f64, top: f64) -> f64 {
    (rate.max(1.0).log10() / top.log10()).clamp(0.0, 1.0)
}

/// A decade's label: 1, 10, 100, 1k, 10k, ...
fn decade(power: i32) -> String {
    match power {
        0..=2 => format!("{}", 10u32.pow(power as u32)),
        3..=5 => format!("{}k", 10u32.pow(power as u32 - 3)),
        _ => format!("1e{power}"),
    }
}

/// Width of the model's name in every table and chart: the longest name, and a space.
pub const NAME: usize = 21;

/// Width of the text bars, in characters.
const WIDTH: f64 = 50.0;

/// The text chart: a bar per model that ran, in eighths of a character, and the scale.
pub fn text(report: &RaceReport, out: &mut dyn Write) -> std::io::Result<()> {
    writeln!(
        out,
        "\nprobes per second, on a log scale: each mark is ten times the one before (longer is better)"
    )?;
    let top = log_top(report);
    for m in report.ran() {
        let eighths = (log_fraction(m.probes_per_second, top) * WIDTH * 8.0).round() as usize;
        let mut bar = "█".repeat(eighths / 8);
        if !eighths.is_multiple_of(8) {
            bar.push(['▏', '▎', '▍', '▌', '▋', '▊', '▉'][eighths % 8 - 1]);
        }
        if bar.is_empty() {
            bar.push('▏');
        }
        writeln!(out, "{:<NAME$} {bar} {:.0}", m.model, m.probes_per_second)?;
    }
    // The scale under the bars: a mark and a label at every power of ten.
    let decades = top.log10().round() as i32;
    let mut marks = vec![' '; WIDTH as usize + 1];
    let mut labels = vec![' '; WIDTH as usize + 6];
    for p in 0..=decades {
        let at = (f64::from(p) / f64::from(decades) * WIDTH).round() as usize;
        marks[at] = '|';
        for (i, ch) in decade(p).chars().enumerate() {
            if let Some(slot) = labels.get_mut(at + i) {
                *slot = ch;
            }
        }
    }
    writeln!(out, "{:<NAME$} {}", "", marks.iter().collect::<String>())?;
    let labels: String = labels.iter().collect();
    writeln!(out, "{:<NAME$} {}", "", labels.trim_end())
}

/// The SVG's layout, in pixels.
const ROW: f64 = 26.0;
const LABEL: f64 = 190.0;
const BAR: f64 = 380.0;
const GAP: f64 = 220.0;
const MEM: f64 = 200.0;
const TOP: f64 = 56.0;

/// The bar charts as an SVG image (for the course notes): probes per second per model on a log
/// scale, with the time each took (or would take, if projected), and beside it memory per probe
/// in flight where it was measured.
pub fn svg(report: &RaceReport) -> String {
    let drawn: Vec<&ModelResult> = report.ran().collect();
    let with_memory = drawn.iter().any(|m| m.memory_per_probe_bytes.is_some());
    let top = log_top(report);
    let most_memory = drawn
        .iter()
        .filter_map(|m| m.memory_per_probe_bytes)
        .fold(1.0, f64::max);
    let height = TOP + 30.0 + ROW * drawn.len() as f64;
    let width = LABEL + BAR + GAP + if with_memory { MEM + 90.0 } else { 0.0 };
    let c = &report.config;
    let mut s = format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" font-family="monospace" font-size="13">
<rect width="100%" height="100%" fill="white"/>
<text x="8" y="20" font-weight="bold">{hosts} simulated hosts ({mix} mix), {conns} connections, timeout {timeout}</text>
<text x="{LABEL}" y="44">probes per second (log scale)</text>
"#,
        hosts = report.hosts,
        mix = c.mix,
        conns = c.max_connections,
        timeout = human::duration(c.timeout.as_secs_f64()),
    );
    grid(&mut s, top, TOP + ROW * drawn.len() as f64);
    if with_memory {
        let x = LABEL + BAR + GAP;
        let _ = writeln!(
            s,
            r#"<text x="{x}" y="44">memory per probe in flight</text>"#
        );
    }
    for (i, m) in drawn.iter().enumerate() {
        svg_row(&mut s, m, TOP + ROW * i as f64 + 4.0, top, most_memory);
    }
    s.push_str("</svg>\n");
    s
}

/// A grid line and a label at every power of ten, down to `axis`.
fn grid(s: &mut String, top: f64, axis: f64) {
    let decades = top.log10().round() as i32;
    for p in 0..=decades {
        let x = LABEL + f64::from(p) / f64::from(decades) * BAR;
        let _ = writeln!(
            s,
            r##"<line x1="{x:.1}" y1="{TOP}" x2="{x:.1}" y2="{axis}" stroke="#ccc"/><text x="{x:.1}" y="{ly}" text-anchor="middle" font-size="11">{label}</text>"##,
            ly = axis + 16.0,
            label = decade(p),
        );
    }
}

/// One model's bars at height `y`: its rate, and its memory if measured.
fn svg_row(s: &mut String, m: &ModelResult, y: f64, top: f64, most_memory: f64) {
    let width = (log_fraction(m.probes_per_second, top) * BAR).max(1.0);
    let time = match m.projected_seconds {
        Some(p) => format!("{} projected", human::duration(p)),
        None => human::duration(m.seconds),
    };
    let colour = if m.finished { "#3b7dd8" } else { "#c8553d" };
    let (h, ty) = (ROW - 8.0, y + 14.0);
    let _ = writeln!(
        s,
        r#"<text x="8" y="{ty}">{name}</text><rect x="{LABEL}" y="{y}" width="{width:.1}" height="{h}" fill="{colour}"/><text x="{tx:.1}" y="{ty}">{rate:.0}/s, {time}</text>"#,
        name = m.model,
        tx = LABEL + width + 6.0,
        rate = m.probes_per_second,
    );
    if let Some(bytes) = m.memory_per_probe_bytes {
        let x = LABEL + BAR + GAP;
        let w = (bytes / most_memory * MEM).max(1.0);
        let _ = writeln!(
            s,
            r##"<rect x="{x}" y="{y}" width="{w:.1}" height="{h}" fill="#8c6bb1"/><text x="{tx:.1}" y="{ty}">{label}</text>"##,
            tx = x + w + 6.0,
            label = human::bytes(bytes),
        );
    }
}
