//! The targets as a model takes them: ended by the scan's stop, and paced when the scan has a
//! rate. A model never sleeps for the pace on its own: it asks the feed, and the feed says
//! either "this target, now", "not before T" or "no more". What a model does with "not before
//! T" is its own lesson: a thread may sleep, an event loop arms a timer and goes on reading its
//! sockets, an async scan awaits its runtime's timer.

use std::future::Future;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use futures::stream::{self, Stream};

use crate::{ScanConfig, Target, Targets};

/// The longest a feed asks a model to wait before it looks at the stop again: a paced scan
/// answers Ctrl-C within this, whatever its rate.
pub const NAP: Duration = Duration::from_millis(50);

/// Spaces the starts of probes evenly: one every `interval`, on a fixed schedule.
///
/// A scan of silent hosts at rate `r` with timeout `t` holds `r × t` connections at once (each
/// start waits out its timeout), so that many connections are what it needs to keep its rate;
/// the connection limit is the user's.
///
/// A model that comes late for its slot (its loop was busy) may catch up, but by at most
/// [`Pacer::SLACK`]: so a single-threaded loop still holds the rate, and after a long stall
/// (every connection busy for a second) the scan goes on at the rate instead of starting a
/// second's worth of probes at once.
#[derive(Debug, Clone)]
pub struct Pacer {
    interval: Duration,
    next: Option<Instant>,
}

/// The slowest pace: one start in 1000 s.
pub const MIN_RATE: f64 = 0.001;
/// The fastest pace: a million starts a second (a microsecond apart).
pub const MAX_RATE: f64 = 1e6;

impl Pacer {
    /// At most `per_second` starts a second, within [`MIN_RATE`] and [`MAX_RATE`].
    ///
    /// # Panics
    /// Outside those bounds (or not a number). (The CLI refuses one with a message.)
    pub fn new(per_second: f64) -> Pacer {
        assert!(
            (MIN_RATE..=MAX_RATE).contains(&per_second),
            "a rate must be {MIN_RATE} to {MAX_RATE} probes a second, not {per_second}"
        );
        Pacer {
            interval: Duration::from_secs_f64(1.0 / per_second),
            next: None,
        }
    }

    /// How far behind its schedule the pacer may be and still catch up.
    pub const SLACK: Duration = Duration::from_millis(20);

    /// Whether a probe may start at `now`: `Ok` books the slot, `Err` says when the next slot
    /// is (and books nothing, so a model may ask again and again).
    pub fn start(&mut self, now: Instant) -> Result<(), Instant> {
        let earliest = now.checked_sub(Self::SLACK).unwrap_or(now);
        let slot = self.next.map_or(now, |next| next.max(earliest));
        if slot > now {
            return Err(slot);
        }
        self.next = Some(slot + self.interval);
        Ok(())
    }
}

/// What a feed has for a model that asks for a target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Next {
    /// Start this probe now.
    Go(Target),
    /// Nothing may start before this instant: ask again then (or sooner, after other work).
    Wait(Instant),
    /// No more targets: they ran out, or the scan was stopped.
    End,
}

/// The targets of one scan, as [`ScanConfig::until_stopped`] hands them to a model.
///
/// Three ways to take the next target, one per kind of model: [`Feed::next_at`] never blocks
/// (an event loop's), [`Iterator::next`] sleeps until the target may start (a thread's), and
/// [`Feed::next_after`] / [`Feed::into_stream`] await the model's own timer (an async scan's).
pub struct Feed<'a> {
    config: &'a ScanConfig,
    targets: Targets<'a>,
    pacer: Option<Pacer>,
    ended: bool,
}

impl std::fmt::Debug for Feed<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Feed")
            .field("pacer", &self.pacer)
            .field("ended", &self.ended)
            .finish_non_exhaustive()
    }
}

impl<'a> Feed<'a> {
    pub(crate) fn new(config: &'a ScanConfig, targets: Targets<'a>) -> Feed<'a> {
        config.cut_short.store(false, Ordering::Relaxed);
        Feed {
            config,
            targets,
            pacer: config.pace.clone(),
            ended: false,
        }
    }

    /// The next target if one may start at `now`; never blocks. A model that gets
    /// [`Next::Wait`] goes on with its other work and asks again by then: an event loop arms a
    /// timer for it. The wait is at most [`NAP`], so that a stop is seen within it.
    pub fn next_at(&mut self, now: Instant) -> Next {
        if self.ended {
            return Next::End;
        }
        if self.config.stop().is_stopped() {
            self.config
                .cut_short
                .store(!self.none_left(), Ordering::Relaxed);
            self.ended = true;
            return Next::End;
        }
        if let Some(pacer) = &mut self.pacer {
            // Paced before the target is taken: a stop that lands during the wait leaves it
            // untaken.
            if let Err(slot) = pacer.start(now) {
                // Unless none is left: the scan must not wait a whole interval to learn that
                // it has ended.
                if self.none_left() {
                    self.ended = true;
                    return Next::End;
                }
                return Next::Wait(slot.min(now + NAP));
            }
        }
        match self.targets.next() {
            Some(target) => Next::Go(target),
            None => {
                self.ended = true;
                Next::End
            }
        }
    }

    /// The next target, once it may start, waiting with `sleep_until` (the model's own timer:
    /// `tokio::time::sleep_until`, an async-io `Timer`, a runtime's own). Dropped while it
    /// waits, it has taken nothing, so it may race other work in a `select!`.
    pub async fn next_after<F>(&mut self, sleep_until: impl Fn(Instant) -> F) -> Option<Target>
    where
        F: Future,
    {
        loop {
            match self.next_at(Instant::now()) {
                Next::Go(target) => return Some(target),
                Next::Wait(when) => {
                    sleep_until(when).await;
                }
                Next::End => return None,
            }
        }
    }

    /// The targets as a stream that waits for each start with `sleep_until` (see
    /// [`Feed::next_after`]): for a scan written with stream combinators, which go on polling
    /// the probes in flight while the stream waits. (Boxed, so that it can be polled where it
    /// stands, as `StreamExt::next` needs.)
    pub fn into_stream<F>(
        self,
        sleep_until: impl Fn(Instant) -> F + Clone + 'a,
    ) -> impl Stream<Item = Target> + Unpin + 'a
    where
        F: Future + 'a,
    {
        Box::pin(stream::unfold(self, move |mut feed| {
            let sleep_until = sleep_until.clone();
            async move {
                let target = feed.next_after(sleep_until).await?;
                Some((target, feed))
            }
        }))
    }

    /// Whether the targets say that none remain. A CIDR range knows its length; an iterator
    /// that cannot say counts as having more.
    fn none_left(&self) -> bool {
        self.targets.size_hint().1 == Some(0)
    }
}

/// Takes the next target, sleeping on this thread until it may start: for a model whose
/// thread has nothing else to do meanwhile (a blocking scan, a pool's worker).
impl Iterator for Feed<'_> {
    type Item = Target;

    fn next(&mut self) -> Option<Target> {
        loop {
            match self.next_at(Instant::now()) {
                Next::Go(target) => return Some(target),
                Next::Wait(when) => {
                    std::thread::sleep(when.saturating_duration_since(Instant::now()));
                }
                Next::End => return None,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    fn targets(n: u8) -> impl Iterator<Item = Target> + Send {
        (1..=n).map(|i| Target::direct(Ipv4Addr::new(127, 0, 0, i), 80))
    }

    #[test]
    fn the_pacer_spaces_starts_and_catches_up_by_at_most_its_slack() {
        let mut pacer = Pacer::new(500.0);
        let ms = Duration::from_millis;
        let t0 = Instant::now();
        // Asked at once, again and again: one start, then "not before 2 ms", booking nothing.
        assert_eq!(pacer.start(t0), Ok(()));
        assert_eq!(pacer.start(t0), Err(t0 + ms(2)));
        assert_eq!(pacer.start(t0 + ms(1)), Err(t0 + ms(2)));
        assert_eq!(pacer.start(t0 + ms(2)), Ok(()));
        // A little late (a busy loop): the missed slots are caught up, on the schedule.
        let late = t0 + ms(15);
        let caught_up = (0..10).take_while(|_| pacer.start(late).is_ok()).count();
        assert_eq!(caught_up, 6, "slots 4, 6, 8, 10, 12 and 14 ms");
        assert_eq!(pacer.start(late), Err(t0 + ms(16)));
        // Asked late (every connection was busy for a second): only the last 20 ms of missed
        // slots are caught up (eleven starts at once, not five hundred), then the schedule
        // goes on.
        let late = t0 + ms(1000);
        let at_once = (0..100).take_while(|_| pacer.start(late).is_ok()).count();
        assert_eq!(at_once, 11);
        assert_eq!(pacer.start(late), Err(late + ms(2)));
    }

    #[test]
    fn a_paced_feed_says_when_and_takes_nothing_meanwhile() {
        let config = ScanConfig::new(Duration::from_secs(1), 4).with_rate(10.0);
        let mut all = targets(3);
        let mut feed = config.until_stopped(&mut all);
        let t0 = Instant::now();
        assert!(matches!(feed.next_at(t0), Next::Go(_)));
        // The next start is 100 ms away; a wait is never longer than a nap, so a stop is seen.
        assert_eq!(feed.next_at(t0), Next::Wait(t0 + NAP));
        assert_eq!(
            feed.next_at(t0 + Duration::from_millis(60)),
            Next::Wait(t0 + Duration::from_millis(100))
        );
        assert!(matches!(
            feed.next_at(t0 + Duration::from_millis(100)),
            Next::Go(_)
        ));
        // A stop during a wait: the feed ends, and the target it did not take is left.
        config.stop().stop();
        assert_eq!(feed.next_at(t0 + Duration::from_secs(9)), Next::End);
        assert_eq!(all.count(), 1);
    }

    #[test]
    fn a_stop_ends_a_long_wait_and_says_the_scan_was_cut_short() {
        // The next start is 1000 s away: the stop ends the sleep at the next nap. (Bounded, so
        // that a sleep that ignores the stop fails here instead of hanging the tests.)
        let stopped = wardial_testkit::within(
            Duration::from_secs(20),
            "a stop did not end the paced wait",
            || {
                let stop = crate::Stop::new();
                let config = ScanConfig::new(Duration::from_secs(1), 4)
                    .with_rate(MIN_RATE)
                    .with_stop(stop.clone());
                let mut all = targets(2);
                let mut feed = config.until_stopped(&mut all);
                assert!(feed.next().is_some(), "the first start is at once");
                let stopper = std::thread::spawn(move || {
                    std::thread::sleep(Duration::from_millis(10));
                    stop.stop();
                });
                assert_eq!(feed.next(), None);
                stopper.join().unwrap();
                let mut ignore = |_| {};
                crate::Report::new(&mut ignore).finish(&config).stopped
            },
        );
        assert!(stopped, "a target was left: the scan was cut short");
    }

    #[test]
    fn the_last_target_taken_ends_the_feed_without_a_wait() {
        let config = ScanConfig::new(Duration::from_secs(1), 4).with_rate(MIN_RATE);
        let mut one = crate::Cidr::new(Ipv4Addr::LOCALHOST, 32)
            .iter()
            .map(|a| Target::direct(a, 80));
        let mut feed = config.until_stopped(&mut one);
        let t0 = Instant::now();
        assert!(matches!(feed.next_at(t0), Next::Go(_)));
        // The next slot is 1000 s away, but there is nothing left to start in it.
        assert_eq!(feed.next_at(t0), Next::End);
        let mut ignore = |_| {};
        assert!(!crate::Report::new(&mut ignore).finish(&config).stopped);
    }

    #[test]
    fn a_wait_dropped_before_its_end_takes_nothing() {
        let config = ScanConfig::new(Duration::from_secs(1), 4).with_rate(MIN_RATE);
        let mut all = targets(3);
        let mut feed = config.until_stopped(&mut all);
        assert!(feed.next().is_some());
        // A timer that never fires, polled once and dropped, as a `select!` drops the branch
        // that lost.
        {
            let waiting = feed.next_after(|_| std::future::pending::<()>());
            let mut waiting = std::pin::pin!(waiting);
            let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
            assert!(waiting.as_mut().poll(&mut cx).is_pending());
        }
        assert_eq!(
            all.count(),
            2,
            "both targets after the first are still there"
        );
    }

    #[test]
    #[should_panic(expected = "a rate must be")]
    fn no_pace_slower_than_one_start_in_1000_seconds() {
        // 1 / 1e-20 seconds would not fit a Duration.
        Pacer::new(1e-20);
    }

    #[test]
    fn an_async_wait_uses_the_timer_it_is_given() {
        // A timer that sleeps the thread: enough to see each wait go through it.
        let waits = std::cell::Cell::new(0);
        let sleep_until = |when: Instant| {
            waits.set(waits.get() + 1);
            std::thread::sleep(when.saturating_duration_since(Instant::now()));
            std::future::ready(())
        };
        // 100 ms apart, so that each start after the first has to wait.
        let config = ScanConfig::new(Duration::from_secs(1), 4).with_rate(10.0);
        let mut all = targets(3);
        let feed = config.until_stopped(&mut all);
        let taken: Vec<Target> =
            futures::executor::block_on_stream(feed.into_stream(&sleep_until)).collect();
        assert_eq!(taken, targets(3).collect::<Vec<_>>());
        assert!(
            waits.get() >= 2,
            "one wait before each start after the first"
        );
    }
}
