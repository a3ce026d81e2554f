//! CIDR blocks and the lazy iterator over their addresses.
//!
//! This mirrors the course homework's `netmask_to_ips`, which was a Python generator: here it is
//! an [`Iterator`] that holds two integers, so walking `0.0.0.0/0` (4 294 967 296 addresses)
//! costs the same memory as walking a `/32`.

use std::fmt;
use std::net::Ipv4Addr;
use std::str::FromStr;

/// An IPv4 network such as `175.45.176.0/22`. Host bits given in the input are masked off, so
/// `134.173.55.0/16` is the network `134.173.0.0/16`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Cidr {
    network: Ipv4Addr,
    prefix: u8,
}

/// Why a string is not a CIDR block (or a bare address).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CidrError {
    Empty,
    BadAddress(String),
    BadPrefix(String),
}

impl fmt::Display for CidrError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CidrError::Empty => write!(f, "empty network: expected an address like 10.0.0.0/16"),
            CidrError::BadAddress(s) => write!(
                f,
                "'{s}' is not an IPv4 address: expected four numbers 0-255 separated by dots, like 10.0.0.0/16"
            ),
            CidrError::BadPrefix(s) => write!(
                f,
                "'{s}' is not a prefix length: expected a number from 0 to 32 after the '/'"
            ),
        }
    }
}

impl std::error::Error for CidrError {}

impl Cidr {
    /// 127.0.0.0/8, this machine's own: where the simulated internet plays, and all a test may
    /// touch.
    pub const LOOPBACK: Cidr = Cidr {
        network: Ipv4Addr::new(127, 0, 0, 0),
        prefix: 8,
    };

    /// The network `addr/prefix`, host bits masked. Panics if `prefix > 32`: use [`str::parse`]
    /// for input that has not been checked.
    pub fn new(addr: Ipv4Addr, prefix: u8) -> Cidr {
        assert!(prefix <= 32, "prefix {prefix} is longer than 32 bits");
        let network = Ipv4Addr::from(u32::from(addr) & Self::mask(prefix));
        Cidr { network, prefix }
    }

    fn mask(prefix: u8) -> u32 {
        // `u32::MAX << 32` would overflow, hence `checked_shl`: /0 masks every bit off.
        u32::MAX.checked_shl(32 - u32::from(prefix)).unwrap_or(0)
    }

    pub fn network(&self) -> Ipv4Addr {
        self.network
    }

    pub fn prefix(&self) -> u8 {
        self.prefix
    }

    /// How many addresses the block holds: 2^(32 - prefix). A `u64`, since `/0` holds 2^32.
    pub fn len(&self) -> u64 {
        1u64 << (32 - u32::from(self.prefix))
    }

    /// Never true: the smallest block, a `/32`, holds one address. Here for clippy's sake.
    pub fn is_empty(&self) -> bool {
        false
    }

    pub fn first(&self) -> Ipv4Addr {
        self.network
    }

    pub fn last(&self) -> Ipv4Addr {
        Ipv4Addr::from(u32::from(self.network) | !Self::mask(self.prefix))
    }

    pub fn contains(&self, addr: Ipv4Addr) -> bool {
        u32::from(addr) & Self::mask(self.prefix) == u32::from(self.network)
    }

    /// Whether every address of `other` is in this block (blocks never overlap partly: one
    /// holds the other, or they are apart).
    pub fn covers(&self, other: &Cidr) -> bool {
        other.prefix >= self.prefix && self.contains(other.network)
    }

    // ANCHOR: iter
    /// The addresses of the block, first to last, computed one at a time.
    pub fn iter(&self) -> CidrIter {
        CidrIter {
            // u64 bounds so that the end of 255.255.255.255/32 (2^32) is representable.
            next: u64::from(u32::from(self.network)),
            end: u64::from(u32::from(self.network)) + self.len(),
        }
    }
    // ANCHOR_END: iter
}

impl fmt::Display for Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.network, self.prefix)
    }
}

impl FromStr for Cidr {
    type Err = CidrError;

    /// Parses `a.b.c.d/n`, or a bare `a.b.c.d` as a `/32`.
    fn from_str(s: &str) -> Result<Cidr, CidrError> {
        let s = s.trim();
        if s.is_empty() {
            return Err(CidrError::Empty);
        }
        let (addr, prefix) = match s.split_once('/') {
            Some((addr, prefix)) => (addr, Some(prefix)),
            None => (s, None),
        };
        // std's parser is strict: exactly four decimal octets, each 0-255, no leading zeros.
        let addr: Ipv4Addr = addr
            .parse()
            .map_err(|_| CidrError::BadAddress(addr.to_string()))?;
        let prefix = match prefix {
            None => 32,
            Some(p) => match p.parse::<u8>() {
                Ok(n) if n <= 32 && !p.starts_with('+') => n,
                _ => return Err(CidrError::BadPrefix(p.to_string())),
            },
        };
        Ok(Cidr::new(addr, prefix))
    }
}

impl IntoIterator for Cidr {
    type Item = Ipv4Addr;
    type IntoIter = CidrIter;
    fn into_iter(self) -> CidrIter {
        self.iter()
    }
}

/// The lazy iterator over a [`Cidr`]'s addresses: two integers, whatever the block's size.
#[derive(Debug, Clone)]
pub struct CidrIter {
    next: u64,
    end: u64,
}

impl Iterator for CidrIter {
    type Item = Ipv4Addr;

    fn next(&mut self) -> Option<Ipv4Addr> {
        // Task 1: return the next address of the block and advance, or None once `next` reaches
        // `end`. Compute it from the two integers: no Vec, nothing collected.
        todo!("Task 1: see the comment above");
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let left = usize::try_from(self.end - self.next).ok();
        (left.unwrap_or(usize::MAX), left)
    }

    fn nth(&mut self, n: usize) -> Option<Ipv4Addr> {
        self.next = self.next.saturating_add(n as u64).min(self.end);
        self.next()
    }
}

impl DoubleEndedIterator for CidrIter {
    fn next_back(&mut self) -> Option<Ipv4Addr> {
        // Task 1: the same from the other end: the last address not yet yielded.
        todo!("Task 1: see the comment above");
    }
}

impl std::iter::FusedIterator for CidrIter {}

