//! What every test of the command needs: running it, and reading what it printed.

#![allow(dead_code)] // each test file uses some of these, none all

use std::io::Read;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// The longest any one command of a test may run: only a hang reaches it, and then the test
/// fails with the command, instead of hanging the suite.
const HUNG: Duration = Duration::from_secs(300);

/// `wardial ARGS`, with nothing on its stdin, to its end (or killed, failing the test, if it
/// has not ended after [`HUNG`]).
pub fn wardial(args: &[&str]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_wardial"))
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run wardial");
    // Read on threads of their own: a child that fills a pipe nobody reads would never end.
    let drain = |mut pipe: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut bytes = Vec::new();
            let _ = pipe.read_to_end(&mut bytes);
            bytes
        })
    };
    let stdout = drain(Box::new(child.stdout.take().expect("piped")));
    let stderr = drain(Box::new(child.stderr.take().expect("piped")));
    let give_up = Instant::now() + HUNG;
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for wardial") {
            break status;
        }
        if Instant::now() > give_up {
            let _ = child.kill();
            let _ = child.wait();
            panic!("`wardial {}` did not end within {HUNG:?}", args.join(" "));
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
