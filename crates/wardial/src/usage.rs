//! What a process cost, from the kernel's own accounting (`getrusage`): CPU time in user and
//! system mode, context switches, voluntary (the thread waited: a blocking read, a lock, an
//! empty run queue) and involuntary (the scheduler took the core away), and peak memory. The
//! race reads its own before and after a model's scan (the difference is the model's); `check`
//! reads its children's.

use std::time::Duration;

/// One reading, or the difference of two.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Usage {
    pub user: Duration,
    pub system: Duration,
    pub voluntary: u64,
    pub involuntary: u64,
    /// The peak resident memory, in bytes (of the largest child, for [`Usage::children`]).
    pub peak_memory_bytes: u64,
}

impl Usage {
    /// This process, all its threads, so far: `None` where the system cannot say.
    pub fn now() -> Option<Usage> {
        #[cfg(unix)]
        return read(nix::sys::resource::UsageWho::RUSAGE_SELF);
        #[cfg(not(unix))]
        None
    }

    /// This process's children that have ended and been waited for.
    pub fn children() -> Option<Usage> {
        #[cfg(unix)]
        return read(nix::sys::resource::UsageWho::RUSAGE_CHILDREN);
        #[cfg(not(unix))]
        None
    }

    /// What happened between `earlier` and this reading (the peak is this reading's).
    pub fn since(&self, earlier: &Usage) -> Usage {
        Usage {
            user: self.user.saturating_sub(earlier.user),
            system: self.system.saturating_sub(earlier.system),
            voluntary: self.voluntary.saturating_sub(earlier.voluntary),
            involuntary: self.involuntary.saturating_sub(earlier.involuntary),
            peak_memory_bytes: self.peak_memory_bytes,
        }
    }

    /// User and system time together.
    pub fn cpu(&self) -> Duration {
        self.user + self.system
    }
}

#[cfg(unix)]
fn read(who: nix::sys::resource::UsageWho) -> Option<Usage> {
    let u = nix::sys::resource::getrusage(who).ok()?;
    let time = |t: nix::sys::time::TimeVal| {
        Duration::new(t.tv_sec().max(0) as u64, (t.tv_usec().max(0) as u32) * 1000)
    };
    // ru_maxrss is in KiB on Linux and the BSDs, in bytes on macOS.
    let rss = u.max_rss().max(0) as u64;
    Some(Usage {
        user: time(u.user_time()),
        system: time(u.system_time()),
        voluntary: u.voluntary_context_switches().max(0) as u64,
        involuntary: u.involuntary_context_switches().max(0) as u64,
        peak_memory_bytes: if cfg!(target_os = "macos") {
            rss
        } else {
            rss * 1024
        },
    })
}

/// The cores this machine runs threads on: what the CPU-bound floor divides work by.
pub fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[cfg(unix)]
    fn work_and_waits_are_counted() {
        let before = Usage::now().unwrap();
        // Work: user time. A sleep: at least one voluntary switch.
        let mut x = 0u64;
        let spin = std::time::Instant::now();
        while spin.elapsed() < Duration::from_millis(30) {
            x = x.wrapping_mul(6364136223846793005).wrapping_add(1);
        }
        std::hint::black_box(x);
        std::thread::sleep(Duration::from_millis(5));
        let used = Usage::now().unwrap().since(&before);
        assert!(used.cpu() > Duration::ZERO, "{used:?}");
        assert!(used.voluntary >= 1, "{used:?}");
        assert!(cores() >= 1);
    }
}
