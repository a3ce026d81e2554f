//! A runtime nested in a task of another (a `block_on` inside a task): each socket and timer
//! belongs to the runtime it was registered with, whichever runtime is running when it is polled
//! or dropped. Each reactor numbers its sockets and timers from zero, so an outer runtime's first
//! socket and timer have the same key and id as an inner one's: a mix-up of runtimes shows.
//!
//! Every connection goes to a listener on 127.0.0.1 that the test holds, and the test accepts
//! each one itself, so it decides when a peer speaks.

use std::io::Write;
use std::net::{TcpListener, TcpStream};
use std::time::{Duration, Instant};

use futures::poll;
use wardial_own_runtime::executor::{registrations, Registrations};
use wardial_own_runtime::io::{connect, read_some, sleep_until, Stream};
use wardial_own_runtime::{block_on, spawn};

/// Connects with this runtime's `connect`, and accepts the other end (already in the listener's
/// backlog once the connect is done, so the accept does not block).
async fn connected(listener: &TcpListener) -> (Stream, TcpStream) {
    let stream = connect(listener.local_addr().unwrap()).await.unwrap();
    let (peer, _) = listener.accept().unwrap();
    (stream, peer)
}

/// Runs `f` on a thread of its own: a wakeup that never comes must fail the test, not hang it.
fn within_30s<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    wardial_testkit::within(
        Duration::from_secs(30),
        "the nested runtimes still wait after 30 s: a wakeup was lost, or went to the other runtime",
        f,
    )
}

fn hour_from_now() -> Instant {
    Instant::now() + Duration::from_secs(3600)
}

#[test]
fn an_inner_runtime_is_woken_while_the_outer_ones_io_is_polled_and_dropped_inside_it() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    within_30s(move || {
        block_on(async move {
            // The outer runtime's sockets 0 and 1, each with a read waiting, and its timers 0
            // and 1; socket 0 and timer 0 will be dropped inside the inner runtime.
            let (stream, _gone_peer) = connected(&listener).await;
            let mut gone_read = read_some(stream, vec![0; 4]);
            assert!(poll!(&mut gone_read).is_pending());
            let (stream, mut outer_peer) = connected(&listener).await;
            let mut outer_read = read_some(stream, vec![0; 4]);
            assert!(poll!(&mut outer_read).is_pending());
            let mut gone_sleep = sleep_until(hour_from_now());
            assert!(poll!(&mut gone_sleep).is_pending());
            let kept_until = Instant::now() + Duration::from_millis(100);
            let mut kept_sleep = sleep_until(kept_until);
            assert!(poll!(&mut kept_sleep).is_pending());

            let answer = block_on(async {
                // The inner runtime's socket 0 and timer 0.
                let (stream, mut peer) = connected(&listener).await;
                let mut read = read_some(stream, vec![0; 4]);
                assert!(poll!(&mut read).is_pending());
                let mut inner_sleep = sleep_until(Instant::now() + Duration::from_millis(20));
                assert!(poll!(&mut inner_sleep).is_pending());
                // The outer objects, polled and dropped here: still pending (the outer reactor
                // does not turn while this runtime runs), and gone from the outer reactor only.
                assert!(poll!(&mut outer_read).is_pending());
                assert!(poll!(&mut kept_sleep).is_pending());
                drop(gone_read);
                drop(gone_sleep);
                // The peer answers from a task, which runs after this future has gone back to
                // waiting: the read ends only if the inner reactor wakes it.
                drop(spawn(async move { peer.write_all(b"pong").unwrap() }));
                let (_, buf, n) = read.await.unwrap();
                inner_sleep.await;
                buf[..n].to_vec()
            });
            assert_eq!(answer, b"pong");

            // Back in the outer runtime: its read and timer, last polled inside the inner one,
            // are woken by the outer reactor.
            drop(spawn(async move { outer_peer.write_all(b"pong").unwrap() }));
            let (_, buf, n) = outer_read.await.unwrap();
            assert_eq!(&buf[..n], b"pong");
            kept_sleep.await;
            assert!(Instant::now() >= kept_until, "a timer woke before its time");
        });
    });
}

#[test]
fn dropping_an_io_object_removes_its_own_registration_and_no_other() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let one_each = Registrations {
        sockets: 1,
        timers: 1,
    };
    let none = Registrations {
        sockets: 0,
        timers: 0,
    };
    within_30s(move || {
        block_on(async move {
            let (outer_stream, _outer_peer) = connected(&listener).await;
            let mut outer_sleep = sleep_until(hour_from_now());
            assert!(poll!(&mut outer_sleep).is_pending());
            assert_eq!(registrations(), one_each);

            block_on(async {
                assert_eq!(registrations(), none, "a new runtime starts empty");
                let (inner_stream, _inner_peer) = connected(&listener).await;
                let mut inner_sleep = sleep_until(hour_from_now());
                assert!(poll!(&mut inner_sleep).is_pending());
                assert!(poll!(&mut outer_sleep).is_pending());
                assert_eq!(
                    registrations(),
                    one_each,
                    "polling the outer runtime's timer here registered it with the inner runtime"
                );
                drop(outer_stream);
                drop(outer_sleep);
                assert_eq!(
                    registrations(),
                    one_each,
                    "dropping the outer runtime's socket and timer removed the inner runtime's"
                );
                drop(inner_stream);
                drop(inner_sleep);
                assert_eq!(registrations(), none);
            });

            assert_eq!(
                registrations(),
                none,
                "the outer runtime's socket and timer, dropped inside the inner runtime, are still \
                 registered with the outer one"
            );
        });
    });
}
