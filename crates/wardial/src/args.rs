//! Argument parsers and checks that clap does not provide: durations, positive counts, CIDR
//! targets.

use std::time::Duration;

use wardial_probe::feed::{MAX_RATE, MIN_RATE};
use wardial_probe::Cidr;

/// Parses `500ms`, `2s`, `1.5s`, `1m`, or a bare number of seconds. Written here because
/// humantime (the usual crate) takes neither bare numbers nor fractions, and both are what a
/// user types for a timeout.
pub fn duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let (number, scale) = if let Some(n) = s.strip_suffix("ms") {
        (n, 0.001)
    } else if let Some(n) = s.strip_suffix('s') {
        (n, 1.0)
    } else if let Some(n) = s.strip_suffix('m') {
        (n, 60.0)
    } else {
        (s, 1.0)
    };
    let bad = || format!("'{s}' is not a duration (examples: 500ms, 2s, 1.5s, 1m)");
    let value: f64 = number.trim().parse().map_err(|_| bad())?;
    if !value.is_finite() {
        return Err(bad());
    }
    let secs = value * scale;
    if secs <= 0.0 {
        return Err(format!("'{s}' must be more than zero"));
    }
    if secs > 86_400.0 {
        return Err(format!("'{s}' is more than a day"));
    }
    Ok(Duration::from_secs_f64(secs))
}

/// Like [`duration`], but zero is allowed (a latency).
pub fn duration_or_zero(s: &str) -> Result<Duration, String> {
    match s.trim().trim_end_matches("ms").trim_end_matches('s') {
        "0" | "0.0" => Ok(Duration::ZERO),
        _ => duration(s),
    }
}

/// A count that must be at least one.
pub fn positive(s: &str) -> Result<usize, String> {
    match s.trim().parse::<usize>() {
        Ok(0) => Err("must be at least 1".to_string()),
        Ok(n) => Ok(n),
        Err(_) => Err(format!("'{s}' is not a whole number (at least 1)")),
    }
}

/// A rate in events per second: a positive number, fractions allowed (`0.5` is one every two
/// seconds), at most a million.
pub fn rate(s: &str) -> Result<f64, String> {
    let value: f64 = s
        .trim()
        .parse()
        .map_err(|_| format!("'{s}' is not a number of probes per second"))?;
    if !value.is_finite() || value <= 0.0 {
        return Err(format!("'{s}' must be more than zero probes per second"));
    }
    if value < MIN_RATE {
        return Err(format!("'{s}' is less than one probe in 1000 seconds"));
    }
    if value > MAX_RATE {
        return Err(format!("'{s}' is more than a million probes per second"));
    }
    Ok(value)
}

pub fn cidr(s: &str) -> Result<Cidr, String> {
    s.parse::<Cidr>().map_err(|e| e.to_string())
}

/// A scan target argument: a CIDR, an address, or `-` for stdin (checked again when read).
pub fn cidr_or_stdin(s: &str) -> Result<String, String> {
    if s == "-" {
        return Ok(s.to_string());
    }
    cidr(s).map(|_| s.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(duration("2s"), Ok(Duration::from_secs(2)));
        assert_eq!(duration("1.5s"), Ok(Duration::from_millis(1500)));
        assert_eq!(duration("3"), Ok(Duration::from_secs(3)));
        assert_eq!(duration("1m"), Ok(Duration::from_secs(60)));
        for bad in ["0", "0s", "-1s", "abc", "", "ms", "nan", "inf", "1e9"] {
            assert!(duration(bad).is_err(), "{bad:?}");
        }
        assert_eq!(duration_or_zero("0ms"), Ok(Duration::ZERO));
        assert_eq!(duration_or_zero("20ms"), Ok(Duration::from_millis(20)));
    }

    #[test]
    fn rates() {
        assert_eq!(rate("500"), Ok(500.0));
        assert_eq!(rate("0.5"), Ok(0.5));
        for bad in ["0", "-1", "nan", "inf", "fast", "", "2e6"] {
            assert!(rate(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn counts() {
        assert_eq!(positive("8"), Ok(8));
        assert!(positive("0").is_err());
        assert!(positive("-3").is_err());
        assert!(positive("many").is_err());
    }
}
