//! `wardial`: race every concurrency model on a simulated internet (the default), scan a network
//! for web servers, or serve the simulated internet for other programs. The command lives in the
//! library ([`wardial::cli`]) so that its pieces can be tested without a process.

fn main() -> std::process::ExitCode {
    wardial::cli::main()
}
