//! # The callbacks model: a hand-written event loop on mio
//!
//! One thread, many sockets. Nothing here blocks: every socket is non-blocking, and the thread
//! sleeps in one place only, `mio::Poll::poll`, which wakes it when any socket is ready (or a
//! deadline is due). Then it runs the callback that was waiting for that socket. This is the
//! model of Node.js, libuv and nginx, and what every async runtime does underneath.
//!
//! The crate reads in two parts, as the event loop of a callback library would:
//! 1. **The scan as a callback user writes it**: start a probe by asking to connect, and say what
//!    to do once connected (write the request), and once written (read the answer). Each step is
//!    a closure handed to the loop. Errors and deadlines are the loop's business: any step that
//!    fails ends the probe with the matching outcome, without calling the rest.
//! 2. **The loop that runs it**: readiness from `mio::Poll`, a slab of connections (one token
//!    each), a timer heap for the per-probe deadlines, and refilling up to `max_connections` as
//!    probes finish.
//!
//! Written by hand because the loop is the lesson: in production you would use an async runtime,
//! which is this loop with the callbacks turned into futures.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::io::{self, Read, Write};
use std::time::{Duration, Instant};

use mio::net::TcpStream;
use mio::{Events, Interest, Poll, Token};
use slab::Slab;
use wardial_probe::http::{Exchange, Step};
use wardial_probe::{
    connect_finished, Finding, Next, Outcome, Probe, Report, ScanConfig, ScanSummary, Target,
    Targets,
};

// ---------------------------------------------------------------------------------------------
// Part 1: the scan, as a callback user writes it.
// ---------------------------------------------------------------------------------------------

// ANCHOR: user
/// One probe: connect, then write the request, then read the answer, then report it. Each
/// "then" is a callback that the loop calls when the socket is ready for it.
fn start_probe(lp: &mut EventLoop, target: Target) {
    let request = target.request();
    lp.connect(target, move |lp, conn| {
        lp.write_all(conn, request, |lp, conn| {
            lp.read(conn, |lp, conn, outcome| {
                lp.finish(conn, outcome);
            });
        });
    });
}

/// The `callbacks` model.
#[derive(Debug, Default)]
pub struct Callbacks;

impl Probe for Callbacks {
    fn name(&self) -> &'static str {
        "callbacks"
    }

    fn scan(
        &self,
        targets: Targets<'_>,
        config: &ScanConfig,
        on_finding: &mut dyn FnMut(Finding),
    ) -> ScanSummary {
        let mut report = Report::new(on_finding);
        let mut lp = EventLoop::new(config.timeout()).expect("an epoll instance");
        let mut targets = config.until_stopped(targets);
        let mut more = true;
        loop {
            // Keep the loop full: start probes until the limit, or the targets run out. Hand on
            // findings before each new start: one of them may be what stops the scan.
            let mut not_before = None;
            while more && not_before.is_none() && lp.in_flight() < config.max_connections() {
                lp.done.drain(..).for_each(|f| report.finding(f));
                match targets.next_at(Instant::now()) {
                    Next::Go(target) => start_probe(&mut lp, target),
                    // A paced scan: the next start is a timer of the loop's, not a sleep, so
                    // the sockets in flight are read meanwhile.
                    Next::Wait(when) => not_before = Some(when),
                    Next::End => more = false,
                }
            }
            lp.done.drain(..).for_each(|f| report.finding(f));
            if lp.in_flight() == 0 && !more {
                break;
            }
            lp.turn(not_before);
        }
        report.finish(config)
    }
}
// ANCHOR_END: user

// ---------------------------------------------------------------------------------------------
// Part 2: the loop that runs it.
// ---------------------------------------------------------------------------------------------

// ANCHOR: loop
/// Names one connection in the loop: its slot in the slab, which is also its mio token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnId(usize);

type Then = Box<dyn FnOnce(&mut EventLoop, ConnId)>;
type ThenOutcome = Box<dyn FnOnce(&mut EventLoop, ConnId, Outcome)>;

// ANCHOR: waiting
/// What a connection waits for, with the callback to run when it comes.
enum Waiting {
    /// The non-blocking connect to finish.
    Connecting(Then),
    /// Room in the send buffer for the rest of `buf`.
    Writing {
        buf: Vec<u8>,
        sent: usize,
        then: Then,
    },
    /// Bytes, until the exchange is decided.
    Reading(ThenOutcome),
    /// Nothing: a callback is running (or ran and set no next step).
    Nothing,
}
// ANCHOR_END: waiting

struct Conn {
    /// Tells this probe from a later one in the same slab slot, for the timer heap.
    serial: u64,
    target: Target,
    started: Instant,
    stream: TcpStream,
    /// Told everything that happens on the socket, from the connect on: it decides the outcome,
    /// whichever way the probe ends.
    exchange: Exchange,
    waiting: Waiting,
}

/// A single-threaded event loop for probes.
pub struct EventLoop {
    poll: Poll,
    events: Events,
    conns: Slab<Conn>,
    /// Deadlines, soonest first: `(when, slot, serial)`. A probe that ends early leaves its entry
    /// behind; it is skipped when it comes due (cheaper than removing from the middle of a heap).
    deadlines: BinaryHeap<Reverse<(Instant, usize, u64)>>,
    timeout: Duration,
    serial: u64,
    /// Findings of probes that ended, for the scan to hand on.
    done: Vec<Finding>,
}

impl std::fmt::Debug for EventLoop {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EventLoop")
            .field("in_flight", &self.conns.len())
            .field("deadlines", &self.deadlines.len())
            .finish_non_exhaustive()
    }
}

impl EventLoop {
    pub fn new(timeout: Duration) -> io::Result<EventLoop> {
        Ok(EventLoop {
            poll: Poll::new()?,
            events: Events::with_capacity(1024),
            conns: Slab::new(),
            deadlines: BinaryHeap::new(),
            timeout,
            serial: 0,
            done: Vec::new(),
        })
    }

    /// Probes in flight: each holds one open socket.
    pub fn in_flight(&self) -> usize {
        self.conns.len()
    }

    /// Starts a non-blocking connect; `then` runs once it is established.
    pub fn connect(&mut self, target: Target, then: impl FnOnce(&mut EventLoop, ConnId) + 'static) {
        let started = Instant::now();
        let fail = |lp: &mut EventLoop, e: io::Error| {
            lp.done.push(Finding {
                target,
                outcome: Exchange::new().on_error(&e),
                elapsed: started.elapsed(),
            })
        };
        // Returns at once; the connection completes (or fails) later, and says so by becoming
        // writable.
        let mut stream = match TcpStream::connect(target.dial) {
            Ok(stream) => stream,
            Err(e) => return fail(self, e),
        };
        let slot = self.conns.vacant_entry();
        let key = slot.key();
        // Both interests for the socket's whole life: mio is edge-triggered, so registering once
        // and draining on every event is cheaper than re-registering at every step.
        let interest = Interest::READABLE | Interest::WRITABLE;
        if let Err(e) = self
            .poll
            .registry()
            .register(&mut stream, Token(key), interest)
        {
            return fail(self, e);
        }
        self.serial += 1;
        slot.insert(Conn {
            serial: self.serial,
            target,
            started,
            stream,
            exchange: Exchange::new(),
            waiting: Waiting::Connecting(Box::new(then)),
        });
        self.deadlines
            .push(Reverse((started + self.timeout, key, self.serial)));
    }

    /// Writes all of `buf`, however many writes the socket needs; `then` runs once it is sent.
    pub fn write_all(
        &mut self,
        conn: ConnId,
        buf: Vec<u8>,
        then: impl FnOnce(&mut EventLoop, ConnId) + 'static,
    ) {
        if let Some(c) = self.conns.get_mut(conn.0) {
            c.waiting = Waiting::Writing {
                buf,
                sent: 0,
                then: Box::new(then),
            };
        }
    }

    /// Reads the answer until the exchange is decided; `then` gets the outcome.
    pub fn read(
        &mut self,
        conn: ConnId,
        then: impl FnOnce(&mut EventLoop, ConnId, Outcome) + 'static,
    ) {
        if let Some(c) = self.conns.get_mut(conn.0) {
            c.waiting = Waiting::Reading(Box::new(then));
        }
    }

    /// Ends a probe that failed: the exchange says what the error means.
    fn fail(&mut self, conn: ConnId, e: &io::Error) {
        if let Some(c) = self.conns.get_mut(conn.0) {
            let outcome = c.exchange.on_error(e);
            self.finish(conn, outcome);
        }
    }

    /// Ends a probe: closes its socket and records its finding.
    pub fn finish(&mut self, conn: ConnId, outcome: Outcome) {
        if let Some(mut c) = self.conns.try_remove(conn.0) {
            let _ = self.poll.registry().deregister(&mut c.stream);
            self.done.push(Finding {
                target: c.target,
                outcome,
                elapsed: c.started.elapsed(),
            });
            // `c.stream` drops here, which closes the socket.
        }
    }

    /// One turn of the loop: sleep until a socket is ready, the next deadline is due or
    /// `not_after` comes (when a paced scan may start its next probe), run the callbacks of the
    /// ready sockets, then expire the probes whose deadline has passed. The green threads'
    /// scheduler has the same `turn`, on purpose, to be read beside it.
    pub fn turn(&mut self, not_after: Option<Instant>) {
        let now = Instant::now();
        let wait = self
            .deadlines
            .peek()
            .map(|Reverse((when, ..))| *when)
            .into_iter()
            .chain(not_after)
            .min()
            .map(|when| when.saturating_duration_since(now));
        // Borrow the events buffer out of `self`, so callbacks may take `&mut self`.
        let mut events = std::mem::replace(&mut self.events, Events::with_capacity(0));
        match self.poll.poll(&mut events, wait) {
            Ok(()) => {}
            // A signal woke us: nothing is ready; the next turn polls again.
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => panic!("epoll failed: {e}"),
        }
        for event in events.iter() {
            self.drive(event.token().0);
        }
        self.events = events;

        let now = Instant::now();
        while let Some(&Reverse((when, key, serial))) = self.deadlines.peek() {
            if when > now {
                break;
            }
            self.deadlines.pop();
            if let Some(c) = self.conns.get_mut(key).filter(|c| c.serial == serial) {
                let outcome = c.exchange.on_deadline();
                self.finish(ConnId(key), outcome);
            }
        }
    }

    /// Advances one connection as far as its socket allows, running each callback as its step
    /// completes. Readiness is edge-triggered, so a step does its IO until `WouldBlock`: mio will
    /// not report the socket again until something new happens on it.
    fn drive(&mut self, key: usize) {
        loop {
            // The slot may be empty (the probe ended earlier in this batch of events) or hold a
            // newer probe than the event was for: then this is a spurious wakeup, and every step
            // below finds nothing to do and waits again.
            let Some(c) = self.conns.get_mut(key) else {
                return;
            };
            let conn = ConnId(key);
            match std::mem::replace(&mut c.waiting, Waiting::Nothing) {
                Waiting::Connecting(then) => {
                    match connect_finished(c.stream.take_error(), c.stream.peer_addr()) {
                        Ok(true) => then(self, conn),
                        Ok(false) => {
                            c.waiting = Waiting::Connecting(then);
                            return;
                        }
                        Err(e) => return self.fail(conn, &e),
                    }
                }
                Waiting::Writing {
                    buf,
                    mut sent,
                    then,
                } => match write_some(&mut c.stream, &buf, &mut sent) {
                    Ok(true) => then(self, conn),
                    Ok(false) => {
                        c.waiting = Waiting::Writing { buf, sent, then };
                        return;
                    }
                    Err(e) => return self.fail(conn, &e),
                },
                Waiting::Reading(then) => match read_some(&mut c.stream, &mut c.exchange) {
                    Ok(Some(outcome)) => then(self, conn, outcome),
                    Ok(None) => {
                        c.waiting = Waiting::Reading(then);
                        return;
                    }
                    Err(e) => return self.fail(conn, &e),
                },
                Waiting::Nothing => return,
            }
        }
    }
}

/// Writes what the socket takes. `Ok(true)` once all is sent, `Ok(false)` when the send buffer
/// is full (a partial write: `sent` says how far it got).
fn write_some(stream: &mut TcpStream, buf: &[u8], sent: &mut usize) -> io::Result<bool> {
    while *sent < buf.len() {
        match stream.write(&buf[*sent..]) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(n) => *sent += n,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(false),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(true)
}

/// Reads what the socket has into the exchange. `Some(outcome)` once decided, `None` when the
/// socket has nothing more for now.
fn read_some(stream: &mut TcpStream, exchange: &mut Exchange) -> io::Result<Option<Outcome>> {
    let mut buf = [0u8; 1024];
    loop {
        match stream.read(&mut buf) {
            Ok(n) => {
                if let Step::Done(outcome) = exchange.on_read(&buf[..n]) {
                    return Ok(Some(outcome));
                }
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(None),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
}
// ANCHOR_END: loop
