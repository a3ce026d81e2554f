//! What every test of the command needs: running it, and reading what it printed.

#![allow(dead_code)] // each test file uses some of these, none all

use std::process::{Command, Output, Stdio};

/// `wardial ARGS`, with nothing on its stdin, to its end.
pub fn wardial(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_wardial"))
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("run wardial")
}

/// Bytes a process printed, as text.
pub fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}
