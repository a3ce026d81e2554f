//! How big one probe is, in each style: the memory a probe in flight costs before its socket and
//! buffer (`std::mem::size_of_val` of the future, which is what a task boxes). Printed, so the
//! notes can quote it: `cargo test --release -p wardial-own-runtime --test sizes -- --nocapture`.

use std::net::Ipv4Addr;
use std::time::Duration;

use wardial_own_runtime::{async_fn, promises, state_machine};
use wardial_probe::Target;

#[test]
fn the_size_of_one_probe_future_in_each_style() {
    let t = Target::direct(Ipv4Addr::LOCALHOST, 9);
    let d = Duration::from_secs(1);
    let sizes = [
        (
            "own-state-machine",
            std::mem::size_of_val(&state_machine::probe(t, d)),
        ),
        (
            "own-promises",
            std::mem::size_of_val(&promises::probe(t, d)),
        ),
        (
            "own-async-fn",
            std::mem::size_of_val(&async_fn::probe(t, d)),
        ),
        (
            "tokio (async fn)",
            std::mem::size_of_val(&wardial_tokio::probe(t, d)),
        ),
    ];
    for (style, bytes) in sizes {
        println!("{style:<24} {bytes:>5} bytes");
        // Each holds at least the target, the exchange and a deadline. This runtime's probes
        // keep their read buffer on the heap (it is passed along by value); tokio's probe keeps
        // its 1 KiB array inside the future, as a local that lives across `.await`.
        assert!((64..2048).contains(&bytes), "{style}: {bytes} bytes");
    }
}
