//! The lecture's picture: every probe as a bar from its start to its end, one lane per model, on
//! one time axis. Blocking draws a staircase (one probe after another); a concurrent model draws
//! blocks as tall as its connection limit (that many probes waiting at once).
//!
//! The bars are recorded by the race, not by the models: a probe's end is when its finding
//! reaches the race, and its start is that minus the `elapsed` the finding carries, so every
//! model is drawn the same way without a line of drawing code in it.

use std::fmt::Write as _;
use std::time::Duration;

use wardial_probe::{Outcome, ScanSummary};

/// One probe: seconds from the start of its model's scan, and how it ended (an index into
/// [`ScanSummary::KINDS`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Span {
    pub start: f32,
    pub end: f32,
    pub kind: u8,
}

impl Span {
    /// The bar of a probe that ended `ended` after the scan started, having taken `elapsed`.
    pub fn new(ended: Duration, elapsed: Duration, outcome: &Outcome) -> Span {
        let kind = ScanSummary::KINDS
            .iter()
            .position(|k| *k == outcome.kind())
            .unwrap_or(ScanSummary::KINDS.len() - 1);
        Span {
            start: ended.saturating_sub(elapsed).as_secs_f32(),
            end: ended.as_secs_f32(),
            kind: kind as u8,
        }
    }
}

/// Colours per outcome kind, in the order of [`ScanSummary::KINDS`]: a web server stands out,
/// waits that ended in a timeout are the warm colour, refusals (no wait at all) are grey.
const COLOURS: [&str; 6] = [
    "#1b9e77", "#e6ab02", "#999999", "#7570b3", "#d95f02", "#e7298a",
];

/// A lane of the timeline: a model's name and its probes.
#[derive(Debug, Clone, Copy)]
pub struct Lane<'a> {
    pub name: &'a str,
    pub spans: &'a [Span],
}

/// The end of the last probe of any lane: the length of the shared time axis.
fn axis_end(lanes: &[Lane]) -> f64 {
    lanes
        .iter()
        .flat_map(|l| l.spans.iter().map(|s| f64::from(s.end)))
        .fold(0.0, f64::max)
        .max(1e-3)
}

/// Ticks for an axis from 0 to `end`: a step of 1, 2 or 5 times a power of ten, at most ten.
pub fn ticks(end: f64) -> Vec<f64> {
    let raw = end / 10.0;
    let power = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|m| m * power)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * power);
    (0..)
        .map(|i| i as f64 * step)
        .take_while(|t| *t <= end * 1.0001)
        .collect()
}

/// A tick's label, in ms below two seconds.
fn tick_label(t: f64, end: f64) -> String {
    if end < 2.0 {
        format!("{:.0} ms", t * 1000.0)
    } else {
        format!("{t:.1} s")
    }
}

/// The SVG's layout, in pixels.
const LABEL: f64 = 170.0;
const PLOT: f64 = 760.0;
const LANE: f64 = 72.0;
const GAP: f64 = 12.0;
const TOP: f64 = 44.0;

/// The timeline as an SVG image. `hosts` is the height of a full lane in probes (the race's host
/// count), so that every lane has the same scale and a model that was stopped part way shows
/// how little of the range it reached.
pub fn svg(title: &str, lanes: &[Lane], hosts: u64) -> String {
    let end = axis_end(lanes);
    let height = TOP + (LANE + GAP) * lanes.len() as f64 + 56.0;
    let mut s = String::new();
    let _ = writeln!(
        s,
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{height}" viewBox="0 0 {w} {height}" font-family="monospace" font-size="12">
<rect width="100%" height="100%" fill="white"/>
<text x="8" y="18" font-weight="bold" font-size="13">{title}</text>
<text x="8" y="34" fill="#555">each probe is a bar from its start to its end, stacked upwards in the order they started; a lane is {hosts} probes tall</text>"##,
        w = LABEL + PLOT + 30.0,
    );
    for (i, lane) in lanes.iter().enumerate() {
        svg_lane(&mut s, lane, TOP + (LANE + GAP) * i as f64, end, hosts);
    }
    let axis = TOP + (LANE + GAP) * lanes.len() as f64;
    svg_axis(&mut s, axis, end);
    s.push_str("</svg>\n");
    s
}

/// Where second `t` of an axis that ends at `end` is drawn.
fn x_of(t: f64, end: f64) -> f64 {
    LABEL + t / end * PLOT
}

/// One lane whose top is at `top`: its name, and a bar per probe stacked upwards.
fn svg_lane(s: &mut String, lane: &Lane, top: f64, end: f64, hosts: u64) {
    let bottom = top + LANE;
    let bar = (LANE / hosts.max(1) as f64).max(0.6);
    let _ = writeln!(
        s,
        r##"<rect x="{LABEL}" y="{top}" width="{PLOT}" height="{LANE}" fill="#f4f4f4"/><text x="8" y="{ty:.1}">{name}</text><text x="8" y="{ty2:.1}" fill="#777" font-size="10">{n} probes</text>"##,
        ty = top + LANE / 2.0,
        ty2 = top + LANE / 2.0 + 13.0,
        name = lane.name,
        n = lane.spans.len(),
    );
    let mut spans: Vec<&Span> = lane.spans.iter().collect();
    spans.sort_by(|a, b| a.start.total_cmp(&b.start));
    for (k, span) in spans.iter().enumerate() {
        let (x0, x1) = (
            x_of(f64::from(span.start), end),
            x_of(f64::from(span.end), end),
        );
        let y = (bottom - (k + 1) as f64 * LANE / hosts.max(1) as f64).max(top);
        let _ = writeln!(
            s,
            r#"<rect x="{x0:.1}" y="{y:.2}" width="{w:.1}" height="{bar:.2}" fill="{c}"/>"#,
            w = (x1 - x0).max(0.7),
            c = COLOURS[usize::from(span.kind).min(COLOURS.len() - 1)],
        );
    }
}

/// The time axis at height `axis`, its ticks, and a legend of the outcome kinds under it.
fn svg_axis(s: &mut String, axis: f64, end: f64) {
    let _ = writeln!(
        s,
        r##"<line x1="{LABEL}" y1="{axis}" x2="{x2}" y2="{axis}" stroke="#333"/>"##,
        x2 = LABEL + PLOT
    );
    for t in ticks(end) {
        let _ = writeln!(
            s,
            r##"<line x1="{tx:.1}" y1="{axis}" x2="{tx:.1}" y2="{y2}" stroke="#333"/><text x="{tx:.1}" y="{ly}" text-anchor="middle">{label}</text>"##,
            tx = x_of(t, end),
            y2 = axis + 5.0,
            ly = axis + 18.0,
            label = tick_label(t, end),
        );
    }
    let ly = axis + 40.0;
    for (i, kind) in ScanSummary::KINDS.iter().enumerate() {
        let lx = LABEL + 110.0 * i as f64;
        let _ = writeln!(
            s,
            r#"<rect x="{lx}" y="{y}" width="12" height="12" fill="{c}"/><text x="{tx}" y="{ty}">{kind}</text>"#,
            y = ly - 10.0,
            c = COLOURS[i],
            tx = lx + 16.0,
            ty = ly,
        );
    }
}

/// Characters for how full a column is: an eighth of the connection limit per step.
const LEVELS: [char; 9] = [' ', '▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];

/// The terminal version: one line per model, each column a slice of the shared time axis, its
/// height the probes in flight then (on average) against the connection limit. A blocking
/// model is a thin line all the way across; a concurrent one a short full block.
pub fn text(lanes: &[Lane], max_connections: usize, columns: usize) -> String {
    let end = axis_end(lanes);
    let width = end / columns as f64;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "probes in flight over time (a full column is {max_connections} at once; one column is {})",
        tick_label(width, end.min(1.9)),
    );
    for lane in lanes {
        let mut busy = vec![0.0f64; columns];
        for span in lane.spans {
            let (a, b) = (f64::from(span.start), f64::from(span.end));
            let first = ((a / width) as usize).min(columns - 1);
            let last = ((b / width) as usize).min(columns - 1);
            for (c, slot) in busy.iter_mut().enumerate().take(last + 1).skip(first) {
                let (lo, hi) = (c as f64 * width, (c + 1) as f64 * width);
                *slot += (b.min(hi) - a.max(lo)).max(0.0) / width;
            }
        }
        let line: String = busy
            .iter()
            .map(|&inflight| {
                if inflight <= 0.0 {
                    LEVELS[0]
                } else {
                    // Rounded up, so that one probe in flight still shows.
                    let level = (inflight / max_connections as f64 * 8.0).ceil() as usize;
                    LEVELS[level.clamp(1, 8)]
                }
            })
            .collect();
        let _ = writeln!(out, "{:<21}│{line}│", lane.name);
    }
    let _ = writeln!(
        out,
        "{:<21}0{:>w$}",
        "",
        tick_label(end, end),
        w = columns + 1
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn span(start: f32, end: f32) -> Span {
        Span {
            start,
            end,
            kind: 4,
        }
    }

    #[test]
    fn a_staircase_and_a_block() {
        // One at a time for 1 s, and four at once for the first quarter.
        let blocking: Vec<Span> = (0..4)
            .map(|i| span(i as f32 * 0.25, (i + 1) as f32 * 0.25))
            .collect();
        let concurrent: Vec<Span> = (0..4).map(|_| span(0.0, 0.25)).collect();
        let lanes = [
            Lane {
                name: "blocking",
                spans: &blocking,
            },
            Lane {
                name: "concurrent",
                spans: &concurrent,
            },
        ];
        let text = text(&lanes, 4, 8);
        let rows: Vec<&str> = text.lines().collect();
        assert!(rows[1].contains("│▂▂▂▂▂▂▂▂│"), "{text}");
        assert!(rows[2].contains("│██      │"), "{text}");

        let svg = svg("t", &lanes, 4);
        assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"));
        // Eight bars, six legend swatches, two lane backgrounds and the page.
        assert_eq!(svg.matches("<rect").count(), 8 + 6 + 2 + 1);
    }

    #[test]
    fn ticks_are_round() {
        let close = |a: &[f64], b: &[f64]| {
            a.len() == b.len() && a.iter().zip(b).all(|(x, y)| (x - y).abs() < 1e-9)
        };
        assert!(close(
            &ticks(1.0),
            &[0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0]
        ));
        assert!(close(&ticks(3.0), &[0.0, 0.5, 1.0, 1.5, 2.0, 2.5, 3.0]));
        assert!(close(
            &ticks(0.19),
            &[0.0, 0.02, 0.04, 0.06, 0.08, 0.1, 0.12, 0.14, 0.16, 0.18]
        ));
    }

    #[test]
    fn a_span_from_a_finding() {
        let s = Span::new(
            Duration::from_millis(300),
            Duration::from_millis(100),
            &Outcome::Timeout,
        );
        assert_eq!((s.start, s.end, s.kind), (0.2, 0.3, 4));
    }
}
