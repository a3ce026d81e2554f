//! The simnet's own promises: thousands of connections at once, counters that count, a clean
//! shutdown, and each behaviour as the table says.

use std::io::{Read, Write};
use std::net::{Ipv4Addr, TcpStream};
use std::time::{Duration, Instant};

use wardial_simnet::{Behaviour, Mix, Simnet, World};

fn threads() -> usize {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("Threads:"))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or(0)
}

/// Waits (bounded) for a condition the server reaches asynchronously. Not a timing assertion:
/// the deadline only keeps a broken server from hanging the test.
fn eventually(what: &str, mut cond: impl FnMut() -> bool) {
    let give_up = Instant::now() + Duration::from_secs(20);
    while !cond() {
        assert!(Instant::now() < give_up, "gave up waiting for: {what}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn holds_thousands_of_connections_and_closes_them_on_drop() {
    let before = threads();
    let sim = Simnet::start(World {
        mix: Mix::only("blackhole").unwrap(),
        ..World::default()
    })
    .unwrap();
    let n = 2000;
    let mut conns: Vec<TcpStream> = sim
        .world()
        .range
        .iter()
        .cycle()
        .take(n)
        .map(|a| TcpStream::connect(sim.dial(a)).unwrap())
        .collect();
    eventually("every connection accepted", || sim.stats().open == n);
    let stats = sim.stats();
    assert_eq!((stats.accepted, stats.peak_open), (n as u64, n));

    drop(sim);
    // Every server socket is closed: each client reads end-of-stream.
    for c in conns.iter_mut() {
        c.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        assert_eq!(c.read(&mut [0u8; 16]).unwrap_or(0), 0);
    }
    eventually("the simnet thread gone", || threads() <= before);
}

#[test]
fn counts_connections_the_client_closed() {
    let sim = Simnet::start(World {
        mix: Mix::only("blackhole").unwrap(),
        ..World::default()
    })
    .unwrap();
    let t = sim.targets().next().unwrap();
    for _ in 0..50 {
        // One open at a time, closed by the client: the peak must stay at one.
        drop(TcpStream::connect(t.dial).unwrap());
    }
    eventually("all accepted and closed", || {
        sim.stats().accepted == 50 && sim.stats().open == 0
    });
    assert_eq!(sim.stats().peak_open, 1);
    sim.reset_stats();
    assert_eq!(sim.stats().accepted, 0);
}

#[test]
fn live_hosts_answer_for_the_host_they_are_named_by() {
    let sim = Simnet::start(World {
        mix: Mix::all_live(),
        latencies: vec![Duration::ZERO],
        ..World::default()
    })
    .unwrap();
    let addr = Ipv4Addr::new(127, 64, 1, 9);
    let Behaviour::Live { status, .. } = sim.world().behaviour(addr) else {
        panic!("all live")
    };
    let get = |host: &str| {
        let mut s = TcpStream::connect(sim.dial(addr)).unwrap();
        write!(s, "GET / HTTP/1.0\r\nHost: {host}\r\n\r\n").unwrap();
        let mut answer = String::new();
        s.read_to_string(&mut answer).unwrap();
        answer
    };
    let answer = get("127.64.1.9");
    assert!(
        answer.starts_with(&format!("HTTP/1.1 {status} ")),
        "{answer}"
    );
    assert!(answer.contains("simulated host 127.64.1.9"));
    // A wrong or missing Host is answered, but with a status no live host uses.
    assert!(get("example.com").starts_with("HTTP/1.1 421 "));
}

#[test]
fn refused_hosts_refuse_and_reset_hosts_reset() {
    let sim = Simnet::start(World {
        mix: Mix([0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0]),
        ..World::default()
    })
    .unwrap();
    let mut saw = [false; 2];
    for t in sim.targets().take(64) {
        match sim.world().behaviour(t.addr) {
            Behaviour::Refused => {
                let e = TcpStream::connect(t.dial).unwrap_err();
                assert_eq!(e.kind(), std::io::ErrorKind::ConnectionRefused);
                saw[0] = true;
            }
            _ => {
                let mut s = TcpStream::connect(t.dial).unwrap();
                let _ = s.write_all(b"GET / HTTP/1.0\r\n\r\n");
                let mut buf = [0u8; 16];
                match s.read(&mut buf) {
                    Ok(0) => {}
                    Err(e) => assert_eq!(e.kind(), std::io::ErrorKind::ConnectionReset),
                    Ok(n) => panic!("a reset host sent {n} bytes"),
                }
                saw[1] = true;
            }
        }
    }
    assert_eq!(saw, [true, true]);
}

/// Connects to the simnet host `addr` plays, sends a request naming it, and returns every byte
/// that came back and how the stream ended (`None` for a close, else the read error).
fn exchange_raw(sim: &Simnet, addr: Ipv4Addr) -> (Vec<u8>, Option<std::io::ErrorKind>) {
    let mut s = TcpStream::connect(sim.dial(addr)).unwrap();
    write!(s, "GET / HTTP/1.0\r\nHost: {addr}\r\n\r\n").unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut got = Vec::new();
    let mut buf = [0u8; 256];
    loop {
        match s.read(&mut buf) {
            Ok(0) => return (got, None),
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(e) => return (got, Some(e.kind())),
        }
    }
}

fn only(kind: &str) -> Simnet {
    Simnet::start(World {
        mix: Mix::only(kind).unwrap(),
        latencies: vec![Duration::ZERO],
        ..World::default()
    })
    .unwrap()
}

#[test]
fn filtered_hosts_never_answer_the_syn() {
    let sim = only("filtered");
    let t = sim.targets().next().unwrap();
    let e = TcpStream::connect_timeout(&t.dial, Duration::from_millis(300)).unwrap_err();
    assert!(
        matches!(
            e.kind(),
            std::io::ErrorKind::TimedOut | std::io::ErrorKind::WouldBlock
        ),
        "{e}"
    );
    assert_eq!(sim.stats().accepted, 0);
}

#[test]
fn interim_hosts_send_100_continue_then_the_final_status() {
    let sim = only("interim");
    let addr = sim.world().range.first();
    let Behaviour::Interim { status, .. } = sim.world().behaviour(addr) else {
        panic!("interim")
    };
    let (got, end) = exchange_raw(&sim, addr);
    let text = String::from_utf8_lossy(&got);
    assert!(
        text.starts_with("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 "),
        "{text}"
    );
    assert!(
        text.contains(&format!("\r\n\r\nHTTP/1.1 {status} ")),
        "{text}"
    );
    assert_eq!(end, None);
}

#[test]
fn partial_reset_hosts_send_half_a_status_line_then_reset() {
    let sim = only("partial-reset");
    let (got, end) = exchange_raw(&sim, sim.world().range.first());
    assert_eq!(got, b"HTTP/1.");
    assert_eq!(end, Some(std::io::ErrorKind::ConnectionReset));
}

#[test]
fn bad_header_and_blank_line_hosts_answer_with_their_flaw() {
    let sim = only("bad-header");
    let mut flaws = std::collections::HashSet::new();
    for addr in sim.world().range.iter().take(32) {
        let Behaviour::BadHeader { status } = sim.world().behaviour(addr) else {
            panic!("bad-header")
        };
        let (got, _) = exchange_raw(&sim, addr);
        let text = String::from_utf8_lossy(&got).into_owned();
        let head = format!("HTTP/1.1 {status} ");
        assert!(text.starts_with(&head), "{text}");
        let second = text.lines().nth(1).unwrap().to_string();
        flaws.insert(second.chars().take(5).collect::<String>());
        // Each is a header that httparse rejects, after a status line it accepts.
        let mut headers = [httparse::EMPTY_HEADER; 8];
        assert!(
            httparse::Response::new(&mut headers).parse(&got).is_err(),
            "{text}"
        );
    }
    assert_eq!(flaws.len(), 3, "all three flaws: {flaws:?}");

    let sim = only("blank-line");
    let addr = sim.world().range.first();
    let Behaviour::BlankLine { status } = sim.world().behaviour(addr) else {
        panic!("blank-line")
    };
    let (got, end) = exchange_raw(&sim, addr);
    let text = String::from_utf8_lossy(&got);
    assert!(
        text.starts_with(&format!("\r\nHTTP/1.1 {status} ")),
        "{text}"
    );
    assert_eq!(end, None);
}
