//! [`Shard`]: one part of a scan split over several runs or machines.

use std::fmt;
use std::str::FromStr;

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
    pub fn position_of(&self, k: u64) -> u64 {
        (self.index - 1) + k * self.count
    }

    /// Which of this shard's targets the scan position `p` is (`None`: another shard's).
    pub fn k_of(&self, p: u64) -> Option<u64> {
        (p % self.count == self.index - 1).then_some(p / self.count)
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

#[cfg(test)]
mod tests {
    use super::*;

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
        let shard = Shard { index: 2, count: 3 };
        assert_eq!(shard.position_of(4), 13);
        assert_eq!(shard.k_of(13), Some(4));
        assert_eq!(shard.k_of(12), None);
    }
}
