//! Properties of the whole: sets, shards and walks together cover every target exactly once, in
//! any order, for any split, and never an excluded or special address.

use super::*;
use proptest::prelude::*;
use std::collections::HashSet;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;

use wardial_probe::{Cidr, Target};

use super::special::special_purpose;

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
    small_specs()
        .prop_map(|(specs, excludes)| TargetSet::new(&specs, &Ports::one(80), &excludes, true))
}

/// The size of a union of CIDR blocks, computed without merging ranges: two blocks either
/// nest or are disjoint, so it is the sum over the blocks that no other block holds.
fn union_len(blocks: &[Cidr]) -> u64 {
    let outer: HashSet<Cidr> = blocks
        .iter()
        .filter(|b| !blocks.iter().any(|o| o != *b && o.covers(b)))
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
        let set = TargetSet::new(&[net("0.0.0.0/0")], &Ports::one(80), &[], true);
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
        let set = TargetSet::new(&[net("0.0.0.0/0")], &Ports::one(80), &excludes, true);
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
        let set = TargetSet::new(&specs, &Ports::one(80), &excludes, true);
        prop_assert_eq!(all(&set), want);
    }
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
    let set = Arc::new(TargetSet::new(&specs, &Ports::one(8080), &[], true));
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
    let set = TargetSet::new(&specs, &Ports::one(80), &[], true);
    // 127.0.0.0/29 holds the other two networks; both mapped targets remain.
    assert_eq!(set.len(), 8 + 2);
    let targets = all(&set);
    assert_eq!(targets[0].addr, Ipv4Addr::new(127, 0, 0, 0));
    assert_eq!(targets[7].addr, Ipv4Addr::new(127, 0, 0, 7));
    assert_eq!(targets[8], targets[9]);
    assert_eq!(targets[8].dial, "127.0.0.1:4000".parse().unwrap());

    // Exclusions cut networks and drop mapped targets by their address.
    let set = TargetSet::new(&specs, &Ports::one(80), &[cidr("127.0.0.4/30")], true);
    assert_eq!(
        all(&set)
            .iter()
            .map(|t| t.addr.octets()[3])
            .collect::<Vec<_>>(),
        vec![0, 1, 2, 3]
    );
    let empty = TargetSet::new(&specs, &Ports::one(80), &[cidr("0.0.0.0/0")], true);
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
    let set = TargetSet::new(&[net("127.0.0.1")], &Ports::one(80), &[], true);
    assert_eq!(all(&set)[0].addr, Ipv4Addr::LOCALHOST);
    let set = TargetSet::new(
        &[mapped("127.64.0.9", "127.0.0.1:4000")],
        &Ports::one(80),
        &[],
        true,
    );
    assert_eq!(set.len(), 1);
    // The rule is per spec: the whole internet plus loopback by name keeps loopback...
    let both = TargetSet::new(
        &[net("0.0.0.0/0"), net("127.0.0.0/8")],
        &Ports::one(80),
        &[],
        true,
    );
    let alone = TargetSet::new(&[net("0.0.0.0/0")], &Ports::one(80), &[], true);
    assert_eq!(both.len(), alone.len() + (1 << 24));
    // ...and so does a spec that lies inside one special range: it was asked for by name...
    let set = TargetSet::new(
        &[mapped("224.0.0.1", "127.0.0.1:4000")],
        &Ports::one(80),
        &[],
        true,
    );
    assert_eq!(set.len(), 1);
    let set = TargetSet::new(&[net("192.0.2.0/24")], &Ports::one(80), &[], true);
    assert_eq!(set.len(), 256);
    // ...but a public spec loses the special addresses in it.
    let set = TargetSet::new(&[net("192.0.2.0/23")], &Ports::one(80), &[], true);
    assert_eq!(set.len(), 256);
    assert_eq!(all(&set)[0].addr, Ipv4Addr::new(192, 0, 3, 0));
    // And nothing is skipped when the caller turns the rule off.
    let set = TargetSet::new(&[net("192.0.2.0/23")], &Ports::one(80), &[], false);
    assert_eq!(set.len(), 512);
}

#[test]
fn the_whole_internet_without_special_ranges() {
    let set = TargetSet::new(&[net("0.0.0.0/0")], &Ports::one(80), &[], true);
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
    assert!(!gate::is_private(&Cidr::new(set.get(0).addr, 32)));

    // The set is a few runs, and a random walk over it starts at once.
    assert!(set.run_count() < 40, "{}", set.run_count());
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
    let set = TargetSet::new(&[net("0.0.0.0/0")], &Ports::one(1), &[], false);
    assert_eq!(set.len(), 1 << 32);
    assert_eq!(set.get(0).addr, Ipv4Addr::UNSPECIFIED);
    assert_eq!(set.get((1 << 32) - 1).addr, Ipv4Addr::BROADCAST);
    let set = TargetSet::new(&[net("255.255.255.0/24")], &Ports::one(1), &[], false);
    assert_eq!(set.get(255).addr, Ipv4Addr::BROADCAST);
}

#[test]
#[should_panic(expected = "out of range")]
fn get_past_the_end_panics() {
    TargetSet::new(&[net("127.0.0.0/30")], &Ports::one(80), &[], true).get(4);
}

#[test]
fn more_shards_than_targets() {
    let set = Arc::new(TargetSet::new(
        &[net("127.0.0.0/30")],
        &Ports::one(80),
        &[],
        true,
    ));
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
    let set = Arc::new(TargetSet::new(
        &[net("127.0.0.0/24")],
        &Ports::one(80),
        &[],
        true,
    ));
    let walk = set.walk(Order::Random { seed: 1 }, Shard::ALL, 0);
    send_static(&walk);
    let count = std::thread::spawn(move || walk.count()).join().unwrap();
    assert_eq!(count, 256);
}
