//! Where a scan's findings go: stdout for a person (a line per server), stdout for a program
//! (JSON lines that begin with the plan and end with how the run ended), or a file that a
//! restarted scan appends to.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::Path;
use std::time::SystemTime;

use wardial_probe::Finding;

use super::output::{human_line, json_record, End};
use super::plan::Plan;

/// The destination of a scan's lines. A write that fails (a closed pipe, a full disk) is
/// returned, so that the scan can stop instead of probing for nobody.
#[derive(Debug)]
pub enum Sink {
    /// Lines for a person: servers (or every finding with `--all`), no records.
    Human,
    /// JSON lines on stdout.
    Json,
    /// JSON lines appended to a file, and how long the file is: a checkpoint records that
    /// length, so a restart knows which lines came after it. Unbuffered: each line is written
    /// whole at once, and a line that failed is not left in a buffer to be written later.
    File { out: File, bytes: u64 },
}

impl Sink {
    /// A file opened for appending, whose length is `bytes` (what a restart kept of it).
    pub fn file(path: &Path, bytes: u64) -> std::io::Result<Sink> {
        let file = OpenOptions::new().create(true).append(true).open(path)?;
        Ok(Sink::File { out: file, bytes })
    }

    /// The first line of an output: the plan it belongs to.
    pub fn begin(&mut self, plan: &Plan) -> std::io::Result<()> {
        match self {
            Sink::Human => Ok(()),
            _ => self.line(&serde_json::to_string(plan).expect("plain data serializes")),
        }
    }

    /// A finding at `position` of the plan. `print` writes a line on stdout (the caller draws
    /// it out of the progress bar's way).
    pub fn finding(
        &mut self,
        f: &Finding,
        position: u64,
        print: &mut dyn FnMut(&str) -> std::io::Result<()>,
    ) -> std::io::Result<()> {
        match self {
            Sink::Human => print(&human_line(f)),
            Sink::Json => print(&json_record(f, position, SystemTime::now())),
            Sink::File { .. } => self.line(&json_record(f, position, SystemTime::now())),
        }
    }

    /// The last line of a run.
    pub fn end(&mut self, end: &End) -> std::io::Result<()> {
        match self {
            Sink::Human => Ok(()),
            _ => self.line(&end.line()),
        }
    }

    /// How long the file is, with every line written so far (0 for stdout).
    pub fn bytes(&self) -> u64 {
        match self {
            Sink::File { bytes, .. } => *bytes,
            _ => 0,
        }
    }

    /// A whole line in one write: a line already written stays valid output whenever the scan
    /// is stopped or killed. One that fails part way (a full disk) is cut off again, so the
    /// file holds whole lines only and its length is the one counted.
    fn line(&mut self, line: &str) -> std::io::Result<()> {
        match self {
            Sink::File { out, bytes } => {
                let written = out.write_all(format!("{line}\n").as_bytes());
                if written.is_err() {
                    let _ = out.set_len(*bytes);
                }
                written?;
                *bytes += line.len() as u64 + 1;
                Ok(())
            }
            _ => {
                let mut out = std::io::stdout().lock();
                writeln!(out, "{line}")?;
                out.flush()
            }
        }
    }
}
