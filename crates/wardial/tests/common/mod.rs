//! What every test of the command needs: running it, and reading what it printed.

#![allow(dead_code)] // each test file uses some of these, none all

use std::io::Read;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// The longest any one command of a test may run: only a hang reaches it, and then the test
/// fails with the command, instead of hanging the suite.
const HUNG: Duration = Duration::from_secs(300);

/// `wardial ARGS`, with nothing on its stdin, to its end (or killed, failing the test, if it
/// has not ended after [`HUNG`]).
pub fn wardial(args: &[&str]) -> Output {
    let child = Command::new(env!("CARGO_BIN_EXE_wardial"))
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run wardial");
    finish(child, &format!("wardial {}", args.join(" ")))
}

/// Waits for a running command (`what`, for the message) to end, reading what it still prints
/// on the pipes the test has not taken; kills it and fails the test if it has not ended after
/// [`HUNG`], so a command that ignores a signal fails its test instead of hanging the suite.
pub fn finish(mut child: Child, what: &str) -> Output {
    // Read on threads of their own: a child that fills a pipe nobody reads would never end.
    let drain = |pipe: Option<Box<dyn Read + Send>>| {
        std::thread::spawn(move || {
            let mut bytes = Vec::new();
            if let Some(mut pipe) = pipe {
                let _ = pipe.read_to_end(&mut bytes);
            }
            bytes
        })
    };
    let stdout = drain(
        child
            .stdout
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    );
    let stderr = drain(
        child
            .stderr
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    );
    let give_up = Instant::now() + HUNG;
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for the command") {
            break status;
        }
        if Instant::now() > give_up {
            let _ = child.kill();
            let _ = child.wait();
            panic!("`{what}` did not end within {HUNG:?}");
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    Output {
        status,
        stdout: stdout.join().expect("stdout read"),
        stderr: stderr.join().expect("stderr read"),
    }
}

/// Bytes a process printed, as text.
pub fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}
