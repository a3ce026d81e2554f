//! What `wardial scan` probes, and in which order: the set of targets, the ranges it leaves out,
//! the permutation that shuffles it, shards, and the files that list targets and exclusions.
//!
//! Everything here is arithmetic on integers: no sockets, and no IO but reading the lists in
//! [`lists`].
//!
//! # The set: [`TargetSet`]
//!
//! The networks to scan are merged into sorted, disjoint runs of addresses, with the exclusions
//! cut out of them. A scan of `0.0.0.0/0` is a handful of runs, not 2^32 addresses: the set's
//! memory grows with the number of runs, never with the number of addresses. [`TargetSet::get`]
//! turns a position `i` into the `i`-th target by binary search over the runs.
//!
//! # The order: [`Order`] and [`Permutation`]
//!
//! Scanning addresses in ascending order hammers one network after another: every host of a
//! `/24` within a fraction of a second, which looks (and is) rude, and which trips rate limits.
//! A random order spreads the load of the scan over the whole set. A shuffled list would cost
//! 16 GiB for `0.0.0.0/0`, so instead the scanner walks positions `0, 1, 2, ...` and maps each
//! through a *bijection* on `[0, n)`: a permutation computed on the fly, with O(1) memory.
//!
//! The bijection is built as masscan builds its "BlackRock" shuffle (after Black and Rogaway's
//! ciphers with arbitrary finite domains): with a Feistel network, the construction block
//! ciphers are made of. Split a number of `2h` bits into two halves `L, R`, then repeat
//! `(L, R) -> (R, L xor F(R))` a few rounds, where `F` is a keyed mixing function (here
//! splitmix64's, keyed by the seed). Whatever `F` is, each round can be undone, so the whole is
//! a permutation of `[0, 4^h)`. Taking the smallest `4^h >= n` makes the domain less than four
//! times `n`; a value that lands outside `[0, n)` is encrypted again ("cycle walking") until it
//! lands inside, which follows the permutation's cycle and so still gives a bijection on
//! `[0, n)`, after fewer than four tries on average. (masscan splits a domain of about `a * b`,
//! with `a` and `b` near the square root of `n`, by division and remainder; splitting bits is
//! simpler to read and costs a few more tries.)
//!
//! Why not zmap's approach? zmap walks the multiplicative group of the integers modulo a prime
//! `p > n`: it needs such a prime and a generator of the group, found when the scan starts, and
//! sharding or resuming means jumping to a power of that generator. The Feistel permutation
//! works for any `n` as it is, `1` and `2^32` included, needs no number theory, and turns
//! "where am I in the scan" into one counter: the `k`-th target of the scan is
//! `get(permute(k))`, whatever happened before.
//!
//! # Shards and resuming: [`Shard`] and [`Walk`]
//!
//! Because the order is a function of a counter, splitting a scan over several machines is
//! splitting the counter: with the same seed, shard `I` of `N` takes the positions `p` with
//! `p % N == I - 1`. The shards are interleaved, so each one is spread over the whole set, and
//! together they cover every target exactly once, for any `N`. Resuming is the same trick: a
//! [`Walk`] starts at its shard's `start`-th position instead of the first.
//!
//! # The files
//!
//! - [`spec`]: one target as typed (a network, or an address reached through another socket);
//! - [`ports`]: the ports probed on every address;
//! - [`ranges`]: arithmetic on sorted runs of addresses (merge, subtract, look up);
//! - [`special`]: the IANA special-purpose ranges a public scan skips;
//! - [`gate`]: which networks a scan may probe without `--allow-public`;
//! - [`set`]: [`TargetSet`], the targets as runs and positions;
//! - [`permutation`]: [`Order`] and [`Permutation`], the shuffle;
//! - [`shard`]: [`Shard`], one part of a scan split over machines;
//! - [`walk`]: [`Walk`], a shard's targets one at a time;
//! - [`lists`]: the targets file and the exclude file.

pub mod gate;
pub mod lists;
pub mod permutation;
pub mod ports;
pub mod ranges;
pub mod set;
pub mod shard;
pub mod spec;
pub mod special;
pub mod walk;

pub use permutation::{Order, Permutation};
pub use ports::Ports;
pub use set::TargetSet;
pub use shard::Shard;
pub use spec::Spec;
pub use walk::Walk;

#[cfg(test)]
mod tests;
