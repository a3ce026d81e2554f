//! The IANA special-purpose ranges, and the rule that says when a scan skips them.

use std::net::Ipv4Addr;

use wardial_probe::Cidr;

use super::gate;

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
    let named = SPECIAL_PURPOSE
        .iter()
        .any(|&(_, addr, prefix)| Cidr::new(addr, prefix).covers(net));
    !gate::is_private(net) && !named
}
