//! Pacing: probes start at most `--rate` a second, evenly spaced.

use std::time::{Duration, Instant};

use wardial_probe::Stop;

/// The longest the pacer sleeps before it looks at the stop again: a paced scan answers Ctrl-C
/// within this, whatever its rate.
const NAP: Duration = Duration::from_millis(50);

/// Spaces the starts of probes evenly: one every `interval`, on a fixed schedule. A model takes
/// its next target when it has a free slot, so the pacer waits there, in the targets' iterator.
/// A scan of silent hosts at rate `r` with timeout `t` holds `r × t` connections at once
/// (each start waits out its timeout), so that many connections are what it needs to keep its
/// rate; the connection limit is the user's.
///
/// The price of waiting in the iterator: a model that pulls targets on the thread that also
/// reads its sockets (a single-threaded event loop) reads none while the pacer waits, one
/// interval per start (2 ms at 500/s); answers wait in the socket buffers meanwhile. Models
/// that pull targets on a thread of their own (threads, tokio's multi-thread runtime) do not
/// pay it.
///
/// A model that comes late for its slot (its loop was busy) may catch up, but by at most
/// [`Pacer::SLACK`]: so a single-threaded loop still holds the rate, and after a long stall
/// (every connection busy for a second) the scan goes on at the rate instead of starting a
/// second's worth of probes at once.
#[derive(Debug)]
pub struct Pacer {
    interval: Duration,
    next: Option<Instant>,
    /// The scan's stop: a wait ends early when it is set.
    stop: Stop,
}

impl Pacer {
    pub fn new(per_second: f64, stop: Stop) -> Pacer {
        Pacer {
            interval: Duration::from_secs_f64(1.0 / per_second),
            next: None,
            stop,
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

    /// Waits for the next start: `false` if the scan was stopped meanwhile (then nothing may
    /// start).
    pub fn wait(&mut self) -> bool {
        let slot = self.book(Instant::now());
        loop {
            if self.stop.is_stopped() {
                return false;
            }
            let now = Instant::now();
            if slot <= now {
                return true;
            }
            std::thread::sleep((slot - now).min(NAP));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stop_ends_the_wait() {
        let stop = Stop::new();
        let mut pacer = Pacer::new(0.001, stop.clone());
        assert!(pacer.wait(), "the first start is at once");
        stop.stop();
        // The next start is 1000 s away: the stop ends the wait at the next nap.
        assert!(!pacer.wait());
    }

    #[test]
    fn the_pacer_spaces_starts_and_never_bursts() {
        let mut pacer = Pacer::new(500.0, Stop::new());
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
