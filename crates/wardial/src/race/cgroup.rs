//! A memory cgroup of a child's own, so that what the kernel holds for it (thread stacks and
//! task structs, socket buffers, page tables) is counted with what it allocates: `VmHWM`
//! counts only the pages the process maps, and makes a thread look two or three times cheaper
//! than it is.
//!
//! The cgroup is made under this process's own (so no more rights are needed than to manage
//! one's own subtree, which a root user or a delegated user session has), the child is moved
//! into it before it does anything, and its peak is read when it has ended. cgroup v1's memory
//! controller reports the kernel's part apart (`memory.kmem.*`); v2 reports the total
//! (`memory.peak`) with the kernel's part inside it.

use std::path::{Path, PathBuf};

/// Which interface the memory controller speaks here.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Version {
    V1,
    V2,
}

/// A child's own memory cgroup, removed when dropped.
#[derive(Debug)]
pub struct Cgroup {
    dir: PathBuf,
    version: Version,
}

/// What the kernel counted for a cgroup at its peak, in bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Peak {
    pub total: u64,
    /// The kernel's own part of it, where the controller reports it apart (cgroup v1).
    pub kernel: Option<u64>,
}

impl Cgroup {
    /// A new cgroup named `name` under this process's own memory cgroup.
    pub fn create(name: &str) -> Result<Cgroup, String> {
        let (dir, version) = own_memory_cgroup()?;
        let dir = dir.join(name);
        std::fs::create_dir(&dir)
            .map_err(|e| format!("cannot make a memory cgroup in {}: {e}", dir.display()))?;
        Ok(Cgroup { dir, version })
    }

    /// Moves process `pid` into it: what it allocates from now on is counted here.
    pub fn add(&self, pid: u32) -> Result<(), String> {
        std::fs::write(self.dir.join("cgroup.procs"), pid.to_string())
            .map_err(|e| format!("cannot move a process into {}: {e}", self.dir.display()))
    }

    /// The peak since the cgroup was made.
    pub fn peak(&self) -> Result<Peak, String> {
        match self.version {
            Version::V2 => Ok(Peak {
                total: self.read("memory.peak")?,
                kernel: None,
            }),
            Version::V1 => {
                // Socket buffers are charged to `kmem.tcp`, apart from the rest.
                let tcp = self.read("memory.kmem.tcp.max_usage_in_bytes").unwrap_or(0);
                Ok(Peak {
                    total: self.read("memory.max_usage_in_bytes")? + tcp,
                    kernel: self
                        .read("memory.kmem.max_usage_in_bytes")
                        .ok()
                        .map(|k| k + tcp),
                })
            }
        }
    }

    fn read(&self, file: &str) -> Result<u64, String> {
        let path = self.dir.join(file);
        std::fs::read_to_string(&path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?
            .trim()
            .parse()
            .map_err(|e| format!("{}: {e}", path.display()))
    }
}

impl Drop for Cgroup {
    fn drop(&mut self) {
        // Empty once its process has ended; a cgroup still in use is left for the system.
        let _ = std::fs::remove_dir(&self.dir);
    }
}

/// The directory of this process's memory cgroup, and the interface it speaks.
fn own_memory_cgroup() -> Result<(PathBuf, Version), String> {
    let table = std::fs::read_to_string("/proc/self/cgroup")
        .map_err(|e| format!("no cgroups here ({e})"))?;
    let root = Path::new("/sys/fs/cgroup");
    for line in table.lines() {
        let mut parts = line.splitn(3, ':');
        let (_, controllers, path) = (parts.next(), parts.next(), parts.next());
        let path = path.unwrap_or("/").trim_start_matches('/');
        match controllers {
            // v1: a hierarchy of its own for the memory controller.
            Some(c) if c.split(',').any(|c| c == "memory") => {
                return Ok((root.join("memory").join(path), Version::V1));
            }
            // v2: one hierarchy; the memory controller must be enabled where we are.
            Some("") if has_memory_v2(&root.join(path)) => {
                return Ok((root.join(path), Version::V2));
            }
            _ => {}
        }
    }
    Err("no memory cgroup controller is available to this process".into())
}

fn has_memory_v2(dir: &Path) -> bool {
    std::fs::read_to_string(dir.join("cgroup.controllers"))
        .is_ok_and(|c| c.split_whitespace().any(|c| c == "memory"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_child_in_a_cgroup_of_its_own_is_counted_there() {
        // Where no cgroup can be made (no controller, no rights), there is nothing to test.
        let Ok(group) = Cgroup::create(&format!("wardial-test-{}", std::process::id())) else {
            eprintln!("skipped: no memory cgroup can be made here");
            return;
        };
        // A child that holds 16 MB in a shell variable, after it has been moved.
        let mut child = std::process::Command::new("sh")
            .args([
                "-c",
                "read go; x=$(head -c 16000000 /dev/zero | tr '\\0' a); echo ${#x} >/dev/null",
            ])
            .stdin(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        group.add(child.id()).unwrap();
        use std::io::Write;
        child.stdin.take().unwrap().write_all(b"go\n").unwrap();
        child.wait().unwrap();
        let peak = group.peak().unwrap();
        assert!(peak.total > 1 << 20, "{peak:?}");
        if let Some(kernel) = peak.kernel {
            assert!(kernel > 0 && kernel <= peak.total, "{peak:?}");
        }
    }
}
