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
//!
//! An IO object keeps a handle to the reactor it registered with, and waits and deregisters
//! through it: a `block_on` may run inside a task of another, and whichever runtime runs when the
//! object is next polled or dropped, its socket or timer is in this reactor's tables, under a key
//! or an id that means something else (or nothing) in any other reactor's.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::io;
use std::sync::{Arc, Mutex, Weak};
use std::task::Waker;
use std::time::{Duration, Instant};

use mio::event::Source;
use mio::{Events, Interest, Poll, Registry, Token};
use slab::Slab;
use wardial_probe::lock;

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
/// The reactor of one `block_on`, turned by that `block_on` alone. Shared through an `Arc`, with
/// locks, not `Rc` and `RefCell`: the IO objects keep a handle to it, and they are `Send` (a task
/// is any `Send` future), so one may be dropped on another thread.
pub(crate) struct Reactor {
    poll: Mutex<Poll>,
    /// The poll's registry, apart from it: registering and deregistering need not wait while a
    /// turn sleeps in the poll (for a socket dropped on another thread meanwhile).
    registry: Registry,
    events: Mutex<Events>,
    sockets: Mutex<Slab<Waiters>>,
    timers: Mutex<Timers>,
}

/// The reactor an IO object registered with: the one it must wait on, whichever runtime polls it.
///
/// # Panics
/// Once that reactor's runtime has ended: its tables, and the object's place in them, are gone.
pub(crate) fn registered_with(reactor: &Weak<Reactor>) -> Arc<Reactor> {
    reactor
        .upgrade()
        .expect("own-runtime IO is polled after the block_on it was made in has returned")
}

impl Reactor {
    pub(crate) fn new() -> io::Result<Reactor> {
        let poll = Poll::new()?;
        Ok(Reactor {
            registry: poll.registry().try_clone()?,
            poll: Mutex::new(poll),
            events: Mutex::new(Events::with_capacity(1024)),
            sockets: Mutex::new(Slab::new()),
            timers: Mutex::new(Timers::default()),
        })
    }

    /// A waker (in mio's sense) that interrupts [`Reactor::turn`] from any thread.
    pub(crate) fn unparker(&self) -> io::Result<mio::Waker> {
        mio::Waker::new(&self.registry, UNPARK)
    }

    /// Registers a socket for both directions, for its whole life; returns its key.
    pub(crate) fn register(&self, source: &mut impl Source) -> io::Result<usize> {
        let key = lock(&self.sockets).insert(Waiters::default());
        let interest = Interest::READABLE | Interest::WRITABLE;
        if let Err(e) = self.registry.register(source, Token(key), interest) {
            lock(&self.sockets).remove(key);
            return Err(e);
        }
        Ok(key)
    }

    pub(crate) fn deregister(&self, source: &mut impl Source, key: usize) {
        let _ = self.registry.deregister(source);
        // Dropped after the lock is released: dropping a waker may drop a task, and with it a
        // socket that deregisters itself here (locking again on this thread would deadlock).
        let waiters = lock(&self.sockets).try_remove(key);
        drop(waiters);
    }

    /// Leaves `waker` to be woken when the socket `key` is ready in `direction`.
    pub(crate) fn wait(&self, key: usize, direction: Direction, waker: &Waker) {
        let old = {
            let mut sockets = lock(&self.sockets);
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
        drop(old); // after the lock (see `deregister`)
    }

    /// Leaves `waker` to be woken at `when`; returns the timer's id.
    pub(crate) fn add_timer(&self, when: Instant, waker: &Waker) -> u64 {
        let mut timers = lock(&self.timers);
        let id = timers.next_id;
        timers.next_id += 1;
        timers.heap.push(Reverse((when, id)));
        timers.wakers.insert(id, waker.clone());
        id
    }

    /// The task waiting on timer `id` may have a new waker (a future moved between tasks).
    pub(crate) fn update_timer(&self, id: u64, waker: &Waker) {
        let old = match lock(&self.timers).wakers.get_mut(&id) {
            Some(w) if !w.will_wake(waker) => Some(std::mem::replace(w, waker.clone())),
            _ => None,
        };
        drop(old); // after the lock (see `deregister`)
    }

    pub(crate) fn remove_timer(&self, id: u64) {
        let old = lock(&self.timers).wakers.remove(&id);
        drop(old); // after the lock (see `deregister`)
    }

    /// How many sockets are registered and how many timers wait.
    pub(crate) fn registrations(&self) -> (usize, usize) {
        (lock(&self.sockets).len(), lock(&self.timers).wakers.len())
    }

    /// Takes every waker the reactor holds: for a runtime being torn down, so that the tasks
    /// they keep alive can be dropped while this reactor is still there to deregister from.
    pub(crate) fn take_all_wakers(&self) -> Vec<Waker> {
        let mut all = Vec::new();
        for (_, waiters) in lock(&self.sockets).iter_mut() {
            all.extend(waiters.read.take());
            all.extend(waiters.write.take());
        }
        all.extend(lock(&self.timers).wakers.drain().map(|(_, w)| w));
        all
    }

    /// One turn: wait for readiness (at most `timeout`, `None` for as long as it takes, and never
    /// past the next timer); return the wakers of the tasks whose socket is ready or whose timer
    /// is due, for the executor to wake once it is awake itself.
    pub(crate) fn turn(&self, timeout: Option<Duration>) -> Vec<Waker> {
        let now = Instant::now();
        let next_timer = {
            let mut timers = lock(&self.timers);
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
        let mut events = lock(&self.events);
        match lock(&self.poll).poll(&mut events, timeout) {
            Ok(()) => {}
            // A signal (Ctrl-C) interrupted the wait: nothing is ready; the next turn polls again.
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => panic!("epoll/kqueue failed: {e}"),
        }

        // Collect the wakers; the executor wakes them after this returns, when no lock of the
        // reactor is held and it no longer counts as asleep.
        let mut ready = Vec::new();
        {
            let mut sockets = lock(&self.sockets);
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
            let mut timers = lock(&self.timers);
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
