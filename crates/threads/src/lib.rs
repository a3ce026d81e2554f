//! # The threads model: the blocking probe, on many threads at once
//!
//! The probe is [`wardial_blocking::probe`], unchanged: it still blocks its thread while it waits.
//! What changes is that up to `max_connections` threads wait at the same time, so the scan takes
//! roughly `targets / threads` probe times instead of `targets`. The price is a thread (a stack,
//! a kernel task, a context switch per wake-up) for every connection in flight.
//!
//! Two models live here:
//! - [`Threads`] (`threads`): scoped OS threads, started as they are needed, up to the limit;
//! - [`Rayon`] (`rayon`, `rayon-sized`): the same scan on rayon's `par_bridge`, on a pool of one
//!   thread per core (rayon's default, right for CPU work and wrong for waiting on sockets: the
//!   lesson) or on a pool sized to `max_connections`.

use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::Mutex;
use std::thread;
use std::time::Duration;

use rayon::iter::{ParallelBridge, ParallelIterator};
use wardial_blocking::probe;
use wardial_probe::{Finding, Probe, Report, ScanConfig, ScanSummary, Target, Targets};

// ANCHOR: threads
/// The `threads` model: a pool of OS threads, each running one blocking probe at a time.
#[derive(Debug, Default)]
pub struct Threads;

impl Probe for Threads {
    fn name(&self) -> &'static str {
        "threads"
    }

    fn scan(
        &self,
        targets: Targets<'_>,
        config: &ScanConfig,
        on_finding: &mut dyn FnMut(Finding),
    ) -> ScanSummary {
        let mut report = Report::new(on_finding);
        // A rendezvous channel (capacity 0): a send completes when a worker takes the job.
        let (jobs, job_rx) = mpsc::sync_channel::<Target>(0);
        let job_rx = Mutex::new(job_rx);
        let (found_tx, found) = mpsc::channel::<Finding>();
        // Scoped threads may borrow from this stack frame, and the scope does not return until
        // every thread has ended: no thread outlives the scan.
        thread::scope(|scope| {
            // Threads started, and probes handed out whose finding has not come back yet.
            let (mut workers, mut busy) = (0, 0);
            let mut targets = config.until_stopped(targets);
            loop {
                // Stream out what has completed before taking the next target: a finding may be
                // what stops the scan.
                for f in found.try_iter() {
                    busy -= 1;
                    report.finding(f);
                }
                if busy == config.max_connections() {
                    // Every thread allowed is busy: wait for one to finish before taking the
                    // next target, so that no target waits in hand while a stop may come.
                    busy -= 1;
                    report.finding(found.recv().expect("a busy worker sends its finding"));
                    continue;
                }
                let Some(target) = targets.next() else { break };
                if busy == workers {
                    // Every thread is busy, and the limit allows one more: start it.
                    workers += 1;
                    let (job_rx, found_tx) = (&job_rx, found_tx.clone());
                    scope.spawn(move || worker(job_rx, found_tx, config.timeout()));
                }
                // An idle worker takes it at once (or in a moment: one that has just sent its
                // finding is on its way back to `recv`).
                jobs.send(target).expect("workers outlive the job channel");
                busy += 1;
            }
            // No more jobs: each worker's recv fails and it ends. The findings channel closes
            // when the last worker drops its sender, which ends this loop.
            drop(jobs);
            drop(found_tx);
            found.iter().for_each(|f| report.finding(f));
        });
        report.finish(config)
    }
}

/// One thread of the pool: take a target, probe it (blocking), send the finding, repeat.
fn worker(jobs: &Mutex<Receiver<Target>>, found: Sender<Finding>, timeout: Duration) {
    loop {
        // The lock is held only while waiting for a job, never during a probe.
        let job = jobs.lock().expect("no worker panics holding it").recv();
        let Ok(target) = job else { return };
        if found.send(probe(target, timeout)).is_err() {
            return;
        }
    }
}
// ANCHOR_END: threads

// ANCHOR: rayon
/// Which rayon pool a [`Rayon`] scan runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pool {
    /// rayon's default: one thread per core. Built for CPU-bound work, where more threads than
    /// cores only adds switching; for a scan it means only that many probes wait at once.
    PerCore,
    /// One thread per allowed connection, like [`Threads`].
    Sized,
}

/// The `rayon` and `rayon-sized` models: the blocking probe under `par_bridge`.
#[derive(Debug)]
pub struct Rayon {
    pub pool: Pool,
}

impl Rayon {
    pub fn per_core() -> Rayon {
        Rayon {
            pool: Pool::PerCore,
        }
    }

    pub fn sized() -> Rayon {
        Rayon { pool: Pool::Sized }
    }
}

impl Probe for Rayon {
    fn name(&self) -> &'static str {
        match self.pool {
            Pool::PerCore => "rayon",
            Pool::Sized => "rayon-sized",
        }
    }

    fn scan(
        &self,
        targets: Targets<'_>,
        config: &ScanConfig,
        on_finding: &mut dyn FnMut(Finding),
    ) -> ScanSummary {
        let mut report = Report::new(on_finding);
        let threads = match self.pool {
            Pool::PerCore => rayon::current_num_threads(),
            Pool::Sized => config.max_connections(),
        };
        // Never more threads than connections allowed, even per core.
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads.min(config.max_connections()))
            .thread_name(|i| format!("rayon-probe-{i}"))
            .build()
            .expect("a rayon pool");
        let (found_tx, found) = mpsc::channel::<Finding>();
        thread::scope(|scope| {
            // The pool works in the background; this thread streams findings as they come.
            scope.spawn(|| {
                pool.install(|| {
                    config.until_stopped(targets).par_bridge().for_each_with(
                        found_tx,
                        |found, target| {
                            let _ = found.send(probe(target, config.timeout()));
                        },
                    )
                })
            });
            found.iter().for_each(|f| report.finding(f));
        });
        report.finish(config)
    }
}
// ANCHOR_END: rayon
