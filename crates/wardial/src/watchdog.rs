//! Threads that run beside a scan: the watchdog, which stops it when its budget runs out or
//! Ctrl-C is pressed, and the periodic job it is built on.
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

/// A thread that runs a job every so often until the job says it is done or this is dropped
/// (the watchdog, and the scan's checkpoints).
#[derive(Debug)]
pub struct Periodic {
    /// Dropped to tell the thread to end (a channel, not a flag, so the thread wakes at once
    /// instead of at its next tick).
    done: Option<mpsc::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Periodic {
    /// Runs `job` every `every`, first after one `every`, until it returns `false`.
    pub fn start(every: Duration, mut job: impl FnMut() -> bool + Send + 'static) -> Periodic {
        let (done, over) = mpsc::channel::<()>();
        let thread = std::thread::spawn(move || {
            while let Err(mpsc::RecvTimeoutError::Timeout) = over.recv_timeout(every) {
                if !job() {
                    return;
                }
            }
        });
        Periodic {
            done: Some(done),
            thread: Some(thread),
        }
    }
}

impl Drop for Periodic {
    fn drop(&mut self) {
        drop(self.done.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// The watchdog of a scan: sets `stop` (the scan's own) once `interrupt` (the process's
/// Ctrl-C) is set or `budget` (from now; `None`: no limit) has passed, until dropped.
pub fn watchdog(stop: Stop, interrupt: Stop, budget: Option<Duration>) -> Periodic {
    let until = budget.map(|b| Instant::now() + b);
    Periodic::start(TICK, move || {
        let over = interrupt.is_stopped() || until.is_some_and(|u| Instant::now() >= u);
        if over {
            stop.stop();
        }
        !over
    })
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
        let dog = watchdog(stop.clone(), Stop::new(), Some(Duration::ZERO));
        assert!(stopped_soon(&stop));
        drop(dog);

        let (stop, interrupt) = (Stop::new(), Stop::new());
        let dog = watchdog(stop.clone(), interrupt.clone(), None);
        interrupt.stop();
        assert!(stopped_soon(&stop));
        drop(dog);

        // Dropped (which joins its thread), it no longer watches: a Ctrl-C after the scan
        // ended stops nothing.
        let (stop, interrupt) = (Stop::new(), Stop::new());
        drop(watchdog(stop.clone(), interrupt.clone(), None));
        interrupt.stop();
        assert!(
            !stop.is_stopped(),
            "a scan that ended is not stopped afterwards"
        );
    }
}
