//! `--dry-run`: the targets in the order a scan would probe them, and not one socket.

use std::io::Write;
use std::net::SocketAddr;

use wardial_probe::Stop;

use super::options::ScanOptions;
use crate::Failure;

/// `--dry-run`: prints the targets in the order a scan would probe them (an address a line, or
/// `ADDRESS HOST:PORT` for a mapped one; JSON lines with `--json`), and opens no socket.
/// Returns how many it printed.
pub fn dry_run(opts: &ScanOptions, interrupt: &Stop) -> Result<u64, Failure> {
    let (_, walk, _) = opts.walk()?;
    let skip = opts.done.clone();
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let mut printed = 0;
    let mut walk = walk;
    while let Some((_, t)) = walk.next_not_in(&skip) {
        if interrupt.is_stopped() {
            break;
        }
        let direct = t.dial == SocketAddr::new(t.addr.into(), t.port);
        // The port only where there are several: one address a line stays what `--input`
        // and other tools read.
        let line = match (opts.json, direct) {
            (true, _) => format!(r#"{{"addr":"{}","port":{}}}"#, t.addr, t.port),
            (false, true) if opts.ports.len() > 1 => format!("{}:{}", t.addr, t.port),
            (false, true) => t.addr.to_string(),
            (false, false) => format!("{} {}", t.addr, t.dial),
        };
        if writeln!(out, "{line}").is_err() {
            // The reader has gone (`| head`): what it read was whole lines.
            break;
        }
        printed += 1;
    }
    let _ = out.flush();
    Ok(printed)
}
