//! The HTTP exchange of one probe, sans-IO: the request bytes to send, and a small state machine
//! that is fed the bytes read so far and says "need more" or gives the [`Outcome`].
//!
//! No sockets here. Every model crate does its own waiting (that is what it teaches) and hands the
//! bytes to this one parser, so a benchmark compares concurrency models, not HTTP code.

use crate::Outcome;

/// The most a probe reads before it gives up on finding a status line. A status line is a few
/// dozen bytes; a peer that sends more than this without one is not speaking HTTP, and reading
/// no further keeps memory bounded against a peer that sends forever.
pub const MAX_READ: usize = 4 * 1024;

/// The User-Agent every probe sends, so a network's owner can tell who is knocking.
pub const USER_AGENT: &str = concat!(
    "wardial/",
    env!("CARGO_PKG_VERSION"),
    " (+concurrency course scanner)"
);

/// The request a probe sends: `GET / HTTP/1.0` with a `Host` header naming the address scanned.
/// HTTP/1.0 asks the server to close after answering, so nothing waits on keep-alive.
pub fn request(host: &str) -> Vec<u8> {
    format!("GET / HTTP/1.0\r\nHost: {host}\r\nUser-Agent: {USER_AGENT}\r\nAccept: */*\r\n\r\n")
        .into_bytes()
}

// ANCHOR: exchange
/// What to do after feeding bytes to an [`Exchange`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// The answer so far is a valid beginning: read more.
    NeedMore,
    /// The probe is decided.
    Done(Outcome),
}

/// The answer side of one exchange: feed it what the socket gives, until it says [`Step::Done`].
#[derive(Debug, Default)]
pub struct Exchange {
    received: Vec<u8>,
}

impl Exchange {
    pub fn new() -> Exchange {
        Exchange::default()
    }

    /// Feeds the next bytes read from the peer (never an empty slice: end of stream is
    /// [`Exchange::eof`]).
    pub fn feed(&mut self, bytes: &[u8]) -> Step {
        let room = MAX_READ - self.received.len();
        self.received
            .extend_from_slice(&bytes[..bytes.len().min(room)]);

        let mut headers = [httparse::EMPTY_HEADER; 16];
        let mut response = httparse::Response::new(&mut headers);
        match response.parse(&self.received) {
            // Only the status line matters, but httparse does not tell where a partial parse
            // stopped. Its `code` is filled as soon as three digits arrive, so also wait for the
            // end of the line: a peer that trickles "HTTP/1.1 2" has not answered yet.
            Ok(_) if response.code.is_some() && self.received.contains(&b'\n') => {
                Step::Done(Outcome::Http {
                    status: response.code.unwrap_or_default(),
                })
            }
            // A status line longer than MAX_READ is no status line.
            Ok(_) if self.received.len() >= MAX_READ => Step::Done(Outcome::NotHttp),
            Ok(_) => Step::NeedMore,
            // httparse checks byte by byte, so "SSH-2.0-…" fails at its first byte.
            Err(httparse::Error::TooManyHeaders) => Step::Done(Outcome::Http {
                status: response.code.unwrap_or_default(),
            }),
            Err(_) => Step::Done(Outcome::NotHttp),
        }
    }

    /// What one socket read returned, as every model gets it: the bytes, or none when the peer
    /// has closed (a read of 0). So each model's read loop is the same three lines, and what
    /// "closed" means is decided here, once.
    pub fn on_read(&mut self, bytes: &[u8]) -> Step {
        if bytes.is_empty() {
            Step::Done(self.eof())
        } else {
            self.feed(bytes)
        }
    }

    /// The peer closed its side before the exchange was decided.
    pub fn eof(&mut self) -> Outcome {
        if self.received.is_empty() {
            Outcome::Closed
        } else {
            // Some bytes, but not a whole status line: whatever it was, it was not HTTP.
            Outcome::NotHttp
        }
    }

    /// How many bytes have been kept so far (at most [`MAX_READ`]).
    pub fn received(&self) -> usize {
        self.received.len()
    }
}
// ANCHOR_END: exchange

#[cfg(test)]
mod tests {
    use super::*;

    fn run(chunks: &[&[u8]]) -> Option<Outcome> {
        let mut ex = Exchange::new();
        for chunk in chunks {
            if let Step::Done(o) = ex.feed(chunk) {
                return Some(o);
            }
        }
        None
    }

    #[test]
    fn request_names_host_and_tool() {
        let r = String::from_utf8(request("127.64.3.7")).unwrap();
        assert!(r.starts_with("GET / HTTP/1.0\r\nHost: 127.64.3.7\r\n"));
        assert!(r.contains("User-Agent: wardial/"));
        assert!(r.ends_with("\r\n\r\n"));
    }

    #[test]
    fn status_line_in_one_piece() {
        let o = run(&[b"HTTP/1.1 404 Not Found\r\nServer: x\r\n\r\nbody"]);
        assert_eq!(o, Some(Outcome::Http { status: 404 }));
        assert_eq!(
            run(&[b"HTTP/1.0 200 OK\r\n"]),
            Some(Outcome::Http { status: 200 })
        );
    }

    #[test]
    fn status_line_byte_by_byte() {
        let line = b"HTTP/1.1 301 Moved Permanently\r\n";
        let mut ex = Exchange::new();
        for (i, b) in line.iter().enumerate() {
            let step = ex.feed(std::slice::from_ref(b));
            if i + 1 < line.len() {
                assert_eq!(step, Step::NeedMore, "after {} bytes", i + 1);
            } else {
                assert_eq!(step, Step::Done(Outcome::Http { status: 301 }));
            }
        }
    }

    #[test]
    fn not_http_is_decided_early() {
        assert_eq!(run(&[b"S"]), Some(Outcome::NotHttp));
        assert_eq!(run(&[b"SSH-2.0-OpenSSH_9.6\r\n"]), Some(Outcome::NotHttp));
        assert_eq!(run(&[b"\x00\xff\x13"]), Some(Outcome::NotHttp));
        assert_eq!(run(&[b"HTTP/1.1 abc\r\n"]), Some(Outcome::NotHttp));
        assert_eq!(run(&[b"220 ftp ready\r\n"]), Some(Outcome::NotHttp));
    }

    #[test]
    fn endless_header_stream_is_bounded() {
        let mut ex = Exchange::new();
        // A valid start, then a status line that never ends.
        assert_eq!(ex.feed(b"HTTP/1.1 200 "), Step::NeedMore);
        let filler = [b'a'; 1000];
        let mut outcome = None;
        for _ in 0..100 {
            if let Step::Done(o) = ex.feed(&filler) {
                outcome = Some(o);
                break;
            }
        }
        assert_eq!(outcome, Some(Outcome::NotHttp));
        assert!(ex.received() <= MAX_READ);
    }

    #[test]
    fn many_headers_still_count_as_http() {
        let mut resp = b"HTTP/1.1 200 OK\r\n".to_vec();
        for i in 0..40 {
            resp.extend_from_slice(format!("X-{i}: y\r\n").as_bytes());
        }
        assert_eq!(run(&[&resp]), Some(Outcome::Http { status: 200 }));
    }

    #[test]
    fn eof_before_and_after_bytes() {
        assert_eq!(Exchange::new().eof(), Outcome::Closed);
        let mut ex = Exchange::new();
        assert_eq!(ex.feed(b"HTTP/1."), Step::NeedMore);
        assert_eq!(ex.eof(), Outcome::NotHttp);
    }

    #[test]
    fn an_empty_read_is_the_peer_closing() {
        assert_eq!(Exchange::new().on_read(b""), Step::Done(Outcome::Closed));
        let mut ex = Exchange::new();
        assert_eq!(ex.on_read(b"HTTP/1.0 2"), Step::NeedMore);
        assert_eq!(
            ex.on_read(b"04 No Content\r\n"),
            Step::Done(Outcome::Http { status: 204 })
        );
        let mut ex = Exchange::new();
        assert_eq!(ex.on_read(b"HTTP/1.0 2"), Step::NeedMore);
        assert_eq!(ex.on_read(b""), Step::Done(Outcome::NotHttp));
    }
}
