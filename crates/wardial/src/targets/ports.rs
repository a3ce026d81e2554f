//! [`Ports`]: the ports a scan probes on every address, as typed: `80`, `80,443`, `8000-8100`,
//! or any mix of them.

use std::fmt;
use std::str::FromStr;

/// A set of TCP ports, ascending, each once. Never empty.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Ports(Vec<u16>);

impl Ports {
    /// One port.
    pub fn one(port: u16) -> Ports {
        Ports(vec![port])
    }

    /// Parses a comma-separated list of ports and inclusive ranges: `80,443,8000-8100`.
    pub fn parse(s: &str) -> Result<Ports, String> {
        let number = |p: &str| -> Result<u16, String> {
            match p.trim().parse::<u16>() {
                Ok(0) => Err(format!("'{s}': port 0 cannot be probed (ports go from 1 to 65535)")),
                Ok(n) => Ok(n),
                Err(_) => Err(format!(
                    "'{s}' is not a port list: expected ports from 1 to 65535 and ranges, like 80,443,8000-8100"
                )),
            }
        };
        let mut ports = Vec::new();
        for part in s.split(',') {
            match part.split_once('-') {
                Some((from, to)) => {
                    let (from, to) = (number(from)?, number(to)?);
                    if from > to {
                        return Err(format!("'{s}': the range {from}-{to} runs backwards"));
                    }
                    ports.extend(from..=to);
                }
                None => ports.push(number(part)?),
            }
        }
        ports.sort_unstable();
        ports.dedup();
        Ok(Ports(ports))
    }

    /// The ports, ascending.
    pub fn as_slice(&self) -> &[u16] {
        &self.0
    }

    /// The first (lowest) port: the one a mapped target, which dials its own address, is
    /// reported on.
    pub fn first(&self) -> u16 {
        self.0[0]
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Never true (a port list holds at least one port); for clippy.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// The shortest form, with runs as ranges: `80,443,8000-8100`. [`Ports::parse`] reads it back.
impl fmt::Display for Ports {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut parts = Vec::new();
        let mut i = 0;
        while i < self.0.len() {
            let mut j = i;
            while j + 1 < self.0.len() && self.0[j + 1] == self.0[j] + 1 {
                j += 1;
            }
            parts.push(if j > i {
                format!("{}-{}", self.0[i], self.0[j])
            } else {
                self.0[i].to_string()
            });
            i = j + 1;
        }
        f.write_str(&parts.join(","))
    }
}

impl FromStr for Ports {
    type Err = String;
    fn from_str(s: &str) -> Result<Ports, String> {
        Ports::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_and_ranges() {
        let p = Ports::parse("8080,80,8000-8002,80").unwrap();
        assert_eq!(p.as_slice(), [80, 8000, 8001, 8002, 8080]);
        assert_eq!(p.to_string(), "80,8000-8002,8080");
        assert_eq!(Ports::parse(&p.to_string()), Ok(p));
        assert_eq!(Ports::parse("1-65535").unwrap().len(), 65535);
        for (bad, says) in [
            ("0", "port 0"),
            ("80,", "not a port list"),
            ("http", "not a port list"),
            ("90-80", "backwards"),
            ("65536", "not a port list"),
        ] {
            let err = Ports::parse(bad).unwrap_err();
            assert!(err.contains(says), "{bad}: {err}");
        }
    }
}
