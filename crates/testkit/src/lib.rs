//! What the homework's task tests share: a time limit, and a message when it runs out.
//!
//! A task test runs code that a student is still writing, and such code may never return: an
//! iterator that never ends, a probe without a deadline on a host that never answers, a waker
//! that never queues its task. The test must then fail, and say which of these it was, rather
//! than leave `cargo xtask grade` waiting forever. Standard library only, so that the starter
//! workspace needs nothing more.

use std::panic;
use std::sync::mpsc;
use std::time::Duration;

/// Runs `f` on a thread of its own and returns what it returns. If it panics, the panic goes
/// on in the caller (its message was printed where it happened). If it has not returned after
/// `limit`, panics with `hung`, which should say what never ended and the likely reason: the
/// thread is left behind, and ends with the test's process.
///
/// # Panics
/// With `hung` after `limit`, or with `f`'s own panic.
pub fn within<T, F>(limit: Duration, hung: &str, f: F) -> T
where
    T: Send + 'static,
    F: FnOnce() -> T + Send + 'static,
{
    let (done, result) = mpsc::channel();
    let name = std::thread::current()
        .name()
        .unwrap_or("a task test")
        .to_string();
    std::thread::Builder::new()
        .name(name)
        .spawn(move || {
            let outcome = panic::catch_unwind(panic::AssertUnwindSafe(f));
            let _ = done.send(outcome);
        })
        .expect("a thread for the test");
    match result.recv_timeout(limit) {
        Ok(Ok(value)) => value,
        Ok(Err(panicked)) => panic::resume_unwind(panicked),
        Err(_) => panic!("{hung} (still running after {} s)", limit.as_secs()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn returns_what_the_closure_returns() {
        assert_eq!(within(Duration::from_secs(5), "never", || 6 * 7), 42);
    }

    #[test]
    fn says_what_hung() {
        let hung = panic::catch_unwind(|| {
            within(Duration::from_millis(50), "the loop never ended", || loop {
                std::thread::sleep(Duration::from_millis(10));
            })
        })
        .expect_err("a closure that never returns fails the test");
        let message = hung.downcast_ref::<String>().cloned().unwrap_or_default();
        assert!(message.starts_with("the loop never ended"), "{message}");
    }

    #[test]
    fn passes_a_panic_on() {
        let panicked = panic::catch_unwind(|| {
            within(Duration::from_secs(5), "never", || {
                panic!("the closure's own")
            })
        })
        .expect_err("a panic in the closure fails the test");
        assert_eq!(panicked.downcast_ref::<&str>(), Some(&"the closure's own"));
    }
}
