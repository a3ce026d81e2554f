//! Exactly once: which positions of the walk a model has taken and not yet reported, so that a
//! stopped scan knows where to resume and which targets after that point are already done.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use wardial_probe::{lock, Target};

use crate::targets::Walk;

/// The positions in flight: taken from the walk, not yet reported. What is left in it when a
/// scan stops was taken and dropped (never probed).
#[derive(Debug, Default)]
pub struct InFlight {
    /// A list per target, because a target may come twice (a mapped target given twice).
    by_target: HashMap<Target, Vec<u64>>,
    /// The next position the walk would give.
    next: u64,
}

impl InFlight {
    /// The position a finding for `target` will be reported at (see [`InFlight::reported`]).
    pub fn position(&self, target: &Target) -> Option<u64> {
        self.by_target.get(target)?.last().copied()
    }

    /// A finding for `target` arrived: one of its positions is done, and this is it.
    pub fn reported(&mut self, target: &Target) -> Option<u64> {
        let positions = self.by_target.get_mut(target)?;
        let position = positions.pop();
        if positions.is_empty() {
            self.by_target.remove(target);
        }
        position
    }

    /// The positions taken and never reported.
    pub fn unfinished(&self) -> HashSet<u64> {
        self.by_target.values().flatten().copied().collect()
    }

    /// The first position never taken.
    pub fn next(&self) -> u64 {
        self.next
    }
}

/// The scan's targets as a model pulls them: the walk, minus positions already done, with
/// every position taken recorded in [`InFlight`].
#[derive(Debug)]
pub struct Tracked {
    walk: Walk,
    skip: Arc<HashSet<u64>>,
    /// How many positions of `skip` the walk has still to pass: kept as it goes, because a
    /// paced scan asks how many targets are left each time it is about to wait.
    done_ahead: usize,
    in_flight: Arc<Mutex<InFlight>>,
    starts: Starts,
}

/// When a model took its first and its last target, and how many it took: a model takes a
/// target when it starts its probe, so these time the starts.
#[derive(Debug, Default)]
struct Starts {
    first: Option<Instant>,
    last: Option<Instant>,
    count: u64,
}

impl Tracked {
    /// The targets of `walk`, which starts at position `start`, without the positions in `skip`.
    pub fn new(walk: Walk, start: u64, skip: HashSet<u64>) -> Tracked {
        Tracked {
            done_ahead: skip.iter().filter(|&&p| p >= walk.position()).count(),
            walk,
            skip: Arc::new(skip),
            in_flight: Arc::new(Mutex::new(InFlight {
                next: start,
                ..InFlight::default()
            })),
            starts: Starts::default(),
        }
    }

    /// Probes started per second, from the first start to the last (what `--rate` limits), once
    /// two have started.
    pub fn started_per_second(&self) -> Option<f64> {
        let Starts {
            first: Some(first),
            last: Some(last),
            count,
        } = self.starts
        else {
            return None;
        };
        let span = last.duration_since(first).as_secs_f64();
        (count >= 2 && span > 0.0).then(|| (count - 1) as f64 / span)
    }

    /// The record of positions in flight, shared with whoever receives the findings.
    pub fn in_flight(&self) -> Arc<Mutex<InFlight>> {
        self.in_flight.clone()
    }

    /// The positions a previous run had already done.
    pub fn skipped(&self) -> &HashSet<u64> {
        &self.skip
    }
}

impl Iterator for Tracked {
    type Item = Target;

    fn next(&mut self) -> Option<Target> {
        let from = self.walk.position();
        let (position, target) = self.walk.next_not_in(&self.skip)?;
        // Every position passed over on the way was a done one.
        self.done_ahead -= (position - from) as usize;
        let mut in_flight = lock(&self.in_flight);
        in_flight
            .by_target
            .entry(target)
            .or_default()
            .push(position);
        in_flight.next = self.walk.position();
        let now = Instant::now();
        self.starts.first.get_or_insert(now);
        self.starts.last = Some(now);
        self.starts.count += 1;
        Some(target)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        // Exact: the walk's rest minus the positions in it already done. (A stop asks this
        // whether anything remains, and a resumed scan whose rest is all done has nothing.)
        let rest = self.walk.size_hint().1.unwrap_or(usize::MAX);
        let left = rest.saturating_sub(self.done_ahead);
        (left, Some(left))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::targets::{Order, Ports, Shard, Spec, TargetSet};

    #[test]
    fn the_targets_left_leave_out_those_done_as_the_walk_passes_them() {
        let specs = [Spec::Net("127.0.0.0/29".parse().unwrap())];
        let set = Arc::new(TargetSet::new(&specs, &Ports::one(80), &[], true));
        let walk = set.walk(Order::Sequential, Shard::ALL, 0);
        let done: HashSet<u64> = [2, 3, 7].into();
        let mut targets = Tracked::new(walk, 0, done);
        let mut left = Vec::new();
        let mut last = Vec::new();
        while targets.size_hint().0 > 0 {
            left.push(targets.size_hint().0);
            last.push(targets.next().unwrap().addr.octets()[3]);
        }
        assert_eq!(left, [5, 4, 3, 2, 1]);
        assert_eq!(last, [0, 1, 4, 5, 6], "positions 2, 3 and 7 were done");
        assert_eq!(targets.next(), None);
        assert_eq!(lock(&targets.in_flight).unfinished().len(), 5);
    }
}
