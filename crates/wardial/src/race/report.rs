//! What a race found: a row per model and the race's own figures. The JSON keys are a contract
//! that scripts and `cargo xtask results` read.

use std::time::Duration;

use serde::Serialize;

use super::bounds::floor;
use super::options::RaceOptions;
use super::timeline::Span;

/// The keys of each model's row in `race --json`: scripts read them, so a field of
/// [`ModelResult`] may be added but none of these renamed or removed. Both the unit test here
/// and the CLI test check the JSON against this list.
pub const MODEL_KEYS: [&str; 24] = [
    "model",
    "seconds",
    "completed",
    "finished",
    "probes_per_second",
    "found",
    "agrees_with_truth",
    "efficiency",
    "cpu_seconds_per_probe",
    "wait_bound_seconds",
    "cpu_bound_seconds",
    "limit_seconds",
    "bound",
    "limit_efficiency",
    "memory_per_probe_bytes",
    "memory_in_flight",
    "cpu_user_us_per_probe",
    "cpu_system_us_per_probe",
    "switches_voluntary_per_probe",
    "switches_involuntary_per_probe",
    "lateness_ms_p50",
    "lateness_ms_p99",
    "lateness_ms_max",
    "memory_kernel_per_probe_bytes",
];

/// One model's row. The key names are a contract: see [`MODEL_KEYS`].
#[derive(Debug, Clone, Default, Serialize)]
pub struct ModelResult {
    pub model: String,
    pub seconds: f64,
    pub completed: u64,
    pub finished: bool,
    pub probes_per_second: f64,
    pub found: u64,
    pub agrees_with_truth: bool,
    /// Ideal time ÷ this model's time (projected if stopped); `None` when the ideal is zero
    /// (hosts that answer at once: then there is no waiting to do well at). The wait-bound
    /// ideal alone: see `limit_efficiency` for the figure against the floor.
    pub efficiency: Option<f64>,
    /// What one probe of this model cost this machine's CPUs, scanner and simulated hosts
    /// together, measured in the race (both processes' CPU time over the probes done).
    pub cpu_seconds_per_probe: Option<f64>,
    /// The wait-bound ideal: every host's wait, `max_connections` at a time, no work.
    pub wait_bound_seconds: f64,
    /// The CPU-bound time: every host's probe at the cheapest model's cost, spread over all
    /// cores: the least work the machine does for the range, whichever model does it.
    pub cpu_bound_seconds: Option<f64>,
    /// The floor: the larger of the two bounds, which no model can beat (see [`floor`]).
    pub limit_seconds: Option<f64>,
    /// Which bound is the floor: `"wait"` or `"cpu"`.
    pub bound: Option<&'static str>,
    /// Floor ÷ this model's time: at most 100 % but for noise. For a model stopped at its
    /// budget, floor ÷ projected time, or the floor of the hosts it finished ÷ the time it ran
    /// if that is less.
    pub limit_efficiency: Option<f64>,
    /// This model's CPU time in the race, per probe, in microseconds: user and system mode.
    /// The scanner's process only (the simulated hosts run in another while it races).
    pub cpu_user_us_per_probe: Option<f64>,
    pub cpu_system_us_per_probe: Option<f64>,
    /// Context switches per probe: voluntary (a thread waited) and involuntary (the scheduler
    /// took its core away).
    pub switches_voluntary_per_probe: Option<f64>,
    pub switches_involuntary_per_probe: Option<f64>,
    /// How long each probe ran past its host's own wait (its latency, nothing for a refusal,
    /// the timeout for silence), by the probe's own clock, in ms: the median, the 99th
    /// percentile and the worst, over every host judged right.
    pub lateness_ms_p50: Option<f64>,
    pub lateness_ms_p99: Option<f64>,
    pub lateness_ms_max: Option<f64>,
    /// Memory per probe in flight, measured in a process (and memory cgroup) of the model's
    /// own: what one more probe in flight adds, the kernel's part included.
    pub memory_per_probe_bytes: Option<f64>,
    /// The kernel's part of it (thread stacks and task structs, socket buffers), where the
    /// cgroup reports it apart.
    pub memory_kernel_per_probe_bytes: Option<f64>,
    /// How many probes were in flight at that peak.
    pub memory_in_flight: Option<usize>,
    /// Why there is no memory figure, where there is none.
    pub memory_note: Option<String>,
    /// Every probe's start and end, for the timeline (not in the JSON: thousands of them).
    #[serde(skip)]
    pub timeline: Vec<Span>,
    /// For a model stopped at its budget: the time the whole range would take at its rate.
    pub projected_seconds: Option<f64>,
    pub wrong: u64,
    /// The first few findings that disagree with the ground truth, to show what went wrong.
    pub wrong_examples: Vec<String>,
    pub peak_open: usize,
    /// The connections the model raced with: the race's, or fewer where it cannot hold as many.
    pub connections: usize,
    /// Why it raced with fewer connections than the race's, where it did.
    pub capacity_note: Option<String>,
    /// Why the model could not run here (io_uring refused, or not Linux); it then has no times.
    pub unavailable: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct RaceReport {
    pub config: RaceOptions,
    pub hosts: u64,
    pub ideal_seconds: f64,
    /// Hosts whose timing is a near miss of the timeout (within `margin_seconds`): for them
    /// either outcome agrees with the truth, so `found` may differ between correct models.
    pub near_timeout: u64,
    pub margin_seconds: f64,
    /// The cores the CPU-bound time spreads the work over.
    pub cores: usize,
    pub models: Vec<ModelResult>,
    pub interrupted: bool,
}

impl RaceReport {
    /// The models that ran (not the unavailable ones).
    pub fn ran(&self) -> impl Iterator<Item = &ModelResult> {
        self.models.iter().filter(|m| m.unavailable.is_none())
    }
}

impl ModelResult {
    /// The row of a model that cannot run here.
    pub(super) fn unavailable(name: &str, reason: String) -> ModelResult {
        ModelResult {
            model: name.to_string(),
            agrees_with_truth: true,
            unavailable: Some(reason),
            ..ModelResult::default()
        }
    }

    /// The time the whole range took, or would have taken at the rate measured.
    pub fn full_seconds(&self) -> f64 {
        self.projected_seconds.unwrap_or(self.seconds)
    }

    /// Fills in the bounds: `ideal` is the wait-bound ideal, `cost` the CPU seconds per probe
    /// of the cheapest model of the race (where the system counts CPU time), spread over
    /// `cores`. This model's own cost stays in `cpu_seconds_per_probe`.
    pub(super) fn set_limit(
        &mut self,
        ideal: Duration,
        cost: Option<f64>,
        hosts: u64,
        cores: usize,
    ) {
        let wait = ideal.as_secs_f64();
        self.wait_bound_seconds = wait;
        let Some(cost) = cost else { return };
        let cpu = cost * hosts as f64 / cores.max(1) as f64;
        let limit = floor(wait, cpu);
        self.cpu_bound_seconds = Some(cpu);
        self.limit_seconds = Some(limit);
        self.bound = Some(if cpu > wait { "cpu" } else { "wait" });
        self.limit_efficiency =
            (limit >= 1e-3 && self.completed > 0).then(|| limit / self.full_seconds().max(1e-9));
    }
}
