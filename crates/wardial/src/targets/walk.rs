//! [`Walk`]: the targets of one shard in one order, computed one at a time.

use std::collections::HashSet;
use std::sync::Arc;

use wardial_probe::Target;

use super::permutation::{Order, Permutation};
use super::set::TargetSet;
use super::shard::Shard;

impl TargetSet {
    /// The targets of `shard`, in `order`, lazily, skipping the first `start` of them (the ones
    /// a previous run already scanned). The set is shared, not copied: clone the `Arc` to give
    /// each shard or thread its own walk.
    ///
    /// The `k`-th item yielded is the shard's target number `start + k`; [`Walk::position`] says
    /// where a walk is. With the same seed and set, the walks of shards `1/N ..= N/N` yield every
    /// target exactly once between them.
    pub fn walk(self: Arc<Self>, order: Order, shard: Shard, start: u64) -> Walk {
        let n = self.len();
        let end = shard.len_of(n);
        Walk {
            permutation: Permutation::new(order, n),
            set: self,
            shard,
            next: start.min(end),
            end,
        }
    }
}

/// The targets of one shard in one order, computed one at a time: [`TargetSet::walk`].
///
/// It holds the shared set and a few integers, so it can be sent to another thread and lives as
/// long as it is needed (`Send + 'static`).
#[derive(Debug, Clone)]
pub struct Walk {
    set: Arc<TargetSet>,
    permutation: Permutation,
    shard: Shard,
    /// How many of the shard's targets come before the next one yielded.
    next: u64,
    /// How many targets the shard has.
    end: u64,
}

impl Walk {
    /// How many of this shard's targets come before the next one this walk yields: the `start`
    /// it was created with plus what it has yielded since. A new walk created with this as its
    /// `start` continues where this one is.
    ///
    /// Yielded is not the same as probed: a scanner that saves a point to resume from should
    /// save the lowest position whose probe has not finished, not this.
    pub fn position(&self) -> u64 {
        self.next
    }

    /// The next target whose position is not in `done` (those a previous run finished), with
    /// its position.
    pub fn next_not_in(&mut self, done: &HashSet<u64>) -> Option<(u64, Target)> {
        loop {
            let position = self.next;
            let target = self.next()?;
            if !done.contains(&position) {
                return Some((position, target));
            }
        }
    }

    /// How many targets the shard has in all, done or not.
    pub fn shard_len(&self) -> u64 {
        self.end
    }
}

impl Iterator for Walk {
    type Item = Target;

    fn next(&mut self) -> Option<Target> {
        if self.next >= self.end {
            return None;
        }
        let position = self.shard.position_of(self.next);
        self.next += 1;
        Some(self.set.get(self.permutation.permute(position)))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let left = usize::try_from(self.end - self.next).ok();
        (left.unwrap_or(usize::MAX), left)
    }

    fn nth(&mut self, n: usize) -> Option<Target> {
        // Skipping is free: positions are computed, not stepped through.
        self.next = self.next.saturating_add(n as u64).min(self.end);
        self.next()
    }
}

impl std::iter::FusedIterator for Walk {}
