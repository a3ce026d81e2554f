//! The bounds a model is measured against: the wait-bound ideal (every host's wait, with no
//! work) and the combined limit (that plus this machine's work).

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

/// The combined limit of a model: the wait-bound ideal plus the CPU-bound limit.
///
/// Why a sum and not the larger of the two: a probe's own work and its own wait cannot overlap
/// (it connects, then waits, then reads), and when the hosts answer in lockstep (the same
/// latency for all, `max_connections` started together) so do all the probes of a round: they
/// all need the machine at the same moments, and while the machine works on one round no probe
/// of it is waiting. Each round then costs its wait plus its work, and the rounds add up to
/// `wait + cpu`. When latencies are spread, one probe's work can hide in another's wait and a
/// model can beat this (an efficiency over 100 %); no model can beat the larger of the two.
pub fn combined_limit(wait_bound: f64, cpu_bound: f64) -> f64 {
    wait_bound + cpu_bound
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
