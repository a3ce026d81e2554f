//! A scanner's command template: the placeholders `{range}`, `{port}`, `{timeout}` and
//! `{max_connections}` filled in, and the reference scanners' arguments where it names none.

use std::time::Duration;

use wardial_probe::Cidr;

/// What a command template's placeholders stand for.
#[derive(Debug, Clone, Copy)]
pub struct Placeholders {
    pub range: Cidr,
    pub port: u16,
    pub timeout: Duration,
    pub max_connections: usize,
}

/// The arguments appended to a template that names no `{range}`: the reference scanners' (and
/// the lecture's homework's) command line.
pub const DEFAULT_ARGS: &str =
    " {range} --port {port} --timeout {timeout} --max_connections {max_connections}";

/// The command line a template makes: `{range}`, `{port}`, `{timeout}` (seconds, a whole
/// number where it is one, as the homework's `--timeout` takes an int) and
/// `{max_connections}` replaced. A template without `{range}` gets [`DEFAULT_ARGS`].
pub fn expand(template: &str, p: &Placeholders) -> String {
    let template = if template.contains("{range}") {
        template.to_string()
    } else {
        format!("{template}{DEFAULT_ARGS}")
    };
    let secs = p.timeout.as_secs_f64();
    let timeout = if secs.fract() == 0.0 {
        format!("{secs:.0}")
    } else {
        format!("{secs}")
    };
    template
        .replace("{range}", &p.range.to_string())
        .replace("{port}", &p.port.to_string())
        .replace("{timeout}", &timeout)
        .replace("{max_connections}", &p.max_connections.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_filled_and_missing_ones_appended() {
        let p = Placeholders {
            range: "127.77.0.64/26".parse().unwrap(),
            port: 8080,
            timeout: Duration::from_secs(1),
            max_connections: 8,
        };
        assert_eq!(
            expand("scan {range}:{port} -t {timeout} -n {max_connections}", &p),
            "scan 127.77.0.64/26:8080 -t 1 -n 8"
        );
        assert_eq!(
            expand("python3 x.py", &p),
            "python3 x.py 127.77.0.64/26 --port 8080 --timeout 1 --max_connections 8"
        );
        let half = Placeholders {
            timeout: Duration::from_millis(500),
            ..p
        };
        assert_eq!(expand("t {range} {timeout}", &half), "t 127.77.0.64/26 0.5");
    }
}
