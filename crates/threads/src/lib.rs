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
use std::time::{Duration, Instant};

use rayon::iter::{ParallelBridge, ParallelIterator};
use wardial_blocking::probe;
use wardial_probe::{
    Finding, Next, Outcome, Probe, Report, ScanConfig, ScanSummary, Target, Targets,
};

// ANCHOR: threads
/// The `threads` model: a pool of OS threads, each running one blocking probe at a time.
#[derive(Debug, Default)]
pub struct Threads;

impl Probe for Threads {
    fn name(&self) -> &'static str {
        "threads"
    }

    /// A thread is four memory mappings (its stack and guard page, and the alternate stack
    /// and guard page for its signal handler), and past `vm.max_map_count` of them the next
    /// thread cannot even start: the process aborts.
    fn capacity(&self) -> Option<(usize, String)> {
        thread_capacity()
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
            // The threads allowed: the connection limit, or fewer if the system refuses more.
            let mut limit = config.max_connections();
            let mut targets = config.until_stopped(targets);
            loop {
                // Stream out what has completed before taking the next target: a finding may be
                // what stops the scan.
                for f in found.try_iter() {
                    busy -= 1;
                    report.finding(f);
                }
                if busy == limit {
                    // Every thread allowed is busy: wait for one to finish before taking the
                    // next target, so that no target waits in hand while a stop may come.
                    busy -= 1;
                    report.finding(found.recv().expect("a busy worker sends its finding"));
                    continue;
                }
                let target = match targets.next_at(Instant::now()) {
                    Next::Go(target) => target,
                    // A paced scan: wait for a finding or the next start, whichever comes
                    // first, so that findings are not held back by the pace.
                    Next::Wait(when) => {
                        let wait = when.saturating_duration_since(Instant::now());
                        if let Ok(f) = found.recv_timeout(wait) {
                            busy -= 1;
                            report.finding(f);
                        }
                        continue;
                    }
                    Next::End => break,
                };
                if busy == workers {
                    // Every thread is busy, and the limit allows one more: start it.
                    let (job_rx, found_tx) = (&job_rx, found_tx.clone());
                    let started = thread::Builder::new()
                        .spawn_scoped(scope, move || worker(job_rx, found_tx, config.timeout()));
                    match started {
                        Ok(_) => workers += 1,
                        // The system gives no more threads (a limit on threads, or memory for
                        // their stacks): go on with those there are, as if that were the limit.
                        Err(_) if workers > 0 => limit = workers,
                        // Not even one: the probe cannot run, and says why.
                        Err(e) => {
                            report.finding(Finding {
                                target,
                                outcome: Outcome::Error((&e).into()),
                                elapsed: Duration::ZERO,
                            });
                            continue;
                        }
                    }
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

/// The most threads a rayon pool is given: rayon starts them all before any work.
pub const RAYON_MOST: usize = 4096;

/// The threads the system lets this process hold, and why (see [`Threads`]' capacity).
fn thread_capacity() -> Option<(usize, String)> {
    wardial_probe::mapping_capacity(4, "a thread is four memory mappings")
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

    /// As for [`Threads`], and rayon starts every thread of its pool before the first probe,
    /// each of them then searching the others for work: past [`RAYON_MOST`] threads the scan
    /// is mostly that (measured on a 2-core machine: asked for 19 936 threads, it was still
    /// starting them after 348 s, when the mappings ran out and the process aborted).
    fn capacity(&self) -> Option<(usize, String)> {
        match self.pool {
            Pool::PerCore => None,
            Pool::Sized => {
                let (maps, why) = thread_capacity().unwrap_or((usize::MAX, String::new()));
                Some(if maps < RAYON_MOST {
                    (maps, why)
                } else {
                    (
                        RAYON_MOST,
                        format!("rayon starts all {RAYON_MOST} threads of its pool at once, and idle ones search each other for work"),
                    )
                })
            }
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
        // Never more threads than connections allowed, even per core; and where the system
        // refuses that many threads (a limit on threads, memory for their stacks), half as many,
        // until it gives them.
        let mut threads = threads.min(config.max_connections());
        let pool = loop {
            let built = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .thread_name(|i| format!("rayon-probe-{i}"))
                .build();
            match built {
                Ok(pool) => break pool,
                Err(_) if threads > 1 => threads /= 2,
                Err(e) => panic!("not even one thread for rayon: {e}"),
            }
        };
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
