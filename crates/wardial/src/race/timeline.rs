//! The lecture's picture: every probe as a bar from its start to its end, one lane per model.
//! On one time axis, blocking draws a staircase (one probe after another) and a concurrent model
//! a block as tall as its connection limit (that many probes waiting at once), so thin beside
//! the staircase that the image draws the concurrent lanes again, each on a time axis of its
//! own. Each bar is split into what the probe was doing: connecting, waiting for the host's
//! first byte, and reading.
//!
//! The bars are recorded by the race, not by the models: a probe's end is when its finding
//! reaches the race, and its start is that minus the `elapsed` the finding carries, so every
//! model is drawn the same way without a line of drawing code in it. Its phases are measured
//! on the other side, by the simulated hosts: when each accepted the connection and when it
//! sent its first byte.

use std::fmt::Write as _;
use std::time::Duration;

use wardial_probe::{Outcome, ScanSummary};

/// One probe: seconds from the start of its model's scan, and how it ended (an index into
/// [`ScanSummary::KINDS`]). `connected` and `answered` are when the host accepted the
/// connection and sent its first byte, where the hosts measured it (NaN where not).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Span {
    pub start: f32,
    pub end: f32,
    pub kind: u8,
    pub connected: f32,
    pub answered: f32,
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
            connected: f32::NAN,
            answered: f32::NAN,
        }
    }

    /// The bar's phases, each `(from, to, colour)`: connecting and waiting in the phase
    /// colours, reading (or the whole bar, where the phases were not measured) in the
    /// outcome's.
    fn phases(&self) -> Vec<(f32, f32, &'static str)> {
        let outcome = COLOURS[usize::from(self.kind).min(COLOURS.len() - 1)];
        let within = |t: f32| (t.is_finite()).then(|| t.clamp(self.start, self.end));
        match (within(self.connected), within(self.answered)) {
            (Some(c), Some(a)) => vec![
                (self.start, c, CONNECTING),
                (c, a, WAITING),
                (a, self.end, outcome),
            ],
            (Some(c), None) => vec![(self.start, c, CONNECTING), (c, self.end, outcome)],
            _ => vec![(self.start, self.end, outcome)],
        }
    }
}

/// The phase colours: connecting is pale, waiting for the first byte the lecture's grey.
const CONNECTING: &str = "#c6dbef";
const WAITING: &str = "#bdbdbd";

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
/// An axis and its labels, under a lane or a panel.
const AXIS: f64 = 34.0;

/// A lane is drawn again on a time axis of its own when it ends before this share of the
/// shared axis: on the shared one, its probes are too thin to see.
const ZOOM: f64 = 0.25;

/// The timeline as an SVG image: every lane on one time axis, then the lanes too short to see
/// there, each on an axis of its own, and a legend of phases and outcomes. `hosts` is the
/// height of a full lane in probes (the race's host count), so that every lane has the same
/// scale and a model that was stopped part way shows how little of the range it reached.
pub fn svg(title: &str, lanes: &[Lane], hosts: u64) -> String {
    let end = axis_end(lanes);
    let zoomed: Vec<&Lane> = lanes
        .iter()
        .filter(|l| axis_end(std::slice::from_ref(l)) < ZOOM * end)
        .collect();
    // The second panel: each lane with an axis of its own under it.
    let own = LANE + AXIS;
    let second = TOP + (LANE + GAP) * lanes.len() as f64 + AXIS + 24.0;
    let bottom = if zoomed.is_empty() {
        second - 24.0
    } else {
        second + own * zoomed.len() as f64
    };
    let height = bottom + 40.0;
    let mut s = String::new();
    let _ = writeln!(
        s,
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{height}" viewBox="0 0 {w} {height}" font-family="monospace" font-size="12">
<rect width="100%" height="100%" fill="white"/>
<text x="8" y="18" font-weight="bold" font-size="13">{title}</text>
<text x="8" y="34" fill="#555">a bar per probe, start to end, stacked up in the order they started (a lane is {hosts} probes tall); one time axis</text>"##,
        w = LABEL + PLOT + 30.0,
    );
    for (i, lane) in lanes.iter().enumerate() {
        svg_lane(&mut s, lane, TOP + (LANE + GAP) * i as f64, end, hosts);
    }
    svg_axis(&mut s, TOP + (LANE + GAP) * lanes.len() as f64, end);
    if !zoomed.is_empty() {
        let _ = writeln!(
            s,
            r##"<text x="8" y="{y}" font-weight="bold" fill="#b00">the same lanes, each on a time axis of its own: mind the scales</text>"##,
            y = second - 8.0
        );
        for (i, lane) in zoomed.iter().enumerate() {
            let top = second + own * i as f64;
            let lane_end = axis_end(std::slice::from_ref(lane));
            svg_lane(&mut s, lane, top, lane_end, hosts);
            svg_axis(&mut s, top + LANE, lane_end);
        }
    }
    svg_legend(&mut s, height - 16.0);
    s.push_str("</svg>\n");
    s
}

/// Where second `t` of an axis that ends at `end` is drawn.
fn x_of(t: f64, end: f64) -> f64 {
    LABEL + t / end * PLOT
}

/// One lane whose top is at `top`: its name, and a bar per probe stacked upwards, split into
/// its phases.
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
        let y = (bottom - (k + 1) as f64 * LANE / hosts.max(1) as f64).max(top);
        for (from, to, colour) in span.phases() {
            let (x0, x1) = (x_of(f64::from(from), end), x_of(f64::from(to), end));
            let _ = writeln!(
                s,
                r#"<rect x="{x0:.1}" y="{y:.2}" width="{w:.1}" height="{bar:.2}" fill="{colour}"/>"#,
                w = (x1 - x0).max(0.3),
            );
        }
    }
}

/// A time axis at height `axis` that ends at `end`, with its ticks.
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
}

/// The colours: the two phases, then the outcome each probe's last part is drawn in.
fn svg_legend(s: &mut String, y: f64) {
    let entries = [("connecting", CONNECTING), ("waiting", WAITING)]
        .into_iter()
        .chain(ScanSummary::KINDS.iter().copied().zip(COLOURS));
    for (i, (name, colour)) in entries.enumerate() {
        let lx = 8.0 + 104.0 * i as f64;
        let _ = writeln!(
            s,
            r#"<rect x="{lx}" y="{ry}" width="12" height="12" fill="{colour}"/><text x="{tx}" y="{y}">{name}</text>"#,
            ry = y - 10.0,
            tx = lx + 16.0,
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
            connected: f32::NAN,
            answered: f32::NAN,
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
        // Eight bars, eight legend swatches (two phases, six outcomes), two lane backgrounds
        // and the page: the concurrent lane is a quarter of the axis, not short enough to be
        // drawn again on its own.
        assert_eq!(svg.matches("<rect").count(), 8 + 8 + 2 + 1);

        // A lane a tenth as long is drawn again on an axis of its own; a probe whose phases
        // the hosts measured is three bars (connecting, waiting, reading).
        let mut short: Vec<Span> = (0..4).map(|_| span(0.0, 0.1)).collect();
        short[0].connected = 0.01;
        short[0].answered = 0.05;
        let lanes = [
            lanes[0],
            Lane {
                name: "short",
                spans: &short,
            },
        ];
        let image = super::svg("t", &lanes, 4);
        assert!(image.contains("a time axis of its own"), "{image}");
        assert_eq!(
            image.matches("<rect").count(),
            1 + 2 + 4 + 2 * (4 + 2) + 1 + 8
        );
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
