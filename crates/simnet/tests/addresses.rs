//! The simulated internet at real addresses: each host at its own loopback address on one port,
//! reached by a plain connect with no Host header, as any scanner dials a network. Linux only:
//! other systems configure no loopback address but 127.0.0.1.
#![cfg(target_os = "linux")]

use std::io::{ErrorKind, Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use wardial_simnet::addresses::neighbours;
use wardial_simnet::{AtAddresses, Behaviour, Mix, Simnet, World};

fn every_behaviour(range: &str) -> World {
    World {
        range: range.parse().unwrap(),
        mix: Mix::every_behaviour(),
        latencies: vec![Duration::ZERO],
        ..World::default()
    }
}

/// Connects to `at` and sends a request with no Host header; what comes back, and how it ended.
fn ask(at: SocketAddr) -> std::io::Result<Vec<u8>> {
    let mut s = TcpStream::connect_timeout(&at, Duration::from_millis(500))?;
    s.write_all(b"GET / HTTP/1.0\r\n\r\n")?;
    s.set_read_timeout(Some(Duration::from_millis(500)))?;
    let mut got = Vec::new();
    let mut buf = [0u8; 512];
    loop {
        match s.read(&mut buf) {
            Ok(0) => return Ok(got),
            Ok(n) if got.len() < 4096 => got.extend_from_slice(&buf[..n]),
            Ok(_) => return Ok(got),
            Err(e) if got.is_empty() => return Err(e),
            Err(_) => return Ok(got),
        }
    }
}

#[test]
fn every_host_plays_its_behaviour_at_its_own_address() {
    let world = every_behaviour("127.65.0.0/26");
    let sim = Simnet::start_at_addresses(world, &AtAddresses::default()).unwrap();
    let port = sim.port_at_addresses().unwrap();
    assert_ne!(port, 0);
    // Every host asked at once, so the silent ones wait out their timeout together.
    let answers: Vec<_> = std::thread::scope(|s| {
        let asks: Vec<_> = sim
            .world()
            .range
            .iter()
            .map(|addr| (addr, s.spawn(move || ask(SocketAddr::from((addr, port))))))
            .collect();
        asks.into_iter()
            .map(|(addr, ask)| (addr, ask.join().unwrap()))
            .collect()
    });
    let mut seen = std::collections::HashSet::new();
    for (addr, got) in answers {
        let at = SocketAddr::from((addr, port));
        assert_eq!(sim.dial(addr), at, "a host is dialled at its own address");
        let behaviour = sim.world().behaviour(addr);
        match behaviour {
            Behaviour::Refused => {
                assert_eq!(got.unwrap_err().kind(), ErrorKind::ConnectionRefused)
            }
            Behaviour::Filtered => {
                let e = got.unwrap_err();
                assert!(
                    matches!(e.kind(), ErrorKind::TimedOut | ErrorKind::WouldBlock),
                    "{addr} filtered: {e}"
                );
            }
            Behaviour::Live { status, .. } => {
                let text = String::from_utf8(got.unwrap()).unwrap();
                // No Host header was sent: the address says which host is asked.
                assert!(text.starts_with(&format!("HTTP/1.1 {status} ")), "{text}");
                assert!(text.contains(&format!("simulated host {addr}")), "{text}");
            }
            Behaviour::Reset => assert!(got.as_ref().map_or(true, Vec::is_empty), "{addr} reset"),
            _ => {}
        }
        seen.insert(behaviour.name());
    }
    assert!(seen.len() >= 10, "most behaviours in 64 hosts: {seen:?}");
    assert!(
        sim.filtered_unanswered(),
        "Linux drops SYNs past a full queue"
    );
    // Counted by host: each accepting host once, refused and filtered ones never.
    for addr in sim.world().range {
        let want = match sim.world().behaviour(addr) {
            Behaviour::Refused | Behaviour::Filtered => 0,
            _ => 1,
        };
        assert_eq!(sim.accepted_by(addr), Some(want), "{addr}");
    }
    assert_eq!(sim.accepted_by(Ipv4Addr::new(127, 65, 1, 0)), None);
}

#[test]
fn connections_outside_the_range_are_counted_apart() {
    let world = every_behaviour("127.66.0.64/27");
    let outside = neighbours(world.range, 4);
    let options = AtAddresses {
        outside: outside.clone(),
        ..AtAddresses::default()
    };
    let sim = Simnet::start_at_addresses(world, &options).unwrap();
    let port = sim.port_at_addresses().unwrap();
    for addr in &outside {
        drop(TcpStream::connect((*addr, port)).unwrap());
    }
    let give_up = Instant::now() + Duration::from_secs(20);
    while sim.stats().outside < outside.len() as u64 {
        assert!(
            Instant::now() < give_up,
            "outside connections never counted"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(sim.stats().accepted, 0, "not counted as the range's");
    sim.reset_stats();
    assert_eq!(sim.stats().outside, 0);
}

#[test]
fn a_given_port_is_used_and_a_taken_one_is_an_error_naming_the_address() {
    let world = every_behaviour("127.67.0.0/28");
    let free = std::net::TcpListener::bind("127.67.0.200:0").unwrap();
    let port = free.local_addr().unwrap().port();
    drop(free);
    let sim = Simnet::start_at_addresses(
        world.clone(),
        &AtAddresses {
            port,
            ..AtAddresses::default()
        },
    )
    .unwrap();
    assert_eq!(sim.port_at_addresses(), Some(port));
    let target = sim.targets().next().unwrap();
    assert_eq!((target.port, target.dial.port()), (port, port));
    let again = Simnet::start_at_addresses(
        world,
        &AtAddresses {
            port,
            ..AtAddresses::default()
        },
    )
    .unwrap_err();
    assert_eq!(again.kind(), ErrorKind::AddrInUse);
    assert!(
        again.to_string().contains("cannot listen at 127.67.0."),
        "{again}"
    );
}
