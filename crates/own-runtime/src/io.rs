//! # Part 3: the IO primitives, as hand-made futures
//!
//! Each one takes ownership of what it works on (the stream, the buffer) and gives it back in
//! its output, so that steps can be chained one after the other without borrowing: a promise
//! chain cannot borrow across steps, and a state machine cannot hold a borrow of itself.
//!
//! Every `poll` does the same three things: try the system call; if it would block, leave the
//! task's waker with the reactor and return `Pending`; otherwise return `Ready` with the result.
//!
//! Each waits on the reactor its socket or timer was registered with, whose handle it keeps, not
//! on the reactor of whichever runtime runs when it is polled: inside a nested `block_on`, that
//! is another one.

use std::future::Future;
use std::io::{self, Read, Write};
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, Weak};
use std::task::{Context, Poll, Waker};
use std::time::Instant;

use wardial_probe::connect_finished;

use crate::executor::reactor;
use crate::reactor::{registered_with, Direction, Reactor};

/// A TCP stream, registered with the reactor running when it connected; deregistered from that
/// one when dropped.
#[derive(Debug)]
pub struct Stream {
    io: mio::net::TcpStream,
    /// Weak: a stream that outlives its runtime (returned from `block_on`) must not keep the
    /// reactor, and the wakers in it, alive.
    reactor: Weak<Reactor>,
    key: usize,
}

impl Stream {
    /// Registers `io` with the running reactor.
    fn register(mut io: mio::net::TcpStream) -> io::Result<Stream> {
        let reactor = reactor();
        let key = reactor.register(&mut io)?;
        Ok(Stream {
            io,
            reactor: Arc::downgrade(&reactor),
            key,
        })
    }

    /// Leaves `waker` to be woken when the stream is ready in `direction`.
    fn wait(&self, direction: Direction, waker: &Waker) {
        registered_with(&self.reactor).wait(self.key, direction, waker);
    }
}

impl Drop for Stream {
    fn drop(&mut self) {
        // The reactor may be gone already (its runtime ended, or was torn down by a panic): then
        // closing the socket is all there is to do, and the drop of `io` does it.
        if let Some(reactor) = self.reactor.upgrade() {
            reactor.deregister(&mut self.io, self.key);
        }
    }
}

// ANCHOR: connect
/// Connects to `addr`: the future of a `Stream`.
pub fn connect(addr: SocketAddr) -> Connect {
    Connect {
        addr,
        stream: None,
        done: false,
    }
}

#[derive(Debug)]
pub struct Connect {
    addr: SocketAddr,
    /// Once the non-blocking connect has started: the stream it will be.
    stream: Option<Stream>,
    done: bool,
}

impl Future for Connect {
    type Output = io::Result<Stream>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        assert!(!this.done, "polled after it was ready");
        let stream = match &mut this.stream {
            Some(stream) => stream,
            None => {
                // Returns at once; the connection completes (or fails) later, and says so by
                // becoming writable.
                let io = mio::net::TcpStream::connect(this.addr)?;
                this.stream.insert(Stream::register(io)?)
            }
        };
        let result = match connect_finished(stream.io.take_error(), stream.io.peer_addr()) {
            Ok(true) => Ok(this.stream.take().expect("just matched")),
            Ok(false) => {
                stream.wait(Direction::Write, cx.waker());
                return Poll::Pending;
            }
            Err(e) => Err(e),
        };
        this.done = true;
        Poll::Ready(result)
    }
}

// ANCHOR_END: connect

// ANCHOR: write_all
/// Writes all of `buf`; gives back the stream and the buffer.
pub fn write_all(stream: Stream, buf: Vec<u8>) -> WriteAll {
    WriteAll {
        stream: Some(stream),
        buf,
        sent: 0,
    }
}

#[derive(Debug)]
pub struct WriteAll {
    stream: Option<Stream>,
    buf: Vec<u8>,
    sent: usize,
}

impl Future for WriteAll {
    type Output = io::Result<(Stream, Vec<u8>)>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        let stream = this.stream.as_mut().expect("polled after it was ready");
        while this.sent < this.buf.len() {
            match stream.io.write(&this.buf[this.sent..]) {
                Ok(0) => return Poll::Ready(Err(io::ErrorKind::WriteZero.into())),
                Ok(n) => this.sent += n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    stream.wait(Direction::Write, cx.waker());
                    return Poll::Pending;
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Poll::Ready(Err(e)),
            }
        }
        let stream = this.stream.take().expect("checked above");
        Poll::Ready(Ok((stream, std::mem::take(&mut this.buf))))
    }
}
// ANCHOR_END: write_all

// ANCHOR: read_some
/// Reads what the stream has (at least one byte, or none at the end of the stream) into `buf`,
/// which must not be empty (a read into nothing would look like the end of the stream); gives
/// back the stream, the buffer and how many bytes were read.
pub fn read_some(stream: Stream, buf: Vec<u8>) -> ReadSome {
    assert!(!buf.is_empty(), "read_some needs room to read into");
    ReadSome {
        stream: Some(stream),
        buf,
    }
}

#[derive(Debug)]
pub struct ReadSome {
    stream: Option<Stream>,
    buf: Vec<u8>,
}

impl Future for ReadSome {
    type Output = io::Result<(Stream, Vec<u8>, usize)>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        let stream = this.stream.as_mut().expect("polled after it was ready");
        loop {
            match stream.io.read(&mut this.buf) {
                Ok(n) => {
                    let stream = this.stream.take().expect("checked above");
                    return Poll::Ready(Ok((stream, std::mem::take(&mut this.buf), n)));
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    stream.wait(Direction::Read, cx.waker());
                    return Poll::Pending;
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Poll::Ready(Err(e)),
            }
        }
    }
}
// ANCHOR_END: read_some

// ANCHOR: deadline
/// Ready at `when`.
pub fn sleep_until(when: Instant) -> Sleep {
    Sleep { when, timer: None }
}

#[derive(Debug)]
pub struct Sleep {
    when: Instant,
    /// Once registered: the reactor that holds the timer (weak, as a [`Stream`]'s), and its id
    /// there.
    timer: Option<(Weak<Reactor>, u64)>,
}

impl Future for Sleep {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if Instant::now() >= self.when {
            self.cancel();
            return Poll::Ready(());
        }
        match &self.timer {
            Some((reactor, id)) => registered_with(reactor).update_timer(*id, cx.waker()),
            None => {
                let reactor = reactor();
                let id = reactor.add_timer(self.when, cx.waker());
                self.timer = Some((Arc::downgrade(&reactor), id));
            }
        }
        Poll::Pending
    }
}

impl Sleep {
    /// Removes the timer, if any, from the reactor that holds it, if that one is still there.
    fn cancel(&mut self) {
        if let Some((reactor, id)) = self.timer.take() {
            if let Some(reactor) = reactor.upgrade() {
                reactor.remove_timer(id);
            }
        }
    }
}

impl Drop for Sleep {
    fn drop(&mut self) {
        self.cancel();
    }
}

/// The deadline passed first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Elapsed;

/// Runs `future` until `when`: its output, or [`Elapsed`] if the deadline came first (whoever
/// owns the `Deadline` then drops it, and with it the future and whatever it owned, its socket
/// included).
///
/// `future` must be `Unpin` (moving it is harmless), so that polling it needs only `Pin::new`,
/// with no pin projection to vouch for by hand: an `async fn`'s future is pinned first, with
/// `std::pin::pin!`.
pub fn deadline<F: Future + Unpin>(when: Instant, future: F) -> Deadline<F> {
    Deadline {
        future,
        sleep: sleep_until(when),
    }
}

#[derive(Debug)]
pub struct Deadline<F> {
    future: F,
    sleep: Sleep,
}

impl<F: Future + Unpin> Future for Deadline<F> {
    type Output = Result<F::Output, Elapsed>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        if let Poll::Ready(output) = Pin::new(&mut self.future).poll(cx) {
            return Poll::Ready(Ok(output));
        }
        match Pin::new(&mut self.sleep).poll(cx) {
            Poll::Ready(()) => Poll::Ready(Err(Elapsed)),
            Poll::Pending => Poll::Pending,
        }
    }
}
// ANCHOR_END: deadline

// ANCHOR: loop_fn
/// What one round of a [`loop_fn`] says: stop with this value, or go round again from this state.
#[derive(Debug)]
pub enum Loop<T, S> {
    Break(T),
    Continue(S),
}

/// A loop as a future, for code with no `async`: runs `round(state)`, and again with the state
/// each round gives back, until one breaks (or fails). futures 0.1 had this combinator; futures
/// 0.3 dropped it, since an `async` block can loop. Written here so that a promise chain's loop
/// holds one round's future at a time, where a chain that calls itself would nest each round in
/// the one before.
pub fn loop_fn<S, F, R>(state: S, mut round: F) -> LoopFn<F, R>
where
    F: FnMut(S) -> R,
{
    let current = round(state);
    LoopFn { round, current }
}

#[derive(Debug)]
pub struct LoopFn<F, R> {
    round: F,
    current: R,
}

impl<S, T, E, F, R> Future for LoopFn<F, R>
where
    F: FnMut(S) -> R + Unpin,
    R: Future<Output = Result<Loop<T, S>, E>> + Unpin,
{
    type Output = Result<T, E>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        loop {
            match std::task::ready!(Pin::new(&mut this.current).poll(cx)) {
                Ok(Loop::Break(value)) => return Poll::Ready(Ok(value)),
                Ok(Loop::Continue(state)) => this.current = (this.round)(state),
                Err(e) => return Poll::Ready(Err(e)),
            }
        }
    }
}
// ANCHOR_END: loop_fn
