//! Pacing: probes start at most `--rate` a second, evenly spaced.

use std::time::{Duration, Instant};

/// The connection limit of a scan paced at `rate`: at most the starts of a quarter of a
/// timeout. A single-threaded event loop starts probes until its slots are full before it
/// reads any socket; with more slots than this, that filling alone (one interval each) would
/// keep it from answers long enough to turn them into timeouts.
pub fn paced_connections(max_connections: usize, rate: f64, timeout: Duration) -> usize {
    let quarter = (rate * timeout.as_secs_f64() / 4.0).floor() as usize;
    max_connections.min(quarter.max(1))
}

/// Spaces the starts of probes evenly: one every `interval`, on a fixed schedule. A model takes
/// its next target when it has a free slot, so the pacer waits there, in the targets' iterator;
/// an event loop that takes a target is held for one interval (2 ms at 500/s). A loop that
/// fills all its free slots before it looks at its sockets is held for one interval per slot,
/// which is why a paced scan has at most [`paced_connections`] of them.
///
/// A model that comes late for its slot (its loop was busy) may catch up, but by at most
/// [`Pacer::SLACK`]: so a single-threaded loop still holds the rate, and after a long stall
/// (every connection busy for a second) the scan goes on at the rate instead of starting a
/// second's worth of probes at once.
#[derive(Debug)]
pub struct Pacer {
    interval: Duration,
    next: Option<Instant>,
}

impl Pacer {
    pub fn new(per_second: f64) -> Pacer {
        Pacer {
            interval: Duration::from_secs_f64(1.0 / per_second),
            next: None,
        }
    }

    /// How far behind its schedule the pacer may be and still catch up.
    pub const SLACK: Duration = Duration::from_millis(20);

    /// When the next start may happen, given that it is now `now`; and books it.
    pub fn book(&mut self, now: Instant) -> Instant {
        let earliest = now.checked_sub(Self::SLACK).unwrap_or(now);
        let slot = self.next.map_or(now, |next| next.max(earliest));
        self.next = Some(slot + self.interval);
        slot
    }

    /// Waits for the next start.
    pub fn wait(&mut self) {
        let slot = self.book(Instant::now());
        let now = Instant::now();
        if slot > now {
            std::thread::sleep(slot - now);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_paced_scan_has_no_more_connections_than_a_quarter_timeout_of_starts() {
        let s = Duration::from_secs;
        assert_eq!(paced_connections(500, 500.0, s(10)), 500);
        assert_eq!(paced_connections(500, 10.0, s(10)), 25);
        assert_eq!(paced_connections(500, 0.01, s(10)), 1);
    }

    #[test]
    fn the_pacer_spaces_starts_and_never_bursts() {
        let mut pacer = Pacer::new(500.0);
        let ms = Duration::from_millis;
        let t0 = Instant::now();
        // Asked at once, again and again: one slot every 2 ms.
        let slots: Vec<Instant> = (0..5).map(|_| pacer.book(t0)).collect();
        for (i, slot) in slots.iter().enumerate() {
            assert_eq!(*slot, t0 + ms(2 * i as u64));
        }
        // A little late (a busy loop): the missed slots are caught up, on the schedule.
        assert_eq!(pacer.book(t0 + ms(15)), t0 + ms(10));
        // Asked late (every connection was busy for a second): only the last 20 ms of missed
        // slots are caught up (eleven starts at once, not five hundred), then the schedule goes on.
        let late = t0 + ms(1000);
        let slots: Vec<Instant> = (0..12).map(|_| pacer.book(late)).collect();
        assert_eq!(slots.iter().filter(|&&s| s <= late).count(), 11);
        assert_eq!(slots[0], late - ms(20));
        assert_eq!(slots[11], late + ms(2));
    }
}
