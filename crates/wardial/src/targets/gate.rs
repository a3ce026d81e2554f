//! The responsible-scanning gate: which networks a scan may probe without `--allow-public`.
//! Checked on the parsed arguments, before anything opens a socket.

use std::net::Ipv4Addr;

use wardial_probe::Cidr;

/// Networks anyone may scan without asking: this machine, and the private ranges of RFC 1918
/// and link-local, which are someone's own network rather than the internet.
const PRIVATE: [(Ipv4Addr, u8); 5] = [
    (Ipv4Addr::new(127, 0, 0, 0), 8),
    (Ipv4Addr::new(10, 0, 0, 0), 8),
    (Ipv4Addr::new(172, 16, 0, 0), 12),
    (Ipv4Addr::new(192, 168, 0, 0), 16),
    (Ipv4Addr::new(169, 254, 0, 0), 16),
];

/// Whether all of `net` lies inside loopback or a private range.
pub fn is_private(net: &Cidr) -> bool {
    PRIVATE
        .iter()
        .any(|&(addr, prefix)| Cidr::new(addr, prefix).covers(net))
}

/// The responsible-scanning gate: refuses public addresses unless `--allow-public` was given.
/// Called on the parsed arguments, before anything opens a socket.
pub fn check_allowed(targets: &[Cidr], allow_public: bool) -> Result<(), String> {
    if allow_public {
        return Ok(());
    }
    match targets.iter().find(|net| !is_private(net)) {
        None => Ok(()),
        Some(net) => Err(format!(
            "{net} includes public addresses; scan only networks you are allowed to, and pass --allow-public to confirm"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_networks_pass_the_gate() {
        let nets: Vec<Cidr> = [
            "127.0.0.1",
            "127.64.0.0/22",
            "10.1.0.0/16",
            "172.20.0.0/16",
            "192.168.1.0/24",
            "169.254.0.0/16",
        ]
        .iter()
        .map(|s| s.parse().unwrap())
        .collect();
        assert_eq!(check_allowed(&nets, false), Ok(()));
    }

    #[test]
    fn public_networks_need_allow_public() {
        // Unit tests of the gate: nothing here opens a socket.
        for s in [
            "8.8.8.8",
            "0.0.0.0/0",
            "172.32.0.0/16",
            "10.0.0.0/7",
            "192.168.0.0/15",
            "175.45.176.0/22",
        ] {
            let net: Cidr = s.parse().unwrap();
            let err = check_allowed(&[net], false).unwrap_err();
            assert!(err.contains("--allow-public"), "{s}: {err}");
            assert_eq!(check_allowed(&[net], true), Ok(()));
        }
    }
}
