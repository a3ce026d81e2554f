//! Sorted, disjoint runs of addresses, and the three things the target set does with them:
//! merge, subtract and look up. Each costs time in the number of runs, never of addresses.

use std::net::Ipv4Addr;

use wardial_probe::Cidr;

/// A half-open range of addresses `[start, end)`. `u64`, so that the end of a run that holds
/// `255.255.255.255` (2^32) is representable.
pub type Range = (u64, u64);

pub fn range_of(net: &Cidr) -> Range {
    let start = u64::from(u32::from(net.first()));
    (start, start + net.len())
}

/// Sorts ranges and merges the ones that overlap or touch, so that each address is in at most
/// one range (counted once) and the ranges come in ascending order.
pub fn merge(mut ranges: Vec<Range>) -> Vec<Range> {
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
pub fn subtract(keep: &[Range], cut: &[Range]) -> Vec<Range> {
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
pub fn in_ranges(ranges: &[Range], addr: Ipv4Addr) -> bool {
    let addr = u64::from(u32::from(addr));
    // The first range that ends after `addr` is the only one that can hold it.
    let i = ranges.partition_point(|&(_, end)| end <= addr);
    ranges.get(i).is_some_and(|&(start, _)| start <= addr)
}
