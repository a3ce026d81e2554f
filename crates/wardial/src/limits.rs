//! Open-file limits: a scan needs a file per connection, and the default soft limit (1024 on
//! many Linux desktops, 256 on macOS) is below what a concurrent scan asks for.

use wardial_probe::FILES_RESERVED as RESERVE;

/// Raises the soft limit to the hard one; returns the limit now in force, if it can be known.
pub fn raise_open_files() -> Option<u64> {
    rlimit::increase_nofile_limit(u64::MAX).ok()
}

/// Clamps `wanted` connections so that `files_each` files per connection fit under `limit`.
/// Returns the number to use, and a warning if it had to be lowered.
pub fn clamp_connections(
    wanted: usize,
    files_each: u64,
    limit: Option<u64>,
) -> (usize, Option<String>) {
    let Some(limit) = limit else {
        return (wanted, None);
    };
    let fits = (limit.saturating_sub(RESERVE) / files_each.max(1)).max(1);
    if wanted as u64 <= fits {
        return (wanted, None);
    }
    let warning = format!(
        "warning: {wanted} connections need about {} open files but this process may open {limit}; using {fits} connections (raise the hard limit with `ulimit -Hn` to go higher)",
        wanted as u64 * files_each + RESERVE
    );
    (fits as usize, Some(warning))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clamps_only_when_needed() {
        assert_eq!(clamp_connections(500, 1, Some(20_000)), (500, None));
        assert_eq!(clamp_connections(500, 1, None), (500, None));
        let (n, warning) = clamp_connections(5000, 2, Some(1024));
        assert_eq!(n, 480);
        assert!(warning.unwrap().contains("using 480 connections"));
        assert_eq!(clamp_connections(10, 1, Some(10)).0, 1);
    }
}
