//! # Part 1: the executor
//!
//! Tasks in a run queue. A task is a future in a box; its waker is the task itself (`Wake` on
//! `Arc<Task>`, from std: no hand-made vtable), and waking it puts it back on the queue.
//! [`block_on`] runs one future to its end on the calling thread: it polls that future when it
//! is woken, runs the queued tasks, and between rounds asks the reactor (part 2) for IO and timers,
//! sleeping there when nothing is ready to run.

use std::any::Any;
use std::cell::RefCell;
use std::collections::VecDeque;
use std::fmt;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::{pin, Pin};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Wake, Waker};
use std::time::Duration;

use futures::FutureExt;
use wardial_probe::lock;

use crate::reactor::Reactor;

// ANCHOR: task
/// A spawned future, type-erased.
type BoxFuture = Pin<Box<dyn Future<Output = ()> + Send>>;

/// One task: its future (taken out once it is done) and the queue it returns to when woken.
struct Task {
    future: Mutex<Option<BoxFuture>>,
    /// On the queue already: a second wake before it runs adds nothing.
    queued: AtomicBool,
    queue: Arc<Queue>,
}

// ANCHOR_END: task

/// The waker of a task is the task: waking it puts it on the run queue.
impl Wake for Task {
    fn wake(self: Arc<Self>) {
        // Task 4: put this task back on its run queue, so that the executor polls it again; however
        // often it is woken before it runs, it must be polled once. Read `Task`, `Task::run` and
        // `spawn` first.
        let _ = self;
        todo!("Task 4: wake")
    }
}

// ANCHOR: run

impl Task {
    /// Puts the task on its run queue, for the executor to poll.
    fn schedule(self: Arc<Self>) {
        let queue = self.queue.clone();
        queue.push(self);
    }

    /// Polls the task once, with itself as the waker.
    fn run(self: Arc<Self>) {
        // Off the queue before the poll: a wake during the poll queues it again. (A swap, so
        // that what a waking thread wrote before it found the flag set is seen by this poll.)
        self.queued.swap(false, Ordering::AcqRel);
        let waker = Waker::from(self.clone());
        let mut cx = Context::from_waker(&waker);
        let mut future = lock(&self.future);
        if let Some(f) = future.as_mut() {
            if f.as_mut().poll(&mut cx).is_ready() {
                // Done: free the future now, not when the last clone of its waker goes.
                *future = None;
            }
        }
    }
}
// ANCHOR_END: run

/// The run queue: woken tasks, in the order they were woken.
struct Queue {
    tasks: Mutex<VecDeque<Arc<Task>>>,
    /// True while the executor sleeps in the reactor: only then must a wake interrupt it (a
    /// wake from the executor's own thread, the usual case, costs no system call).
    parked: AtomicBool,
    unpark: mio::Waker,
}

impl Queue {
    fn push(&self, task: Arc<Task>) {
        lock(&self.tasks).push_back(task);
        self.unpark_if_parked();
    }

    fn pop(&self) -> Option<Arc<Task>> {
        lock(&self.tasks).pop_front()
    }

    fn len(&self) -> usize {
        lock(&self.tasks).len()
    }

    fn unpark_if_parked(&self) {
        // SeqCst here and where `block_on` parks: each side stores its flag, then reads the
        // other's; with weaker orderings both could miss the other, and the executor would sleep
        // through a wake from another thread.
        if self.parked.load(Ordering::SeqCst) {
            let _ = self.unpark.wake();
        }
    }
}

/// What a running `block_on` shares with the futures it polls, through a thread-local: `spawn`
/// needs the queue, a new IO object the reactor. A `poll` is handed a waker and nothing else, so
/// "the runtime running now" can only be found this way; but an IO object asks only once, when it
/// registers, and keeps its own handle from then on: a runtime nested in one of this runtime's
/// tasks is the current one while it runs, and must not be the one an outer object waits on.
#[derive(Clone)]
struct Current {
    queue: Arc<Queue>,
    reactor: Arc<Reactor>,
}

thread_local! {
    static CURRENT: RefCell<Option<Current>> = const { RefCell::new(None) };
}

/// The reactor of the `block_on` running on this thread, for an IO object to register with.
///
/// # Panics
/// Outside [`block_on`]: this runtime's IO futures work only on it.
pub(crate) fn reactor() -> Arc<Reactor> {
    CURRENT
        .try_with(|c| c.borrow().as_ref().map(|c| c.reactor.clone()))
        .ok()
        .flatten()
        .expect("own-runtime IO is used outside own-runtime's block_on")
}

/// How many sockets and waiting timers the reactor of the running [`block_on`] holds: what the
/// tests look at to tell that an IO object dropped inside a nested runtime left that runtime's
/// registrations alone.
#[doc(hidden)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Registrations {
    pub sockets: usize,
    pub timers: usize,
}

/// The [`Registrations`] of the running [`block_on`]'s reactor.
///
/// # Panics
/// Outside [`block_on`].
#[doc(hidden)]
pub fn registrations() -> Registrations {
    let (sockets, timers) = reactor().registrations();
    Registrations { sockets, timers }
}

// ANCHOR: spawn
/// Starts `future` as a task of the running [`block_on`]; its output (or its panic) comes back
/// through the [`JoinHandle`].
///
/// # Panics
/// Outside [`block_on`].
pub fn spawn<F>(future: F) -> JoinHandle<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    let join = Arc::new(Mutex::new(Join {
        result: None,
        waiter: None,
    }));
    let done = join.clone();
    // A panic in the task is caught and handed to whoever awaits it, as tokio's `JoinError`:
    // it neither unwinds through the executor nor vanishes.
    let task = AssertUnwindSafe(future).catch_unwind().map(move |result| {
        let waiter = {
            let mut join = lock(&done);
            join.result = Some(result);
            join.waiter.take()
        };
        if let Some(waiter) = waiter {
            waiter.wake();
        }
    });
    let queue = CURRENT
        .with(|c| c.borrow().as_ref().map(|c| c.queue.clone()))
        .expect("own-runtime's spawn is called outside its block_on");
    // Queued from the start: its first poll is on its way.
    let task = Arc::new(Task {
        future: Mutex::new(Some(Box::pin(task))),
        queued: AtomicBool::new(true),
        queue,
    });
    task.schedule();
    JoinHandle { join }
}
// ANCHOR_END: spawn

struct Join<T> {
    result: Option<std::thread::Result<T>>,
    waiter: Option<Waker>,
}

/// Awaits a spawned task's output.
pub struct JoinHandle<T> {
    join: Arc<Mutex<Join<T>>>,
}

impl<T> fmt::Debug for JoinHandle<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JoinHandle").finish_non_exhaustive()
    }
}

/// The task panicked; holds what it panicked with.
pub struct JoinError(Box<dyn Any + Send>);

impl fmt::Debug for JoinError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let message = self
            .0
            .downcast_ref::<&str>()
            .copied()
            .or_else(|| self.0.downcast_ref::<String>().map(String::as_str))
            .unwrap_or("(not a string)");
        write!(f, "JoinError(task panicked: {message})")
    }
}

impl<T> Future for JoinHandle<T> {
    type Output = Result<T, JoinError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut join = lock(&self.join);
        match join.result.take() {
            Some(result) => Poll::Ready(result.map_err(JoinError)),
            None => {
                join.waiter = Some(cx.waker().clone());
                Poll::Pending
            }
        }
    }
}

/// The waker of the future `block_on` runs, which is not a task (it may borrow from the caller,
/// so it is neither `Send` nor `'static`): a flag, and a nudge if the executor sleeps.
struct MainWaker {
    woken: AtomicBool,
    queue: Arc<Queue>,
}

impl Wake for MainWaker {
    fn wake(self: Arc<Self>) {
        self.woken.store(true, Ordering::SeqCst);
        self.queue.unpark_if_parked();
    }
}

/// Drops what a runtime still holds when its `block_on` ends: the queued tasks (a queue and its
/// tasks point at each other, so neither would ever be freed) and the tasks kept alive by the
/// reactor's wakers, so that they deregister their sockets and timers from a reactor still whole
/// rather than while it is being dropped.
struct Teardown {
    queue: Arc<Queue>,
    reactor: Arc<Reactor>,
}

impl Drop for Teardown {
    fn drop(&mut self) {
        let queued: Vec<Arc<Task>> = lock(&self.queue.tasks).drain(..).collect();
        for task in queued {
            let future = lock(&task.future).take();
            drop(future);
        }
        drop(self.reactor.take_all_wakers());
    }
}

/// Makes `current` this thread's runtime until dropped, then puts back the one before (a
/// `block_on` called inside another one runs its own runtime and leaves the outer one as it was).
struct Enter(Option<Current>);

impl Enter {
    fn new(current: Current) -> Enter {
        Enter(CURRENT.with(|c| c.borrow_mut().replace(current)))
    }
}

impl Drop for Enter {
    fn drop(&mut self) {
        let before = self.0.take();
        let _ = CURRENT.try_with(|c| *c.borrow_mut() = before);
    }
}

// ANCHOR: block_on
/// Runs `future` to its end on this thread, with a runtime of its own: a run queue and a reactor
/// (an epoll or kqueue instance), made here and gone when it returns.
///
/// Each round: poll `future` if it was woken; run every task queued at the start of the round
/// (tasks woken meanwhile wait for the next round, after the reactor has been asked, so no task
/// can keep the others from their sockets); then ask the reactor for readiness and timers,
/// without waiting if anything is ready to run, or sleeping until a socket or a timer wakes one.
pub fn block_on<F: Future>(future: F) -> F::Output {
    let reactor = Arc::new(Reactor::new().expect("an epoll or kqueue instance"));
    let queue = Arc::new(Queue {
        tasks: Mutex::new(VecDeque::new()),
        parked: AtomicBool::new(false),
        unpark: reactor.unparker().expect("a waker for the reactor"),
    });
    let _enter = Enter::new(Current {
        queue: queue.clone(),
        reactor: reactor.clone(),
    });
    // Declared after `_enter`, so dropped before it: tasks still alive when `block_on` returns
    // (or unwinds) are dropped while this runtime is still the current one.
    let _teardown = Teardown {
        queue: queue.clone(),
        reactor: reactor.clone(),
    };
    let main = Arc::new(MainWaker {
        woken: AtomicBool::new(true),
        queue: queue.clone(),
    });
    let waker = Waker::from(main.clone());
    let mut cx = Context::from_waker(&waker);
    let mut future = pin!(future);
    loop {
        if main.woken.swap(false, Ordering::SeqCst) {
            if let Poll::Ready(output) = future.as_mut().poll(&mut cx) {
                return output;
            }
        }
        for _ in 0..queue.len() {
            match queue.pop() {
                Some(task) => task.run(),
                None => break,
            }
        }
        // Parked before looking, so that a wake from another thread in between either is
        // seen here or interrupts the sleep.
        queue.parked.store(true, Ordering::SeqCst);
        let ready = main.woken.load(Ordering::SeqCst) || queue.len() > 0;
        let woken = reactor.turn(ready.then_some(Duration::ZERO));
        // Awake again before waking anyone: these wakes come from this thread and need no
        // system call to interrupt a sleep that is over.
        queue.parked.store(false, Ordering::SeqCst);
        woken.into_iter().for_each(Waker::wake);
    }
}
// ANCHOR_END: block_on
