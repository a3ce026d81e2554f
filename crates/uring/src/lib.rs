//! # Readiness or completion: io_uring
//!
//! Every other waiting model asks the kernel which socket is *ready* (epoll through mio), then
//! does the IO itself. io_uring is asked to *do* the IO (connect, send, receive) and says when
//! each operation is *complete*, with its result. So the kernel works with the probe's buffers
//! after the call that submitted them has returned: they must stay put, owned by the loop, until
//! the completion arrives. That rule is what this crate is about.
//!
//! Two models live here:
//! - [`Uring`] (`uring`): a hand-written completion loop on the `io-uring` crate, to be read next
//!   to the callbacks crate's readiness loop;
//! - [`Compio`] (`compio`): async/await on compio, a completion-based runtime, in the skeleton of
//!   the tokio, async-std and smol crates.
//!
//! Linux only: elsewhere (and where a kernel or a container's seccomp profile refuses io_uring)
//! building the model returns [`Unavailable`] with the reason in one line, and the race shows it
//! as such.
//!
//! Submitting a buffer to the kernel is `unsafe`: the compiler cannot see that the kernel still
//! uses it after the call returns. That `unsafe` lives in one small module, `submit`, each block
//! with the reason it is sound; it is the one place in the workspace that allows `unsafe` code.

use std::fmt;

#[cfg(target_os = "linux")]
pub mod compio;
#[cfg(target_os = "linux")]
mod completion;
// The workspace denies `unsafe` code; this module is the one exception, and says why at each use.
#[cfg(target_os = "linux")]
#[allow(unsafe_code)]
mod submit;

#[cfg(target_os = "linux")]
pub use compio::Compio;
#[cfg(target_os = "linux")]
pub use completion::Uring;

/// Why a completion model cannot run here, in one line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unavailable(pub String);

impl fmt::Display for Unavailable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Unavailable {}

/// Elsewhere than on Linux, the models exist only to say so: no value of these types can be
/// made (the enums have no variants), and `new` says why.
#[cfg(not(target_os = "linux"))]
mod elsewhere {
    use wardial_probe::{Finding, Probe, ScanConfig, ScanSummary, Targets};

    use crate::Unavailable;

    #[derive(Debug)]
    pub enum Uring {}

    #[derive(Debug)]
    pub enum Compio {}

    impl Uring {
        pub fn new() -> Result<Uring, Unavailable> {
            Err(Unavailable("io_uring exists only on Linux".into()))
        }
    }

    impl Compio {
        pub fn new() -> Result<Compio, Unavailable> {
            Err(Unavailable("io_uring exists only on Linux".into()))
        }
    }

    impl Probe for Uring {
        fn name(&self) -> &'static str {
            match *self {}
        }
        fn scan(&self, _: Targets<'_>, _: &ScanConfig, _: &mut dyn FnMut(Finding)) -> ScanSummary {
            match *self {}
        }
    }

    impl Probe for Compio {
        fn name(&self) -> &'static str {
            match *self {}
        }
        fn scan(&self, _: Targets<'_>, _: &ScanConfig, _: &mut dyn FnMut(Finding)) -> ScanSummary {
            match *self {}
        }
    }
}

#[cfg(not(target_os = "linux"))]
pub use elsewhere::{Compio, Uring};
