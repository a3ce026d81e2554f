//! Who lives where: the behaviour of every virtual host, as a pure function of `(seed, address)`.
//! No sockets here, so the ground truth can be computed without a running server.

use std::net::Ipv4Addr;
use std::time::Duration;

use wardial_probe::{Cidr, Outcome};

/// What a virtual host does when probed. Each has its ground truth in [`World::truth`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Behaviour {
    /// Reads the request, waits `latency`, answers `status` and a small body, closes.
    Live { latency: Duration, status: u16 },
    /// Nothing listens.
    Refused,
    /// Accepts and never answers.
    Blackhole,
    /// Sends a valid status line one byte every `trickle_interval`.
    Trickle,
    /// Sends a banner that is not HTTP.
    Garbage,
    /// Sends a status line, then a body that never ends.
    Endless,
    /// Accepts, then resets the connection without a byte.
    Reset,
    /// Never answers the SYN: the connect itself must time out (a listener whose backlog is
    /// full, which is what a firewall that drops packets looks like from outside).
    Filtered,
    /// Reads the request, answers `100 Continue` at once, then after `latency` the final
    /// `status`.
    Interim { latency: Duration, status: u16 },
    /// Reads the request, sends the first bytes of a status line, then resets.
    PartialReset,
    /// Reads the request, answers a valid status line followed by a malformed header (a space
    /// before the colon, an obsolete line fold, or a NUL byte), in one segment.
    BadHeader { status: u16 },
    /// Reads the request, answers an empty line (CR LF) and then a valid status line.
    BlankLine { status: u16 },
}

/// The behaviours in a fixed order: indexes into [`Mix`] weights and listener tables.
pub const KINDS: [&str; 12] = [
    "live",
    "refused",
    "blackhole",
    "trickle",
    "garbage",
    "endless",
    "reset",
    "filtered",
    "interim",
    "partial-reset",
    "bad-header",
    "blank-line",
];

impl Behaviour {
    /// Index into [`KINDS`].
    pub fn index(&self) -> usize {
        match self {
            Behaviour::Live { .. } => 0,
            Behaviour::Refused => 1,
            Behaviour::Blackhole => 2,
            Behaviour::Trickle => 3,
            Behaviour::Garbage => 4,
            Behaviour::Endless => 5,
            Behaviour::Reset => 6,
            Behaviour::Filtered => 7,
            Behaviour::Interim { .. } => 8,
            Behaviour::PartialReset => 9,
            Behaviour::BadHeader { .. } => 10,
            Behaviour::BlankLine { .. } => 11,
        }
    }

    pub fn name(&self) -> &'static str {
        KINDS[self.index()]
    }
}

/// Relative weights of the behaviours, in the order of [`KINDS`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Mix(pub [u32; 12]);

impl Mix {
    /// Looks like the real internet: well under 1% live, a minority refused, most silent (and
    /// most of the silent ones filtered: a firewall drops the SYN). (Real scans for the Python
    /// course this one grew from found 6 servers in 1024 addresses and 71 in 65536.)
    pub fn realistic() -> Mix {
        //   live refused blackhole trickle garbage endless reset
        //   filtered interim partial-reset bad-header blank-line
        Mix([
            60, 1_500, 2_100, 40, 150, 20, 130, //
            6_000, 5, 10, 10, 5,
        ])
    }

    /// Every behaviour common enough that a few dozen hosts show them all: for the conformance
    /// suite and the hostile-peer tests.
    pub fn every_behaviour() -> Mix {
        Mix([30, 10, 10, 10, 15, 10, 15, 10, 10, 10, 10, 10])
    }

    /// Every host live: the latency-bound and overhead-bound races.
    pub fn all_live() -> Mix {
        Mix::only("live").expect("a behaviour")
    }

    /// Only one behaviour, by name (see [`KINDS`]); `None` for an unknown name.
    pub fn only(kind: &str) -> Option<Mix> {
        let i = KINDS.iter().position(|k| *k == kind)?;
        let mut w = [0; KINDS.len()];
        w[i] = 1;
        Some(Mix(w))
    }
}

/// What a correct probe may report for a host: one outcome, or either of two when the host's
/// timing is within [`World::margin`] of the timeout (then scheduling jitter, not the model,
/// decides which side of the deadline the answer lands).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Truth {
    Exactly(Outcome),
    Either(Outcome, Outcome),
}

impl Truth {
    pub fn accepts(&self, outcome: &Outcome) -> bool {
        match self {
            Truth::Exactly(want) => want == outcome,
            Truth::Either(a, b) => a == outcome || b == outcome,
        }
    }
}

impl std::fmt::Display for Truth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Truth::Exactly(o) => write!(f, "{o}"),
            Truth::Either(a, b) => write!(f, "{a} or {b}"),
        }
    }
}

/// The status codes live hosts answer with, most of them 200.
pub const STATUSES: [u16; 8] = [200, 200, 200, 200, 301, 302, 403, 404];

/// The most a host's timing may be off the timeout and still count as a near miss, where either
/// outcome is right: 25 ms, or 5% of the timeout if that is more. A host that answers 1 ms
/// before a probe's deadline may be heard or not, depending on how the two processes'
/// threads were scheduled; a model cannot be blamed for that.
pub const MARGIN_FLOOR: Duration = Duration::from_millis(25);

/// The status line a trickle host sends, one byte at a time.
pub const TRICKLE_LINE: &[u8] = b"HTTP/1.1 200 OK\r\n";

/// The configuration of a simulated internet: enough to compute every host's behaviour.
#[derive(Debug, Clone)]
pub struct World {
    pub seed: u64,
    /// The range it plays by default (it answers for any address asked, but this is the range
    /// scans and tables use). Inside 127.0.0.0/8, so that a bug that dials a virtual address
    /// directly still stays on this machine.
    pub range: Cidr,
    pub mix: Mix,
    /// Live hosts pick their latency from these (uniformly, by address).
    pub latencies: Vec<Duration>,
    /// The pause between the bytes a trickle host sends.
    pub trickle_interval: Duration,
}

impl Default for World {
    fn default() -> World {
        World {
            seed: 1,
            range: Cidr::new(Ipv4Addr::new(127, 64, 0, 0), 22),
            mix: Mix::realistic(),
            latencies: [20, 40, 60, 80, 120, 200]
                .map(Duration::from_millis)
                .to_vec(),
            trickle_interval: Duration::from_secs(1),
        }
    }
}

/// splitmix64: a tiny, well-mixed hash, written out so the world needs no RNG crate and stays
/// the same across versions of one.
fn mix64(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

impl World {
    /// A hash of this world's seed and an address, with a salt per use so the draws are
    /// independent.
    pub fn hash(&self, addr: Ipv4Addr, salt: u64) -> u64 {
        mix64(mix64(self.seed ^ salt.wrapping_mul(0x1000_0000_01b3)) ^ u64::from(u32::from(addr)))
    }

    /// What the host at `addr` does. Pure: the same world gives the same answer every time.
    pub fn behaviour(&self, addr: Ipv4Addr) -> Behaviour {
        let total: u64 = self.mix.0.iter().map(|w| u64::from(*w)).sum();
        let mut pick = self.hash(addr, 1) % total.max(1);
        let mut kind = 0;
        for (i, w) in self.mix.0.iter().enumerate() {
            if pick < u64::from(*w) {
                kind = i;
                break;
            }
            pick -= u64::from(*w);
        }
        let latency =
            || self.latencies[(self.hash(addr, 2) % self.latencies.len().max(1) as u64) as usize];
        let status = || STATUSES[(self.hash(addr, 3) % STATUSES.len() as u64) as usize];
        match kind {
            0 => Behaviour::Live {
                latency: latency(),
                status: status(),
            },
            1 => Behaviour::Refused,
            2 => Behaviour::Blackhole,
            3 => Behaviour::Trickle,
            4 => Behaviour::Garbage,
            5 => Behaviour::Endless,
            6 => Behaviour::Reset,
            7 => Behaviour::Filtered,
            8 => Behaviour::Interim {
                latency: latency(),
                status: status(),
            },
            9 => Behaviour::PartialReset,
            10 => Behaviour::BadHeader { status: status() },
            _ => Behaviour::BlankLine { status: status() },
        }
    }

    /// How near the timeout a host's timing may be for either outcome to be right: see
    /// [`MARGIN_FLOOR`].
    pub fn margin(&self, timeout: Duration) -> Duration {
        MARGIN_FLOOR.max(timeout / 20)
    }

    /// The ground truth: what a correct probe with this `timeout` reports for `addr`.
    pub fn truth(&self, addr: Ipv4Addr, timeout: Duration) -> Truth {
        // A host that takes `took` to decide the answer: `in_time` if that is before the
        // deadline, `late` if after, either if it is a near miss.
        let by_time = |took: Duration, in_time: Outcome, late: Outcome| {
            if took.abs_diff(timeout) <= self.margin(timeout) {
                Truth::Either(in_time, late)
            } else if took < timeout {
                Truth::Exactly(in_time)
            } else {
                Truth::Exactly(late)
            }
        };
        match self.behaviour(addr) {
            Behaviour::Live { latency, status } => {
                by_time(latency, Outcome::http(status), Outcome::Timeout)
            }
            Behaviour::Refused => Truth::Exactly(Outcome::Refused),
            Behaviour::Blackhole | Behaviour::Filtered => Truth::Exactly(Outcome::Timeout),
            Behaviour::Trickle => {
                by_time(self.trickle_time(), Outcome::http(200), Outcome::Timeout)
            }
            Behaviour::Garbage | Behaviour::PartialReset => Truth::Exactly(Outcome::NotHttp),
            Behaviour::Endless => Truth::Exactly(Outcome::http(200)),
            Behaviour::Reset => Truth::Exactly(Outcome::Closed),
            // The interim answer came, so the host speaks HTTP even if the final one is late.
            Behaviour::Interim { latency, status } => {
                by_time(latency, Outcome::http(status), Outcome::http(100))
            }
            Behaviour::BadHeader { status } | Behaviour::BlankLine { status } => {
                Truth::Exactly(Outcome::http(status))
            }
        }
    }

    /// How long a trickle host takes to send its whole status line.
    pub fn trickle_time(&self) -> Duration {
        self.trickle_interval * TRICKLE_LINE.len() as u32
    }

    /// How long a correct probe with this `timeout` must wait for `addr`: the least time any
    /// model can spend on it (the race's ideal time is built from these).
    pub fn expected_wait(&self, addr: Ipv4Addr, timeout: Duration) -> Duration {
        match self.behaviour(addr) {
            Behaviour::Live { latency, .. } | Behaviour::Interim { latency, .. } => {
                latency.min(timeout)
            }
            Behaviour::Blackhole | Behaviour::Filtered => timeout,
            Behaviour::Trickle => self.trickle_time().min(timeout),
            Behaviour::Refused
            | Behaviour::Garbage
            | Behaviour::Endless
            | Behaviour::Reset
            | Behaviour::PartialReset
            | Behaviour::BadHeader { .. }
            | Behaviour::BlankLine { .. } => Duration::ZERO,
        }
    }

    /// How many hosts of each behaviour the range holds, in the order of [`KINDS`].
    pub fn census(&self) -> [u64; KINDS.len()] {
        let mut n = [0; KINDS.len()];
        for addr in self.range {
            n[self.behaviour(addr).index()] += 1;
        }
        n
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn behaviour_is_a_pure_function_of_seed_and_address() {
        let w = World::default();
        let a = Ipv4Addr::new(127, 64, 1, 2);
        assert_eq!(w.behaviour(a), w.behaviour(a));
        let other = World {
            seed: 2,
            ..World::default()
        };
        let differs = w.range.iter().any(|a| w.behaviour(a) != other.behaviour(a));
        assert!(differs, "the seed must matter");
    }

    #[test]
    fn realistic_mix_looks_like_the_internet() {
        let w = World {
            range: "127.64.0.0/16".parse().unwrap(),
            ..World::default()
        };
        let n = w.census();
        let total: u64 = n.iter().sum();
        assert_eq!(total, 65536);
        let live = n[0] as f64 / total as f64;
        assert!(live > 0.001 && live < 0.01, "live share {live}");
        assert!(n[2] + n[7] > total / 2, "most hosts are silent");
        assert!(n[1] < total / 3, "a minority refuses");
        assert!(n.iter().all(|&k| k > 0), "every behaviour appears: {n:?}");
    }

    #[test]
    fn ground_truth_follows_the_timeout() {
        let ms = Duration::from_millis;
        let w = World {
            mix: Mix::all_live(),
            latencies: vec![ms(100)],
            ..World::default()
        };
        let a = w.range.first();
        let Behaviour::Live { status, .. } = w.behaviour(a) else {
            panic!("all live")
        };
        let http = Outcome::http(status);
        assert_eq!(w.truth(a, ms(200)), Truth::Exactly(http));
        assert_eq!(w.truth(a, ms(50)), Truth::Exactly(Outcome::Timeout));
        // A near miss either way: within 25 ms (or 5%) of the timeout, either outcome is right.
        for timeout in [ms(101), ms(100), ms(80)] {
            let truth = w.truth(a, timeout);
            assert!(
                truth.accepts(&http) && truth.accepts(&Outcome::Timeout),
                "{truth}"
            );
            assert!(!truth.accepts(&Outcome::Closed));
        }
        let w = World {
            latencies: vec![ms(499)],
            ..w
        };
        assert!(w.truth(a, ms(500)).accepts(&Outcome::Timeout));
        assert!(w.truth(a, ms(500)).accepts(&http));
        assert_eq!(w.margin(ms(2000)), ms(100));

        let w = World {
            mix: Mix::only("trickle").unwrap(),
            trickle_interval: ms(10),
            ..World::default()
        };
        assert_eq!(w.truth(a, ms(100)), Truth::Exactly(Outcome::Timeout));
        assert_eq!(
            w.truth(a, Duration::from_secs(1)),
            Truth::Exactly(Outcome::http(200))
        );
        assert_eq!(w.expected_wait(a, ms(100)), ms(100));
        assert_eq!(w.expected_wait(a, Duration::from_secs(1)), w.trickle_time());
        assert!(Mix::only("nonsense").is_none());
    }

    #[test]
    fn the_new_behaviours_have_their_truth() {
        let ms = Duration::from_millis;
        let truth_of = |kind: &str, latency: Duration| {
            let w = World {
                mix: Mix::only(kind).unwrap(),
                latencies: vec![latency],
                ..World::default()
            };
            let a = w.range.first();
            (w.behaviour(a), w.truth(a, ms(500)))
        };
        assert_eq!(
            truth_of("filtered", ms(0)).1,
            Truth::Exactly(Outcome::Timeout)
        );
        assert_eq!(
            truth_of("partial-reset", ms(0)).1,
            Truth::Exactly(Outcome::NotHttp)
        );
        let (Behaviour::Interim { status, .. }, truth) = truth_of("interim", ms(10)) else {
            panic!("interim")
        };
        assert_eq!(truth, Truth::Exactly(Outcome::http(status)));
        // The final status comes too late: the interim one stands.
        let (_, truth) = truth_of("interim", ms(5000));
        assert_eq!(truth, Truth::Exactly(Outcome::http(100)));
        for kind in ["bad-header", "blank-line"] {
            let (b, truth) = truth_of(kind, ms(0));
            let (Behaviour::BadHeader { status } | Behaviour::BlankLine { status }) = b else {
                panic!("{kind}")
            };
            assert_eq!(truth, Truth::Exactly(Outcome::http(status)));
        }
    }
}
