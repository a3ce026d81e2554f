//! The watchdog: a thread that stops a scan when its budget runs out or Ctrl-C is pressed.
//!
//! A model's scan is one blocking call, so whatever should stop it from outside has to run on
//! another thread and set the scan's [`Stop`]; the model notices it before it takes its next
//! target.

use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use wardial_probe::Stop;

/// How often the watchdog looks at the interrupt and the clock: well under what a person
/// notices after Ctrl-C, and a negligible cost for a thread that sleeps in between.
const TICK: Duration = Duration::from_millis(20);

/// Sets a scan's stop once `interrupt` is set or `budget` has passed, until dropped.
#[derive(Debug)]
pub struct Watchdog {
    /// Dropped to tell the thread that the scan is over (a channel, not a flag, so the thread
    /// wakes at once instead of at its next tick).
    done: Option<mpsc::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Watchdog {
    /// Starts watching: `stop` is the scan's own, `interrupt` the process's Ctrl-C, `budget`
    /// the time the scan may take from now (`None`: no limit).
    pub fn start(stop: Stop, interrupt: Stop, budget: Option<Duration>) -> Watchdog {
        let (done, over) = mpsc::channel::<()>();
        let until = budget.map(|b| Instant::now() + b);
        let thread = std::thread::spawn(move || loop {
            match over.recv_timeout(TICK) {
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    if interrupt.is_stopped() || until.is_some_and(|u| Instant::now() >= u) {
                        return stop.stop();
                    }
                }
                _ => return,
            }
        });
        Watchdog {
            done: Some(done),
            thread: Some(thread),
        }
    }
}

impl Drop for Watchdog {
    fn drop(&mut self) {
        drop(self.done.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Waits for `stop`, failing (not hanging) if it never comes.
    fn stopped_soon(stop: &Stop) -> bool {
        (0..500).any(|_| {
            std::thread::sleep(TICK);
            stop.is_stopped()
        })
    }

    #[test]
    fn stops_at_the_budget_or_the_interrupt_and_not_after_it_is_dropped() {
        let stop = Stop::new();
        let dog = Watchdog::start(stop.clone(), Stop::new(), Some(Duration::ZERO));
        assert!(stopped_soon(&stop));
        drop(dog);

        let (stop, interrupt) = (Stop::new(), Stop::new());
        let dog = Watchdog::start(stop.clone(), interrupt.clone(), None);
        interrupt.stop();
        assert!(stopped_soon(&stop));
        drop(dog);

        let stop = Stop::new();
        drop(Watchdog::start(stop.clone(), Stop::new(), None));
        assert!(
            !stop.is_stopped(),
            "a scan that ended is not stopped afterwards"
        );
    }
}
