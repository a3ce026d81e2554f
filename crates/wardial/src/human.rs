//! Quantities for people: durations and sizes in the unit a person would choose.

/// Seconds in the unit that keeps the number short: `350 ms`, `1.25 s`, `7.5 min`, `3.2 h`.
pub fn duration(s: f64) -> String {
    if s >= 3600.0 {
        format!("{:.1} h", s / 3600.0)
    } else if s >= 120.0 {
        format!("{:.1} min", s / 60.0)
    } else if s >= 1.0 {
        format!("{s:.2} s")
    } else {
        format!("{:.0} ms", s * 1000.0)
    }
}

/// Bytes in KiB, or MiB from one MiB up: a probe's memory is a few KiB, a thread's stack MiB.
pub fn bytes(b: f64) -> String {
    if b >= 1024.0 * 1024.0 {
        format!("{:.1} MiB", b / (1024.0 * 1024.0))
    } else {
        format!("{:.1} KiB", b / 1024.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units_for_people() {
        assert_eq!(duration(0.35), "350 ms");
        assert_eq!(duration(1.254), "1.25 s");
        assert_eq!(duration(450.0), "7.5 min");
        assert_eq!(duration(11520.0), "3.2 h");
        assert_eq!(bytes(2048.0), "2.0 KiB");
        assert_eq!(bytes(3.0 * 1024.0 * 1024.0), "3.0 MiB");
    }
}
