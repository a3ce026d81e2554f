//! The order of a scan: the identity, or a keyed Feistel permutation with cycle walking (the
//! construction is explained in [`crate::targets`]).

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

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    fn sorted<T: Ord>(mut v: Vec<T>) -> Vec<T> {
        v.sort();
        v
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
}
