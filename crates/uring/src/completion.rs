//! The `uring` model: a hand-written completion loop, the counterpart of the callbacks crate's
//! readiness loop. There, the loop waits until a socket is *ready* and then does the IO itself.
//! Here, it hands the IO to the kernel (connect, send, receive) and waits until an operation is
//! *complete*; each completion carries the operation's result and starts the probe's next step.
//!
//! The deadline is the kernel's too: every operation is submitted linked to a timeout for the
//! time the probe has left (`IORING_OP_LINK_TIMEOUT`), which cancels it if it runs past; the
//! operation then completes with `-ECANCELED`. No timer heap, no cancellation to send: one more
//! completion per step to reap, and a probe's slot (its buffers) is freed only after both.

use std::io;
use std::time::{Duration, Instant};

use io_uring::{opcode, IoUring};
use slab::Slab;
use socket2::{Domain, SockAddr, Socket, Type};
use wardial_probe::http::{Exchange, Step};
use wardial_probe::{
    Finding, Next, Outcome, Probe, Report, ScanConfig, ScanSummary, Target, Targets,
};

use crate::submit::{Op, Owned, PaceTimer, PACE_TAG};
use crate::Unavailable;

/// The most entries the kernel allows in a completion queue (`IORING_MAX_CQ_ENTRIES`).
const MAX_COMPLETIONS: usize = 65_536;

// ANCHOR: state
/// A probe in flight. What the kernel may be using (the address, the request, the receive
/// buffer, the timespec of the linked timeout) is in `io`, which keeps it until both
/// completions of the current step are back.
struct Slot {
    target: Target,
    started: Instant,
    deadline: Instant,
    socket: Socket,
    io: Owned,
    exchange: Exchange,
    /// The operation in flight.
    op: Op,
    /// What to submit once both completions of the current step are in.
    next: Option<Op>,
    /// Set once decided, with the time it took; the finding is handed on when `io` is idle.
    decided: Option<(Outcome, Duration)>,
}
// ANCHOR_END: state

/// The `uring` model.
#[derive(Debug)]
pub struct Uring;

impl Uring {
    /// The model, if this kernel lets this process use io_uring (a container's seccomp profile
    /// may refuse it: the reason comes back in one line).
    pub fn new() -> Result<Uring, Unavailable> {
        let ring =
            IoUring::new(8).map_err(|e| Unavailable(format!("io_uring is refused here ({e})")))?;
        // Old kernels (before 5.6, or 5.7 for polling sockets inside the ring) lack what the
        // loop submits: say so here, rather than report every host as an error or a timeout.
        let mut probe = io_uring::Probe::new();
        let needs = [
            opcode::Connect::CODE,
            opcode::Send::CODE,
            opcode::Recv::CODE,
            opcode::LinkTimeout::CODE,
            opcode::Timeout::CODE,
        ];
        let supported = ring.submitter().register_probe(&mut probe).is_ok()
            && needs.iter().all(|&op| probe.is_supported(op))
            && ring.params().is_feature_fast_poll();
        if !supported {
            return Err(Unavailable(
                "this kernel's io_uring lacks socket connect/send/recv or timeouts (Linux 5.7 or later has them)".into(),
            ));
        }
        Ok(Uring)
    }
}

// ANCHOR: loop
impl Probe for Uring {
    fn name(&self) -> &'static str {
        "uring"
    }

    /// The kernel's limit on a completion queue (65 536 entries), at two per probe and one for
    /// a paced scan's timer.
    fn capacity(&self) -> Option<(usize, String)> {
        Some((
            (MAX_COMPLETIONS - 1) / 2,
            format!("io_uring's completion queue holds at most {MAX_COMPLETIONS} entries, two per probe"),
        ))
    }

    fn scan(
        &self,
        targets: Targets<'_>,
        config: &ScanConfig,
        on_finding: &mut dyn FnMut(Finding),
    ) -> ScanSummary {
        let mut report = Report::new(on_finding);
        // Two entries per probe in flight (an operation and its linked timeout), and room in
        // the completion queue for both completions of every probe at once, so none overflows.
        let entries = (2 * config.max_connections())
            .next_power_of_two()
            .clamp(64, 4096);
        let completions = (2 * config.max_connections())
            .next_power_of_two()
            .max(2 * entries)
            .min(MAX_COMPLETIONS);
        let mut ring = IoUring::builder()
            .setup_cqsize(completions as u32)
            .build(entries as u32)
            .expect("an io_uring (one was made when the model was built)");
        let mut slots: Slab<Slot> = Slab::new();
        let mut pace = PaceTimer::new();
        let mut targets = config.until_stopped(targets);
        let mut more = true;
        loop {
            // Keep the ring full: start probes up to the limit.
            let mut not_before = None;
            while more && not_before.is_none() && slots.len() < config.max_connections() {
                match targets.next_at(Instant::now()) {
                    Next::Go(target) => {
                        if let Some(finding) =
                            start(&mut ring, &mut slots, target, config.timeout())
                        {
                            report.finding(finding);
                        }
                    }
                    // A paced scan: the next start is one more operation in the ring, a timer,
                    // so completions are reaped while it runs.
                    Next::Wait(when) => not_before = Some(when),
                    Next::End => more = false,
                }
            }
            if slots.is_empty() && !more {
                break;
            }
            if let Some(when) = not_before {
                let left = when.saturating_duration_since(Instant::now());
                pace.arm(&mut ring, left)
                    .unwrap_or_else(|e| panic!("io_uring_enter failed: {e}"));
            }
            // Submit what was queued and sleep until at least one operation completes.
            match ring.submit_and_wait(1) {
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => panic!("io_uring_enter failed: {e}"),
            }
            let done: Vec<(u64, i32)> = ring
                .completion()
                .map(|cqe| (cqe.user_data(), cqe.result()))
                .collect();
            for (tag, result) in done {
                if tag == PACE_TAG {
                    pace.completed();
                    continue;
                }
                let (key, is_op) = ((tag >> 1) as usize, tag & 1 == 0);
                if let Some(finding) = complete(&mut ring, &mut slots, key, is_op, result) {
                    report.finding(finding);
                }
            }
        }
        report.finish(config)
    }
}

/// Starts a probe: a socket, then its connect. A failure before anything is submitted is the
/// probe's finding at once.
fn start(
    ring: &mut IoUring,
    slots: &mut Slab<Slot>,
    target: Target,
    timeout: Duration,
) -> Option<Finding> {
    let started = Instant::now();
    let socket = match Socket::new(Domain::for_address(target.dial), Type::STREAM, None) {
        Ok(socket) => socket,
        Err(e) => {
            return Some(Finding {
                target,
                outcome: Exchange::new().on_error(&e),
                elapsed: started.elapsed(),
            })
        }
    };
    let key = slots.insert(Slot {
        target,
        started,
        deadline: started + timeout,
        socket,
        io: Owned::new(SockAddr::from(target.dial), target.request()),
        exchange: Exchange::new(),
        op: Op::Connect,
        next: None,
        decided: None,
    });
    next_step(ring, &mut slots[key], key, Op::Connect);
    finish_if_done(slots, key)
}

/// Submits the probe's next operation, linked to a timeout for the time it has left; if no
/// time is left, the deadline has decided it.
fn next_step(ring: &mut IoUring, slot: &mut Slot, key: usize, op: Op) {
    let Some(left) = slot.deadline.checked_duration_since(Instant::now()) else {
        let outcome = slot.exchange.on_deadline();
        slot.decided = Some((outcome, slot.started.elapsed()));
        return;
    };
    slot.op = op;
    let fd = std::os::fd::AsRawFd::as_raw_fd(&slot.socket);
    if let Err(e) = slot.io.submit(ring, fd, op, left, key) {
        let outcome = slot.exchange.on_error(&e);
        slot.decided = Some((outcome, slot.started.elapsed()));
    }
}

/// One completion of probe `key`: `is_op` for its operation, else for the linked timeout.
/// Returns the finding once the probe is decided and the kernel is done with its memory.
fn complete(
    ring: &mut IoUring,
    slots: &mut Slab<Slot>,
    key: usize,
    is_op: bool,
    result: i32,
) -> Option<Finding> {
    let slot = slots.get_mut(key)?;
    slot.io.completed(is_op);
    if is_op && slot.decided.is_none() {
        slot.next = advance(slot, result);
    }
    if slot.io.busy() {
        return None; // the other completion of this step is still to come
    }
    if let Some(op) = slot.next.take() {
        next_step(ring, slot, key, op);
    }
    finish_if_done(slots, key)
}

/// Hands on the finding of a decided probe whose memory the kernel no longer uses, and frees
/// its slot (closing the socket).
fn finish_if_done(slots: &mut Slab<Slot>, key: usize) -> Option<Finding> {
    let slot = &slots[key];
    let (outcome, elapsed) = slot.decided?;
    if slot.io.busy() {
        return None;
    }
    let target = slot.target;
    slots.remove(key);
    Some(Finding {
        target,
        outcome,
        elapsed,
    })
}

/// What an operation's result means: the next operation, or `None` once the probe is decided
/// (the outcome is then in `slot.decided`).
fn advance(slot: &mut Slot, result: i32) -> Option<Op> {
    let outcome = if result == -libc::ECANCELED {
        // The linked timeout cancelled it: the deadline came first.
        slot.exchange.on_deadline()
    } else if result < 0 {
        // The connect, the send or the receive failed: the exchange says what that means.
        slot.exchange
            .on_error(&io::Error::from_raw_os_error(-result))
    } else {
        let n = result as usize;
        match slot.op {
            Op::Connect => return Some(Op::Send { from: 0 }),
            Op::Send { from } if from + n < slot.io.request_len() => {
                return Some(Op::Send { from: from + n })
            }
            Op::Send { .. } => return Some(Op::Recv),
            Op::Recv => match slot.exchange.on_read(slot.io.received(n)) {
                Step::Done(outcome) => outcome,
                Step::NeedMore => return Some(Op::Recv),
            },
        }
    };
    slot.decided = Some((outcome, slot.started.elapsed()));
    None
}
// ANCHOR_END: loop
