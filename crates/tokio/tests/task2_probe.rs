//! Homework task 2: the async probe. Graded on the probe alone, awaited directly (the scan is
//! task 3): every kind of host of the simulated internet, each judged by the shared exchange
//! within one total deadline, and two probes waiting at once on one thread.
//!
//! Nothing here walks a CIDR block (that is task 1): the hosts are picked address by address.
//! Every probe runs within a time limit, so a probe that never ends fails with a message.

use std::io::{ErrorKind, Read};
use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::sync::mpsc;
use std::time::Duration;

use wardial_probe::{Finding, Outcome, Target};
use wardial_simnet::world::KINDS;
use wardial_simnet::{Behaviour, Mix, Simnet, World};
use wardial_testkit::within;
use wardial_tokio::probe;

/// The probes' deadline.
const TIMEOUT: Duration = Duration::from_millis(300);

/// Runs one probe of `target` on a runtime of its own, within a limit far past its deadline.
fn probe_alone(target: Target, timeout: Duration, host: &str) -> Finding {
    within(
        Duration::from_secs(10),
        &format!(
            "the probe never ended on {host}: it needs one deadline around the whole conversation (connect, write and every read), as `tokio::time::timeout` gives"
        ),
        move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a runtime");
            runtime.block_on(probe(target, timeout))
        },
    )
}

/// A host of each kind, and what a probe must tell about it when it goes wrong.
fn describe(behaviour: Behaviour) -> &'static str {
    match behaviour {
        Behaviour::Live { latency, .. } if latency >= TIMEOUT => {
            "a live host that answers after the deadline"
        }
        Behaviour::Live { .. } => "a live host",
        Behaviour::Refused => "a refused port",
        Behaviour::Blackhole => "a silent host (it accepts and never answers)",
        Behaviour::Trickle => "a host that trickles its answer a byte at a time",
        Behaviour::Garbage => "a host that answers something that is not HTTP",
        Behaviour::Endless => "a host whose answer never ends",
        Behaviour::Reset => "a host that resets the connection",
        Behaviour::Filtered => "a filtered host (it never answers the connect)",
        Behaviour::Interim { .. } => "a host that answers 100 Continue first",
        Behaviour::PartialReset => "a host that resets halfway through its status line",
        Behaviour::BadHeader { .. } => "a host that sends a malformed header",
        Behaviour::BlankLine { .. } => "a host that sends a blank line first",
    }
}

/// A world with every behaviour, a live host slower than the deadline, and a trickle that only
/// a total deadline stops; and one address of each kind in it, found address by address.
fn every_kind() -> (World, Vec<Ipv4Addr>) {
    let base = u32::from(Ipv4Addr::new(127, 77, 0, 0));
    for seed in 1.. {
        let world = World {
            seed,
            range: "127.77.0.0/24".parse().expect("a block"),
            mix: Mix::every_behaviour(),
            latencies: vec![Duration::ZERO, TIMEOUT / 10, TIMEOUT * 10],
            trickle_interval: TIMEOUT / 4,
        };
        let mut picked: Vec<(String, Ipv4Addr)> = Vec::new();
        for addr in (base..base + 256).map(Ipv4Addr::from) {
            let what = describe(world.behaviour(addr)).to_string();
            if !picked.iter().any(|(w, _)| *w == what) {
                picked.push((what, addr));
            }
        }
        if picked.len() == KINDS.len() + 1 {
            return (world, picked.into_iter().map(|(_, a)| a).collect());
        }
    }
    unreachable!("some seed has every kind of host")
}

#[test]
fn task2_every_kind_of_host_gets_the_right_answer() {
    let (world, hosts) = every_kind();
    let sim = Simnet::start(world).expect("start the simulated internet");
    let mut wrong = Vec::new();
    for addr in hosts {
        let behaviour = sim.world().behaviour(addr);
        let host = describe(behaviour);
        let finding = probe_alone(sim.target(addr), TIMEOUT, host);
        let truth = sim.truth(addr, TIMEOUT);
        if truth.accepts(&finding.outcome) {
            continue;
        }
        let why = match behaviour {
            Behaviour::Trickle => ": the deadline must be one for the whole probe, not one per read (each byte would start it again)",
            Behaviour::Live { latency, .. } if latency >= TIMEOUT => ": the answer came after the deadline",
            _ => ": ask the exchange (on_read, on_error, on_deadline) what each event means",
        };
        wrong.push(format!(
            "{host} ({addr}): got {}, expected {truth}{why}",
            finding.outcome
        ));
    }
    assert!(wrong.is_empty(), "{}", wrong.join("; "));
}

#[test]
fn task2_a_silent_host_ends_at_the_deadline() {
    // Accepts (the kernel does, into the backlog) and never answers.
    let silent = TcpListener::bind("127.0.0.1:0").expect("a listener on loopback");
    let target = Target::direct(Ipv4Addr::LOCALHOST, silent.local_addr().unwrap().port());
    let timeout = Duration::from_millis(200);
    let finding = probe_alone(target, timeout, "a silent host");
    assert_eq!(
        finding.outcome,
        Outcome::Timeout,
        "a host that accepts and never answers: the probe must give up at its deadline \
         (tokio::time::timeout around the whole conversation), and the exchange says Timeout"
    );
    // Generous on purpose: this catches a deadline that is not kept, not a slow machine.
    assert!(
        finding.elapsed >= timeout && finding.elapsed < timeout + Duration::from_secs(2),
        "took {:?} for a {timeout:?} deadline",
        finding.elapsed
    );
}

/// Whether `stream`'s peer still has it open: what it sent is drained, then a read that would
/// block means open, an end of stream or a reset means closed.
fn still_open(stream: &mut TcpStream) -> bool {
    stream.set_nonblocking(true).expect("a non-blocking socket");
    let mut buf = [0u8; 1024];
    loop {
        match stream.read(&mut buf) {
            Ok(0) => return false,
            Ok(_) => continue,
            Err(e) if e.kind() == ErrorKind::WouldBlock => return true,
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(_) => return false,
        }
    }
}

#[test]
fn task2_two_probes_wait_at_once_on_one_thread() {
    // Two probes of a silent host, awaited together on a current-thread runtime. Async code
    // that waits lets the other probe run: both connections are open at once. A probe that
    // blocks the thread (std::net's calls, std::thread::sleep) runs the two one after the
    // other: the first connection is closed before the second is made. Observed by the host,
    // which looks at the first connection when the second arrives: no stopwatch.
    let silent = TcpListener::bind("127.0.0.1:0").expect("a listener on loopback");
    let target = Target::direct(Ipv4Addr::LOCALHOST, silent.local_addr().unwrap().port());
    let (seen, overlapped) = mpsc::channel();
    std::thread::spawn(move || {
        let (mut first, _) = silent.accept().expect("the first probe connects");
        let second = silent.accept().expect("the second probe connects");
        let _ = seen.send(still_open(&mut first));
        // Silent to the end: both held open until the probes have given up.
        std::thread::sleep(Duration::from_secs(10));
        drop((first, second));
    });
    let timeout = Duration::from_secs(1);
    let [a, b] = within(
        Duration::from_secs(10),
        "the two probes never ended on a silent host: the probe needs one deadline around the whole conversation (`tokio::time::timeout`)",
        move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a runtime");
            runtime.block_on(async {
                let (a, b) = tokio::join!(probe(target, timeout), probe(target, timeout));
                [a.outcome, b.outcome]
            })
        },
    );
    let overlapped = overlapped
        .recv_timeout(Duration::from_secs(5))
        .expect("both probes connected to the silent host");
    assert!(
        overlapped,
        "two probes awaited together on one thread never had their connections open at the same time: the probe blocks the thread while it waits (a std::net call inside async code?). Use tokio's TcpStream and .await, so that a waiting probe lets the other run"
    );
    assert_eq!(
        [a, b],
        [Outcome::Timeout, Outcome::Timeout],
        "a silent host: both probes end at their deadline"
    );
}
