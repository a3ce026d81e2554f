//! # The probe as an `async fn`
//!
//! The same probe, awaiting the same primitives as the other two files: it reads top to bottom
//! like the blocking probe, and the compiler writes the state machine (the enum of waiting
//! points, and the `poll` that moves between them) that `state_machine.rs` writes by hand.
//! Locals live across `.await`, so the target and the exchange are simply borrowed; the stream
//! and the buffer still go through the primitives by value, as they do in the other two files.

use std::io;
use std::pin::pin;
use std::time::{Duration, Instant};

use wardial_probe::http::{Exchange, Step};
use wardial_probe::{Finding, Outcome, Target};

use crate::io::{connect, deadline, read_some, write_all, Elapsed};

// ANCHOR: async_fn
/// One probe: a future that ends within `timeout` of its start.
pub async fn probe(target: Target, timeout: Duration) -> Finding {
    let started = Instant::now();
    let mut exchange = Exchange::new();
    let result = {
        let run = pin!(run(&target, &mut exchange));
        deadline(started + timeout, run).await
    };
    let outcome = match result {
        Ok(Ok(outcome)) => outcome,
        // The connect, the write or a read failed: the exchange says what that means.
        Ok(Err(e)) => exchange.on_error(&e),
        Err(Elapsed) => exchange.on_deadline(),
    };
    Finding {
        target,
        outcome,
        elapsed: started.elapsed(),
    }
}

/// Connect, write the request, read until the exchange is decided.
async fn run(target: &Target, exchange: &mut Exchange) -> io::Result<Outcome> {
    let stream = connect(target.dial).await?;
    let (mut stream, _request) = write_all(stream, target.request()).await?;
    let mut buf = vec![0; 1024];
    loop {
        let n;
        (stream, buf, n) = read_some(stream, buf).await?;
        if let Step::Done(outcome) = exchange.on_read(&buf[..n]) {
            return Ok(outcome);
        }
    }
}
// ANCHOR_END: async_fn
