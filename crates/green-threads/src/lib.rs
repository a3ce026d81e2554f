//! # The green-threads model: the blocking probe, a thousand at a time on one thread
//!
//! Each probe runs as a *stackful coroutine*: a function with a small stack of its own, which can
//! stop in the middle of any call and be resumed later exactly there. The probe reads like the
//! blocking one (connect, write, read until the exchange decides), and its socket calls look
//! blocking too; but when one would block, it does not block the thread: it switches back to the
//! scheduler, which runs other probes and, when that socket is ready (or the probe's deadline has
//! come), switches back into it. Go's goroutines, Java's virtual threads and Rust's own runtime
//! before 1.0 work this way.
//!
//! The contrast with `async`: no function is coloured (nothing is `async`, nothing is awaited, a
//! probe can call any ordinary function that does IO through [`Io`]), but every probe in flight
//! owns a whole stack, and the compiler cannot tell how much of it a call needs.
//!
//! The crate reads in two parts, like the callbacks crate:
//! 1. **The probe, as blocking code**: [`probe`], written against [`Io`], whose calls wait by
//!    switching stacks instead of blocking the thread.
//! 2. **The scheduler that runs it**: a slab of coroutines (one mio token each), a deadline heap,
//!    and `mio::Poll`; it starts probes up to `max_connections` and resumes each one whose socket
//!    is ready or whose deadline is due.
//!
//! The stack switch itself is `corosensei`'s (a well-kept crate, and the one piece that needs
//! assembly); the scheduler is written here, because it is the lesson.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::io::{self, Read, Write};
use std::net::SocketAddr;
use std::rc::Rc;
use std::time::{Duration, Instant};

use corosensei::stack::DefaultStack;
use corosensei::{Coroutine, CoroutineResult, Yielder};
use mio::net::TcpStream;
use mio::{Events, Interest, Poll, Registry, Token};
use slab::Slab;
use wardial_probe::http::{Exchange, Step};
use wardial_probe::{
    connect_finished, Finding, Next, Outcome, Probe, Report, ScanConfig, ScanSummary, Target,
    Targets,
};

/// The stack of one probe: 32 KiB.
///
/// A probe's deepest path is a read: its 1 KiB buffer, the exchange's parse (the status line,
/// then the headers and title it reads on for), and the system call; error paths add an
/// `io::Error`. Measured: every path the conformance suite takes (every simnet behaviour, every
/// error, every deadline) runs in half of this in a debug build, which uses far more stack than
/// a release one (a test runs the suite at [`STACK_SIZE`] / 2; a quarter was enough before the
/// exchange read past the status line). So 32 KiB leaves room for what a student adds, and costs
/// only the pages a probe touches: the rest is reserved address space, never backed by memory.
/// A probe that overflows hits a guard page and the process stops; it cannot corrupt memory.
pub const STACK_SIZE: usize = 32 * 1024;

// ---------------------------------------------------------------------------------------------
// Part 1: the probe, as blocking code.
// ---------------------------------------------------------------------------------------------

// ANCHOR: probe
/// One probe, written as blocking code: every `io` call returns when it is done, as `std::net`'s
/// do. It ends within `timeout` of its start. It is the blocking crate's `probe`, on purpose,
/// with an `io` to call through: that is all a green thread asks of the code it runs.
pub fn probe(io: &Io<'_>, target: Target, timeout: Duration) -> Finding {
    let started = Instant::now();
    let mut exchange = Exchange::new();
    let outcome = match run(io, &target, started + timeout, &mut exchange) {
        Ok(outcome) => outcome,
        // Whatever failed (the connect, the write, a read, the deadline), the exchange says
        // what it means, knowing what had arrived.
        Err(e) => exchange.on_error(&e),
    };
    Finding {
        target,
        outcome,
        elapsed: started.elapsed(),
    }
}

/// Connect, write the request, read until the exchange is decided, all before `deadline`.
fn run(
    io: &Io<'_>,
    target: &Target,
    deadline: Instant,
    exchange: &mut Exchange,
) -> io::Result<Outcome> {
    let mut stream = io.connect(target.dial, deadline)?;
    io.write_all(&mut stream, &target.request(), deadline)?;
    let mut buf = [0u8; 1024];
    loop {
        let n = io.read(&mut stream, &mut buf, deadline)?;
        if let Step::Done(outcome) = exchange.on_read(&buf[..n]) {
            return Ok(outcome);
        }
    }
}
// ANCHOR_END: probe

// ANCHOR: io
/// What the scheduler says when it switches back into a probe.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resumed {
    /// Something happened on the probe's socket: try again.
    Ready,
    /// The probe's deadline has come.
    Deadline,
}

/// The socket calls of one probe. Each tries the non-blocking call; if it would block, the
/// probe switches back to the scheduler (`suspend`), and goes on from right there when the
/// scheduler switches back in. To the probe, the call simply took a while.
pub struct Io<'a> {
    yielder: &'a Yielder<Resumed, ()>,
    registry: &'a Registry,
    /// The probe's slot in the scheduler: its socket's mio token.
    token: Token,
}

impl std::fmt::Debug for Io<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Io").field("token", &self.token).finish()
    }
}

impl Io<'_> {
    /// Waits, by switching stacks, until the socket may be ready or `deadline` comes.
    fn wait(&self, deadline: Instant) -> io::Result<()> {
        if Instant::now() >= deadline {
            return Err(io::ErrorKind::TimedOut.into());
        }
        match self.yielder.suspend(()) {
            Resumed::Ready => Ok(()),
            Resumed::Deadline => Err(io::ErrorKind::TimedOut.into()),
        }
    }

    pub fn connect(&self, addr: SocketAddr, deadline: Instant) -> io::Result<TcpStream> {
        let mut stream = TcpStream::connect(addr)?;
        // Both interests, for the socket's whole life: readiness is edge-triggered, so any
        // event on the token is a reason to try again, whatever the probe is waiting for.
        let interest = Interest::READABLE | Interest::WRITABLE;
        self.registry.register(&mut stream, self.token, interest)?;
        while !connect_finished(stream.take_error(), stream.peer_addr())? {
            self.wait(deadline)?;
        }
        Ok(stream)
    }

    pub fn write_all(
        &self,
        stream: &mut TcpStream,
        mut buf: &[u8],
        deadline: Instant,
    ) -> io::Result<()> {
        while !buf.is_empty() {
            match stream.write(buf) {
                Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                Ok(n) => buf = &buf[n..],
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => self.wait(deadline)?,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    pub fn read(
        &self,
        stream: &mut TcpStream,
        buf: &mut [u8],
        deadline: Instant,
    ) -> io::Result<usize> {
        loop {
            match stream.read(buf) {
                Ok(n) => return Ok(n),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => self.wait(deadline)?,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
    }
}
// ANCHOR_END: io

// ---------------------------------------------------------------------------------------------
// Part 2: the scheduler that runs it.
// ---------------------------------------------------------------------------------------------

// ANCHOR: scheduler
/// The `green-threads` model.
#[derive(Debug)]
pub struct GreenThreads {
    stack_size: usize,
}

impl Default for GreenThreads {
    fn default() -> GreenThreads {
        GreenThreads::with_stack_size(STACK_SIZE)
    }
}

impl GreenThreads {
    /// The model with another stack per probe (for the test that shows [`STACK_SIZE`] is enough).
    pub fn with_stack_size(stack_size: usize) -> GreenThreads {
        GreenThreads { stack_size }
    }
}

impl Probe for GreenThreads {
    fn name(&self) -> &'static str {
        "green-threads"
    }

    /// Each stack is a memory mapping and its guard page another, and a process may hold only
    /// `vm.max_map_count` mappings (65 530 by default on Linux): past that, a new stack fails.
    fn capacity(&self) -> Option<(usize, String)> {
        wardial_probe::mapping_capacity(
            2,
            "each probe's stack is two memory mappings (the stack and its guard page)",
        )
    }

    fn scan(
        &self,
        targets: Targets<'_>,
        config: &ScanConfig,
        on_finding: &mut dyn FnMut(Finding),
    ) -> ScanSummary {
        let mut report = Report::new(on_finding);
        let mut sched =
            Scheduler::new(config.timeout(), self.stack_size).expect("an epoll or kqueue instance");
        let mut targets = config.until_stopped(targets);
        let mut more = true;
        loop {
            // Keep the scheduler full: start probes until the limit, or the targets run out.
            // Hand on findings before each new start: one of them may be what stops the scan.
            let mut not_before = None;
            while more && not_before.is_none() && sched.in_flight() < config.max_connections() {
                sched.done.drain(..).for_each(|f| report.finding(f));
                match targets.next_at(Instant::now()) {
                    Next::Go(target) => sched.start_probe(target),
                    // A paced scan: the next start is a timer of the scheduler's, not a sleep,
                    // so the probes in flight run meanwhile.
                    Next::Wait(when) => not_before = Some(when),
                    Next::End => more = false,
                }
            }
            sched.done.drain(..).for_each(|f| report.finding(f));
            if sched.in_flight() == 0 && !more {
                break;
            }
            sched.turn(not_before);
        }
        report.finish(config)
    }
}

/// A probe's coroutine: it is told why each time it is resumed, yields `()` when it waits,
/// and returns the finding.
type Green = Coroutine<Resumed, (), Finding, DefaultStack>;

/// A probe in flight, and which one it is (a slot is reused by later probes; the deadline heap
/// tells them apart by serial).
struct InFlight {
    green: Green,
    serial: u64,
}

/// A single-threaded scheduler for probes that run as coroutines.
struct Scheduler {
    poll: Poll,
    events: Events,
    /// Shared with every coroutine, which registers its own socket under its own token.
    registry: Rc<Registry>,
    greens: Slab<InFlight>,
    /// Deadlines, soonest first: `(when, slot, serial)`. A probe that ends early leaves its entry
    /// behind; it is skipped when it comes due (cheaper than removing from the middle of a heap).
    deadlines: BinaryHeap<Reverse<(Instant, usize, u64)>>,
    serial: u64,
    /// Stacks of ended probes, reused: a fresh one is a mmap and page faults.
    spare_stacks: Vec<DefaultStack>,
    stack_size: usize,
    timeout: Duration,
    /// Findings of probes that ended, for the scan to hand on.
    done: Vec<Finding>,
}

impl Scheduler {
    fn new(timeout: Duration, stack_size: usize) -> io::Result<Scheduler> {
        let poll = Poll::new()?;
        let registry = Rc::new(poll.registry().try_clone()?);
        Ok(Scheduler {
            poll,
            events: Events::with_capacity(1024),
            registry,
            greens: Slab::new(),
            deadlines: BinaryHeap::new(),
            serial: 0,
            spare_stacks: Vec::new(),
            stack_size,
            timeout,
            done: Vec::new(),
        })
    }

    /// Probes in flight: each holds one open socket.
    fn in_flight(&self) -> usize {
        self.greens.len()
    }

    /// Starts a probe on a stack of its own and runs it at once, up to its first wait (or to
    /// its end: a refused connect never waits).
    fn start_probe(&mut self, target: Target) {
        let slot = self.greens.vacant_entry();
        let key = slot.key();
        let (registry, timeout) = (self.registry.clone(), self.timeout);
        // The deadline the heap keeps is taken before the probe starts, as the callbacks loop
        // takes its probe's: it is never later than the probe's own.
        let deadline = Instant::now() + timeout;
        let stack = self
            .spare_stacks
            .pop()
            .map_or_else(|| DefaultStack::new(self.stack_size), Ok)
            .expect("a coroutine stack");
        let mut green = Green::with_stack(stack, move |yielder, _first: Resumed| {
            let io = Io {
                yielder,
                registry: &registry,
                token: Token(key),
            };
            probe(&io, target, timeout)
        });
        self.serial += 1;
        match green.resume(Resumed::Ready) {
            CoroutineResult::Return(finding) => {
                self.done.push(finding);
                self.spare_stacks.push(green.into_stack());
            }
            CoroutineResult::Yield(()) => {
                let serial = self.serial;
                slot.insert(InFlight { green, serial });
                self.deadlines.push(Reverse((deadline, key, serial)));
            }
        }
    }

    /// One turn of the scheduler: sleep until a socket is ready, the next deadline is due or
    /// `not_after` comes (when a paced scan may start its next probe), switch into the probes
    /// whose sockets are ready, then into those whose deadline has passed. It is the callbacks
    /// loop's `turn` on purpose, line for line but for what an event runs (a stack switch here,
    /// a callback there): read the two side by side.
    fn turn(&mut self, not_after: Option<Instant>) {
        let now = Instant::now();
        let wait = self
            .deadlines
            .peek()
            .map(|Reverse((when, ..))| *when)
            .into_iter()
            .chain(not_after)
            .min()
            .map(|when| when.saturating_duration_since(now));
        // Borrow the events buffer out of `self`, so resuming may take `&mut self`.
        let mut events = std::mem::replace(&mut self.events, Events::with_capacity(0));
        match self.poll.poll(&mut events, wait) {
            Ok(()) => {}
            // A signal (Ctrl-C) woke us: nothing is ready; the next turn polls again.
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => panic!("epoll failed: {e}"),
        }
        for event in events.iter() {
            self.resume(event.token().0, Resumed::Ready);
        }
        self.events = events;

        let now = Instant::now();
        while let Some(&Reverse((when, key, serial))) = self.deadlines.peek() {
            if when > now {
                break;
            }
            self.deadlines.pop();
            // The slot may hold a newer probe by now, whose own deadline is still ahead.
            if self.greens.get(key).is_some_and(|g| g.serial == serial) {
                self.resume(key, Resumed::Deadline);
            }
        }
    }

    /// Switches into the probe in `slot`; if it ends, frees the slot, keeps its stack for the
    /// next probe, and records its finding. An empty slot is a stale event: nothing to do.
    fn resume(&mut self, slot: usize, why: Resumed) {
        let Some(in_flight) = self.greens.get_mut(slot) else {
            return;
        };
        if let CoroutineResult::Return(finding) = in_flight.green.resume(why) {
            let ended = self.greens.remove(slot);
            self.spare_stacks.push(ended.green.into_stack());
            self.done.push(finding);
        }
    }
}
// ANCHOR_END: scheduler
