//! # The blocking model: one probe at a time
//!
//! The baseline every other model is measured against. Each probe connects, writes the request
//! and reads the answer with plain `std::net` calls that block the thread, and the scan does
//! nothing else while it waits. Simple, correct, and, on a network where most hosts never
//! answer, almost all waiting: 1024 silent hosts with a 10 s timeout take three hours.
//!
//! Two probes live here:
//! - [`Blocking`] (`blocking`): `std::net` directly, with a total deadline per probe;
//! - [`BlockingUreq`] (`blocking-ureq`): the same scan through ureq, the blocking HTTP client a
//!   Rust user would reach for first.
//!
//! [`probe`] is also what the threads and rayon models run on each of their threads: the
//! probe is the same blocking code, only the number of threads running it changes.

use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use wardial_probe::http::{Exchange, Step};
use wardial_probe::{Finding, Outcome, Probe, Report, ScanConfig, ScanSummary, Target, Targets};

// ANCHOR: probe
/// One probe, start to end, blocking the calling thread. It ends within `timeout` of its start.
pub fn probe(target: Target, timeout: Duration) -> Finding {
    let started = Instant::now();
    let mut exchange = Exchange::new();
    let outcome = match run(&target, started + timeout, &mut exchange) {
        Ok(outcome) => outcome,
        // Whatever failed (the connect, the write, a read, the time left), the exchange says
        // what it means, knowing what had arrived.
        Err(e) => exchange.on_error(&e),
    };
    Finding {
        target,
        outcome,
        elapsed: started.elapsed(),
    }
}

/// Connect, write the request, read until the exchange is decided, all before `deadline`.
///
/// std has no "total deadline" for a socket, only a timeout per call. So before each call the
/// time left is computed and set as that call's timeout: a peer that trickles a byte at a time
/// makes every read succeed, but the time left shrinks until it runs out.
fn run(target: &Target, deadline: Instant, exchange: &mut Exchange) -> io::Result<Outcome> {
    let mut stream = TcpStream::connect_timeout(&target.dial, time_left(deadline)?)?;
    stream.set_write_timeout(Some(time_left(deadline)?))?;
    stream.write_all(&target.request())?;

    let mut buf = [0u8; 1024];
    loop {
        stream.set_read_timeout(Some(time_left(deadline)?))?;
        match stream.read(&mut buf) {
            Ok(n) => {
                if let Step::Done(outcome) = exchange.on_read(&buf[..n]) {
                    return Ok(outcome);
                }
            }
            // A signal (Ctrl-C, say) interrupted the wait: the kernel does not restart a read
            // that has a timeout, so go round again with the time that is left.
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
}

/// The time until `deadline`, or a `TimedOut` error once it has passed (std refuses a zero
/// timeout, and a zero timeout would mean "none" to some APIs anyway).
fn time_left(deadline: Instant) -> io::Result<Duration> {
    match deadline.checked_duration_since(Instant::now()) {
        Some(left) if !left.is_zero() => Ok(left),
        _ => Err(io::ErrorKind::TimedOut.into()),
    }
}
// ANCHOR_END: probe

// ANCHOR: scan
/// The `blocking` model: a `for` loop over the targets.
#[derive(Debug, Default)]
pub struct Blocking;

impl Probe for Blocking {
    fn name(&self) -> &'static str {
        "blocking"
    }

    fn scan(
        &self,
        targets: Targets<'_>,
        config: &ScanConfig,
        on_finding: &mut dyn FnMut(Finding),
    ) -> ScanSummary {
        let mut report = Report::new(on_finding);
        // One at a time: `max_connections` is irrelevant, one socket is ever open.
        for target in config.until_stopped(targets) {
            report.finding(probe(target, config.timeout()));
        }
        report.finish(config)
    }
}
// ANCHOR_END: scan

/// The `blocking-ureq` model: one probe at a time through ureq 3.
///
/// ureq is the blocking HTTP client a Rust user reaches for first, and it parses the answer
/// itself. But what an answer *means* is decided once, by [`Exchange`], for every model; ureq's
/// own verdicts differ (it rejects a malformed header that follows a valid status line, and
/// reports a reset after half a status line as an IO error). So the agent's connector is
/// wrapped in [`tee`]: every byte ureq reads from the socket is also handed to an exchange,
/// and the outcome is the exchange's. ureq's result only says how the call ended:
/// - an answer ureq accepted, or rejected as not HTTP: the exchange has seen the bytes;
/// - ureq's global timeout: the deadline ([`Exchange::on_deadline`]);
/// - an IO error: [`Exchange::on_error`], as in the std probe;
/// - ureq giving up on bytes the exchange has not decided yet: judged as an answer that ended
///   there (ureq stops reading at its own parse error);
/// - any other ureq error (its catch-all `ConnectionFailed`, say): `Error`, never a guess.
///
/// One difference remains, by design of ureq: it reads the whole response head (up to its
/// header limit, 8 KiB here), not just the status line.
#[derive(Debug)]
pub struct BlockingUreq {
    timeout: Duration,
    /// The User-Agent the agent sends: ureq sets it per agent, the other models per request.
    user_agent: &'static str,
    agent: ureq::Agent,
    /// What the agent's connections have read since the last probe began.
    seen: tee::Seen,
}

impl BlockingUreq {
    /// An agent whose global timeout is `timeout`, sending this process's User-Agent;
    /// [`Probe::scan`] rebuilds it if the scan asks for another timeout or the User-Agent was set
    /// since.
    pub fn new(timeout: Duration) -> BlockingUreq {
        let user_agent = wardial_probe::http::user_agent();
        let config = ureq::Agent::config_builder()
            // A total deadline for the whole call, not per read.
            .timeout_global(Some(timeout))
            // Any status is an answer; 3xx are reported, not followed.
            .http_status_as_error(false)
            .max_redirects(0)
            // Every host is probed once: keeping connections would only hold sockets open.
            .max_idle_connections(0)
            .max_idle_connections_per_host(0)
            .max_response_header_size(8 * 1024)
            .user_agent(user_agent)
            // A scanner must not go through whatever proxy the environment names.
            .proxy(None)
            .build();
        let seen = tee::Seen::default();
        let agent = tee::agent(config, seen.clone());
        BlockingUreq {
            timeout,
            user_agent,
            agent,
            seen,
        }
    }

    fn probe(&self, target: Target) -> Finding {
        let started = Instant::now();
        self.seen.clear();
        let url = format!("http://{}/", target.dial);
        // The URL names the socket to dial; the Host header names the address scanned (on the
        // simnet the two differ; ureq sends our Host instead of deriving one from the URL).
        let result = self
            .agent
            .get(&url)
            .header("Host", target.host_header())
            .call();
        let mut exchange = Exchange::new();
        let seen = self.seen.take();
        let step = if seen.is_empty() {
            Step::NeedMore
        } else {
            exchange.on_read(&seen)
        };
        let outcome = match (step, result) {
            (Step::Done(outcome), _) => outcome,
            (Step::NeedMore, Err(ureq::Error::Timeout(_))) => exchange.on_deadline(),
            (Step::NeedMore, Err(ureq::Error::Io(e))) => exchange.on_error(&e),
            // ureq accepted or rejected bytes the exchange has not decided: the answer ended
            // there, as far as ureq read it.
            (
                Step::NeedMore,
                Ok(_) | Err(ureq::Error::Protocol(_) | ureq::Error::LargeResponseHeader(..)),
            ) => exchange.on_error(&io::ErrorKind::UnexpectedEof.into()),
            // Anything else (ureq's catch-all `ConnectionFailed`, say) is some other failure: an
            // error, not a guess at "refused".
            (Step::NeedMore, Err(e)) => exchange.on_error(&io::Error::other(e)),
        };
        Finding {
            target,
            outcome,
            elapsed: started.elapsed(),
        }
    }
}

impl Default for BlockingUreq {
    fn default() -> BlockingUreq {
        BlockingUreq::new(ScanConfig::default().timeout())
    }
}

impl Probe for BlockingUreq {
    fn name(&self) -> &'static str {
        "blocking-ureq"
    }

    fn scan(
        &self,
        targets: Targets<'_>,
        config: &ScanConfig,
        on_finding: &mut dyn FnMut(Finding),
    ) -> ScanSummary {
        let rebuilt;
        let same = config.timeout() == self.timeout
            && wardial_probe::http::user_agent() == self.user_agent;
        let agent = if same {
            self
        } else {
            rebuilt = BlockingUreq::new(config.timeout());
            &rebuilt
        };
        let mut report = Report::new(on_finding);
        for target in config.until_stopped(targets) {
            report.finding(agent.probe(target));
        }
        report.finish(config)
    }
}

/// A ureq connector that copies every byte its connections read to a [`tee::Seen`] buffer, so
/// the exchange can judge exactly what ureq received, however ureq's call ended.
mod tee {
    use std::sync::{Arc, Mutex};

    use ureq::unversioned::resolver::DefaultResolver;
    use ureq::unversioned::transport::{
        Buffers, ConnectionDetails, Connector, DefaultConnector, NextTimeout, Transport,
    };
    use wardial_probe::lock;

    /// The bytes read since the last [`Seen::clear`].
    #[derive(Debug, Clone, Default)]
    pub struct Seen(Arc<Mutex<Vec<u8>>>);

    impl Seen {
        pub fn clear(&self) {
            lock(&self.0).clear();
        }

        pub fn take(&self) -> Vec<u8> {
            std::mem::take(&mut *lock(&self.0))
        }
    }

    /// An agent whose connections copy what they read into `seen`.
    pub fn agent(config: ureq::config::Config, seen: Seen) -> ureq::Agent {
        let connector = DefaultConnector::new().chain(TeeConnector(seen));
        ureq::Agent::with_parts(config, connector, DefaultResolver::default())
    }

    /// The last link of the connector chain: wraps the connection the default chain made.
    #[derive(Debug)]
    struct TeeConnector(Seen);

    impl<In: Transport> Connector<In> for TeeConnector {
        type Out = TeeTransport<In>;

        fn connect(
            &self,
            _details: &ConnectionDetails,
            chained: Option<In>,
        ) -> Result<Option<Self::Out>, ureq::Error> {
            Ok(chained.map(|inner| TeeTransport {
                inner,
                seen: self.0.clone(),
            }))
        }
    }

    #[derive(Debug)]
    struct TeeTransport<T> {
        inner: T,
        seen: Seen,
    }

    impl<T: Transport> Transport for TeeTransport<T> {
        fn buffers(&mut self) -> &mut dyn Buffers {
            self.inner.buffers()
        }

        fn transmit_output(
            &mut self,
            amount: usize,
            timeout: NextTimeout,
        ) -> Result<(), ureq::Error> {
            self.inner.transmit_output(amount, timeout)
        }

        /// A read: the new input is what follows the input that was already there.
        fn await_input(&mut self, timeout: NextTimeout) -> Result<bool, ureq::Error> {
            let before = self.inner.buffers().input().len();
            let result = self.inner.await_input(timeout);
            let input = self.inner.buffers().input();
            if input.len() > before {
                lock(&self.seen.0).extend_from_slice(&input[before..]);
            }
            result
        }

        fn is_open(&mut self) -> bool {
            self.inner.is_open()
        }
    }
}
