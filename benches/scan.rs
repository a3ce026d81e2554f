//! The lecture's point as numbers: criterion groups that race the models on the simnet.
//!
//! Run with: `cargo bench` (440 s measured on 2 cores), or for class
//! `WARDIAL_BENCH_QUICK=1 cargo bench -- --quick` (182 s). One group:
//! `cargo bench -- latency_bound`. Reports land in `target/criterion/`.
//!
//! Every group starts its simnet once, before any timing, and every scan a group times checks
//! its findings against the ground truth (a fast wrong model cannot win).

use std::future::Future;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use rayon::prelude::*;
use tokio::runtime::Runtime;
use wardial_bench::{cpu_step, models, quick, Workload};
use wardial_probe::Target;

/// Models that wait for one host (or one per core) at a time: given a size they finish in a
/// few seconds, not the size the concurrent models get.
const SLOW: [&str; 3] = ["blocking", "blocking-ureq", "rayon"];

type Group<'c> = criterion::BenchmarkGroup<'c, criterion::measurement::WallTime>;

fn short<'c>(c: &'c mut Criterion, name: &str) -> Group<'c> {
    let mut g = c.benchmark_group(name);
    g.sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(if quick() { 1 } else { 3 }));
    g
}

/// The model called `name`, or `None` (said on stderr, once per group that asks) if it cannot
/// run here.
fn model(name: &str) -> Option<Box<dyn wardial_probe::Probe>> {
    match models::build(name).expect("a model name") {
        Ok(model) => Some(model),
        Err(reason) => {
            eprintln!("{name}: unavailable here ({reason}), not benched");
            None
        }
    }
}

/// Benches every model on `w`: `hosts` hosts each, `few` for the slow ones (throughput is per
/// probe, so the sizes compare).
fn every_model(g: &mut Group<'_>, w: &Workload, hosts: usize, few: usize) {
    for name in models::NAMES {
        let Some(model) = model(name) else { continue };
        let n = if SLOW.contains(&name) { few } else { hosts };
        g.throughput(Throughput::Elements(n as u64));
        g.bench_function(name, |b| b.iter(|| w.scan(model.as_ref(), n)));
    }
}

/// Every host live with 20 ms latency, 64 connections: waiting is all there is.
fn latency_bound(c: &mut Criterion) {
    let (hosts, few) = if quick() { (128, 8) } else { (512, 32) };
    let w = Workload::live(Duration::from_millis(20), 64);
    every_model(&mut short(c, "latency_bound"), &w, hosts, few);
}

/// The realistic mix (most hosts silent) with a 200 ms timeout and 128 connections: the
/// timeout sets the pace, time ≈ ⌈silent hosts ÷ connections⌉ × timeout. The sequential
/// models are left out: 84% of these hosts are silent, so they would need at least 86 s per
/// iteration (42 s in a quick run).
fn timeout_bound(c: &mut Criterion) {
    let hosts = if quick() { 256 } else { 512 };
    let w = Workload::realistic(Duration::from_millis(200), 128);
    let mut g = short(c, "timeout_bound");
    g.throughput(Throughput::Elements(hosts as u64));
    for name in models::NAMES.iter().filter(|n| !SLOW.contains(n)) {
        let Some(model) = model(name) else { continue };
        g.bench_function(*name, |b| b.iter(|| w.scan(model.as_ref(), hosts)));
    }
    g.finish();
}

/// Latency 0, thousands of hosts, 256 connections: the cost of each model's machinery per
/// probe (and of the kernel's TCP, which every model pays alike).
fn overhead_bound(c: &mut Criterion) {
    let (hosts, few) = if quick() { (1000, 200) } else { (4000, 500) };
    let w = Workload::live(Duration::ZERO, 256);
    every_model(&mut short(c, "overhead_bound"), &w, hosts, few);
}

/// Time against `max_connections` for threads and tokio, hosts live at 20 ms: four rounds of
/// latency at every width (but sixteen at width 1: never fewer than 16 hosts), so the ideal
/// throughput is `connections / 20 ms`.
fn concurrency(c: &mut Criterion) {
    let widths: &[usize] = if quick() {
        &[1, 8, 64, 512]
    } else {
        &[1, 8, 64, 512, 2048]
    };
    let w = Workload::live(Duration::from_millis(20), 1);
    let mut g = short(c, "concurrency");
    for name in ["threads", "tokio"] {
        let Some(model) = model(name) else { continue };
        for &width in widths {
            let hosts = (4 * width).max(16);
            g.throughput(Throughput::Elements(hosts as u64));
            g.bench_with_input(BenchmarkId::new(name, width), &width, |b, &width| {
                b.iter(|| w.scan_with(model.as_ref(), hosts, width))
            });
        }
    }
    g.finish();
}

/// The contrast: each job is a probe (latency 0) and then about 0.7 ms of CPU. Async
/// does not make CPU work faster; more cores do (rayon, threads, or async that hands the CPU
/// work to other threads with `spawn_blocking`).
fn cpu_bound(c: &mut Criterion) {
    let jobs = if quick() { 16 } else { 64 };
    let w = Workload::live(Duration::ZERO, 64);
    let targets: Vec<_> = w.targets(jobs).collect();
    let timeout = w.timeout;
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    let multi = Runtime::new().expect("a runtime");
    let single = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    let job = |t| cpu_step(wardial_blocking::probe(t, timeout).elapsed.as_nanos() as u64);

    let mut g = short(c, "cpu_bound");
    g.throughput(Throughput::Elements(jobs as u64));
    g.bench_function("sequential", |b| {
        b.iter(|| targets.iter().map(|t| job(*t)).fold(0, u64::wrapping_add))
    });
    g.bench_function("rayon", |b| {
        b.iter(|| {
            targets
                .par_iter()
                .map(|t| job(*t))
                .reduce(|| 0, u64::wrapping_add)
        })
    });
    g.bench_function("threads", |b| {
        b.iter(|| {
            std::thread::scope(|s| {
                let chunks = targets.chunks(targets.len().div_ceil(cores));
                let handles: Vec<_> = chunks
                    .map(|chunk| {
                        s.spawn(move || chunk.iter().map(|t| job(*t)).fold(0, u64::wrapping_add))
                    })
                    .collect();
                handles
                    .into_iter()
                    .map(|h| h.join().expect("no panic"))
                    .fold(0, u64::wrapping_add)
            })
        })
    });
    // CPU work inline in the task: it holds its worker thread until it is done.
    let inline = |seed| async move { cpu_step(seed) };
    // CPU work off the runtime's workers: they stay free to wait on sockets.
    let off = |seed| async move {
        tokio::task::spawn_blocking(move || cpu_step(seed))
            .await
            .expect("no panic")
    };
    g.bench_function("tokio-current-thread-inline", |b| {
        b.iter(|| tokio_jobs(&single, &targets, timeout, inline))
    });
    g.bench_function("tokio-inline", |b| {
        b.iter(|| tokio_jobs(&multi, &targets, timeout, inline))
    });
    g.bench_function("tokio-spawn-blocking", |b| {
        b.iter(|| tokio_jobs(&multi, &targets, timeout, off))
    });
    g.finish();
}

/// Each job as a tokio task on `rt`: an async probe, then `compute` (where the CPU work runs
/// is what the variants differ in).
fn tokio_jobs<F, Fut>(rt: &Runtime, targets: &[Target], timeout: Duration, compute: F) -> u64
where
    F: Fn(u64) -> Fut + Copy + Send + 'static,
    Fut: Future<Output = u64> + Send + 'static,
{
    rt.block_on(async {
        let tasks: Vec<_> = targets
            .iter()
            .map(|&t| {
                tokio::spawn(async move {
                    let seed = wardial_tokio::probe(t, timeout).await.elapsed.as_nanos() as u64;
                    compute(seed).await
                })
            })
            .collect();
        let mut sum = 0u64;
        for task in tasks {
            sum = sum.wrapping_add(task.await.expect("no panic"));
        }
        sum
    })
}

criterion_group!(
    benches,
    latency_bound,
    timeout_bound,
    overhead_bound,
    concurrency,
    cpu_bound
);
criterion_main!(benches);
