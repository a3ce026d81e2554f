//! Starting and stopping an outside command's processes: the shell that runs its command
//! line, a process group of its own, and the signals that stop it and all it started.

use std::process::{Child, Command};

/// The shell that runs a command line. A simple command (no pipe, list, redirection or
/// substitution) replaces the shell (`exec`), so that the scanner is the helper's own child:
/// one stopped at its deadline is then waited for by the helper, and its CPU and memory are
/// counted; a shell killed before it could wait for its child would take them along.
pub(super) fn shell(command: &str) -> Command {
    if cfg!(windows) {
        let mut c = Command::new("cmd");
        c.args(["/C", command]);
        return c;
    }
    let first = command.split_whitespace().next().unwrap_or("");
    let simple = !command.contains([';', '&', '|', '<', '>', '(', ')', '$', '`', '\n'])
        && !first.contains('=');
    let mut c = Command::new("sh");
    if simple {
        c.args(["-c", &format!("exec {command}")]);
    } else {
        c.args(["-c", command]);
    }
    c
}

/// Starts the child in a process group of its own, so that stopping it stops everything it
/// started (a shell's children, an interpreter's workers).
pub(super) fn own_group(command: &mut Command) {
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt;
        command.process_group(0);
    }
    #[cfg(not(unix))]
    let _ = command;
}

/// Stops the child and its process group now.
pub(super) fn kill_group(child: &mut Child) {
    #[cfg(unix)]
    {
        use nix::sys::signal::{killpg, Signal};
        use nix::unistd::Pid;
        if let Ok(pid) = i32::try_from(child.id()) {
            let _ = killpg(Pid::from_raw(pid), Signal::SIGKILL);
        }
    }
    let _ = child.kill();
}

/// Asks the helper to stop its command and report (as Ctrl-C would).
pub(super) fn interrupt_helper(child: &Child) {
    #[cfg(unix)]
    {
        use nix::sys::signal::{kill, Signal};
        use nix::unistd::Pid;
        if let Ok(pid) = i32::try_from(child.id()) {
            let _ = kill(Pid::from_raw(pid), Signal::SIGINT);
        }
    }
    #[cfg(not(unix))]
    let _ = child;
}
