use wardial_simnet::conformance::{check, check_under_load, Expect};
use wardial_tokio::Tokio;

#[test]
fn tokio_conforms() {
    check(&Tokio::multi_thread(), Expect::concurrent(8));
}

#[test]
fn tokio_current_thread_conforms() {
    check(&Tokio::current_thread(), Expect::concurrent(8));
}

#[test]
fn tokio_conforms_with_one_connection() {
    check(&Tokio::current_thread(), Expect::sequential());
}

#[test]
fn tokio_conforms_with_many_connections() {
    check(&Tokio::multi_thread(), Expect::concurrent(512));
}

#[test]
fn one_runtime_serves_many_scans() {
    // The runtime is built once and reused: scanning twice with one probe works.
    let probe = Tokio::current_thread();
    check(&probe, Expect::concurrent(4));
    check(&probe, Expect::concurrent(16));
}

#[test]
fn tokio_current_thread_does_not_starve_probes_under_load() {
    check_under_load(&Tokio::current_thread(), 256, 10_000);
}

#[test]
fn tokio_does_not_starve_probes_under_load() {
    check_under_load(&Tokio::multi_thread(), 256, 10_000);
}

/// The version of the scan that the notes call buggy: every probe future polled by one
/// `buffer_unordered` in one task, none spawned. On tokio that one task runs out of its
/// cooperative budget and leaves probes unpolled while others run; the load check must see it.
struct OneTask(tokio::runtime::Runtime);

impl wardial_probe::Probe for OneTask {
    fn name(&self) -> &'static str {
        "one-task"
    }
    fn scan(
        &self,
        targets: wardial_probe::Targets<'_>,
        config: &wardial_probe::ScanConfig,
        on_finding: &mut dyn FnMut(wardial_probe::Finding),
    ) -> wardial_probe::ScanSummary {
        use futures::stream::{self, StreamExt};
        let mut report = wardial_probe::Report::new(on_finding);
        self.0.block_on(async {
            let timeout = config.timeout();
            let mut findings = stream::iter(config.until_stopped(targets))
                .map(|t| wardial_tokio::probe(t, timeout))
                .buffer_unordered(config.max_connections());
            while let Some(f) = findings.next().await {
                report.finding(f);
            }
        });
        report.finish(config)
    }
}

#[test]
#[should_panic(expected = "starves probes")]
fn the_load_check_catches_probes_polled_in_one_task() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    check_under_load(&OneTask(rt), 256, 20_000);
}

#[test]
fn scan_works_when_called_from_async_code() {
    // Inside another tokio runtime, of either flavour, with a model of either flavour: the
    // blocking call must not panic ("Cannot start a runtime from within a runtime"), and a model
    // built and dropped there must not either. The scan then runs on a thread of its own and
    // streams its findings back, so it gets the whole suite, hostile hosts and stops included.
    let outer = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    outer.block_on(async { check(&Tokio::current_thread(), Expect::concurrent(8)) });
    let outer = tokio::runtime::Runtime::new().unwrap();
    outer.block_on(async { check(&Tokio::multi_thread(), Expect::concurrent(8)) });
    // Async code can also await the scan itself, on its own runtime.
    let sim = wardial_simnet::Simnet::start(wardial_simnet::World {
        mix: wardial_simnet::Mix::all_live(),
        latencies: vec![std::time::Duration::ZERO],
        ..wardial_simnet::World::default()
    })
    .unwrap();
    outer.block_on(async {
        let config = wardial_probe::ScanConfig::new(std::time::Duration::from_secs(10), 4);
        let mut n = 0;
        let mut count = |_| n += 1;
        let mut report = wardial_probe::Report::new(&mut count);
        wardial_tokio::scan(&mut sim.targets().take(16), &config, &mut report).await;
        assert_eq!(report.finish(&config).completed, 16);
    });
}
