//! What running a model cost this process, from the kernel's own accounting (`getrusage`):
//! CPU time in user and system mode, and context switches, voluntary (the thread waited: a
//! blocking read, a lock, an empty run queue) and involuntary (the scheduler took the core
//! away). Read before and after a model's scan; the difference is the model's.

use std::time::Duration;

/// One reading, or the difference of two.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Usage {
    pub user: Duration,
    pub system: Duration,
    pub voluntary: u64,
    pub involuntary: u64,
}

impl Usage {
    /// This process, all its threads, so far: `None` where the system cannot say.
    #[cfg(unix)]
    pub fn now() -> Option<Usage> {
        use nix::sys::resource::{getrusage, UsageWho};
        let u = getrusage(UsageWho::RUSAGE_SELF).ok()?;
        let time = |t: nix::sys::time::TimeVal| {
            Duration::new(t.tv_sec().max(0) as u64, (t.tv_usec().max(0) as u32) * 1000)
        };
        Some(Usage {
            user: time(u.user_time()),
            system: time(u.system_time()),
            voluntary: u.voluntary_context_switches().max(0) as u64,
            involuntary: u.involuntary_context_switches().max(0) as u64,
        })
    }

    #[cfg(not(unix))]
    pub fn now() -> Option<Usage> {
        None
    }

    /// What happened between `earlier` and this reading.
    pub fn since(&self, earlier: &Usage) -> Usage {
        Usage {
            user: self.user.saturating_sub(earlier.user),
            system: self.system.saturating_sub(earlier.system),
            voluntary: self.voluntary.saturating_sub(earlier.voluntary),
            involuntary: self.involuntary.saturating_sub(earlier.involuntary),
        }
    }

    /// User and system time together.
    pub fn cpu(&self) -> Duration {
        self.user + self.system
    }
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
