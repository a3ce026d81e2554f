//! The progress bar of a scan: on stderr, only on a terminal, and only once the scan has run
//! for a moment, so that a scan of a few hosts prints its lines and nothing else.

use std::io::Write;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use wardial_probe::Finding;

use crate::human;

/// How long a scan runs before its bar appears.
const QUIET: Duration = Duration::from_millis(500);

/// A bar over the targets left, with the rate, the time left and the servers found.
#[derive(Debug)]
pub struct Progress {
    bar: ProgressBar,
    /// Whether to draw at all (stderr is a terminal).
    draw: bool,
    shown: bool,
    started: Instant,
    left: u64,
    servers: u64,
}

impl Progress {
    pub fn new(left: u64, draw: bool) -> Progress {
        let bar = ProgressBar::with_draw_target(Some(left), ProgressDrawTarget::hidden());
        bar.set_style(
            ProgressStyle::with_template(
                "[{elapsed_precise}] {wide_bar} {human_pos}/{human_len} {msg}",
            )
            .expect("a valid template"),
        );
        Progress {
            bar,
            draw,
            shown: false,
            started: Instant::now(),
            left,
            servers: 0,
        }
    }

    /// Counts a finding.
    pub fn finding(&mut self, f: &Finding) {
        if self.draw && !self.shown && self.started.elapsed() > QUIET {
            self.bar.set_draw_target(ProgressDrawTarget::stderr());
            self.shown = true;
        }
        self.bar.inc(1);
        self.servers += u64::from(f.outcome.is_server());
        // The rate and the time left, from the whole scan so far: indicatif's own estimates
        // weigh the last few seconds, which a paced or bursty scan makes jump.
        let done = self.bar.position();
        if done % 64 == 1 || f.outcome.is_server() {
            let rate = done as f64 / self.started.elapsed().as_secs_f64().max(1e-3);
            let left = self.left.saturating_sub(done) as f64 / rate.max(1e-3);
            self.bar.set_message(format!(
                "{rate:.0} probes/s, {} left, {} found",
                human::duration(left),
                self.servers
            ));
        }
    }

    /// Prints `line` on stdout, whole, with the bar out of the way: a line already printed stays
    /// valid output whenever the scan is stopped.
    pub fn print(&self, line: &str) -> std::io::Result<()> {
        self.bar.suspend(|| {
            let mut out = std::io::stdout().lock();
            writeln!(out, "{line}")?;
            out.flush()
        })
    }

    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}
