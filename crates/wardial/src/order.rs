//! The order in which `wardial scan` visits its targets, and which targets it leaves out.
//!
//! Everything here is arithmetic on integers: no sockets, and no IO but reading an exclude file.
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

use std::fmt;
use std::net::Ipv4Addr;
use std::path::Path;
use std::str::FromStr;
use std::sync::Arc;

use wardial_probe::{Cidr, Target};

use crate::args;
use crate::scan::Spec;

/// A half-open range of addresses `[start, end)`. `u64`, so that the end of a run that holds
/// `255.255.255.255` (2^32) is representable.
type Range = (u64, u64);

fn range_of(net: &Cidr) -> Range {
    let start = u64::from(u32::from(net.first()));
    (start, start + net.len())
}

/// Sorts ranges and merges the ones that overlap or touch, so that each address is in at most
/// one range (counted once) and the ranges come in ascending order.
fn merge(mut ranges: Vec<Range>) -> Vec<Range> {
    ranges.sort_unstable();
    let mut merged: Vec<Range> = Vec::with_capacity(ranges.len());
    for (start, end) in ranges {
        match merged.last_mut() {
            Some(last) if start <= last.1 => last.1 = last.1.max(end),
            _ => merged.push((start, end)),
        }
    }
    merged
}

/// `keep` minus `cut`, both sorted and disjoint (as [`merge`] leaves them). One sweep over
/// both lists: O(|keep| + |cut|), whatever the number of addresses.
fn subtract(keep: &[Range], cut: &[Range]) -> Vec<Range> {
    let mut out = Vec::with_capacity(keep.len());
    // Cuts that end before the current range can be skipped for good: later ranges start later.
    let mut first_cut = 0;
    for &(mut start, end) in keep {
        while first_cut < cut.len() && cut[first_cut].1 <= start {
            first_cut += 1;
        }
        for &(cut_start, cut_end) in &cut[first_cut..] {
            if cut_start >= end || start >= end {
                break;
            }
            if cut_start > start {
                out.push((start, cut_start));
            }
            start = start.max(cut_end);
        }
        if start < end {
            out.push((start, end));
        }
    }
    out
}

/// Whether `addr` lies in one of `ranges` (sorted and disjoint).
fn in_ranges(ranges: &[Range], addr: Ipv4Addr) -> bool {
    let addr = u64::from(u32::from(addr));
    // The first range that ends after `addr` is the only one that can hold it.
    let i = ranges.partition_point(|&(_, end)| end <= addr);
    ranges.get(i).is_some_and(|&(start, _)| start <= addr)
}

/// The IPv4 special-purpose ranges: addresses that are not hosts on the public internet, so a
/// public scan has no business sending them packets. The source is the IANA IPv4
/// Special-Purpose Address Registry, RFC 6890 and the RFCs that updated it
/// (<https://www.iana.org/assignments/iana-ipv4-special-registry/>): one entry per row, plus
/// the multicast range of RFC 5771, which has an IANA registry of its own. Some rows lie inside others (192.0.0.0/29 in
/// 192.0.0.0/24, limited broadcast in 240.0.0.0/4): they are listed anyway, so the table can be
/// checked against the registry row by row, and merging counts each address once.
pub const SPECIAL_PURPOSE: &[(&str, Ipv4Addr, u8)] = &[
    ("this network (RFC 791)", Ipv4Addr::new(0, 0, 0, 0), 8),
    (
        "this host on this network (RFC 1122)",
        Ipv4Addr::new(0, 0, 0, 0),
        32,
    ),
    ("private-use (RFC 1918)", Ipv4Addr::new(10, 0, 0, 0), 8),
    (
        "shared address space (RFC 6598)",
        Ipv4Addr::new(100, 64, 0, 0),
        10,
    ),
    ("loopback (RFC 1122)", Ipv4Addr::new(127, 0, 0, 0), 8),
    ("link local (RFC 3927)", Ipv4Addr::new(169, 254, 0, 0), 16),
    ("private-use (RFC 1918)", Ipv4Addr::new(172, 16, 0, 0), 12),
    (
        "IETF protocol assignments (RFC 6890)",
        Ipv4Addr::new(192, 0, 0, 0),
        24,
    ),
    (
        "IPv4 service continuity prefix (RFC 7335)",
        Ipv4Addr::new(192, 0, 0, 0),
        29,
    ),
    (
        "IPv4 dummy address (RFC 7600)",
        Ipv4Addr::new(192, 0, 0, 8),
        32,
    ),
    (
        "port control protocol anycast (RFC 7723)",
        Ipv4Addr::new(192, 0, 0, 9),
        32,
    ),
    ("TURN anycast (RFC 8155)", Ipv4Addr::new(192, 0, 0, 10), 32),
    (
        "NAT64/DNS64 discovery (RFC 8880)",
        Ipv4Addr::new(192, 0, 0, 170),
        32,
    ),
    (
        "NAT64/DNS64 discovery (RFC 8880)",
        Ipv4Addr::new(192, 0, 0, 171),
        32,
    ),
    (
        "documentation, TEST-NET-1 (RFC 5737)",
        Ipv4Addr::new(192, 0, 2, 0),
        24,
    ),
    ("AS112-v4 (RFC 7535)", Ipv4Addr::new(192, 31, 196, 0), 24),
    ("AMT (RFC 7450)", Ipv4Addr::new(192, 52, 193, 0), 24),
    (
        "deprecated 6to4 relay anycast (RFC 7526)",
        Ipv4Addr::new(192, 88, 99, 0),
        24,
    ),
    (
        "6a44 relay anycast (RFC 6751)",
        Ipv4Addr::new(192, 88, 99, 2),
        32,
    ),
    ("private-use (RFC 1918)", Ipv4Addr::new(192, 168, 0, 0), 16),
    (
        "direct delegation AS112 service (RFC 7534)",
        Ipv4Addr::new(192, 175, 48, 0),
        24,
    ),
    ("benchmarking (RFC 2544)", Ipv4Addr::new(198, 18, 0, 0), 15),
    (
        "documentation, TEST-NET-2 (RFC 5737)",
        Ipv4Addr::new(198, 51, 100, 0),
        24,
    ),
    (
        "documentation, TEST-NET-3 (RFC 5737)",
        Ipv4Addr::new(203, 0, 113, 0),
        24,
    ),
    ("multicast (RFC 5771)", Ipv4Addr::new(224, 0, 0, 0), 4),
    ("reserved (RFC 1112)", Ipv4Addr::new(240, 0, 0, 0), 4),
    (
        "limited broadcast (RFC 919, RFC 8190)",
        Ipv4Addr::new(255, 255, 255, 255),
        32,
    ),
];

/// [`SPECIAL_PURPOSE`] as CIDR blocks.
pub fn special_purpose() -> Vec<Cidr> {
    SPECIAL_PURPOSE
        .iter()
        .map(|&(_, addr, prefix)| Cidr::new(addr, prefix))
        .collect()
}

/// The rule for the special-purpose ranges: public scans skip them, and scans of the user's own
/// networks do not. A network counts as "own" when it lies wholly inside loopback or a private
/// range (the same test as the `--allow-public` gate), and as asked for by name when it lies
/// wholly inside one special-purpose range: `127.0.0.1` and `192.0.2.0/24` are scanned as
/// typed, while `0.0.0.0/0` loses `10.0.0.0/8`, `127.0.0.0/8`, `224.0.0.0/4` and the rest.
pub fn skips_special_purpose(net: &Cidr) -> bool {
    let named = SPECIAL_PURPOSE.iter().any(|&(_, addr, prefix)| {
        net.prefix() >= prefix && Cidr::new(addr, prefix).contains(net.first())
    });
    !args::is_private(net) && !named
}

/// One run of consecutive addresses in a [`TargetSet`]: where it starts, and how many targets
/// come before it (the prefix sum that binary search looks up).
#[derive(Debug, Clone, Copy)]
struct Run {
    start: u64,
    before: u64,
}

/// The targets of a scan, in a fixed order that positions `0..len()` index: first the networks'
/// addresses (merged, each address once, ascending), then the mapped targets in the order given.
///
/// Memory is proportional to the number of runs of consecutive addresses, never to the number
/// of addresses: `0.0.0.0/0` minus the special-purpose ranges is a few dozen runs.
#[derive(Debug, Clone)]
pub struct TargetSet {
    port: u16,
    runs: Vec<Run>,
    /// How many addresses the runs hold together (up to 2^32, hence `u64`).
    net_len: u64,
    mapped: Vec<Target>,
}

impl TargetSet {
    /// The targets of `specs` on `port`, without `excludes`, and, when `skip_special_in_public`
    /// is set, without the [`SPECIAL_PURPOSE`] ranges in the specs that
    /// [`skips_special_purpose`] says are public.
    ///
    /// The rule applies spec by spec, before the union: `0.0.0.0/0 127.0.0.0/8` scans loopback,
    /// because the user asked for it by name. `excludes` apply to every spec, private or not.
    ///
    /// A mapped spec (`ADDRESS HOST:PORT`) is one target, kept as given even if a network holds
    /// the same address or another mapped spec repeats it; the exclusions test its `ADDRESS`.
    pub fn new(
        specs: &[Spec],
        port: u16,
        excludes: &[Cidr],
        skip_special_in_public: bool,
    ) -> TargetSet {
        let special = merge(special_purpose().iter().map(range_of).collect());
        let excluded = merge(excludes.iter().map(range_of).collect());

        let mut ranges = Vec::new();
        let mut mapped = Vec::new();
        for spec in specs {
            match *spec {
                Spec::Net(net) => {
                    if skip_special_in_public && skips_special_purpose(&net) {
                        ranges.extend(subtract(&[range_of(&net)], &special));
                    } else {
                        ranges.push(range_of(&net));
                    }
                }
                Spec::Mapped { addr, dial } => {
                    let special_here = skip_special_in_public
                        && skips_special_purpose(&Cidr::new(addr, 32))
                        && in_ranges(&special, addr);
                    if !special_here && !in_ranges(&excluded, addr) {
                        mapped.push(Target { addr, port, dial });
                    }
                }
            }
        }
        let ranges = subtract(&merge(ranges), &excluded);

        // Prefix sums: run r holds positions `before .. before + its length`.
        let mut runs = Vec::with_capacity(ranges.len());
        let mut net_len = 0;
        for (start, end) in ranges {
            runs.push(Run {
                start,
                before: net_len,
            });
            net_len += end - start;
        }
        TargetSet {
            port,
            runs,
            net_len,
            mapped,
        }
    }

    /// How many targets the set holds: up to 2^32 addresses, plus the mapped targets.
    pub fn len(&self) -> u64 {
        self.net_len + self.mapped.len() as u64
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The target at position `i` of the set's order. O(log runs).
    ///
    /// Panics if `i >= self.len()`, as indexing a slice out of bounds does.
    pub fn get(&self, i: u64) -> Target {
        assert!(
            i < self.len(),
            "target {i} is out of range: the set holds {}",
            self.len()
        );
        if i < self.net_len {
            // The run that holds position i is the last one that starts at or before it; the
            // first run has none before it, so there always is one.
            let r = self.runs.partition_point(|run| run.before <= i) - 1;
            let run = self.runs[r];
            // Below 2^32: the runs only hold IPv4 addresses.
            let addr = (run.start + (i - run.before)) as u32;
            Target::direct(Ipv4Addr::from(addr), self.port)
        } else {
            // Fits in usize: it is below `mapped.len()`.
            self.mapped[(i - self.net_len) as usize]
        }
    }

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

/// The order of a scan: as the set holds its targets, or shuffled by a seed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Order {
    /// Ascending addresses, then mapped targets as given: what `wardial scan` always did.
    Sequential,
    /// A pseudorandom permutation, the same for the same seed (so shards and resumed runs agree).
    Random { seed: u64 },
}

/// How many Feistel rounds. Three rounds of a random function already give a pseudorandom
/// permutation (Luby and Rackoff's result), four a strong one; two more cost nanoseconds per
/// target and make small domains, where the halves have only a few bits, look better shuffled.
const ROUNDS: usize = 6;

/// A bijection on `[0, n)` (see the module documentation): the identity for
/// [`Order::Sequential`], a keyed Feistel permutation with cycle walking for [`Order::Random`].
/// A few integers whatever `n` is: no tables.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Permutation {
    n: u64,
    /// The Feistel network works on numbers of `2 * half_bits` bits.
    half_bits: u32,
    half_mask: u64,
    /// One key per round, or none for the identity.
    keys: Option<[u64; ROUNDS]>,
}

/// splitmix64's finalizer: a bijective mixing function of 64 bits in which every input bit
/// affects every output bit. Cheap, and good enough to shuffle a scan; not cryptography.
fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

impl Permutation {
    pub fn new(order: Order, n: u64) -> Permutation {
        // The smallest h with 4^h >= n: half of the bits that n - 1 needs, rounded up.
        let bits = match n {
            0 | 1 => 0,
            n => 64 - (n - 1).leading_zeros(),
        };
        let half_bits = bits.div_ceil(2);
        let keys = match order {
            Order::Sequential => None,
            // The round keys are the first outputs of splitmix64 seeded with `seed`: distinct
            // and unrelated-looking even for seeds 0, 1, 2...
            Order::Random { seed } => Some(std::array::from_fn(|r| {
                mix(seed.wrapping_add((r as u64 + 1).wrapping_mul(0x9e37_79b9_7f4a_7c15)))
            })),
        };
        Permutation {
            n,
            half_bits,
            // half_bits <= 32, so the shift cannot overflow.
            half_mask: (1u64 << half_bits) - 1,
            keys,
        }
    }

    /// The size of the domain: `permute` maps `[0, n)` onto itself.
    pub fn len(&self) -> u64 {
        self.n
    }

    pub fn is_empty(&self) -> bool {
        self.n == 0
    }

    /// Where position `i` goes. Panics if `i >= n`: outside the domain there is no answer.
    pub fn permute(&self, i: u64) -> u64 {
        assert!(
            i < self.n,
            "{i} is outside the permutation's domain [0, {})",
            self.n
        );
        let Some(keys) = &self.keys else {
            return i;
        };
        // Cycle walking: the Feistel network permutes [0, 4^h), which may be larger than
        // [0, n). Following the cycle from i, the first value below n is i's image; it exists,
        // since the cycle comes back to i itself, and no other i below n can share it.
        let mut x = self.feistel(keys, i);
        while x >= self.n {
            x = self.feistel(keys, x);
        }
        x
    }

    /// One pass of the Feistel network over `2 * half_bits` bits.
    fn feistel(&self, keys: &[u64; ROUNDS], x: u64) -> u64 {
        let mut left = x >> self.half_bits;
        let mut right = x & self.half_mask;
        for &key in keys {
            // Whatever the round function computes, the round can be undone (xor the same value
            // again), which is why the whole network is a bijection.
            let f = mix(right ^ key) & self.half_mask;
            (left, right) = (right, left ^ f);
        }
        (left << self.half_bits) | right
    }
}

/// One part of a scan split over several runs or machines: shard `index` of `count`, counted
/// from 1 as a user types it (`--shard 2/4`). It takes the positions `p` of the scan's order
/// with `p % count == index - 1`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Shard {
    pub index: u64,
    pub count: u64,
}

impl Shard {
    /// The whole scan: shard 1 of 1.
    pub const ALL: Shard = Shard { index: 1, count: 1 };

    /// Parses `I/N`, such as `2/4`, with `1 <= I <= N`.
    pub fn parse(s: &str) -> Result<Shard, String> {
        let s = s.trim();
        let number = |part: &str| -> Option<u64> {
            // Digits only: `u64::from_str` would also take `+2`.
            if part.is_empty() || !part.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            part.parse().ok()
        };
        let parsed = s
            .split_once('/')
            .and_then(|(i, n)| Some((number(i)?, number(n)?)));
        let Some((index, count)) = parsed else {
            return Err(format!(
                "'{s}' is not a shard: expected I/N, like 2/4 for the second of four shards"
            ));
        };
        if count == 0 {
            return Err(format!(
                "'{s}': the number of shards must be at least 1 (1/1 is the whole scan)"
            ));
        }
        if index == 0 {
            return Err(format!(
                "'{s}': shard numbers start at 1 (the first of {count} shards is 1/{count})"
            ));
        }
        if index > count {
            return Err(format!(
                "'{s}': there is no shard {index} of {count} (shards go from 1/{count} to {count}/{count})"
            ));
        }
        Ok(Shard { index, count })
    }

    /// How many of the positions `[0, n)` this shard takes: those `p` with
    /// `p % count == index - 1`, so shards 1 to `n % count` have one more than the rest.
    pub fn len_of(&self, n: u64) -> u64 {
        let first = self.index - 1;
        if n <= first {
            0
        } else {
            (n - first).div_ceil(self.count)
        }
    }

    /// The scan position of this shard's `k`-th target (counted from 0).
    fn position_of(&self, k: u64) -> u64 {
        (self.index - 1) + k * self.count
    }
}

impl Default for Shard {
    fn default() -> Shard {
        Shard::ALL
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

impl FromStr for Shard {
    type Err = String;
    fn from_str(s: &str) -> Result<Shard, String> {
        Shard::parse(s)
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

/// Parses an exclude list: one CIDR block or address per line; `#` starts a comment, at the
/// start of a line or after an entry; blank lines are skipped. An error is one line naming the
/// line number and the text that is wrong.
pub fn parse_excludes(text: &str) -> Result<Vec<Cidr>, String> {
    parse_lines(text).map_err(|(line, message)| format!("line {line}: {message}"))
}

/// Reads and parses an exclude file (see [`parse_excludes`]). Errors name the file.
pub fn read_exclude_file(path: impl AsRef<Path>) -> Result<Vec<Cidr>, String> {
    let path = path.as_ref();
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read exclude file '{}': {e}", path.display()))?;
    // `path:line: ...`, as compilers and the targets file report a bad line.
    parse_lines(&text).map_err(|(line, message)| format!("{}:{line}: {message}", path.display()))
}

/// The parser behind both: the error is the 1-based line number and what is wrong with it.
fn parse_lines(text: &str) -> Result<Vec<Cidr>, (usize, String)> {
    let mut nets = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let entry = line.split('#').next().unwrap_or("").trim();
        if entry.is_empty() {
            continue;
        }
        let net = entry
            .parse::<Cidr>()
            .map_err(|e| (n + 1, format!("cannot exclude '{entry}': {e}")))?;
        nets.push(net);
    }
    Ok(nets)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::HashSet;
    use std::net::SocketAddr;

    fn cidr(s: &str) -> Cidr {
        s.parse().unwrap()
    }

    fn net(s: &str) -> Spec {
        Spec::Net(cidr(s))
    }

    fn mapped(addr: &str, dial: &str) -> Spec {
        Spec::Mapped {
            addr: addr.parse().unwrap(),
            dial: dial.parse().unwrap(),
        }
    }

    fn all(set: &TargetSet) -> Vec<Target> {
        (0..set.len()).map(|i| set.get(i)).collect()
    }

    fn sorted<T: Ord>(mut v: Vec<T>) -> Vec<T> {
        v.sort();
        v
    }

    /// A key to sort targets by (Target is not Ord).
    fn key(t: &Target) -> (u32, u16, SocketAddr) {
        (u32::from(t.addr), t.port, t.dial)
    }

    fn sorted_targets(mut v: Vec<Target>) -> Vec<Target> {
        v.sort_by_key(key);
        v
    }

    /// Every shard's walk, one after the other.
    fn every_shard(set: &Arc<TargetSet>, order: Order, count: u64) -> Vec<Target> {
        (1..=count)
            .flat_map(|index| set.clone().walk(order, Shard { index, count }, 0))
            .collect()
    }

    /// A small block somewhere in 10.0.0.0/20.
    fn small_cidr(prefixes: std::ops::RangeInclusive<u8>) -> impl Strategy<Value = Cidr> {
        (0u32..4096, prefixes)
            .prop_map(|(offset, prefix)| Cidr::new(Ipv4Addr::from(0x0a00_0000 + offset), prefix))
    }

    /// A few blocks (which may overlap), a few smaller ones to exclude, and a few mapped
    /// targets (which may repeat).
    fn small_specs() -> impl Strategy<Value = (Vec<Spec>, Vec<Cidr>)> {
        (
            prop::collection::vec(small_cidr(22..=32), 1..5),
            prop::collection::vec(small_cidr(25..=32), 0..6),
            prop::collection::vec((0u32..4096, 1u16..5), 0..4),
        )
            .prop_map(|(nets, excludes, mapped)| {
                let mut specs: Vec<Spec> = nets.into_iter().map(Spec::Net).collect();
                specs.extend(mapped.into_iter().map(|(offset, port)| Spec::Mapped {
                    addr: Ipv4Addr::from(0x0a00_0000 + offset),
                    dial: SocketAddr::from(([127, 0, 0, 1], 4000 + port)),
                }));
                (specs, excludes)
            })
    }

    fn small_set() -> impl Strategy<Value = TargetSet> {
        small_specs().prop_map(|(specs, excludes)| TargetSet::new(&specs, 80, &excludes, true))
    }

    /// The size of a union of CIDR blocks, computed without merging ranges: two blocks either
    /// nest or are disjoint, so it is the sum over the blocks that no other block holds.
    fn union_len(blocks: &[Cidr]) -> u64 {
        let outer: HashSet<Cidr> = blocks
            .iter()
            .filter(|b| {
                !blocks
                    .iter()
                    .any(|o| o.prefix() < b.prefix() && o.contains(b.first()))
            })
            .copied()
            .collect();
        outer.iter().map(Cidr::len).sum()
    }

    proptest! {
        #[test]
        fn permutation_is_a_bijection(n in 1u64..5000, seed: u64) {
            let p = Permutation::new(Order::Random { seed }, n);
            let images = sorted((0..n).map(|i| p.permute(i)).collect());
            prop_assert_eq!(images, (0..n).collect::<Vec<_>>());
        }

        #[test]
        fn shards_of_positions_cover_each_once(n in 1u64..3000, seed: u64, count in 1u64..20) {
            let p = Permutation::new(Order::Random { seed }, n);
            let lens: u64 = (1..=count).map(|index| Shard { index, count }.len_of(n)).sum();
            prop_assert_eq!(lens, n);
            let mut images = Vec::new();
            for index in 1..=count {
                let shard = Shard { index, count };
                images.extend((0..shard.len_of(n)).map(|k| p.permute(shard.position_of(k))));
            }
            prop_assert_eq!(sorted(images), (0..n).collect::<Vec<_>>());
        }

        #[test]
        fn shards_of_a_set_cover_each_target_once(
            set in small_set(),
            seed: u64,
            count in 1u64..20,
        ) {
            let want = sorted_targets(all(&set));
            let set = Arc::new(set);
            for order in [Order::Random { seed }, Order::Sequential] {
                let got = sorted_targets(every_shard(&set, order, count));
                prop_assert_eq!(&got, &want);
            }
        }

        #[test]
        fn resuming_continues_the_same_walk(
            set in small_set(),
            seed: u64,
            (index, count) in (1u64..8).prop_flat_map(|count| (1..=count, Just(count))),
            cut in 0.0f64..=1.0,
        ) {
            let set = Arc::new(set);
            let order = Order::Random { seed };
            let shard = Shard { index, count };
            let whole: Vec<Target> = set.clone().walk(order, shard, 0).collect();
            let k = (whole.len() as f64 * cut) as u64;

            let mut first = set.clone().walk(order, shard, 0);
            let mut resumed: Vec<Target> = first.by_ref().take(k as usize).collect();
            prop_assert_eq!(first.position(), k);
            let rest = set.clone().walk(order, shard, k);
            prop_assert_eq!(rest.position(), k);
            prop_assert_eq!(rest.shard_len(), whole.len() as u64);
            resumed.extend(rest);
            prop_assert_eq!(resumed, whole);
        }

        #[test]
        fn get_never_returns_a_special_address(i in 0u64..(1 << 32)) {
            let set = TargetSet::new(&[net("0.0.0.0/0")], 80, &[], true);
            let i = i % set.len();
            let addr = set.get(i).addr;
            prop_assert!(!special_purpose().iter().any(|c| c.contains(addr)), "{addr}");
            // And the order is ascending, with no gap inside a run and no repeat.
            if i + 1 < set.len() {
                prop_assert!(addr < set.get(i + 1).addr);
            }
        }

        #[test]
        fn get_never_returns_an_excluded_address(
            excludes in prop::collection::vec(
                (any::<u32>(), 4u8..=32).prop_map(|(a, p)| Cidr::new(Ipv4Addr::from(a), p)),
                0..8,
            ),
            indices in prop::collection::vec(any::<u64>(), 100),
        ) {
            let set = TargetSet::new(&[net("0.0.0.0/0")], 80, &excludes, true);
            let mut cut = special_purpose();
            cut.extend(&excludes);
            prop_assert_eq!(set.len(), (1u64 << 32) - union_len(&cut));
            for i in indices {
                if set.is_empty() {
                    break;
                }
                let addr = set.get(i % set.len()).addr;
                prop_assert!(!cut.iter().any(|c| c.contains(addr)), "{}", addr);
            }
        }

        #[test]
        fn small_sets_hold_what_was_asked(
            (specs, excludes) in small_specs(),
        ) {
            // Every network address not excluded, once, then the mapped targets as given.
            let mut want: Vec<Ipv4Addr> = Vec::new();
            for spec in &specs {
                if let Spec::Net(net) = spec {
                    want.extend(net.iter().filter(|a| !excludes.iter().any(|e| e.contains(*a))));
                }
            }
            want.sort();
            want.dedup();
            let mapped: Vec<Target> = specs
                .iter()
                .flat_map(|s| match *s {
                    Spec::Mapped { addr, .. } if excludes.iter().any(|e| e.contains(addr)) => None,
                    Spec::Mapped { addr, dial } => Some(Target { addr, port: 80, dial }),
                    Spec::Net(_) => None,
                })
                .collect();
            let mut want: Vec<Target> =
                want.into_iter().map(|a| Target::direct(a, 80)).collect();
            want.extend(mapped);
            let set = TargetSet::new(&specs, 80, &excludes, true);
            prop_assert_eq!(all(&set), want);
        }
    }

    #[test]
    fn identity_and_tiny_domains() {
        let p = Permutation::new(Order::Sequential, 10);
        assert_eq!(
            (0..10).map(|i| p.permute(i)).collect::<Vec<_>>(),
            (0..10).collect::<Vec<_>>()
        );
        for seed in 0..50 {
            assert_eq!(Permutation::new(Order::Random { seed }, 1).permute(0), 0);
            let two = Permutation::new(Order::Random { seed }, 2);
            assert_eq!(sorted(vec![two.permute(0), two.permute(1)]), vec![0, 1]);
        }
        assert!(Permutation::new(Order::Random { seed: 1 }, 0).is_empty());
    }

    #[test]
    fn large_domains_need_no_memory() {
        // 2^32 exactly fills a Feistel domain of 2 x 16 bits; one more needs 2 x 17.
        for n in [1u64 << 32, (1 << 32) + 1, u64::MAX] {
            let p = Permutation::new(Order::Random { seed: 7 }, n);
            let images: HashSet<u64> = (0..1000).map(|i| p.permute(i)).collect();
            assert_eq!(images.len(), 1000);
            assert!(images.iter().all(|&x| x < n));
            assert!(p.permute(n - 1) < n);
        }
        assert!(std::mem::size_of::<Permutation>() <= 96);
    }

    #[test]
    fn seeds_give_different_orders() {
        let a = Permutation::new(Order::Random { seed: 1 }, 1000);
        let b = Permutation::new(Order::Random { seed: 2 }, 1000);
        let differ = (0..1000).filter(|&i| a.permute(i) != b.permute(i)).count();
        assert!(differ > 900, "{differ}");
        // Not the identity either: a shuffled scan must not quietly be a sequential one.
        let moved = (0..1000).filter(|&i| a.permute(i) != i).count();
        assert!(moved > 900, "{moved}");
    }

    #[test]
    fn sequential_order_is_todays_order() {
        let specs = [
            net("127.0.0.0/30"),
            net("127.0.1.7"),
            net("127.0.2.0/29"),
            mapped("127.64.0.9", "127.0.0.1:4000"),
            mapped("127.64.0.3", "127.0.0.1:4001"),
        ];
        let today: Vec<Target> = specs.iter().flat_map(|s| s.targets(8080)).collect();
        let set = Arc::new(TargetSet::new(&specs, 8080, &[], true));
        assert_eq!(set.len(), 4 + 1 + 8 + 2);
        let walked: Vec<Target> = set.walk(Order::Sequential, Shard::ALL, 0).collect();
        assert_eq!(walked, today);
    }

    #[test]
    fn networks_merge_and_mapped_targets_stay() {
        let specs = [
            net("127.0.0.4/30"),
            mapped("127.0.0.5", "127.0.0.1:4000"),
            net("127.0.0.0/29"),
            net("127.0.0.6/31"),
            mapped("127.0.0.5", "127.0.0.1:4000"),
        ];
        let set = TargetSet::new(&specs, 80, &[], true);
        // 127.0.0.0/29 holds the other two networks; both mapped targets remain.
        assert_eq!(set.len(), 8 + 2);
        let targets = all(&set);
        assert_eq!(targets[0].addr, Ipv4Addr::new(127, 0, 0, 0));
        assert_eq!(targets[7].addr, Ipv4Addr::new(127, 0, 0, 7));
        assert_eq!(targets[8], targets[9]);
        assert_eq!(targets[8].dial, "127.0.0.1:4000".parse().unwrap());

        // Exclusions cut networks and drop mapped targets by their address.
        let set = TargetSet::new(&specs, 80, &[cidr("127.0.0.4/30")], true);
        assert_eq!(
            all(&set)
                .iter()
                .map(|t| t.addr.octets()[3])
                .collect::<Vec<_>>(),
            vec![0, 1, 2, 3]
        );
        let empty = TargetSet::new(&specs, 80, &[cidr("0.0.0.0/0")], true);
        assert!(empty.is_empty());
        assert_eq!(
            Arc::new(empty)
                .walk(Order::Random { seed: 3 }, Shard::ALL, 0)
                .count(),
            0
        );
    }

    #[test]
    fn private_specs_keep_their_special_addresses() {
        // Typed by the user, and private: scanned as typed.
        let set = TargetSet::new(&[net("127.0.0.1")], 80, &[], true);
        assert_eq!(all(&set)[0].addr, Ipv4Addr::LOCALHOST);
        let set = TargetSet::new(&[mapped("127.64.0.9", "127.0.0.1:4000")], 80, &[], true);
        assert_eq!(set.len(), 1);
        // The rule is per spec: the whole internet plus loopback by name keeps loopback...
        let both = TargetSet::new(&[net("0.0.0.0/0"), net("127.0.0.0/8")], 80, &[], true);
        let alone = TargetSet::new(&[net("0.0.0.0/0")], 80, &[], true);
        assert_eq!(both.len(), alone.len() + (1 << 24));
        // ...and so does a spec that lies inside one special range: it was asked for by name...
        let set = TargetSet::new(&[mapped("224.0.0.1", "127.0.0.1:4000")], 80, &[], true);
        assert_eq!(set.len(), 1);
        let set = TargetSet::new(&[net("192.0.2.0/24")], 80, &[], true);
        assert_eq!(set.len(), 256);
        // ...but a public spec loses the special addresses in it.
        let set = TargetSet::new(&[net("192.0.2.0/23")], 80, &[], true);
        assert_eq!(set.len(), 256);
        assert_eq!(all(&set)[0].addr, Ipv4Addr::new(192, 0, 3, 0));
        // And nothing is skipped when the caller turns the rule off.
        let set = TargetSet::new(&[net("192.0.2.0/23")], 80, &[], false);
        assert_eq!(set.len(), 512);
    }

    #[test]
    fn the_whole_internet_without_special_ranges() {
        let set = TargetSet::new(&[net("0.0.0.0/0")], 80, &[], true);
        // Computed another way, and by hand.
        let blocks = special_purpose();
        let special = union_len(&blocks);
        assert_eq!(set.len(), (1u64 << 32) - special);
        // Three /8s, a /10, two /4s and smaller blocks: about 14% of the space.
        assert_eq!(
            special,
            3 * (1 << 24) + (1 << 22) + 2 * (1 << 28) + 1_312_768
        );

        assert_eq!(set.get(0).addr, Ipv4Addr::new(1, 0, 0, 0));
        assert_eq!(
            set.get(set.len() - 1).addr,
            Ipv4Addr::new(223, 255, 255, 255)
        );
        assert!(!args::is_private(&Cidr::new(set.get(0).addr, 32)));

        // The set is a few runs, and a random walk over it starts at once.
        assert!(set.runs.len() < 40, "{}", set.runs.len());
        let set = Arc::new(set);
        let first: Vec<Target> = set
            .clone()
            .walk(
                Order::Random { seed: 42 },
                Shard { index: 3, count: 4 },
                1_000_000,
            )
            .take(1000)
            .collect();
        let distinct: HashSet<Ipv4Addr> = first.iter().map(|t| t.addr).collect();
        assert_eq!(distinct.len(), 1000);
        assert!(distinct
            .iter()
            .all(|a| !blocks.iter().any(|b| b.contains(*a))));
    }

    #[test]
    fn every_address_of_the_internet_is_reachable() {
        let set = TargetSet::new(&[net("0.0.0.0/0")], 1, &[], false);
        assert_eq!(set.len(), 1 << 32);
        assert_eq!(set.get(0).addr, Ipv4Addr::UNSPECIFIED);
        assert_eq!(set.get((1 << 32) - 1).addr, Ipv4Addr::BROADCAST);
        let set = TargetSet::new(&[net("255.255.255.0/24")], 1, &[], false);
        assert_eq!(set.get(255).addr, Ipv4Addr::BROADCAST);
    }

    #[test]
    #[should_panic(expected = "out of range")]
    fn get_past_the_end_panics() {
        TargetSet::new(&[net("127.0.0.0/30")], 80, &[], true).get(4);
    }

    #[test]
    fn more_shards_than_targets() {
        let set = Arc::new(TargetSet::new(&[net("127.0.0.0/30")], 80, &[], true));
        let got = sorted_targets(every_shard(&set, Order::Random { seed: 9 }, 7));
        assert_eq!(got, all(&set));
        let shard = Shard { index: 6, count: 7 };
        assert_eq!(shard.len_of(4), 0);
        assert_eq!(set.clone().walk(Order::Sequential, shard, 0).count(), 0);
        // A start past the end is an empty walk, not a panic.
        assert_eq!(set.walk(Order::Sequential, Shard::ALL, 99).count(), 0);
    }

    #[test]
    fn walks_can_go_to_other_threads() {
        fn send_static<T: Send + 'static>(_: &T) {}
        let set = Arc::new(TargetSet::new(&[net("127.0.0.0/24")], 80, &[], true));
        let walk = set.walk(Order::Random { seed: 1 }, Shard::ALL, 0);
        send_static(&walk);
        let count = std::thread::spawn(move || walk.count()).join().unwrap();
        assert_eq!(count, 256);
    }

    #[test]
    fn shard_parsing() {
        assert_eq!(Shard::parse("2/4"), Ok(Shard { index: 2, count: 4 }));
        assert_eq!(" 1/1 ".parse::<Shard>(), Ok(Shard::ALL));
        assert_eq!(Shard::parse("4/4").unwrap().to_string(), "4/4");
        for (input, want) in [
            ("0/4", "start at 1"),
            ("5/4", "no shard 5 of 4"),
            ("1/0", "at least 1"),
            ("0/0", "at least 1"),
            ("two/4", "not a shard"),
            ("2", "not a shard"),
            ("2/4/8", "not a shard"),
            ("+2/4", "not a shard"),
            ("-1/4", "not a shard"),
            ("", "not a shard"),
            ("99999999999999999999/4", "not a shard"),
        ] {
            let err = Shard::parse(input).unwrap_err();
            assert!(err.contains(want), "{input:?}: {err}");
            assert!(!err.contains('\n'), "{input:?}: {err}");
        }
        assert_eq!(Shard { index: 1, count: 3 }.len_of(10), 4);
        assert_eq!(Shard { index: 2, count: 3 }.len_of(10), 3);
        assert_eq!(Shard { index: 3, count: 3 }.len_of(10), 3);
        assert_eq!(Shard::ALL.len_of(1 << 32), 1 << 32);
    }

    #[test]
    fn exclude_lists() {
        let text =
            "# lab machines\n\n10.0.0.0/8\n192.168.1.7   # the printer\n   \n172.16.0.0/12#x\n";
        assert_eq!(
            parse_excludes(text),
            Ok(vec![
                cidr("10.0.0.0/8"),
                cidr("192.168.1.7"),
                cidr("172.16.0.0/12")
            ])
        );
        assert_eq!(parse_excludes(""), Ok(vec![]));

        let err = parse_excludes("10.0.0.0/8\n\n10.0.0.0/33 # typo\n").unwrap_err();
        assert!(err.starts_with("line 3: "), "{err}");
        assert!(err.contains("'10.0.0.0/33'"), "{err}");
        assert!(err.contains("0 to 32"), "{err}");
        let err = parse_excludes("example.com\n").unwrap_err();
        assert!(
            err.starts_with("line 1: ") && err.contains("example.com"),
            "{err}"
        );
        let err = parse_excludes("10.0.0.0 8\n").unwrap_err();
        assert!(err.contains("'10.0.0.0 8'") && !err.contains('\n'), "{err}");
    }

    #[test]
    fn exclude_files() {
        let path = std::env::temp_dir().join(format!("wardial-exclude-{}", std::process::id()));
        std::fs::write(&path, "127.0.0.0/8\n# comment\n127.0.0.300\n").unwrap();
        let err = read_exclude_file(&path).unwrap_err();
        assert_eq!(
            err,
            format!(
                "{}:3: cannot exclude '127.0.0.300': '127.0.0.300' is not an IPv4 address: expected four numbers 0-255 separated by dots, like 10.0.0.0/16",
                path.display()
            )
        );
        std::fs::write(&path, "127.0.0.0/8\n").unwrap();
        assert_eq!(read_exclude_file(&path), Ok(vec![cidr("127.0.0.0/8")]));
        std::fs::remove_file(&path).unwrap();

        let err = read_exclude_file("/nonexistent/wardial-exclude").unwrap_err();
        assert!(
            err.starts_with("cannot read exclude file '/nonexistent/wardial-exclude': "),
            "{err}"
        );
        assert!(!err.contains('\n'), "{err}");
    }
}
