//! # The probe as a hand-written state machine
//!
//! What the compiler makes of an `async fn`, written out: an `enum` of the points where the probe
//! waits (connecting, writing, reading), each holding what the rest of the probe needs, and a
//! `poll` that advances from state to state as far as the sockets allow, then returns `Pending`.
//! Whenever the probe waits, its deadline is polled too. Nothing here is `async`.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use wardial_probe::http::{Exchange, Step};
use wardial_probe::{Finding, Outcome, Target};

use crate::io::{connect, read_some, sleep_until, write_all, Connect, ReadSome, Sleep, WriteAll};

// ANCHOR: state_machine
/// One probe: a future that ends within `timeout` of its start.
pub fn probe(target: Target, timeout: Duration) -> ProbeFuture {
    let started = Instant::now();
    ProbeFuture {
        target,
        started,
        deadline: sleep_until(started + timeout),
        exchange: Exchange::new(),
        state: State::Connecting(connect(target.dial)),
    }
}

/// Where the probe is waiting, with what it owns there.
#[derive(Debug)]
enum State {
    Connecting(Connect),
    Writing(WriteAll),
    Reading(ReadSome),
    Done,
}

#[derive(Debug)]
pub struct ProbeFuture {
    target: Target,
    started: Instant,
    deadline: Sleep,
    exchange: Exchange,
    state: State,
}

impl Future for ProbeFuture {
    type Output = Finding;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Finding> {
        let this = &mut *self;
        // Advance as far as the sockets allow: each step that is ready starts the next.
        loop {
            match &mut this.state {
                State::Connecting(connecting) => match Pin::new(connecting).poll(cx) {
                    Poll::Ready(Ok(stream)) => {
                        this.state = State::Writing(write_all(stream, this.target.request()));
                    }
                    Poll::Ready(Err(e)) => return this.failed(&e),
                    Poll::Pending => break,
                },
                State::Writing(writing) => match Pin::new(writing).poll(cx) {
                    Poll::Ready(Ok((stream, _request))) => {
                        this.state = State::Reading(read_some(stream, vec![0; 1024]));
                    }
                    Poll::Ready(Err(e)) => return this.failed(&e),
                    Poll::Pending => break,
                },
                State::Reading(reading) => match Pin::new(reading).poll(cx) {
                    Poll::Ready(Ok((stream, buf, n))) => match this.exchange.on_read(&buf[..n]) {
                        Step::Done(outcome) => return this.finish(outcome),
                        Step::NeedMore => this.state = State::Reading(read_some(stream, buf)),
                    },
                    Poll::Ready(Err(e)) => return this.failed(&e),
                    Poll::Pending => break,
                },
                State::Done => panic!("a probe polled after it ended"),
            }
        }
        // Every step waits: the deadline is the other way out.
        match Pin::new(&mut this.deadline).poll(cx) {
            Poll::Ready(()) => {
                let outcome = this.exchange.on_deadline();
                this.finish(outcome)
            }
            Poll::Pending => Poll::Pending,
        }
    }
}

impl ProbeFuture {
    /// The connect, the write or a read failed: the exchange says what that means.
    fn failed(&mut self, e: &std::io::Error) -> Poll<Finding> {
        let outcome = self.exchange.on_error(e);
        self.finish(outcome)
    }

    /// Ends the probe: dropping the state closes its socket.
    fn finish(&mut self, outcome: Outcome) -> Poll<Finding> {
        self.state = State::Done;
        Poll::Ready(Finding {
            target: self.target,
            outcome,
            elapsed: self.started.elapsed(),
        })
    }
}
// ANCHOR_END: state_machine
