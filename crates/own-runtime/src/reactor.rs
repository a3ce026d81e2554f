//! # Part 2: the reactor
//!
//! Where tasks wait for the outside world. A socket is registered once, with a token (its slot in
//! a slab); a future whose IO would block leaves its task's waker in that slot, for reading or for
//! writing; when `mio::Poll` reports the socket ready, exactly that waker is woken. Deadlines are a
//! timer heap, soonest first, and the poll sleeps no longer than the next one.
//!
//! Readiness is edge-triggered: mio reports a change once. So the IO futures (part 3) always try
//! the system call first and leave their waker only after it said "would block"; a report that
//! comes when no waker waits is dropped, since the next try will find the socket ready anyway.

use std::cell::RefCell;
use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::io;
use std::task::Waker;
use std::time::{Duration, Instant};

use mio::event::Source;
use mio::{Events, Interest, Poll, Token};
use slab::Slab;

/// The token of the waker that interrupts a sleeping poll (a wake from another thread).
const UNPARK: Token = Token(usize::MAX);

/// Which way a future waits on a socket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Direction {
    Read,
    Write,
}

/// The wakers waiting on one socket.
#[derive(Default)]
struct Waiters {
    read: Option<Waker>,
    write: Option<Waker>,
}

/// Deadlines, soonest first, each with the waker to wake when it comes.
#[derive(Default)]
struct Timers {
    heap: BinaryHeap<Reverse<(Instant, u64)>>,
    /// A timer dropped before it fired leaves its heap entry; it finds no waker here and is
    /// skipped (cheaper than removing from the middle of a heap).
    wakers: HashMap<u64, Waker>,
    next_id: u64,
}

// ANCHOR: reactor
/// The reactor of one `block_on`, used from its thread only (hence `RefCell`, not locks).
pub(crate) struct Reactor {
    poll: RefCell<Poll>,
    events: RefCell<Events>,
    sockets: RefCell<Slab<Waiters>>,
    timers: RefCell<Timers>,
}

impl Reactor {
    pub(crate) fn new() -> io::Result<Reactor> {
        Ok(Reactor {
            poll: RefCell::new(Poll::new()?),
            events: RefCell::new(Events::with_capacity(1024)),
            sockets: RefCell::new(Slab::new()),
            timers: RefCell::new(Timers::default()),
        })
    }

    /// A waker (in mio's sense) that interrupts [`Reactor::turn`] from any thread.
    pub(crate) fn unparker(&self) -> io::Result<mio::Waker> {
        mio::Waker::new(self.poll.borrow().registry(), UNPARK)
    }

    /// Registers a socket for both directions, for its whole life; returns its key.
    pub(crate) fn register(&self, source: &mut impl Source) -> io::Result<usize> {
        let key = self.sockets.borrow_mut().insert(Waiters::default());
        let interest = Interest::READABLE | Interest::WRITABLE;
        if let Err(e) = self
            .poll
            .borrow()
            .registry()
            .register(source, Token(key), interest)
        {
            self.sockets.borrow_mut().remove(key);
            return Err(e);
        }
        Ok(key)
    }

    pub(crate) fn deregister(&self, source: &mut impl Source, key: usize) {
        let _ = self.poll.borrow().registry().deregister(source);
        // Dropped after the borrow ends: dropping a waker may drop a task, and with it a socket
        // that deregisters itself here.
        let waiters = self.sockets.borrow_mut().try_remove(key);
        drop(waiters);
    }

    /// Leaves `waker` to be woken when the socket `key` is ready in `direction`.
    pub(crate) fn wait(&self, key: usize, direction: Direction, waker: &Waker) {
        let old = {
            let mut sockets = self.sockets.borrow_mut();
            let Some(waiters) = sockets.get_mut(key) else {
                return;
            };
            let slot = match direction {
                Direction::Read => &mut waiters.read,
                Direction::Write => &mut waiters.write,
            };
            if slot.as_ref().is_some_and(|w| w.will_wake(waker)) {
                return;
            }
            slot.replace(waker.clone())
        };
        drop(old); // after the borrow (see `deregister`)
    }

    /// Leaves `waker` to be woken at `when`; returns the timer's id.
    pub(crate) fn add_timer(&self, when: Instant, waker: &Waker) -> u64 {
        let mut timers = self.timers.borrow_mut();
        let id = timers.next_id;
        timers.next_id += 1;
        timers.heap.push(Reverse((when, id)));
        timers.wakers.insert(id, waker.clone());
        id
    }

    /// The task waiting on timer `id` may have a new waker (a future moved between tasks).
    pub(crate) fn update_timer(&self, id: u64, waker: &Waker) {
        let old = match self.timers.borrow_mut().wakers.get_mut(&id) {
            Some(w) if !w.will_wake(waker) => Some(std::mem::replace(w, waker.clone())),
            _ => None,
        };
        drop(old); // after the borrow (see `deregister`)
    }

    pub(crate) fn remove_timer(&self, id: u64) {
        let old = self.timers.borrow_mut().wakers.remove(&id);
        drop(old); // after the borrow (see `deregister`)
    }

    /// Takes every waker the reactor holds: for a runtime being torn down, so that the tasks
    /// they keep alive can be dropped while this reactor is still the current one.
    pub(crate) fn take_all_wakers(&self) -> Vec<Waker> {
        let mut all = Vec::new();
        for (_, waiters) in self.sockets.borrow_mut().iter_mut() {
            all.extend(waiters.read.take());
            all.extend(waiters.write.take());
        }
        all.extend(self.timers.borrow_mut().wakers.drain().map(|(_, w)| w));
        all
    }

    /// One turn: wait for readiness (at most `timeout`, `None` for as long as it takes, and never
    /// past the next timer); return the wakers of the tasks whose socket is ready or whose timer
    /// is due, for the executor to wake once it is awake itself.
    pub(crate) fn turn(&self, timeout: Option<Duration>) -> Vec<Waker> {
        let now = Instant::now();
        let next_timer = {
            let mut timers = self.timers.borrow_mut();
            // Skip the entries of timers dropped before they fired: they would wake the poll
            // early for nothing.
            while let Some(&Reverse((_, id))) = timers.heap.peek() {
                if timers.wakers.contains_key(&id) {
                    break;
                }
                timers.heap.pop();
            }
            timers
                .heap
                .peek()
                .map(|Reverse((when, _))| when.saturating_duration_since(now))
        };
        let timeout = match (timeout, next_timer) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        let mut events = self.events.borrow_mut();
        match self.poll.borrow_mut().poll(&mut events, timeout) {
            Ok(()) => {}
            // A signal (Ctrl-C) interrupted the wait: nothing is ready; the next turn polls again.
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => panic!("epoll/kqueue failed: {e}"),
        }

        // Collect the wakers; the executor wakes them after this returns, when no borrow of the
        // reactor is held and it no longer counts as asleep.
        let mut ready = Vec::new();
        {
            let mut sockets = self.sockets.borrow_mut();
            for event in events.iter() {
                let Some(waiters) = sockets.get_mut(event.token().0) else {
                    continue; // the unparker, or a socket already gone
                };
                let failed = event.is_error();
                if event.is_readable() || event.is_read_closed() || failed {
                    ready.extend(waiters.read.take());
                }
                if event.is_writable() || event.is_write_closed() || failed {
                    ready.extend(waiters.write.take());
                }
            }
        }
        {
            let now = Instant::now();
            let mut timers = self.timers.borrow_mut();
            while let Some(&Reverse((when, id))) = timers.heap.peek() {
                if when > now {
                    break;
                }
                timers.heap.pop();
                ready.extend(timers.wakers.remove(&id));
            }
        }
        ready
    }
}
// ANCHOR_END: reactor
