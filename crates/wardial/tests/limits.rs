//! Raising the open-file limit, in a process of its own: the test lowers the limit first, which
//! would disturb any other test sharing the process.

use rlimit::Resource;
use wardial::limits::raise_open_files;

#[test]
fn raising_takes_the_soft_limit_up_to_the_hard_one() {
    let (_, hard) = rlimit::getrlimit(Resource::NOFILE).unwrap();
    let low = 64.min(hard);
    rlimit::setrlimit(Resource::NOFILE, low, hard).unwrap();
    let now = raise_open_files().expect("the limit is known here");
    let (soft, _) = rlimit::getrlimit(Resource::NOFILE).unwrap();
    assert_eq!(now, soft, "reports the limit now in force");
    assert!(
        hard <= low || soft > low,
        "raised from {low} (hard {hard}) to {soft}"
    );
    // Linux lets a process take its soft limit all the way to the hard one; macOS caps it at
    // the kernel's per-process maximum, which may be lower.
    #[cfg(target_os = "linux")]
    assert_eq!(soft, hard);
}
