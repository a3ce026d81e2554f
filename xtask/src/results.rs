//! `cargo xtask results`: every figure of the results chapter, measured again from the code as
//! it is now. It builds `wardial` in release mode, runs the races below, and writes the numbers
//! (`docs/src/results/*.md`, included by the chapter) and the pictures (`docs/src/img/results/`),
//! each labelled with the commit and the machine they came from.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use crate::root;

/// The teaching race: every host answers after 20 ms, and every model probes all of them (a
/// budget long enough for blocking), so the rates compare equal amounts of work.
const EQUAL: &[&str] = &[
    "race",
    "--mix",
    "live",
    "--latency",
    "20ms",
    "--hosts",
    "256",
    "--max-connections",
    "64",
    "--budget",
    "60s",
];

/// The concurrency sweep: connection limits, and the models drawn against them.
const WIDTHS: [usize; 6] = [1, 4, 16, 64, 256, 1024];
const SWEEP_MODELS: &str = "threads,callbacks,tokio";

/// Every model at the scale this machine allows: as many connections as the process may open
/// (the hosts are in another process), on silent hosts, each model stopped at 20 s.
const SCALE: &[&str] = &[
    "race",
    "--mix",
    "silent",
    "--range",
    "127.64.0.0/16",
    "--hosts",
    "25000",
    "--max-connections",
    "20000",
    "--budget",
    "20s",
    "--no-memory",
];

pub fn results() -> Result<(), String> {
    let root = root();
    let docs = root.join("docs/src/results");
    let img = root.join("docs/src/img/results");
    for dir in [&docs, &img] {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    let wardial = build_wardial(&root)?;
    let label = label(&root);
    write_default_race(&wardial, &docs, &img, &label)?;
    write_equal_race(&wardial, &docs, &img, &label)?;
    write_concurrency_sweep(&wardial, &docs, &img, &label)?;
    write_scale(&wardial, &docs, &label)?;
    eprintln!(
        "xtask results: wrote {} and {}",
        docs.display(),
        img.display()
    );
    Ok(())
}

/// Every model at its scale limit: the connections it raced with, and why fewer than asked.
fn write_scale(wardial: &Path, docs: &Path, label: &str) -> Result<(), String> {
    eprintln!("xtask results: every model at 20 000 connections (a few minutes)...");
    let doc = race(wardial, SCALE, "scale")?;
    let mut t = String::from(
        "| model | connections | why not more | time | probes/s | efficiency |\n| --- | --- | --- | --- | --- | --- |\n",
    );
    let asked = doc["config"]["max_connections"].as_u64().unwrap_or(0);
    for m in doc["models"].as_array().into_iter().flatten() {
        let name = m["model"].as_str().unwrap_or("?");
        if let Some(why) = m["unavailable"].as_str() {
            let _ = writeln!(t, "| {name} | | unavailable: {why} | | | |");
            continue;
        }
        let why = m["capacity_note"]
            .as_str()
            .map_or(format!("the process's open files ({asked})"), String::from);
        let time = match m["projected_seconds"].as_f64() {
            Some(_) => format!("{} (projected)", secs(&m["projected_seconds"])),
            None if m["completed"] == 0 => "none done".into(),
            None => secs(&m["seconds"]),
        };
        let _ = writeln!(
            t,
            "| {name} | {} | {why} | {time} | {:.0} | {} |",
            m["connections"],
            m["probes_per_second"].as_f64().unwrap_or(0.0),
            pct(&m["limit_efficiency"]),
        );
    }
    let _ = writeln!(t, "\n{}", highest_efficiency(&doc));
    let command = format!("wardial {}", SCALE.join(" "));
    write(
        &docs.join("scale.md"),
        &format!("{t}\n{}\n", caption(label, &command)),
    )
}

/// Builds `wardial` in release mode and returns the path of its binary.
fn build_wardial(root: &Path) -> Result<PathBuf, String> {
    eprintln!("xtask results: building wardial (release)...");
    run_status(Command::new(env!("CARGO")).current_dir(root).args([
        "build",
        "--release",
        "--quiet",
        "-p",
        "wardial",
    ]))?;
    Ok(root.join("target/release/wardial"))
}

/// The default race, as `cargo run --release` shows it.
fn write_default_race(wardial: &Path, docs: &Path, img: &Path, label: &str) -> Result<(), String> {
    eprintln!("xtask results: the default race...");
    let default = race(
        wardial,
        &["race", "--svg", &path(img, "default.svg")],
        "default",
    )?;
    write(
        &docs.join("default.md"),
        &format!(
            "{}\n{}\n",
            table(&default),
            caption(label, "cargo run --release -- race")
        ),
    )
}

/// Equal work for every model, its timeline and memory.
fn write_equal_race(wardial: &Path, docs: &Path, img: &Path, label: &str) -> Result<(), String> {
    eprintln!("xtask results: every model on the same 256 hosts...");
    let mut args = EQUAL.to_vec();
    let (svg, timeline) = (path(img, "equal.svg"), path(img, "timeline.svg"));
    args.extend(["--svg", &svg, "--timeline", &timeline]);
    let equal = race(wardial, &args, "equal")?;
    write(
        &docs.join("equal.md"),
        &format!(
            "{}\n{}\n",
            table(&equal),
            caption(label, &format!("wardial {}", EQUAL.join(" ")))
        ),
    )
}

/// Concurrency against probes per second.
fn write_concurrency_sweep(
    wardial: &Path,
    docs: &Path,
    img: &Path,
    label: &str,
) -> Result<(), String> {
    let mut sweep = Vec::new();
    for width in WIDTHS {
        eprintln!("xtask results: concurrency {width}...");
        sweep.push((width, sweep_race(wardial, width)?));
    }
    write(
        &img.join("concurrency.svg"),
        &concurrency_svg(&sweep, label),
    )?;
    write(&docs.join("concurrency.md"), &sweep_table(&sweep, label))
}

/// One point of the concurrency sweep: the sweep's models, at most `width` connections.
fn sweep_race(wardial: &Path, width: usize) -> Result<Value, String> {
    let hosts = (4 * width).max(64).to_string();
    let width_arg = width.to_string();
    race(
        wardial,
        &[
            "race",
            "--range",
            "127.64.0.0/18",
            "--mix",
            "live",
            "--latency",
            "20ms",
            "--hosts",
            &hosts,
            "--max-connections",
            &width_arg,
            "--models",
            SWEEP_MODELS,
            "--budget",
            "3s",
            "--no-memory",
        ],
        "sweep",
    )
}

fn path(dir: &Path, file: &str) -> String {
    dir.join(file).to_string_lossy().into_owned()
}

fn write(path: &Path, text: &str) -> Result<(), String> {
    std::fs::write(path, text).map_err(|e| format!("{}: {e}", path.display()))
}

fn run_status(cmd: &mut Command) -> Result<(), String> {
    let status = cmd.status().map_err(|e| format!("{cmd:?}: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{cmd:?} failed: {status}"))
    }
}

/// Runs one race with `--json` and returns the document.
fn race(wardial: &Path, args: &[&str], what: &str) -> Result<Value, String> {
    let out = Command::new(wardial)
        .args(args)
        .arg("--json")
        .output()
        .map_err(|e| format!("{}: {e}", wardial.display()))?;
    if !out.status.success() {
        return Err(format!(
            "the {what} race failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    serde_json::from_slice(&out.stdout).map_err(|e| format!("the {what} race's JSON: {e}"))
}

/// Where the figures come from: the commit (marked if the tree had changes) and the machine.
fn label(root: &Path) -> String {
    let git = |args: &[&str]| {
        Command::new("git")
            .current_dir(root)
            .args(args)
            .output()
            .ok()
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
            .unwrap_or_default()
    };
    let commit = git(&["rev-parse", "--short", "HEAD"]);
    let dirty = if git(&["status", "--porcelain", "--untracked-files=no"]).is_empty() {
        ""
    } else {
        " with uncommitted changes"
    };
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines()
                .find_map(|l| l.strip_prefix("model name")?.split(':').nth(1))
                .map(|m| m.trim().to_string())
        })
        .unwrap_or_else(|| std::env::consts::ARCH.to_string());
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let rustc = Command::new("rustc")
        .arg("--version")
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default();
    format!(
        "commit `{commit}`{dirty}, {cores} cores ({cpu}), {os}, {rustc}",
        os = std::env::consts::OS
    )
}

fn caption(label: &str, command: &str) -> String {
    format!("<small>Measured by `cargo xtask results` (`{command}`) at {label}.</small>\n")
}

fn secs(v: &Value) -> String {
    match v.as_f64() {
        None => "n/a".into(),
        Some(s) if s >= 120.0 => format!("{:.1} min", s / 60.0),
        Some(s) if s >= 1.0 => format!("{s:.2} s"),
        Some(s) => format!("{:.0} ms", s * 1000.0),
    }
}

fn pct(v: &Value) -> String {
    v.as_f64()
        .map_or("n/a".into(), |e| format!("{:.0}%", e * 100.0))
}

/// A race as a Markdown table: every figure the race measures of each model.
fn table(doc: &Value) -> String {
    let mut t = String::from(
        "| model | time | probes/s | floor | bound | efficiency | CPU per probe (user + system) | context switches per probe | lateness p50 / p99 / max | memory per probe in flight (kernel's part) |\n| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |\n",
    );
    for m in doc["models"].as_array().into_iter().flatten() {
        if let Some(why) = m["unavailable"].as_str() {
            let _ = writeln!(
                t,
                "| {} | unavailable: {why} | | | | | | | | |",
                m["model"].as_str().unwrap_or("?")
            );
            continue;
        }
        let _ = writeln!(t, "{}", row(m));
    }
    let _ = writeln!(t, "\n{}", highest_efficiency(doc));
    t
}

/// One model's row of [`table`].
fn row(m: &Value) -> String {
    let time = match m["projected_seconds"].as_f64() {
        Some(_) => format!("{} (projected)", secs(&m["projected_seconds"])),
        None => secs(&m["seconds"]),
    };
    let kib = |v: &Value| v.as_f64().map(|b| format!("{:.1} KiB", b / 1024.0));
    let memory = match (
        kib(&m["memory_per_probe_bytes"]),
        kib(&m["memory_kernel_per_probe_bytes"]),
    ) {
        (Some(all), Some(kernel)) => format!("{all} ({kernel})"),
        (Some(all), None) => all,
        _ => "n/a".into(),
    };
    let us = |k: &str| m[k].as_f64().map_or("n/a".into(), |v| format!("{v:.0}"));
    let one = |k: &str| m[k].as_f64().unwrap_or(f64::NAN);
    let ms = |k: &str| m[k].as_f64().map_or("n/a".into(), |v| format!("{v:.1}"));
    format!(
        "| {} | {time} | {:.0} | {} | {} | {} | {} + {} µs | {:.1} | {} / {} / {} ms | {memory} |",
        m["model"].as_str().unwrap_or("?"),
        m["probes_per_second"].as_f64().unwrap_or(0.0),
        secs(&m["limit_seconds"]),
        m["bound"].as_str().unwrap_or("n/a"),
        pct(&m["limit_efficiency"]),
        us("cpu_user_us_per_probe"),
        us("cpu_system_us_per_probe"),
        one("switches_voluntary_per_probe") + one("switches_involuntary_per_probe"),
        ms("lateness_ms_p50"),
        ms("lateness_ms_p99"),
        ms("lateness_ms_max"),
    )
}

/// The highest efficiency of the race: the floor is a lower bound, so anything above 100 %
/// is measurement noise (the CPU cost measured at calibration against the race's), and says
/// how much.
fn highest_efficiency(doc: &Value) -> String {
    let best = doc["models"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|m| Some((m["limit_efficiency"].as_f64()?, m["model"].as_str()?)))
        .max_by(|a, b| a.0.total_cmp(&b.0));
    match best {
        Some((e, model)) => format!(
            "Highest efficiency: {:.1} % ({model}); the floor is a lower bound, so what passes 100 % is the noise of measuring it.",
            e * 100.0
        ),
        None => String::new(),
    }
}

/// The rate of `model` in a sweep point.
fn rate(doc: &Value, model: &str) -> Option<f64> {
    doc["models"]
        .as_array()?
        .iter()
        .find(|m| m["model"] == model)?["probes_per_second"]
        .as_f64()
}

/// The ideal rate of a sweep point: its hosts over the wait-bound ideal time.
fn ideal_rate(doc: &Value) -> f64 {
    doc["hosts"].as_f64().unwrap_or(0.0) / doc["ideal_seconds"].as_f64().unwrap_or(1.0).max(1e-9)
}

fn sweep_table(sweep: &[(usize, Value)], label: &str) -> String {
    let models: Vec<&str> = SWEEP_MODELS.split(',').collect();
    let mut t = format!(
        "| connections | ideal probes/s | {} |\n| --- | --- |{}\n",
        models.join(" | "),
        " --- |".repeat(models.len())
    );
    for (width, doc) in sweep {
        let _ = write!(t, "| {width} | {:.0} |", ideal_rate(doc));
        for m in &models {
            let _ = write!(t, " {:.0} |", rate(doc, m).unwrap_or(0.0));
        }
        t.push('\n');
    }
    t.push('\n');
    t.push_str(&caption(
        label,
        "wardial race --range 127.64.0.0/18 --mix live --latency 20ms --hosts H --max-connections N --models threads,callbacks,tokio --budget 3s --no-memory (H = 4×N, at least 64)",
    ));
    t
}

/// The concurrency plot's margins (left, top) and the size of its drawing area, in pixels.
const PLOT_LEFT: f64 = 70.0;
const PLOT_TOP: f64 = 50.0;
const PLOT_WIDTH: f64 = 560.0;
const PLOT_HEIGHT: f64 = 320.0;
/// One colour for each model of [`SWEEP_MODELS`], in the same order.
const SWEEP_COLOURS: [&str; 3] = ["#d95f02", "#1b9e77", "#3b7dd8"];

/// Concurrency against probes per second, both on log scales, with the ideal line.
fn concurrency_svg(sweep: &[(usize, Value)], label: &str) -> String {
    let scales = LogScales::of(sweep);
    let mut s = svg_header(label);
    scales.draw_grid(&mut s);
    let legend = draw_sweep_lines(&mut s, &scales, sweep);
    draw_legend(&mut s, &legend);
    s.push_str("</svg>\n");
    s
}

/// The concurrency plot's title and the label of where its figures come from.
fn svg_header(label: &str) -> String {
    format!(
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}" font-family="monospace" font-size="12">
<rect width="100%" height="100%" fill="white"/>
<text x="8" y="18" font-weight="bold" font-size="13">probes per second against connections (both log scales); hosts answer after 20 ms</text>
<text x="8" y="34" fill="#555" font-size="10">{label}</text>
"##,
        w = PLOT_LEFT + PLOT_WIDTH + 170.0,
        h = PLOT_TOP + PLOT_HEIGHT + 50.0,
        label = label.replace('`', ""),
    )
}

/// The two log axes of the concurrency plot, each spanning whole decades: connections across,
/// probes per second up.
struct LogScales {
    x_decades: f64,
    y_decades: f64,
}

impl LogScales {
    /// Axes wide enough for the widest point and tall enough for the best ideal rate.
    fn of(sweep: &[(usize, Value)]) -> Self {
        let widest = sweep.last().map_or(1, |(w, _)| *w) as f64;
        let best = sweep
            .iter()
            .map(|(_, d)| ideal_rate(d))
            .fold(10.0, f64::max);
        Self {
            x_decades: widest.log10().ceil().max(1.0),
            y_decades: best.log10().ceil(),
        }
    }

    fn x(&self, w: f64) -> f64 {
        PLOT_LEFT + w.max(1.0).log10() / self.x_decades * PLOT_WIDTH
    }

    fn y(&self, r: f64) -> f64 {
        PLOT_TOP + PLOT_HEIGHT - r.max(1.0).log10() / self.y_decades * PLOT_HEIGHT
    }

    /// A grid line and its value at every decade of both axes, and the title of the x axis.
    fn draw_grid(&self, s: &mut String) {
        for p in 0..=self.x_decades as i32 {
            let gx = self.x(10f64.powi(p));
            let _ = writeln!(
                s,
                r##"<line x1="{gx:.1}" y1="{PLOT_TOP}" x2="{gx:.1}" y2="{b}" stroke="#ddd"/><text x="{gx:.1}" y="{ly}" text-anchor="middle">{v}</text>"##,
                b = PLOT_TOP + PLOT_HEIGHT,
                ly = PLOT_TOP + PLOT_HEIGHT + 16.0,
                v = 10u64.pow(p as u32),
            );
        }
        for p in 0..=self.y_decades as i32 {
            let gy = self.y(10f64.powi(p));
            let _ = writeln!(
                s,
                r##"<line x1="{PLOT_LEFT}" y1="{gy:.1}" x2="{r}" y2="{gy:.1}" stroke="#ddd"/><text x="{lx}" y="{ty:.1}" text-anchor="end">{v}</text>"##,
                r = PLOT_LEFT + PLOT_WIDTH,
                lx = PLOT_LEFT - 6.0,
                ty = gy + 4.0,
                v = 10u64.pow(p as u32),
            );
        }
        let _ = writeln!(
            s,
            r#"<text x="{cx}" y="{by}" text-anchor="middle">max connections</text>"#,
            cx = PLOT_LEFT + PLOT_WIDTH / 2.0,
            by = PLOT_TOP + PLOT_HEIGHT + 36.0
        );
    }

    /// `points` (connections, probes per second) joined by a line, dashed if `dash`.
    fn polyline(&self, points: &[(f64, f64)], colour: &str, dash: bool) -> String {
        let d: Vec<String> = points
            .iter()
            .map(|(w, r)| format!("{:.1},{:.1}", self.x(*w), self.y(*r)))
            .collect();
        format!(
            r#"<polyline points="{}" fill="none" stroke="{colour}" stroke-width="2"{}/>"#,
            d.join(" "),
            if dash {
                r#" stroke-dasharray="6 4""#
            } else {
                ""
            }
        )
    }
}

/// The ideal line and one line for each model of the sweep; returns their legend, as (name,
/// colour).
fn draw_sweep_lines(
    s: &mut String,
    scales: &LogScales,
    sweep: &[(usize, Value)],
) -> Vec<(&'static str, &'static str)> {
    let ideal: Vec<(f64, f64)> = sweep
        .iter()
        .map(|(w, d)| (*w as f64, ideal_rate(d)))
        .collect();
    let _ = writeln!(s, "{}", scales.polyline(&ideal, "#333", true));
    let mut legend = vec![("ideal: N ÷ 20 ms", "#333")];
    for (m, colour) in SWEEP_MODELS.split(',').zip(SWEEP_COLOURS) {
        let points: Vec<(f64, f64)> = sweep
            .iter()
            .filter_map(|(w, d)| Some((*w as f64, rate(d, m)?)))
            .collect();
        let _ = writeln!(s, "{}", scales.polyline(&points, colour, false));
        legend.push((m, colour));
    }
    legend
}

/// The legend, right of the plot: a short line of each colour and its name.
fn draw_legend(s: &mut String, legend: &[(&str, &str)]) {
    for (i, (name, colour)) in legend.iter().enumerate() {
        let ly = PLOT_TOP + 10.0 + 20.0 * i as f64;
        let lx = PLOT_LEFT + PLOT_WIDTH + 14.0;
        let _ = writeln!(
            s,
            r#"<line x1="{lx}" y1="{ly}" x2="{x2}" y2="{ly}" stroke="{colour}" stroke-width="2"{dash}/><text x="{tx}" y="{ty}">{name}</text>"#,
            x2 = lx + 20.0,
            // The ideal comes first and is drawn dashed in the plot: so is its sample.
            dash = if i == 0 {
                r#" stroke-dasharray="6 4""#
            } else {
                ""
            },
            tx = lx + 26.0,
            ty = ly + 4.0,
        );
    }
}
