//! [`TargetSet`]: the targets of a scan as sorted runs of addresses plus mapped targets, so that
//! position `i` turns into the `i`-th target by binary search, in memory that grows with the
//! runs, never with the addresses.

use std::net::Ipv4Addr;

use wardial_probe::{Cidr, Target};

use super::ports::Ports;
use super::ranges::{in_ranges, merge, range_of, subtract};
use super::spec::Spec;
use super::special::{skips_special_purpose, special_purpose};

/// One run of consecutive addresses in a [`TargetSet`]: where it starts, and how many targets
/// come before it (the prefix sum that binary search looks up).
#[derive(Debug, Clone, Copy)]
struct Run {
    start: u64,
    before: u64,
}

/// The targets of a scan, in a fixed order that positions `0..len()` index: first every
/// (address, port) pair of the networks (addresses merged, each once, ascending; each address's
/// ports in ascending order), then the mapped targets in the order given.
///
/// Memory is proportional to the number of runs of consecutive addresses, never to the number
/// of addresses: `0.0.0.0/0` minus the special-purpose ranges is a few dozen runs.
#[derive(Debug, Clone)]
pub struct TargetSet {
    ports: Ports,
    runs: Vec<Run>,
    /// How many addresses the runs hold together (up to 2^32, hence `u64`).
    net_len: u64,
    mapped: Vec<Target>,
}

impl TargetSet {
    /// The targets of `specs` on `ports`, without `excludes`, and, when `skip_special_in_public`
    /// is set, without the [`SPECIAL_PURPOSE`](super::special::SPECIAL_PURPOSE) ranges in the specs that
    /// [`skips_special_purpose`] says are public.
    ///
    /// The rule applies spec by spec, before the union: `0.0.0.0/0 127.0.0.0/8` scans loopback,
    /// because the user asked for it by name. `excludes` apply to every spec, private or not.
    ///
    /// A mapped spec (`ADDRESS HOST:PORT`) is one target, kept as given even if a network holds
    /// the same address or another mapped spec repeats it; the exclusions test its `ADDRESS`. It
    /// dials its own `HOST:PORT`, so it is probed once, reported on the first of `ports`.
    pub fn new(
        specs: &[Spec],
        ports: &Ports,
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
                // An address typed on its own is asked for by name (see `skips_special_purpose`):
                // only the exclusions remove it.
                Spec::Mapped { addr, dial } => {
                    if !in_ranges(&excluded, addr) {
                        let port = ports.first();
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
            ports: ports.clone(),
            runs,
            net_len,
            mapped,
        }
    }

    /// How many targets the set holds: up to 2^32 addresses times the ports, plus the mapped
    /// targets.
    pub fn len(&self) -> u64 {
        self.pairs() + self.mapped.len() as u64
    }

    /// How many (address, port) pairs the networks hold.
    fn pairs(&self) -> u64 {
        self.net_len * self.ports.len() as u64
    }

    /// How many runs of consecutive addresses the set holds: what its memory grows with.
    pub fn run_count(&self) -> usize {
        self.runs.len()
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
        if i < self.pairs() {
            // Pair i is address i / ports, on the (i % ports)-th port: an address's ports sit
            // side by side, and the permutation shuffles the pairs, not just the addresses.
            let nports = self.ports.len() as u64;
            let (a, port) = (i / nports, self.ports.as_slice()[(i % nports) as usize]);
            // The run that holds address a is the last one that starts at or before it; the
            // first run has none before it, so there always is one.
            let r = self.runs.partition_point(|run| run.before <= a) - 1;
            let run = self.runs[r];
            // Below 2^32: the runs only hold IPv4 addresses.
            let addr = (run.start + (a - run.before)) as u32;
            Target::direct(Ipv4Addr::from(addr), port)
        } else {
            // Fits in usize: it is below `mapped.len()`.
            self.mapped[(i - self.pairs()) as usize]
        }
    }
}
