//! The simulated internet at real addresses: every virtual host of the range listens at its own
//! loopback address on one port, so that a program that knows nothing of the simnet (curl,
//! `nmap -sT`, a Python scanner) dials `127.64.3.17:8080` and meets that host's behaviour.
//!
//! Linux's loopback device owns the whole of 127.0.0.0/8 (`ip route show table local` lists
//! `local 127.0.0.0/8 dev lo`), so any 127.x.y.z can be bound without configuring anything, and
//! the kernel neither sends packets for those addresses out of another interface nor accepts
//! them from one: the hosts are reachable from this machine only. How each behaviour is played
//! with real sockets:
//!
//! - a refused host has no listener, so a connect meets the kernel's own reset;
//! - a filtered host has a listener whose accept queue is full (one connection of ours, reset
//!   at once, stays queued because nobody accepts it), so the kernel drops every SYN and the
//!   connect goes unanswered, as behind a firewall that drops packets;
//! - every other host accepts at its own address and plays its behaviour for whoever
//!   connects, whatever `Host` the request names.
//!
//! Each listener is an open file, so the range's size is bounded by the open-file limit:
//! [`check_files`] refuses a range that does not fit, with the figures. macOS configures only
//! 127.0.0.1 on `lo0`; binding any other 127 address fails there, and [`bind`] says so.

use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::time::Duration;

use socket2::{Domain, Socket, Type};
use wardial_probe::{Cidr, FILES_RESERVED as RESERVE};

use crate::server::{bound_at, fill_backlog, serving, Role, Serve};
use crate::world::{Behaviour, World};

/// A listener at one host's address sees that host's connections only: a short queue is
/// plenty, where the shared listeners of the other mode need thousands.
const BACKLOG: i32 = 128;

/// How to serve a range at real addresses.
#[derive(Debug, Clone, Default)]
pub struct AtAddresses {
    /// The port every host listens on; 0 picks a free one.
    pub port: u16,
    /// Addresses outside the range that listen too, only to count who connects to them
    /// ([`crate::Stats::outside`]): a scanner that strays past its range is caught there. See
    /// [`neighbours`].
    pub outside: Vec<Ipv4Addr>,
    /// Connections the simnet should be able to hold at once, counted in [`check_files`].
    pub connections: usize,
}

/// The `n` addresses just below and the `n` just above `range`: where an off-by-one in a
/// scanner's range arithmetic lands. Only addresses in 127.0.0.0/8, and never 127.0.0.1
/// (which other servers on this machine use).
pub fn neighbours(range: Cidr, n: u32) -> Vec<Ipv4Addr> {
    let (first, last) = (u32::from(range.first()), u32::from(range.last()));
    let below = (1..=n).filter_map(|i| first.checked_sub(i));
    let above = (1..=n).filter_map(|i| last.checked_add(i));
    below
        .chain(above)
        .map(Ipv4Addr::from)
        .filter(|a| Cidr::LOOPBACK.contains(*a) && *a != Ipv4Addr::LOCALHOST)
        .collect()
}

/// Listening sockets a range needs: one per host that is not refused, and one per address
/// outside it.
pub fn listeners_needed(world: &World, options: &AtAddresses) -> u64 {
    let hosts = world
        .range
        .iter()
        .filter(|a| world.behaviour(*a) != Behaviour::Refused)
        .count() as u64;
    hosts + options.outside.len() as u64
}

/// Whether the range's listeners and its connections fit under this process's open-file limit
/// (raised to the hard limit first); if not, why, in one line with the figures.
pub fn check_files(world: &World, options: &AtAddresses) -> Result<(), String> {
    match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(limit) => fits(world, options, limit),
        // A system that does not say: binding will tell.
        Err(_) => Ok(()),
    }
}

/// [`check_files`] under a given `limit`.
fn fits(world: &World, options: &AtAddresses, limit: u64) -> Result<(), String> {
    let listeners = listeners_needed(world, options);
    let needed = listeners + options.connections as u64 + RESERVE;
    if needed <= limit {
        return Ok(());
    }
    Err(format!(
        "{} at real addresses needs a listening socket per host that is not refused ({listeners}) and files for {} connections, {needed} open files in all, but this process may open {limit} (the hard limit, `ulimit -Hn`): serve a smaller range, or raise the hard limit",
        world.range, options.connections
    ))
}

/// The listeners of a range at real addresses, for the runtime, and the sockets to hold.
#[derive(Debug)]
pub(crate) struct Bound {
    pub listeners: Vec<Serve>,
    pub held: Vec<Socket>,
    pub port: u16,
    pub filtered_unanswered: bool,
    /// How many connections of ours fill a filtered host's queue, once the first one showed it.
    fillers: Option<usize>,
}

/// Binds every listener of `world`'s range and of `options.outside`, on one port.
pub(crate) fn bind(world: &World, options: &AtAddresses) -> io::Result<Bound> {
    check_files(world, options).map_err(io::Error::other)?;
    if options.port != 0 {
        return bind_on(world, options, options.port);
    }
    // The first host's bind picks a free port; the same port is nearly always free at the other
    // addresses too, and where it is not, the whole range tries another.
    let mut tries = 0;
    loop {
        match bind_on(world, options, 0) {
            Err(e) if e.kind() == io::ErrorKind::AddrInUse && tries < 8 => tries += 1,
            other => return other,
        }
    }
}

fn bind_on(world: &World, options: &AtAddresses, port: u16) -> io::Result<Bound> {
    let mut bound = Bound {
        listeners: Vec::new(),
        held: Vec::new(),
        port,
        filtered_unanswered: true,
        fillers: None,
    };
    for addr in world.range {
        match world.behaviour(addr) {
            Behaviour::Refused => {}
            Behaviour::Filtered => bound.filtered(addr)?,
            b => bound.plays(addr, b)?,
        }
    }
    for &addr in &options.outside {
        let (socket, _) = bound.bind(addr)?;
        bound
            .listeners
            .push((Role::Outside, serving(socket, BACKLOG)?));
    }
    Ok(bound)
}

impl Bound {
    /// A socket bound at `addr` on the range's port (the first one picks the port if it is 0).
    fn bind(&mut self, addr: Ipv4Addr) -> io::Result<(Socket, SocketAddr)> {
        let (socket, at) = bound_at(SocketAddr::from((addr, self.port))).map_err(|e| {
            let why = if e.kind() == io::ErrorKind::AddrNotAvailable {
                "only 127.0.0.1 is configured on this system's loopback device (as on macOS), so virtual hosts cannot have addresses of their own here: serve them by Host header instead (without --at-addresses)".to_string()
            } else {
                e.to_string()
            };
            io::Error::new(e.kind(), format!("cannot listen at {addr}:{}: {why}", self.port))
        })?;
        self.port = at.port();
        Ok((socket, at))
    }

    /// A host that accepts at its own address and plays `behaviour`.
    fn plays(&mut self, addr: Ipv4Addr, behaviour: Behaviour) -> io::Result<()> {
        let (socket, _) = self.bind(addr)?;
        let role = Role::Plays {
            kind: behaviour.index(),
            host: Some(addr),
        };
        self.listeners.push((role, serving(socket, BACKLOG)?));
        Ok(())
    }

    /// A filtered host: a listener whose full queue makes the kernel drop every SYN. The first
    /// one finds out how many connections fill a queue here, and whether a full queue really
    /// leaves connects unanswered; if not, filtered hosts are played as silent ones (accepted,
    /// never answered), which a correct probe reports as the same timeout.
    fn filtered(&mut self, addr: Ipv4Addr) -> io::Result<()> {
        if !self.filtered_unanswered {
            return self.plays(addr, Behaviour::Blackhole);
        }
        let (socket, at) = self.bind(addr)?;
        match self.fillers {
            Some(n) => {
                socket.listen(0)?;
                for _ in 0..n {
                    fill_and_reset(at)?;
                }
            }
            None => {
                let (fillers, full) = fill_backlog(&socket, at)?;
                self.fillers = Some(fillers.len());
                // Reset, they stay queued (nobody accepts them) and cost no file: a range of
                // thousands of filtered hosts needs one file each, not two.
                fillers.iter().for_each(reset_on_close);
                drop(fillers);
                if !full || answered(at) {
                    self.filtered_unanswered = false;
                    drop(socket);
                    return self.plays(addr, Behaviour::Blackhole);
                }
            }
        }
        self.held.push(socket);
        Ok(())
    }
}

/// One connection into a filtered host's queue, reset at once (it stays queued).
fn fill_and_reset(at: SocketAddr) -> io::Result<()> {
    let socket = Socket::new(Domain::IPV4, Type::STREAM, None)?;
    socket.connect_timeout(&at.into(), Duration::from_secs(2))?;
    reset_on_close(&socket);
    Ok(())
}

fn reset_on_close(socket: &Socket) {
    let _ = socket.set_linger(Some(Duration::ZERO));
}

/// Whether a connect to `at` is answered within 50 ms.
fn answered(at: SocketAddr) -> bool {
    let Ok(socket) = Socket::new(Domain::IPV4, Type::STREAM, None) else {
        return true;
    };
    socket
        .connect_timeout(&at.into(), Duration::from_millis(50))
        .is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn neighbours_are_just_outside_and_on_loopback() {
        let range: Cidr = "127.77.0.64/26".parse().unwrap();
        let n = neighbours(range, 2);
        let want: Vec<Ipv4Addr> = ["127.77.0.63", "127.77.0.62", "127.77.0.128", "127.77.0.129"]
            .iter()
            .map(|a| a.parse().unwrap())
            .collect();
        assert_eq!(n, want);
        assert!(n.iter().all(|a| !range.contains(*a)));
        // At the edges of 127.0.0.0/8, nothing outside it, and never 127.0.0.1.
        let low = neighbours("127.0.0.2/32".parse().unwrap(), 3);
        assert_eq!(
            low,
            [
                [127, 0, 0, 0],
                [127, 0, 0, 3],
                [127, 0, 0, 4],
                [127, 0, 0, 5]
            ]
            .map(Ipv4Addr::from)
        );
        let high = neighbours("127.255.255.255/32".parse().unwrap(), 1);
        assert_eq!(high, [Ipv4Addr::new(127, 255, 255, 254)]);
    }

    #[test]
    fn a_range_too_large_for_the_file_limit_is_refused_with_the_figures() {
        let world = World {
            range: "127.64.0.0/12".parse().unwrap(),
            ..World::default()
        };
        let options = AtAddresses {
            connections: 1000,
            ..AtAddresses::default()
        };
        let needed = listeners_needed(&world, &options);
        // A refused host needs no listener; every other one does.
        assert!(needed < world.range.len() && needed > world.range.len() / 2);
        let why = fits(&world, &options, 20_000).unwrap_err();
        assert!(
            why.contains(&format!("{} open files", needed + 1000 + RESERVE))
                && why.contains("may open 20000")
                && why.contains("ulimit -Hn"),
            "{why}"
        );
        assert_eq!(fits(&world, &options, needed + 1000 + RESERVE), Ok(()));
        // A /18, the size a class needs, fits under a hard limit of 20000.
        let class = World {
            range: "127.64.0.0/18".parse().unwrap(),
            ..World::default()
        };
        assert_eq!(fits(&class, &options, 20_000), Ok(()));
    }
}
