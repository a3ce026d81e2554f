//! # The probe as a promise chain
//!
//! The style of JavaScript promises and of Rust's futures 0.1: no `async`, no `await`, each step a
//! closure handed to a combinator (`and_then`: when this succeeds, start that; `map`: when this
//! ends, turn its result into the finding). A closure runs later, after the function that built
//! the chain has returned, so it cannot borrow: what one step needs from the previous one is passed
//! along (the stream, the buffer), and what several steps and the deadline share (the exchange) is
//! shared by reference counting, as JavaScript shares everything. A loop is a combinator too
//! ([`loop_fn`]): each round's future says whether to stop or to go round again.

use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::future::{FutureExt, TryFutureExt};
use wardial_probe::http::{Exchange, Step};
use wardial_probe::{lock, Finding, Target};

use crate::io::{connect, deadline, loop_fn, read_some, write_all, Elapsed, Loop};

// ANCHOR: promises
/// One probe: a future that ends within `timeout` of its start.
pub fn probe(target: Target, timeout: Duration) -> impl Future<Output = Finding> + Send {
    let started = Instant::now();
    let exchange = Arc::new(Mutex::new(Exchange::new()));
    let (reading, ending) = (exchange.clone(), exchange);
    let request = target.request();
    let chain = connect(target.dial)
        .and_then(move |stream| write_all(stream, request))
        .and_then(move |(stream, _request)| {
            // Read, hand the bytes to the exchange, and go round until it is decided.
            loop_fn((stream, vec![0; 1024]), move |(stream, buf)| {
                let exchange = reading.clone();
                read_some(stream, buf).map_ok(move |(stream, buf, n)| {
                    match lock(&exchange).on_read(&buf[..n]) {
                        Step::Done(outcome) => Loop::Break(outcome),
                        Step::NeedMore => Loop::Continue((stream, buf)),
                    }
                })
            })
        });
    deadline(started + timeout, chain).map(move |result| {
        let outcome = match result {
            Ok(Ok(outcome)) => outcome,
            // The connect, the write or a read failed: the exchange says what that means.
            Ok(Err(e)) => lock(&ending).on_error(&e),
            Err(Elapsed) => lock(&ending).on_deadline(),
        };
        Finding {
            target,
            outcome,
            elapsed: started.elapsed(),
        }
    })
}
// ANCHOR_END: promises
