use wardial_simnet::conformance::{check, check_under_load, Expect};
use wardial_smol::Smol;

#[test]
fn smol_conforms() {
    check(&Smol, Expect::concurrent(8));
}

#[test]
fn smol_conforms_with_one_connection() {
    check(&Smol, Expect::sequential());
}

#[test]
fn smol_conforms_with_many_connections() {
    check(&Smol, Expect::concurrent(512));
}

#[test]
fn smol_does_not_starve_probes_under_load() {
    check_under_load(&Smol, 256, 10_000);
}

/// A few hosts that answer at once, and a check that a scan of them found every one.
fn live_hosts() -> wardial_simnet::Simnet {
    wardial_simnet::Simnet::start(wardial_simnet::World {
        mix: wardial_simnet::Mix::all_live(),
        latencies: vec![std::time::Duration::ZERO],
        ..wardial_simnet::World::default()
    })
    .expect("start the simnet")
}

fn scan_all(model: &dyn wardial_probe::Probe, sim: &wardial_simnet::Simnet) {
    let config = wardial_probe::ScanConfig::new(std::time::Duration::from_secs(10), 4);
    let mut servers = 0;
    let summary = model.scan(&mut sim.targets().take(16), &config, &mut |f| {
        servers += u64::from(f.outcome.is_server())
    });
    assert_eq!((summary.completed, servers), (16, 16));
}

#[test]
fn scan_works_when_called_from_async_code() {
    let sim = live_hosts();
    smol::block_on(async { scan_all(&Smol, &sim) });
    let outer = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    outer.block_on(async { scan_all(&Smol, &sim) });
}
