//! Handing operations to the kernel: the `unsafe` part of the completion loop, and all of it.
//!
//! `SubmissionQueue::push` is `unsafe` because an entry holds raw pointers (to a buffer, a socket
//! address, a timespec) that the kernel reads or writes later, after `push` and even after the
//! submitting system call have returned, until the operation's completion arrives. The compiler
//! cannot check that. So everything the kernel may touch lives in [`Owned`], on the heap (a
//! `Box` or a `Vec` that is never resized), which counts the completions still to come and will
//! not free its memory while any is: dropped too early, it leaks the buffers rather than let the
//! kernel write into freed memory.

use std::io;
use std::time::Duration;

use io_uring::{opcode, squeue, types, IoUring};
use socket2::SockAddr;

/// `user_data` of a probe's operation and of its linked timeout.
pub(crate) fn op_tag(slot: usize) -> u64 {
    (slot as u64) << 1
}
pub(crate) fn timeout_tag(slot: usize) -> u64 {
    ((slot as u64) << 1) | 1
}

/// Which operation to submit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Op {
    Connect,
    /// Send the request from this offset on.
    Send {
        from: usize,
    },
    Recv,
}

/// One probe's memory that the kernel works with: kept until its operations complete.
pub(crate) struct Owned {
    addr: Box<SockAddr>,
    request: Vec<u8>,
    buf: Box<[u8]>,
    timespec: Box<types::Timespec>,
    /// The operation's completion is still to come (the kernel may use the buffers).
    op_pending: bool,
    /// The linked timeout's completion is still to come (the kernel may read the timespec).
    timeout_pending: bool,
}

impl Owned {
    pub(crate) fn new(addr: SockAddr, request: Vec<u8>) -> Owned {
        Owned {
            addr: Box::new(addr),
            request,
            buf: vec![0; 1024].into_boxed_slice(),
            timespec: Box::new(types::Timespec::new()),
            op_pending: false,
            timeout_pending: false,
        }
    }

    /// Whether the kernel may still use this memory.
    pub(crate) fn busy(&self) -> bool {
        self.op_pending || self.timeout_pending
    }

    /// A completion of this probe's has been reaped from the ring: the operation's (`is_op`) or
    /// its linked timeout's.
    pub(crate) fn completed(&mut self, is_op: bool) {
        if is_op {
            self.op_pending = false;
        } else {
            self.timeout_pending = false;
        }
    }

    pub(crate) fn request_len(&self) -> usize {
        self.request.len()
    }

    /// The first `n` bytes received (once the receive has completed: its linked timeout may still
    /// be pending, but it touches only the timespec).
    pub(crate) fn received(&self, n: usize) -> &[u8] {
        assert!(
            !self.op_pending,
            "the kernel may still be writing the buffer"
        );
        &self.buf[..n.min(self.buf.len())]
    }

    /// Queues `op` on socket `fd` for probe `slot`, linked to a timeout of `left` that cancels it
    /// (it then completes with `-ECANCELED`) if it runs past. Both post a completion.
    pub(crate) fn submit(
        &mut self,
        ring: &mut IoUring,
        fd: i32,
        op: Op,
        left: Duration,
        slot: usize,
    ) -> io::Result<()> {
        assert!(!self.busy(), "one step at a time");
        let fd = types::Fd(fd);
        let entry = match op {
            Op::Connect => {
                opcode::Connect::new(fd, self.addr.as_ptr().cast(), self.addr.len()).build()
            }
            Op::Send { from } => {
                let rest = &self.request[from..];
                opcode::Send::new(fd, rest.as_ptr(), rest.len() as u32).build()
            }
            Op::Recv => opcode::Recv::new(fd, self.buf.as_mut_ptr(), self.buf.len() as u32).build(),
        };
        *self.timespec = types::Timespec::new()
            .sec(left.as_secs())
            .nsec(left.subsec_nanos());
        let entry = entry.user_data(op_tag(slot)).flags(squeue::Flags::IO_LINK);
        let timeout = opcode::LinkTimeout::new(&*self.timespec)
            .build()
            .user_data(timeout_tag(slot));
        (self.op_pending, self.timeout_pending) = (true, true);
        loop {
            // SAFETY: every pointer in the two entries points into `self`'s heap memory (the
            // address, the request, the buffer, the timespec), which is never moved or resized,
            // and is not freed while either completion is pending (see `Drop`): the loop calls `completed`
            // once per completion it reaps with this slot's tags, and only then frees the slot.
            // The pair is pushed at once, so no submit can split the link.
            let pushed = unsafe {
                ring.submission()
                    .push_multiple(&[entry.clone(), timeout.clone()])
            };
            if pushed.is_ok() {
                return Ok(());
            }
            // The queue is full: hand what is queued to the kernel, which frees its slots.
            if let Err(e) = ring.submit() {
                (self.op_pending, self.timeout_pending) = (false, false);
                return Err(e);
            }
        }
    }
}

/// `user_data` of the pace timer: no probe's (a slot's tags are far below it).
pub(crate) const PACE_TAG: u64 = u64::MAX;

/// A paced scan's wait for its next start, as one more operation in the ring: a timeout that
/// completes (with `-ETIME`) when the start is due, and so ends the loop's wait for
/// completions. (Linux 5.11 can also give that wait a timeout of its own; an operation works
/// on every kernel the loop runs on, and keeps "everything is a completion" true.)
pub(crate) struct PaceTimer {
    timespec: Box<types::Timespec>,
    /// Its completion is still to come (the kernel may read the timespec).
    pending: bool,
}

impl PaceTimer {
    pub(crate) fn new() -> PaceTimer {
        PaceTimer {
            timespec: Box::new(types::Timespec::new()),
            pending: false,
        }
    }

    /// Queues the timer to complete `left` from now, unless it is queued already: the one
    /// queued comes no later (a start's slot never moves earlier), and the loop asks again
    /// when it comes.
    pub(crate) fn arm(&mut self, ring: &mut IoUring, left: Duration) -> io::Result<()> {
        if self.pending {
            return Ok(());
        }
        *self.timespec = types::Timespec::from(left);
        let entry = opcode::Timeout::new(&*self.timespec)
            .build()
            .user_data(PACE_TAG);
        loop {
            // SAFETY: the timespec is on the heap, never moved, and not freed while the
            // completion is pending (see `Drop`): the loop calls `completed` when it reaps it.
            if unsafe { ring.submission().push(&entry) }.is_ok() {
                self.pending = true;
                return Ok(());
            }
            ring.submit()?;
        }
    }

    /// Its completion has been reaped.
    pub(crate) fn completed(&mut self) {
        self.pending = false;
    }
}

impl Drop for PaceTimer {
    fn drop(&mut self) {
        if self.pending {
            // Ended with the timer queued (a stop during the wait): the kernel may still read
            // the timespec until the ring goes, so it is leaked rather than freed.
            let timespec = std::mem::replace(&mut self.timespec, Box::new(types::Timespec::new()));
            std::mem::forget(timespec);
        }
    }
}

impl Drop for Owned {
    fn drop(&mut self) {
        if self.busy() {
            // The kernel may still write here: better a leak than a write into freed memory.
            std::mem::forget(std::mem::take(&mut self.buf));
            std::mem::forget(std::mem::take(&mut self.request));
            let nowhere = SockAddr::from(std::net::SocketAddr::from(([0u8; 4], 0)));
            let addr = std::mem::replace(&mut self.addr, Box::new(nowhere));
            std::mem::forget(addr);
            let timespec = std::mem::replace(&mut self.timespec, Box::new(types::Timespec::new()));
            std::mem::forget(timespec);
        }
    }
}
