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

use std::sync::mpsc::{self, Receiver, Sender, TrySendError};
use std::sync::Mutex;
use std::thread;

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
        // A rendezvous channel (capacity 0): a send succeeds only when a worker is waiting for
        // work. So "try_send failed" means "every worker is busy", which is when the next thread
        // is worth starting.
        let (jobs, job_rx) = mpsc::sync_channel::<Target>(0);
        let job_rx = Mutex::new(job_rx);
        let (found_tx, found) = mpsc::channel::<Finding>();
        // Scoped threads may borrow from this stack frame, and the scope does not return until
        // every thread has ended: no thread outlives the scan.
        thread::scope(|scope| {
            let mut workers = 0;

            let mut targets = config.until_stopped(targets);
            loop {
                // Stream out what has completed before taking the next target: a finding may be
                // what stops the scan.
                found.try_iter().for_each(|f| report.finding(f));
                let Some(target) = targets.next() else { break };
                let target = match jobs.try_send(target) {
                    Ok(()) => continue,
                    Err(TrySendError::Full(target)) => target,
                    Err(TrySendError::Disconnected(_)) => unreachable!("job_rx lives in scope"),
                };
                if workers < config.max_connections() {
                    workers += 1;
                    let (job_rx, found_tx) = (&job_rx, found_tx.clone());
                    scope.spawn(move || worker(job_rx, found_tx, config));
                }
                // Blocks until a worker (perhaps the one just started) takes it.
                jobs.send(target).expect("workers outlive the job channel");
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
fn worker(jobs: &Mutex<Receiver<Target>>, found: Sender<Finding>, config: &ScanConfig) {
    loop {
        // The lock is held only while waiting for a job, never during a probe.
        let job = jobs.lock().expect("no worker panics holding it").recv();
        let Ok(target) = job else { return };
        // The scan may have been stopped while this target waited to be handed over (the
        // scan thread blocks in `send` until a worker is free): then it is not probed. The
        // worker keeps taking jobs, so that the handover completes and the scan can end.
        if config.stop().is_stopped() {
            continue;
        }
        if found.send(probe(target, config.timeout())).is_err() {
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
