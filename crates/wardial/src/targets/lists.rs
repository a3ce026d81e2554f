//! The lists a scan reads from files: targets (`--input`) and exclusions (`--exclude`).

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::sync::mpsc;
use std::time::Duration;

use wardial_probe::{Cidr, Stop};

use super::spec::Spec;
use crate::Failure;

/// Reads targets, one per line (`-` is stdin): a CIDR, an address, or `ADDRESS HOST:PORT` to
/// probe ADDRESS by dialling HOST:PORT (what `wardial simnet --targets` writes). Blank lines and
/// `#` comments are skipped. All of it is read and checked before the scan starts, so a bad line
/// (or a public address) is refused before any socket exists.
///
/// Reading can wait forever (a terminal, a pipe whose writer never closes), and a blocked read
/// cannot be interrupted: so the lines are read on a thread of their own, and this one gives up
/// when `interrupt` is set (Ctrl-C), leaving that thread to end with the process.
pub fn read_targets(path: &str, interrupt: &Stop) -> Result<Vec<Spec>, Failure> {
    let reader: Box<dyn BufRead + Send> = if path == "-" {
        Box::new(BufReader::new(std::io::stdin()))
    } else {
        let file = std::fs::File::open(path)
            .map_err(|e| Failure::Usage(format!("cannot read targets file '{path}': {e}")))?;
        Box::new(BufReader::new(file))
    };
    let (lines_tx, lines) = mpsc::channel();
    std::thread::spawn(move || {
        for line in reader.lines() {
            let failed = line.is_err();
            if lines_tx.send(line).is_err() || failed {
                return;
            }
        }
    });
    let mut nets = Vec::new();
    let mut n = 0;
    loop {
        // Checked at every line too, not only while waiting: a writer that never pauses (a
        // huge file, `yes`) must not keep the read going past a Ctrl-C.
        if interrupt.is_stopped() {
            return Err(Failure::Interrupted(format!(
                "interrupted while reading targets from {}: nothing was scanned",
                if path == "-" { "stdin" } else { path }
            )));
        }
        let line = match lines.recv_timeout(Duration::from_millis(50)) {
            Ok(line) => line,
            Err(mpsc::RecvTimeoutError::Timeout) => continue,
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
        };
        n += 1;
        let line =
            line.map_err(|e| Failure::Usage(format!("cannot read targets file '{path}': {e}")))?;
        let line = line.split('#').next().unwrap_or("").trim();
        if line.is_empty() {
            continue;
        }
        let spec = Spec::parse(line).map_err(|e| Failure::Usage(format!("{path}:{n}: {e}")))?;
        nets.push(spec);
    }
    Ok(nets)
}

/// Parses an exclude list: one CIDR block or address per line; `#` starts a comment, at the
/// start of a line or after an entry; blank lines are skipped. An error is one line naming the
/// line number and the text that is wrong.
pub fn parse_excludes(text: &str) -> Result<Vec<Cidr>, String> {
    parse_lines(text).map_err(|(line, message)| format!("line {line}: {message}"))
}

/// Reads and parses an exclude file (see [`parse_excludes`]). Errors name the file.
pub fn read_exclude_file(path: impl AsRef<Path>) -> Result<Vec<Cidr>, String> {
    let path = path.as_ref();
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read exclude file '{}': {e}", path.display()))?;
    // `path:line: ...`, as compilers and the targets file report a bad line.
    parse_lines(&text).map_err(|(line, message)| format!("{}:{line}: {message}", path.display()))
}

/// The parser behind both: the error is the 1-based line number and what is wrong with it.
fn parse_lines(text: &str) -> Result<Vec<Cidr>, (usize, String)> {
    let mut nets = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let entry = line.split('#').next().unwrap_or("").trim();
        if entry.is_empty() {
            continue;
        }
        let net = entry
            .parse::<Cidr>()
            .map_err(|e| (n + 1, format!("cannot exclude '{entry}': {e}")))?;
        nets.push(net);
    }
    Ok(nets)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cidr(s: &str) -> Cidr {
        s.parse().unwrap()
    }

    #[test]
    fn exclude_lists() {
        let text =
            "# lab machines\n\n10.0.0.0/8\n192.168.1.7   # the printer\n   \n172.16.0.0/12#x\n";
        assert_eq!(
            parse_excludes(text),
            Ok(vec![
                cidr("10.0.0.0/8"),
                cidr("192.168.1.7"),
                cidr("172.16.0.0/12")
            ])
        );
        assert_eq!(parse_excludes(""), Ok(vec![]));

        let err = parse_excludes("10.0.0.0/8\n\n10.0.0.0/33 # typo\n").unwrap_err();
        assert!(err.starts_with("line 3: "), "{err}");
        assert!(err.contains("'10.0.0.0/33'"), "{err}");
        assert!(err.contains("0 to 32"), "{err}");
        let err = parse_excludes("example.com\n").unwrap_err();
        assert!(
            err.starts_with("line 1: ") && err.contains("example.com"),
            "{err}"
        );
        let err = parse_excludes("10.0.0.0 8\n").unwrap_err();
        assert!(err.contains("'10.0.0.0 8'") && !err.contains('\n'), "{err}");
    }

    #[test]
    fn exclude_files() {
        let path = std::env::temp_dir().join(format!("wardial-exclude-{}", std::process::id()));
        std::fs::write(&path, "127.0.0.0/8\n# comment\n127.0.0.300\n").unwrap();
        let err = read_exclude_file(&path).unwrap_err();
        assert_eq!(
            err,
            format!(
                "{}:3: cannot exclude '127.0.0.300': '127.0.0.300' is not an IPv4 address: expected four numbers 0-255 separated by dots, like 10.0.0.0/16",
                path.display()
            )
        );
        std::fs::write(&path, "127.0.0.0/8\n").unwrap();
        assert_eq!(read_exclude_file(&path), Ok(vec![cidr("127.0.0.0/8")]));
        std::fs::remove_file(&path).unwrap();

        let err = read_exclude_file("/nonexistent/wardial-exclude").unwrap_err();
        assert!(
            err.starts_with("cannot read exclude file '/nonexistent/wardial-exclude': "),
            "{err}"
        );
        assert!(!err.contains('\n'), "{err}");
    }

    #[test]
    fn targets_file_reports_the_bad_line() {
        let dir = std::env::temp_dir().join(format!("wardial-targets-{}", std::process::id()));
        std::fs::write(
            &dir,
            "# mine\n127.0.0.1\n\n127.0.1.0/24  # lab\n127.0.0.300\n",
        )
        .unwrap();
        let err = read_targets(dir.to_str().unwrap(), &Stop::new()).unwrap_err();
        assert!(err.message().ends_with(":5: '127.0.0.300' is not an IPv4 address: expected four numbers 0-255 separated by dots, like 10.0.0.0/16"), "{err:?}");
        std::fs::write(&dir, "127.0.0.1\n127.0.1.0/24 # lab\n").unwrap();
        assert_eq!(
            read_targets(dir.to_str().unwrap(), &Stop::new())
                .unwrap()
                .len(),
            2
        );
        std::fs::remove_file(&dir).unwrap();
        assert_eq!(
            read_targets("/nonexistent/wardial", &Stop::new())
                .unwrap_err()
                .code(),
            2
        );
    }
}
