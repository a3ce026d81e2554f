//! `wardial race`: every model scans the same simulated range; a table and a bar chart show who
//! waited well, against the limit this machine sets.
//!
//! - [`command`](mod@command): the arguments and where the results go;
//! - [`run`](mod@run): the phases of a race (each model's turn in [`one`], [`memory`]
//!   with [`cgroup`]);
//! - [`options`] and [`report`]: what was raced and what came of it (the JSON contract);
//! - [`external`]: outside scanners (any program, the Python reference scanners) raced on the
//!   same hosts at their own addresses, a folder: the rows raced one after another in its
//!   `mod.rs`, [`external::python`] (the built-in reference scanners), [`external::lap`] (one
//!   scanner run and judged into a row) and [`external::figures`] (what each process cost);
//! - [`servers`]: the simulated hosts in a process of their own while the models race;
//! - [`bounds`]: the wait bound, the CPU bound and the floor each model is measured against;
//! - [`table`], [`chart`], [`timeline`] and [`picture`]: the race for people, as text and as
//!   images.

pub mod bounds;
pub mod cgroup;
pub mod chart;
pub mod command;
pub mod external;
pub mod memory;
pub mod one;
pub mod options;
pub mod picture;
pub mod report;
pub mod run;
pub mod servers;
pub mod table;
pub mod timeline;

pub use command::{command, RaceArgs};
pub use options::RaceOptions;
pub use report::{ModelResult, RaceReport, MODEL_KEYS};
pub use run::run;

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;
    use wardial_probe::Stop;

    fn opts() -> RaceOptions {
        RaceOptions {
            range: "127.64.0.0/26".into(),
            mix: "every".into(),
            latency: Some(Duration::from_millis(5)),
            timeout: Duration::from_millis(300),
            max_connections: 64,
            models: vec!["callbacks".into(), "blocking".into()],
            budget: Duration::from_millis(500),
            seed: 3,
            hosts: None,
            memory: false,
            hosts_apart: false,
        }
    }

    #[test]
    fn a_small_race_agrees_with_the_truth_and_stops_the_slow() {
        let mut lines = Vec::new();
        // Callbacks needs about one timeout (300 ms) for the whole range; its budget is far
        // more, so only a hang could stop it.
        let fast = RaceOptions {
            models: vec!["callbacks".into()],
            budget: Duration::from_secs(60),
            ..opts()
        };
        let report = run(&fast, &Stop::new(), &mut |l| lines.push(l.to_string())).unwrap();
        let callbacks = &report.models[0];
        assert!(callbacks.finished && callbacks.agrees_with_truth);
        assert_eq!(callbacks.completed, 64);
        assert!(callbacks.peak_open > 1);
        // The floor is the larger of the waits and the work, which is the CPU time the probes
        // cost, measured in the race itself (here one model, so its own): no model beats it.
        let cost = callbacks.cpu_seconds_per_probe.unwrap();
        assert!(cost > 0.0);
        let limit = callbacks.limit_seconds.unwrap();
        let cpu = 64.0 * cost / report.cores as f64;
        assert!((limit - report.ideal_seconds.max(cpu)).abs() < 1e-9);
        assert_eq!(
            callbacks.limit_efficiency,
            Some(limit / callbacks.seconds),
            "limit ÷ time"
        );
        assert!(
            cpu <= callbacks.seconds * 1.01,
            "the work fits in the time it took"
        );
        // One bar per probe, none ending before it starts or after the scan.
        assert_eq!(callbacks.timeline.len(), 64);
        assert!(callbacks.timeline.iter().all(|s| 0.0 <= s.start
            && s.start <= s.end
            && f64::from(s.end) <= callbacks.seconds + 0.01));

        // Blocking waits out every silent host in turn: counted, not timed, that is more than
        // ten timeouts (the range's census), so it cannot finish within a 500 ms budget.
        let world = opts().world().unwrap();
        let silent = world
            .range
            .iter()
            .filter(|&a| world.expected_wait(a, opts().timeout) >= opts().timeout)
            .count();
        assert!(silent >= 10, "{silent} silent hosts");
        let slow = RaceOptions {
            models: vec!["blocking".into()],
            ..opts()
        };
        let mut report = run(&slow, &Stop::new(), &mut |l| lines.push(l.to_string())).unwrap();
        let blocking = &report.models[0];
        assert!(!blocking.finished && blocking.projected_seconds.is_some());
        assert!(blocking.agrees_with_truth);
        assert_eq!(blocking.peak_open, 1);

        report.models.insert(0, callbacks.clone());
        let mut table = Vec::new();
        table::print_table(&report, true, &mut table).unwrap();
        let table = String::from_utf8(table).unwrap();
        assert!(
            table.contains("callbacks") && table.contains("projected"),
            "{table}"
        );
        assert!(table.contains("log scale"), "{table}");
        let timeline = picture::race_text(&report, 40);
        assert_eq!(timeline.lines().count(), 4, "{timeline}");
        let json = serde_json::to_value(&report).unwrap();
        for key in MODEL_KEYS {
            assert!(json["models"][0].get(key).is_some(), "missing {key}");
        }
    }
}
