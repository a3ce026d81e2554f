//! [`Spec`]: one target as the user typed it: a network, or one address reached through another
//! socket address.

use std::net::{Ipv4Addr, SocketAddr};

use wardial_probe::{Cidr, Target};

use crate::args;

/// What to scan: a network, or one address reached through another socket address (the lines
/// `wardial simnet --targets` writes: a virtual host and the listener that plays it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Spec {
    Net(Cidr),
    Mapped { addr: Ipv4Addr, dial: SocketAddr },
}

impl Spec {
    pub fn parse(s: &str) -> Result<Spec, String> {
        let mut words = s.split_whitespace();
        match (words.next(), words.next(), words.next()) {
            (Some(net), None, _) => args::cidr(net).map(Spec::Net),
            (Some(addr), Some(dial), None) => {
                let addr = addr
                    .parse()
                    .map_err(|_| format!("'{addr}' is not an IPv4 address"))?;
                let dial = dial
                    .parse()
                    .map_err(|_| format!("'{dial}' is not a socket address like 127.0.0.1:8080"))?;
                Ok(Spec::Mapped { addr, dial })
            }
            _ => Err(format!(
                "'{s}' is not a target: expected a CIDR, an address, or 'ADDRESS HOST:PORT'"
            )),
        }
    }

    /// How many addresses it holds.
    pub fn len(&self) -> u64 {
        match self {
            Spec::Net(net) => net.len(),
            Spec::Mapped { .. } => 1,
        }
    }

    /// Never true; for clippy.
    pub fn is_empty(&self) -> bool {
        false
    }

    /// The networks the responsible-scanning gate must allow: every address that names a host,
    /// and every address that is dialled.
    pub fn networks(&self) -> Vec<Cidr> {
        match *self {
            Spec::Net(net) => vec![net],
            Spec::Mapped { addr, dial } => {
                let mut nets = vec![Cidr::new(addr, 32)];
                match dial.ip() {
                    std::net::IpAddr::V4(ip) => nets.push(Cidr::new(ip, 32)),
                    // The gate knows IPv4 ranges only: [::1] is this machine, and any other
                    // IPv6 address counts as public (0.0.0.0/0 is what makes the gate say so).
                    std::net::IpAddr::V6(ip) if ip.is_loopback() => {}
                    std::net::IpAddr::V6(_) => nets.push(Cidr::new(Ipv4Addr::UNSPECIFIED, 0)),
                }
                nets
            }
        }
    }

    /// The targets, lazily.
    pub fn targets(self, port: u16) -> Box<dyn Iterator<Item = Target> + Send> {
        match self {
            Spec::Net(net) => Box::new(net.into_iter().map(move |a| Target::direct(a, port))),
            Spec::Mapped { addr, dial } => Box::new(std::iter::once(Target { addr, port, dial })),
        }
    }
}

/// As [`Spec::parse`] reads it back (the resume file keeps targets so).
impl std::fmt::Display for Spec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Spec::Net(net) => write!(f, "{net}"),
            Spec::Mapped { addr, dial } => write!(f, "{addr} {dial}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mapped_targets_dial_elsewhere() {
        let spec = Spec::parse("127.64.0.9 127.0.0.1:4000").unwrap();
        let t: Vec<Target> = spec.targets(80).collect();
        assert_eq!(t[0].addr, Ipv4Addr::new(127, 64, 0, 9));
        assert_eq!(t[0].dial, "127.0.0.1:4000".parse().unwrap());
        assert_eq!(t[0].host_header(), "127.64.0.9");
        // Both the named and the dialled address pass through the gate.
        let nets = Spec::parse("127.64.0.9 8.8.8.8:80").unwrap().networks();
        assert!(crate::targets::gate::check_allowed(&nets, false).is_err());
        assert!(Spec::parse("127.0.0.1 nowhere").is_err());
        assert!(Spec::parse("a b c").is_err());
    }
}
