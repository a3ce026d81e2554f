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
    /// The same positions in order, to count those ahead in O(log n): a paced scan asks how
    /// many targets are left each time it is about to wait.
    skip_in_order: Vec<u64>,
    in_flight: Arc<Mutex<InFlight>>,
    /// When the first and the last target were taken, and how many: a model takes a target
    /// when it starts its probe, so these time the starts.
    starts: (Option<Instant>, Option<Instant>, u64),
}

impl Tracked {
    /// The targets of `walk`, which starts at position `start`, without the positions in `skip`.
    pub fn new(walk: Walk, start: u64, skip: HashSet<u64>) -> Tracked {
        Tracked {
            walk,
            skip_in_order: {
                let mut positions: Vec<u64> = skip.iter().copied().collect();
                positions.sort_unstable();
                positions
            },
            skip: Arc::new(skip),
            in_flight: Arc::new(Mutex::new(InFlight {
                next: start,
                ..InFlight::default()
            })),
            starts: (None, None, 0),
        }
    }

    /// Probes started per second, from the first start to the last (what `--rate` limits), once
    /// two have started.
    pub fn started_per_second(&self) -> Option<f64> {
        let (Some(first), Some(last), n) = self.starts else {
            return None;
        };
        let span = last.duration_since(first).as_secs_f64();
        (n >= 2 && span > 0.0).then(|| (n - 1) as f64 / span)
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
        let (position, target) = self.walk.next_not_in(&self.skip)?;
        let mut in_flight = lock(&self.in_flight);
        in_flight
            .by_target
            .entry(target)
            .or_default()
            .push(position);
        in_flight.next = self.walk.position();
        let now = Instant::now();
        self.starts = (self.starts.0.or(Some(now)), Some(now), self.starts.2 + 1);
        Some(target)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        // Exact: the walk's rest minus the positions in it already done. (A stop asks this
        // whether anything remains, and a resumed scan whose rest is all done has nothing.)
        let rest = self.walk.size_hint().1.unwrap_or(usize::MAX);
        let from = self.walk.position();
        let skipped = self.skip_in_order.len() - self.skip_in_order.partition_point(|&p| p < from);
        let left = rest.saturating_sub(skipped);
        (left, Some(left))
    }
}
