//! The bounds a model is measured against: the wait-bound ideal (every host's wait, with no
//! work), the CPU-bound time (every probe's work, with no wait), and the floor (the larger).

use std::time::Duration;

use wardial_simnet::World;

/// The best any model could do with `max_connections` slots: each host's probe takes what the
/// host makes it take (its latency, the timeout, or nothing for a refusal), and a perfect
/// scheduler starts the next host, in order, the moment a slot frees. Simulated exactly, so the
/// rounds show: 880 silent hosts through 512 slots is two timeouts, not 1.7.
pub fn ideal_time(
    world: &World,
    hosts: u64,
    timeout: Duration,
    max_connections: usize,
) -> Duration {
    use std::cmp::Reverse;
    use std::collections::BinaryHeap;
    let mut slots: BinaryHeap<Reverse<Duration>> =
        std::iter::repeat_n(Reverse(Duration::ZERO), max_connections.max(1)).collect();
    let mut end = Duration::ZERO;
    for addr in world.range.iter().take(hosts as usize) {
        let wait = world.expected_wait(addr, timeout);
        let Reverse(free_at) = slots.pop().expect("at least one slot");
        end = end.max(free_at + wait);
        slots.push(Reverse(free_at + wait));
    }
    end
}

/// The floor of a model's time: the larger of the wait-bound ideal and the CPU-bound time.
///
/// Each is a lower bound on its own. No schedule finishes before every host's wait has passed,
/// `max_connections` at a time (the wait bound, simulated exactly); and no schedule finishes
/// before the machine has done every probe's work, spread over all its cores (the CPU bound:
/// the CPU time a probe costs, scanner and simulated hosts together, at the cheapest model of
/// the race, measured as it raced). So no model beats the larger of the two, and an efficiency
/// against it above 100 % (beyond the noise of measuring the CPU time) is a bug in the floor,
/// not a fast model.
///
/// A model can fall short of it for reasons that are not its fault: when every host answers
/// after the same latency, the probes of a round all wait and then all work at the same
/// moments, so a round costs its wait plus its work, never the larger of the two (lockstep).
pub fn floor(wait_bound: f64, cpu_bound: f64) -> f64 {
    wait_bound.max(cpu_bound)
}

#[cfg(test)]
mod tests {
    use super::*;
    use wardial_simnet::Mix;

    #[test]
    fn ideal_time_of_the_latency_bound_workload() {
        // 1024 live hosts at 20 ms, 128 at a time: 8 rounds of 20 ms.
        let world = World {
            range: "127.64.0.0/22".parse().unwrap(),
            mix: Mix::all_live(),
            latencies: vec![Duration::from_millis(20)],
            ..World::default()
        };
        let ideal = ideal_time(&world, 1024, Duration::from_secs(1), 128);
        assert_eq!(ideal, Duration::from_millis(160));
        // Timeouts come in rounds: 3 silent hosts through 2 slots take two timeouts.
        let world = World {
            range: "127.64.0.0/30".parse().unwrap(),
            mix: Mix::only("blackhole").unwrap(),
            ..World::default()
        };
        let t = Duration::from_millis(500);
        assert_eq!(ideal_time(&world, 4, t, 2), 2 * t);
        assert_eq!(ideal_time(&world, 4, t, 4), t);
        assert_eq!(ideal_time(&world, 4, t, 1), 4 * t);
        assert_eq!(ideal_time(&world, 2, t, 1), 2 * t);
    }
}
