//! Homework task 3: make the sequential `await` loop concurrent. Graded on the scan alone:
//! `scan_with` is given probes made here, which touch no network (so task 2's probe plays no
//! part) and count what the scan does with them: how many are in flight at once, whether each
//! runs in a task of its own, whether one starts after a stop, whether one outlives the scan.
//! Counted, not timed, but for the paced scan's test, which orders events a third of a second
//! apart against answers that come at once. Nothing here walks a CIDR block (that is task 1).

use std::net::Ipv4Addr;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Notify;
use wardial_probe::{Finding, Outcome, Report, ScanConfig, Target};
use wardial_testkit::within;
use wardial_tokio::scan_with;

/// What a pretend host does with its probe.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Host {
    /// Answers at once (after one trip through the scheduler).
    Quick,
    /// Never answers: its probe ends at its deadline.
    Silent,
    /// Answers once the test releases it (or at its deadline).
    Held,
}

/// The pretend hosts and what the scan did with their probes.
struct Lab {
    host: Box<dyn Fn(u32) -> Host + Send + Sync>,
    /// Probes made and not yet ended or dropped, and the most at once.
    in_flight: AtomicUsize,
    peak: AtomicUsize,
    /// Probes made after the scan's stop was set.
    after_stop: AtomicUsize,
    /// Probes polled outside any task (inside the scan's own future).
    outside_a_task: AtomicUsize,
    release: Notify,
    stopped: AtomicBool,
}

const BASE: u32 = 0x0a00_0000; // 10.0.0.0: never dialled, these probes touch no network

impl Lab {
    fn new(host: impl Fn(u32) -> Host + Send + Sync + 'static) -> Arc<Lab> {
        Arc::new(Lab {
            host: Box::new(host),
            in_flight: AtomicUsize::new(0),
            peak: AtomicUsize::new(0),
            after_stop: AtomicUsize::new(0),
            outside_a_task: AtomicUsize::new(0),
            release: Notify::new(),
            stopped: AtomicBool::new(false),
        })
    }

    /// The probe to give `scan_with`: a future per target that plays its host.
    fn probe(
        self: &Arc<Lab>,
    ) -> impl Fn(Target, Duration) -> std::pin::Pin<Box<dyn std::future::Future<Output = Finding> + Send>>
    {
        let lab = self.clone();
        move |target, timeout| {
            let alive = InFlight::new(&lab);
            let host = (lab.host)(u32::from(target.addr) - BASE);
            Box::pin(async move {
                let lab = alive.0.clone();
                if tokio::task::try_id().is_none() {
                    lab.outside_a_task.fetch_add(1, SeqCst);
                }
                let outcome = match host {
                    Host::Quick => {
                        tokio::task::yield_now().await;
                        Outcome::Refused
                    }
                    Host::Silent => {
                        tokio::time::sleep(timeout).await;
                        Outcome::Timeout
                    }
                    Host::Held => {
                        tokio::select! {
                            () = lab.release.notified() => Outcome::Refused,
                            () = tokio::time::sleep(timeout) => Outcome::Timeout,
                        }
                    }
                };
                drop(alive);
                Finding {
                    target,
                    outcome,
                    elapsed: Duration::ZERO,
                }
            })
        }
    }
}

/// Counts a probe as in flight from when the scan makes it until it ends or is dropped.
struct InFlight(Arc<Lab>);

impl InFlight {
    fn new(lab: &Arc<Lab>) -> InFlight {
        let now = lab.in_flight.fetch_add(1, SeqCst) + 1;
        lab.peak.fetch_max(now, SeqCst);
        if lab.stopped.load(SeqCst) {
            lab.after_stop.fetch_add(1, SeqCst);
        }
        InFlight(lab.clone())
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, SeqCst);
    }
}

/// `n` targets, the first of the pretend hosts (`None`: endless).
fn targets(n: Option<u32>) -> impl Iterator<Item = Target> + Send {
    (0..n.unwrap_or(u32::MAX)).map(|i| Target::direct(Ipv4Addr::from(BASE + i), 80))
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime")
}

/// Scans `targets` with `lab`'s probes on a current-thread runtime, within a time limit;
/// `on_finding` sees each finding and the scan's config (to stop it).
fn scan(
    lab: &Arc<Lab>,
    mut targets: Box<dyn Iterator<Item = Target> + Send>,
    config: ScanConfig,
    mut on_finding: impl FnMut(Finding, &ScanConfig) + Send + 'static,
) {
    let lab = lab.clone();
    within(
        Duration::from_secs(20),
        "the scan never ended: does it wait for something that never comes (a probe it never started, a target after the last)?",
        move || {
            let mut callback = |f: Finding| on_finding(f, &config);
            let mut report = Report::new(&mut callback);
            runtime().block_on(scan_with(lab.probe(), &mut *targets, &config, &mut report));
        },
    );
}

#[test]
fn task3_probes_run_concurrently_within_the_limit() {
    let lab = Lab::new(|_| Host::Silent);
    let seen = Arc::new(std::sync::Mutex::new(vec![0u32; 200]));
    let counts = seen.clone();
    scan(
        &lab,
        Box::new(targets(Some(200))),
        ScanConfig::new(Duration::from_millis(20), 8),
        move |f, _| counts.lock().unwrap()[(u32::from(f.target.addr) - BASE) as usize] += 1,
    );
    let peak = lab.peak.load(SeqCst);
    assert!(
        peak > 1,
        "never more than one probe in flight: the scan awaits each probe before it starts the next. Keep up to max_connections (8) probes in flight"
    );
    assert!(
        peak <= 8,
        "{peak} probes in flight at once, more than max_connections (8)"
    );
    let seen = seen.lock().unwrap();
    let wrong: Vec<String> = seen
        .iter()
        .enumerate()
        .filter(|(_, n)| **n != 1)
        .map(|(i, n)| format!("{} reported {n} times", Ipv4Addr::from(BASE + i as u32)))
        .take(5)
        .collect();
    assert!(
        wrong.is_empty(),
        "each target is reported exactly once: {}",
        wrong.join(", ")
    );
}

#[test]
fn task3_each_probe_runs_in_a_task_of_its_own() {
    let lab = Lab::new(|_| Host::Quick);
    scan(
        &lab,
        Box::new(targets(Some(64))),
        ScanConfig::new(Duration::from_secs(5), 16),
        |_, _| {},
    );
    let outside = lab.outside_a_task.load(SeqCst);
    assert!(
        outside == 0,
        "{outside} of 64 probes ran inside the scan's own future, in no task of their own. One task polling many sockets runs out of tokio's cooperative budget and leaves some unpolled for long stretches (see the async chapter): spawn a task per probe"
    );
}

#[test]
fn task3_takes_targets_only_as_probes_can_start() {
    // Endless targets, taken through a counter that ends them (and says so) once the scan has
    // taken far more than it has reported and can have in flight.
    let reported = Arc::new(AtomicUsize::new(0));
    let ahead = Arc::new(AtomicUsize::new(0));
    let (r, a) = (reported.clone(), ahead.clone());
    let mut taken = 0usize;
    let counted = targets(None).take_while(move |_| {
        taken += 1;
        let beyond = taken.saturating_sub(r.load(SeqCst) + 8);
        a.fetch_max(beyond, SeqCst);
        beyond <= 64 && taken <= 100_000
    });
    let lab = Lab::new(|_| Host::Quick);
    scan(
        &lab,
        Box::new(counted),
        ScanConfig::new(Duration::from_secs(5), 8),
        move |_, config| {
            if reported.fetch_add(1, SeqCst) + 1 == 300 {
                config.stop().stop();
            }
        },
    );
    assert!(
        lab.peak.load(SeqCst) > 1,
        "never more than one probe in flight: the scan must keep up to max_connections (8) going, each target taken as its probe can start"
    );
    let ahead = ahead.load(SeqCst);
    assert!(
        ahead <= 64,
        "the scan took {ahead} more targets than it had reported findings and could have in flight (8): it collects its targets, or takes them long before their probes can start. They may be 2^32 long: take a target only when its probe can start"
    );
}

#[test]
fn task3_no_probe_starts_after_the_stop() {
    // The first host answers at once, and its finding stops the scan; the others never answer.
    // The three probes in flight then end at their deadline, and no other may start.
    let lab = Lab::new(|i| if i == 0 { Host::Quick } else { Host::Silent });
    let stopped = lab.clone();
    scan(
        &lab,
        Box::new(targets(Some(40))),
        ScanConfig::new(Duration::from_millis(500), 4),
        move |_, config| {
            stopped.stopped.store(true, SeqCst);
            config.stop().stop();
        },
    );
    assert!(
        lab.peak.load(SeqCst) > 1,
        "never more than one probe in flight: the scan must keep up to max_connections (4) going (and start none after a stop)"
    );
    let late = lab.after_stop.load(SeqCst);
    assert!(
        late == 0,
        "{late} probe(s) started after the stop. A target taken before the scan waits for a free slot is started after a stop that lands during the wait: wait for a free slot first, then take the target (through config.until_stopped, which checks the stop)"
    );
}

#[test]
fn task3_one_slow_host_does_not_hold_the_others_back() {
    // The first host answers only once the 40 others have been reported (or at a deadline far
    // away, so that a scan that waits for it still ends).
    let lab = Lab::new(|i| if i == 0 { Host::Held } else { Host::Quick });
    let quick_before = Arc::new(AtomicUsize::new(usize::MAX));
    let (release, before) = (lab.clone(), quick_before.clone());
    let mut quick = 0;
    scan(
        &lab,
        Box::new(targets(Some(41))),
        ScanConfig::new(Duration::from_secs(5), 4),
        move |f, _| {
            if u32::from(f.target.addr) == BASE {
                before.store(quick, SeqCst);
            } else {
                quick += 1;
                if quick == 40 {
                    release.release.notify_one();
                }
            }
        },
    );
    let before = quick_before.load(SeqCst);
    assert!(
        before == 40,
        "only {before} of the 40 quick hosts were reported before the slow one answered: one slow host held the others back. Batches joined with join_all wait for their slowest probe; start the next probe as soon as any one ends, and report each finding as it comes (JoinSet::join_next)"
    );
}

#[test]
fn task3_dropping_the_scan_cancels_its_probes() {
    // Probes of hosts that never answer (before a deadline far away), and the scan dropped
    // while they are in flight, as a `select!` or a `timeout` around it would drop it.
    let lab = Lab::new(|_| Host::Silent);
    let (in_flight, left) = within(
        Duration::from_secs(20),
        "the scan, or the wait for its probes to go, never ended",
        {
            let lab = lab.clone();
            move || {
                let config = ScanConfig::new(Duration::from_secs(30), 4);
                runtime().block_on(async {
                    let mut targets = targets(Some(100));
                    let mut ignore = |_| {};
                    let mut report = Report::new(&mut ignore);
                    let scan = scan_with(lab.probe(), &mut targets, &config, &mut report);
                    let all_in_flight = async {
                        for _ in 0..500 {
                            if lab.in_flight.load(SeqCst) >= 4 {
                                break;
                            }
                            tokio::time::sleep(Duration::from_millis(10)).await;
                        }
                    };
                    tokio::select! {
                        () = scan => {}
                        () = all_in_flight => {}
                    }
                    let in_flight = lab.peak.load(SeqCst);
                    // The scan is dropped: give the runtime a few turns to drop its probes.
                    for _ in 0..500 {
                        if lab.in_flight.load(SeqCst) == 0 {
                            break;
                        }
                        tokio::time::sleep(Duration::from_millis(10)).await;
                    }
                    (in_flight, lab.in_flight.load(SeqCst))
                })
            }
        },
    );
    assert!(
        in_flight > 1,
        "only {in_flight} probe in flight: the scan must keep max_connections (4) probes going before it can be dropped with them"
    );
    assert!(
        left == 0,
        "the scan was dropped with {in_flight} probes in flight, and {left} of them were left running: tokio detaches a spawned task when its JoinHandle is dropped, so a scan dropped midway (by a select!, a timeout, Ctrl-C) leaves its probes behind. Keep them in a JoinSet, which aborts its tasks when it is dropped"
    );
}

#[test]
fn task3_findings_flow_while_a_paced_scan_waits() {
    // Three hosts at 3 starts a second: the first answers only once the third has been
    // reported (or at its deadline), the other two at once. So the first probe must stay in
    // flight while the scan waits for its next starts, and each quick finding must be handed on
    // long before the next target is taken, a third of a second later. A scan that waits for
    // the pace in a sleep (or in the targets' blocking `next`) holds every finding until then.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    enum Event {
        Taken(Ipv4Addr),
        Found(Ipv4Addr, &'static str),
    }
    let lab = Lab::new(|i| if i == 0 { Host::Held } else { Host::Quick });
    let events = Arc::new(std::sync::Mutex::new(Vec::new()));
    let (taken, found, release) = (events.clone(), events.clone(), lab.clone());
    let paced = targets(Some(3)).inspect(move |t| taken.lock().unwrap().push(Event::Taken(t.addr)));
    let host = |i: u32| Ipv4Addr::from(BASE + i);
    scan(
        &lab,
        Box::new(paced),
        ScanConfig::new(Duration::from_secs(2), 4).with_rate(3.0),
        move |f, _| {
            found
                .lock()
                .unwrap()
                .push(Event::Found(f.target.addr, f.outcome.kind()));
            if f.target.addr == host(2) {
                release.release.notify_one();
            }
        },
    );
    let events = events.lock().unwrap().clone();
    let at = |want: &dyn Fn(&Event) -> bool| events.iter().position(want);
    let found = |a: Ipv4Addr| at(&|e| matches!(e, Event::Found(x, _) if *x == a));
    let taken = |a: Ipv4Addr| at(&|e| *e == Event::Taken(a));
    assert!(
        found(host(1)).is_some() && found(host(1)) < taken(host(2)),
        "at 3 starts a second, {} answered at once but was reported only after {} was taken ({events:?}): while a paced scan waits for its next start, keep handing on findings. Wait with `targets.next_after(...)` on tokio's timer, raced against `join_next` in a `tokio::select!`",
        host(1),
        host(2)
    );
    assert!(
        events.contains(&Event::Found(host(0), "refused")),
        "the first host answers once the third is reported, but its probe ended otherwise ({events:?}): a paced scan must keep its probes in flight, and start the next ones, while it waits for its next start"
    );
}
