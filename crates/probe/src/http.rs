//! The HTTP exchange of one probe, sans-IO: the request bytes to send, and a small state machine
//! that is told everything that happens on the socket (the bytes each read returned, the end of
//! the stream, an error, the deadline) and says "need more" or gives the [`Outcome`].
//!
//! No sockets here. Every model crate does its own waiting (that is what it teaches) and hands
//! what it saw to this one state machine, so a benchmark compares concurrency models, not HTTP
//! code, and every model classifies every peer the same way. The rules, written once:
//!
//! - only the status line decides [`Outcome::Http`]: whatever follows it (a malformed header, a
//!   reset, silence) never changes that, and how TCP splits the bytes never changes anything;
//! - after the status line the exchange reads on, within [`MAX_READ`] and the deadline, for what
//!   the server says about itself (its `Server` header and the page's `<title>`: [`About`]), and
//!   stops as soon as nothing more is worth waiting for (the title, the end of the head without
//!   one, a body that is not HTML, the whole `Content-Length`); a peer that closes, resets or
//!   falls silent meanwhile is still a server, described as far as it got;
//! - blank lines before the status line are skipped (RFC 9112 §2.2), never taken for its end;
//! - interim `1xx` answers (`100 Continue`, `103 Early Hints`) are skipped to the final status;
//!   an interim answer that no final one follows is still an HTTP answer, with its own status
//!   (`101 Switching Protocols` is final: nothing follows it in HTTP);
//! - no bytes, then the end of the stream or a reset: [`Outcome::Closed`]; bytes without a whole
//!   status line, then the end or a reset: [`Outcome::NotHttp`]; a refused connect:
//!   [`Outcome::Refused`]; the deadline first: [`Outcome::Timeout`]; any other failure:
//!   [`Outcome::Error`], keeping what the OS said.

use std::io;
use std::sync::OnceLock;

use crate::{About, IoFailure, Label, Outcome};

/// The most a probe reads: before it gives up on finding a (final) status line, and in all, when
/// it reads on for the headers and the title. A status line is a few dozen bytes; a peer that
/// sends more than this without one is not speaking HTTP, and reading no further keeps memory
/// bounded against a peer that sends forever.
pub const MAX_READ: usize = 4 * 1024;

/// The User-Agent every probe sends unless told otherwise: the tool, its version, and where a
/// network's owner who sees it in a log can learn what it is.
pub const USER_AGENT: &str = concat!(
    "wardial/",
    env!("CARGO_PKG_VERSION"),
    " (concurrency course scanner; +",
    env!("CARGO_PKG_REPOSITORY"),
    ")"
);

/// The User-Agent of a scanner run by someone who can be reached at `contact` (a URL or an
/// email address): the tool and its version, and where a network's owner who sees it in a log
/// can ask what it is. [`USER_AGENT`] names the repository instead.
pub fn user_agent_with_contact(contact: &str) -> String {
    format!(
        "wardial/{} (concurrency course scanner; +{contact})",
        env!("CARGO_PKG_VERSION")
    )
}

/// The User-Agent set for this process, if any (see [`set_user_agent`]).
static CUSTOM_USER_AGENT: OnceLock<String> = OnceLock::new();

/// Sets the User-Agent every probe of this process sends (a scanner's `--user-agent`), once,
/// before scanning. Process-wide rather than per scan because every model builds its request
/// through [`request`], and a scanner identifies itself the same way in all its probes.
///
/// Refused: an empty value, one with control characters (a CR LF would end the header and let
/// the value write headers of its own), or a second, different value.
pub fn set_user_agent(agent: &str) -> Result<(), String> {
    if let Some(problem) = header_text_problem(agent) {
        return Err(format!("the User-Agent {problem}"));
    }
    let set = CUSTOM_USER_AGENT.get_or_init(|| agent.to_string());
    if set != agent {
        return Err(format!("the User-Agent is already '{set}'"));
    }
    Ok(())
}

/// What makes `text` unfit for a header's value, if anything: it must say something, on one
/// line, in ASCII.
pub fn header_text_problem(text: &str) -> Option<&'static str> {
    if text.trim().is_empty() {
        Some("is empty")
    } else if text.chars().any(char::is_control) {
        Some("contains a control character (such as a line break)")
    } else if !text.is_ascii() {
        Some("must be ASCII (HTTP headers are bytes, not text)")
    } else {
        None
    }
}

/// The User-Agent probes send: the one set with [`set_user_agent`], or [`USER_AGENT`].
pub fn user_agent() -> &'static str {
    CUSTOM_USER_AGENT.get().map_or(USER_AGENT, String::as_str)
}

/// The request a probe sends: `GET / HTTP/1.0` with a `Host` header naming the address scanned.
/// HTTP/1.0 asks the server to close after answering, so nothing waits on keep-alive.
pub fn request(host: &str) -> Vec<u8> {
    format!(
        "GET / HTTP/1.0\r\nHost: {host}\r\nUser-Agent: {}\r\nAccept: */*\r\n\r\n",
        user_agent()
    )
    .into_bytes()
}

// ANCHOR: exchange
/// What to do after telling an [`Exchange`] what a read returned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// The answer so far is a valid beginning: read more.
    NeedMore,
    /// The probe is decided.
    Done(Outcome),
}

/// The answer side of one exchange. Create it when the probe starts, tell it what each read
/// returned ([`Exchange::on_read`]) until it says [`Step::Done`], and if the probe ends some
/// other way, ask it what that means: [`Exchange::on_error`] for any IO error (connecting,
/// writing or reading), [`Exchange::on_deadline`] when the probe's time is up.
#[derive(Debug, Default)]
pub struct Exchange {
    /// Every byte read so far, at most [`MAX_READ`].
    received: Vec<u8>,
    /// Where the status line being waited for starts in `received` (past the blank lines and
    /// interim answers skipped so far).
    line_start: usize,
    /// The status of the last interim (`1xx`) answer, while waiting for the final one.
    interim: Option<u16>,
    /// The final status, once its line has arrived: from then on the host is a server, and the
    /// exchange only reads on to describe it.
    status: Option<u16>,
    /// Where the next header line starts in `received`, after the final status line.
    next_header: usize,
    /// Where the body starts, once the head's blank line has arrived.
    body_start: Option<usize>,
    /// What the `Content-Type` said: HTML or not (`None`: not said).
    html: Option<bool>,
    /// What the `Content-Length` said.
    length: Option<usize>,
    /// What the server has said about itself so far.
    about: About,
    /// Set once decided: later calls give the same outcome.
    decided: Option<Outcome>,
}

impl Exchange {
    pub fn new() -> Exchange {
        Exchange::default()
    }

    /// What one socket read returned, as every model gets it: the bytes, or none when the peer
    /// has closed its side (a read of 0). So each model's read loop is the same three lines.
    pub fn on_read(&mut self, bytes: &[u8]) -> Step {
        if let Some(outcome) = self.decided {
            return Step::Done(outcome);
        }
        if bytes.is_empty() {
            return Step::Done(self.decide(self.ended()));
        }
        let room = MAX_READ - self.received.len();
        self.received
            .extend_from_slice(&bytes[..bytes.len().min(room)]);
        let outcome = match self.status {
            None => self.parse(),
            Some(_) => self.describe(),
        };
        match outcome {
            Some(outcome) => Step::Done(self.decide(outcome)),
            None => Step::NeedMore,
        }
    }

    /// An IO error ended the probe (connecting, writing or reading: the exchange knows how
    /// much had arrived). A reset counts as the end of the stream: bytes then a reset are
    /// judged like bytes then a close.
    pub fn on_error(&mut self, err: &io::Error) -> Outcome {
        use io::ErrorKind::*;
        if let Some(outcome) = self.decided {
            return outcome;
        }
        let outcome = match err.kind() {
            // After a status line (a final one, or an interim one still waiting for its final
            // one) the host is a server, whatever happens next.
            _ if self.status.is_some() || self.interim.is_some() => self.ended(),
            ConnectionRefused => Outcome::Refused,
            // Closed or reset under us: a reader sees ConnectionReset (or UnexpectedEof from a
            // `read_exact`-style helper), a writer whose peer has gone sees BrokenPipe.
            ConnectionReset | ConnectionAborted | BrokenPipe | UnexpectedEof => self.ended(),
            // What a socket timeout looks like: std's read timeout is WouldBlock on Unix and
            // TimedOut on Windows, and a connect that never hears back is TimedOut.
            TimedOut | WouldBlock => return self.on_deadline(),
            _ => Outcome::Error(IoFailure::from(err)),
        };
        self.decide(outcome)
    }

    /// The probe's deadline passed before the exchange was decided.
    pub fn on_deadline(&mut self) -> Outcome {
        if let Some(outcome) = self.decided {
            return outcome;
        }
        let outcome = match (self.status, self.interim) {
            (Some(_), _) => self.ended(),
            (None, Some(status)) => Outcome::http(status),
            (None, None) => Outcome::Timeout,
        };
        self.decide(outcome)
    }

    /// How many bytes have been kept so far (at most [`MAX_READ`]).
    pub fn received(&self) -> usize {
        self.received.len()
    }

    fn decide(&mut self, outcome: Outcome) -> Outcome {
        self.decided = Some(outcome);
        outcome
    }

    /// The stream ended (a close or a reset): a server if a status line came, described as far
    /// as it got.
    fn ended(&self) -> Outcome {
        if let Some(status) = self.status {
            return Outcome::Http {
                status,
                about: self.about,
            };
        }
        match self.interim {
            Some(status) => Outcome::http(status),
            None if self.received.is_empty() => Outcome::Closed,
            // Some bytes, but not a whole status line: whatever it was, it was not HTTP.
            None => Outcome::NotHttp,
        }
    }

    /// Looks for the final status line in what has arrived: `Some` once decided.
    fn parse(&mut self) -> Option<Outcome> {
        loop {
            // Blank lines (CR LF, or a bare LF) before a status line are skipped: servers have
            // sent a stray one after a previous response. They are never taken for the end of
            // the status line. A CR followed by anything else is left for the parser to reject.
            loop {
                match &self.received[self.line_start..] {
                    [b'\n', ..] => self.line_start += 1,
                    [b'\r', b'\n', ..] => self.line_start += 2,
                    _ => break,
                }
            }
            let rest = &self.received[self.line_start..];
            let Some(end) = rest.iter().position(|&b| b == b'\n') else {
                // Half a line: reject it as soon as it cannot become a status line (an SSH
                // banner fails at its first byte), else wait for the rest.
                if status_line(rest).is_err() {
                    return Some(self.not_a_status_line());
                }
                return (self.received.len() >= MAX_READ).then(|| self.not_a_status_line());
            };
            let status = match status_line(&rest[..=end]) {
                Ok(Some(status)) => status,
                _ => return Some(self.not_a_status_line()),
            };
            if !(100..200).contains(&status) || status == 101 {
                // Decided: a server. What follows only describes it.
                self.status = Some(status);
                self.next_header = self.line_start + end + 1;
                return self.describe();
            }
            // An interim answer: skip its header block (to its blank line) and look again.
            self.interim = Some(status);
            let after = self.line_start + end + 1;
            match blank_line_end(&self.received[after..]) {
                Some(skip) => self.line_start = after + skip,
                None if self.received.len() >= MAX_READ => return Some(self.ended()),
                None => return None,
            }
        }
    }

    /// What a line that is no status line means: after an interim answer the peer has already
    /// answered in HTTP; before one, it is not speaking HTTP.
    fn not_a_status_line(&self) -> Outcome {
        match self.interim {
            Some(status) => Outcome::http(status),
            None => Outcome::NotHttp,
        }
    }

    /// After the final status line: reads the header lines that have arrived whole, then the
    /// body for a title. `Some` once there is nothing more worth waiting for.
    ///
    /// Header lines are read one by one, each on its own: a line that is no header (see
    /// [`header`]) is skipped, and the `Server` line beside it still counts. Nothing here can
    /// turn a server into something else.
    fn describe(&mut self) -> Option<Outcome> {
        let full = self.received.len() >= MAX_READ;
        while self.body_start.is_none() {
            let rest = &self.received[self.next_header..];
            let Some(nl) = rest.iter().position(|&b| b == b'\n') else {
                return full.then(|| self.ended());
            };
            let line = &rest[..nl];
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            self.next_header += nl + 1;
            if line.is_empty() {
                self.body_start = Some(self.next_header);
                break;
            }
            let Some((name, value)) = header(line) else {
                continue;
            };
            match name.to_ascii_lowercase().as_slice() {
                b"server" => self.about.server = Label::new(&value),
                b"content-type" => {
                    self.html = Some(value.to_ascii_lowercase().contains("html"));
                }
                b"content-length" => self.length = value.parse().ok(),
                _ => {}
            }
        }
        let body = &self.received[self.body_start.unwrap_or(self.received.len())..];
        if self.html == Some(false) || self.length == Some(0) {
            return Some(self.ended());
        }
        match title(body) {
            Title::Found(text) => {
                self.about.title = Label::new(&text);
                Some(self.ended())
            }
            Title::None => Some(self.ended()),
            Title::NotYet => {
                let whole = self.length.is_some_and(|n| body.len() >= n);
                (whole || full).then(|| self.ended())
            }
        }
    }
}

/// A header line's name and its value, trimmed; `None` for a line that is no header: one
/// without a colon, or whose name is not a token (RFC 9110 §5.6.2). httparse refuses such a
/// line by default; here it is skipped, since only the status line decides. So `Server : x`
/// names no `Server` (RFC 9112 §5.1 allows no white space before the colon), and a line
/// folded onto the one above (obsolete since RFC 7230) is no header of its own even if it
/// holds a colon, as it starts with white space. Nor is it joined to the line above, whose
/// value stays what its own line said. The value is taken as sent: where it is shown,
/// [`Label`] has made its control characters spaces.
fn header(line: &[u8]) -> Option<(&[u8], String)> {
    let colon = line.iter().position(|&b| b == b':')?;
    let (name, value) = (&line[..colon], &line[colon + 1..]);
    let tchar = |b: &u8| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(b);
    if name.is_empty() || !name.iter().all(tchar) {
        return None;
    }
    Some((name, String::from_utf8_lossy(value).trim().to_string()))
}

/// What a body says of its title so far.
#[derive(Debug, PartialEq)]
enum Title {
    /// The title's text, its white space collapsed and its common entities decoded.
    Found(String),
    /// The head ended (or the body began) without one: none will come.
    None,
    /// Neither yet: read on.
    NotYet,
}

/// Looks for `<title>...</title>` in the part of a page that has arrived. Hand-written rather
/// than an HTML parser: this needs one element of a page's first few kilobytes, on bytes that
/// may stop anywhere, and a full parser (html5ever) would be most of this crate's code.
fn title(body: &[u8]) -> Title {
    // The head's end: a title after it is not the page's title (and whether it had arrived
    // yet would depend on how TCP split the bytes).
    let head_end = [&b"</head"[..], b"<body"]
        .iter()
        .filter_map(|tag| find_ignoring_case(body, tag))
        .min();
    let open =
        find_ignoring_case(body, b"<title").filter(|&at| head_end.is_none_or(|end| at < end));
    let Some(open) = open else {
        return if head_end.is_some() {
            Title::None
        } else {
            Title::NotYet
        };
    };
    let after = &body[open..];
    let Some(gt) = after.iter().position(|&b| b == b'>') else {
        return Title::NotYet;
    };
    let text = &after[gt + 1..];
    let Some(close) = find_ignoring_case(text, b"</title") else {
        return Title::NotYet;
    };
    let raw = String::from_utf8_lossy(&text[..close]);
    let decoded = raw
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&");
    let collapsed: Vec<&str> = decoded.split_whitespace().collect();
    match collapsed.join(" ") {
        t if t.is_empty() => Title::None,
        t => Title::Found(t),
    }
}

fn find_ignoring_case(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack
        .windows(needle.len())
        .position(|w| w.eq_ignore_ascii_case(needle))
}

/// Parses a status line, or the beginning of one: `Ok(Some(status))` for a whole valid line,
/// `Ok(None)` for a valid beginning, `Err` for bytes that cannot start one. httparse checks the
/// version, the three digits and the reason phrase byte by byte; it is given the status line
/// alone, so the headers that follow never influence the verdict.
fn status_line(bytes: &[u8]) -> Result<Option<u16>, httparse::Error> {
    let mut no_headers: [httparse::Header<'_>; 0] = [];
    let mut response = httparse::Response::new(&mut no_headers);
    response.parse(bytes)?;
    let whole = bytes.last() == Some(&b'\n');
    match response.code {
        // httparse takes any three digits; HTTP's status codes start at 100.
        Some(code) if code < 100 => Err(httparse::Error::Status),
        code => Ok(code.filter(|_| whole)),
    }
}

/// Where the header block that starts at `bytes` ends: just past its blank line.
fn blank_line_end(bytes: &[u8]) -> Option<usize> {
    let mut line = 0;
    for (i, &b) in bytes.iter().enumerate() {
        if b == b'\n' {
            if bytes[line..i].iter().all(|&c| c == b'\r') {
                return Some(i + 1);
            }
            line = i + 1;
        }
    }
    None
}
// ANCHOR_END: exchange

#[cfg(test)]
mod tests {
    use super::*;

    /// A peer that sends `chunks` and closes, as an HTTP/1.0 server does after its answer.
    fn run(chunks: &[&[u8]]) -> Option<Outcome> {
        let mut ex = Exchange::new();
        for chunk in chunks.iter().chain([&&b""[..]]) {
            if let Step::Done(o) = ex.on_read(chunk) {
                return Some(o);
            }
        }
        None
    }

    const fn http(status: u16) -> Option<Outcome> {
        Some(Outcome::http(status))
    }

    #[test]
    fn request_names_host_and_tool() {
        let r = String::from_utf8(request("127.64.3.7")).unwrap();
        assert!(r.starts_with("GET / HTTP/1.0\r\nHost: 127.64.3.7\r\n"));
        assert!(r.contains("User-Agent: wardial/"));
        assert!(r.ends_with("\r\n\r\n"));
    }

    #[test]
    fn a_user_agent_cannot_smuggle_headers() {
        // Only refusals here: a value that is accepted stays for the whole test process.
        for bad in ["", "  ", "x\r\nX-Evil: 1", "tab\there", "caf\u{e9}"] {
            assert!(set_user_agent(bad).is_err(), "{bad:?}");
        }
        assert_eq!(user_agent(), USER_AGENT);
        assert_eq!(
            user_agent_with_contact(env!("CARGO_PKG_REPOSITORY")),
            USER_AGENT
        );
    }

    #[test]
    fn status_line_in_one_piece() {
        assert_eq!(
            run(&[b"HTTP/1.1 404 Not Found\r\nServer: x\r\n\r\nbody"]),
            http(404)
        );
        assert_eq!(run(&[b"HTTP/1.0 200 OK\r\n"]), http(200));
        assert_eq!(run(&[b"HTTP/1.1 204\r\n"]), http(204));
        assert_eq!(run(&[b"HTTP/1.1 200 OK\n"]), http(200));
    }

    #[test]
    fn status_line_byte_by_byte() {
        let line = b"HTTP/1.1 301 Moved Permanently\r\n";
        let mut ex = Exchange::new();
        for (i, b) in line.iter().enumerate() {
            let step = ex.on_read(std::slice::from_ref(b));
            // Even once the status line is whole: the exchange reads on for the headers.
            assert_eq!(step, Step::NeedMore, "after {} bytes", i + 1);
        }
        // Whatever ends the stream now, the peer is a server.
        assert_eq!(ex.on_deadline(), Outcome::http(301));
    }

    #[test]
    fn not_http_is_decided_early() {
        assert_eq!(run(&[b"S"]), Some(Outcome::NotHttp));
        assert_eq!(run(&[b"SSH-2.0-OpenSSH_9.6\r\n"]), Some(Outcome::NotHttp));
        assert_eq!(run(&[b"\x00\xff\x13"]), Some(Outcome::NotHttp));
        assert_eq!(run(&[b"HTTP/1.1 abc\r\n"]), Some(Outcome::NotHttp));
        assert_eq!(run(&[b"220 ftp ready\r\n"]), Some(Outcome::NotHttp));
        assert_eq!(run(&[b"HTTP/2 200 OK\r\n"]), Some(Outcome::NotHttp));
        assert_eq!(run(&[b"HTTP/1.1 000 Zero\r\n"]), Some(Outcome::NotHttp));
        assert_eq!(run(&[b"HTTP/1.1 099"]), Some(Outcome::NotHttp));
        // A CR that does not end a line is no blank line.
        assert_eq!(run(&[b"\rHTTP/1.1 200 OK\r\n"]), Some(Outcome::NotHttp));
    }

    #[test]
    fn only_the_status_line_decides() {
        // The same malformed headers, in one segment or split after the status line.
        for bad in [
            &b"Location : /x\r\n"[..],
            b"X-Folded: a\r\n  b\r\n",
            b"X-Nul: a\x00b\r\n",
            b"\x01\x02 not a header\r\n",
        ] {
            let mut whole = b"HTTP/1.1 302 Found\r\n".to_vec();
            whole.extend_from_slice(bad);
            assert_eq!(run(&[&whole]), http(302), "{bad:?} in one segment");
            assert_eq!(
                run(&[b"HTTP/1.1 302 Found\r\n", bad]),
                http(302),
                "{bad:?} after the status line"
            );
        }
        // A status line must be whole and valid, in its reason phrase too.
        assert_eq!(run(&[b"HTTP/1.1 200 O\x00K\r\n"]), Some(Outcome::NotHttp));
        assert_eq!(run(&[b"HTTP/1.1 200 OK\x01"]), Some(Outcome::NotHttp));
    }

    #[test]
    fn a_leading_blank_line_is_skipped_not_taken_for_the_end() {
        assert_eq!(run(&[b"\r\nHTTP/1.1 200 OK\r\n"]), http(200));
        assert_eq!(run(&[b"\r\n\r\nHTTP/1.1 200 OK\r\n"]), http(200));
        // Half a status line after a blank line has not answered yet.
        let mut ex = Exchange::new();
        assert_eq!(ex.on_read(b"\r\nHTTP/1.1 200"), Step::NeedMore);
        assert_eq!(ex.on_read(b" O\x00K\r\n"), Step::Done(Outcome::NotHttp));
        let mut ex = Exchange::new();
        assert_eq!(ex.on_read(b"\r"), Step::NeedMore);
        assert_eq!(ex.on_read(b"\n"), Step::NeedMore);
        assert_eq!(ex.on_read(b""), Step::Done(Outcome::NotHttp));
    }

    #[test]
    fn interim_answers_are_skipped_to_the_final_status() {
        assert_eq!(
            run(&[b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 404 Not Found\r\n"]),
            http(404)
        );
        assert_eq!(
            run(&[
                b"HTTP/1.1 103 Early Hints\r\nLink: </s.css>\r\n\r\n",
                b"HTTP/1.1 200 OK\r\n"
            ]),
            http(200)
        );
        assert_eq!(
            run(&[
                b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 102 Processing\n\nHTTP/1.1 201 Created\r\n"
            ]),
            http(201)
        );
        // 101 switches protocols: nothing in HTTP follows it.
        assert_eq!(run(&[b"HTTP/1.1 101 Switching Protocols\r\n"]), http(101));
        // Waiting for the final status, the interim one stands if nothing else comes.
        let mut ex = Exchange::new();
        assert_eq!(ex.on_read(b"HTTP/1.1 100 Continue\r\n\r\n"), Step::NeedMore);
        assert_eq!(ex.on_deadline(), Outcome::http(100));
        let mut ex = Exchange::new();
        assert_eq!(
            ex.on_read(b"HTTP/1.1 100 Continue\r\n\r\nSSH-"),
            Step::Done(Outcome::http(100))
        );
    }

    #[test]
    fn endless_header_stream_is_bounded() {
        let mut ex = Exchange::new();
        // A valid start, then a status line that never ends.
        assert_eq!(ex.on_read(b"HTTP/1.1 200 "), Step::NeedMore);
        let filler = [b'a'; 1000];
        let mut outcome = None;
        for _ in 0..100 {
            if let Step::Done(o) = ex.on_read(&filler) {
                outcome = Some(o);
                break;
            }
        }
        assert_eq!(outcome, Some(Outcome::NotHttp));
        assert!(ex.received() <= MAX_READ);
    }

    fn described(outcome: Option<Outcome>) -> (Option<String>, Option<String>) {
        let about = outcome.and_then(|o| o.about().copied()).unwrap_or_default();
        (
            about.server.map(|l| l.to_string()),
            about.title.map(|l| l.to_string()),
        )
    }

    #[test]
    fn what_the_server_says_about_itself() {
        let page = b"HTTP/1.1 200 OK\r\nServer: nginx/1.22.1\r\nContent-Type: text/html\r\n\r\n<html><head><TITLE>\n  Welcome &amp;\n hello </TITLE></head>";
        // Decided as soon as the title has arrived, without waiting for the close.
        let mut ex = Exchange::new();
        let Step::Done(outcome) = ex.on_read(page) else {
            panic!("the title had arrived")
        };
        assert_eq!(outcome, Outcome::http(200));
        let want = (Some("nginx/1.22.1".into()), Some("Welcome & hello".into()));
        assert_eq!(described(Some(outcome)), want);
        // However TCP splits it.
        let chunks: Vec<&[u8]> = page.chunks(7).collect();
        assert_eq!(described(run(&chunks)), want);

        // Not HTML: done at the end of the head, with the server and no title.
        let mut ex = Exchange::new();
        let step = ex
            .on_read(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nServer: api\r\n\r\n{");
        assert_eq!(
            described(match step {
                Step::Done(o) => Some(o),
                _ => None,
            }),
            (Some("api".into()), None)
        );
        // The head ends without a title: none will come.
        let mut ex = Exchange::new();
        let step = ex.on_read(b"HTTP/1.1 200 OK\r\n\r\n<html><body>hi");
        assert!(matches!(step, Step::Done(o) if o.about().unwrap().title.is_none()));
        // The whole Content-Length arrived: nothing more to wait for.
        let mut ex = Exchange::new();
        assert!(matches!(
            ex.on_read(b"HTTP/1.1 404 Not Found\r\nContent-Length: 2\r\n\r\nno"),
            Step::Done(_)
        ));
        // A header that breaks the rules is skipped; the Server line beside it still counts.
        let out =
            run(&[b"HTTP/1.1 302 Found\r\nLocation : /x\r\nX-Nul: a\x00b\r\nServer: odd\r\n\r\n"]);
        assert_eq!(described(out), (Some("odd".into()), None));
        // A <title> after the head's end is not the page's: however the bytes are split.
        let late = b"HTTP/1.1 200 OK\r\nServer: \x1b[31mred\r\n\r\n<html><body><title>no</title>";
        for chunks in [vec![&late[..]], late.chunks(5).collect()] {
            // The escape character a server sent is a space by the time it could be printed.
            assert_eq!(described(run(&chunks)), (Some("[31mred".into()), None));
        }
        // A long title is cut to fit, at a character boundary.
        let long = format!("HTTP/1.1 200 OK\r\n\r\n<title>{}</title>", "é".repeat(100));
        let (_, title) = described(run(&[long.as_bytes()]));
        assert_eq!(title.unwrap().chars().count(), crate::Label::CAPACITY / 2);
    }

    #[test]
    fn a_header_name_must_be_a_token() {
        let server = |head: &[u8]| described(run(&[head])).0;
        // White space before the colon: no header named Server, however it is split.
        let spaced = b"HTTP/1.1 200 OK\r\nServer : x\r\n\r\n";
        assert_eq!(server(spaced), None);
        assert_eq!(
            described(run(&spaced.chunks(3).collect::<Vec<_>>())).0,
            None
        );
        assert_eq!(server(b"HTTP/1.1 200 OK\r\nServer\t: x\r\n\r\n"), None);
        assert_eq!(run(&[spaced]), http(200), "still a server");
        // A folded line is no header of its own, even with a colon in it...
        assert_eq!(
            server(b"HTTP/1.1 200 OK\r\nX-Folded: a\r\n Server: x\r\n\r\n"),
            None
        );
        // ... and is not joined to the line above.
        assert_eq!(
            server(b"HTTP/1.1 200 OK\r\nServer: a\r\n\tfolded\r\n\r\n"),
            Some("a".into())
        );
        // A valid Server line beside the broken ones still counts.
        assert_eq!(
            server(b"HTTP/1.1 200 OK\r\nServer : x\r\n Server: y\r\nServer: z\r\n\r\n"),
            Some("z".into())
        );
    }

    #[test]
    fn headers_that_trickle_are_still_a_server() {
        // The status line, then a header a byte at a time, then silence until the deadline.
        let mut ex = Exchange::new();
        assert_eq!(ex.on_read(b"HTTP/1.1 200 OK\r\n"), Step::NeedMore);
        for b in b"Server: slow\r\nX-Pad" {
            assert_eq!(ex.on_read(std::slice::from_ref(b)), Step::NeedMore);
        }
        let outcome = ex.on_deadline();
        assert_eq!(outcome, Outcome::http(200));
        assert_eq!(described(Some(outcome)), (Some("slow".into()), None));
        // A reset after the status line: still a server.
        let mut ex = Exchange::new();
        ex.on_read(b"HTTP/1.1 500 Oops\r\nServer: x");
        let reset = io::Error::from(io::ErrorKind::ConnectionReset);
        assert_eq!(ex.on_error(&reset), Outcome::http(500));
    }

    #[test]
    fn a_page_that_never_ends_is_read_to_the_bound() {
        let mut ex = Exchange::new();
        assert_eq!(
            ex.on_read(b"HTTP/1.1 200 OK\r\nServer: s\r\n\r\n"),
            Step::NeedMore
        );
        let filler = [b'a'; 1000];
        let outcome = (0..100).find_map(|_| match ex.on_read(&filler) {
            Step::Done(o) => Some(o),
            Step::NeedMore => None,
        });
        assert_eq!(outcome, Some(Outcome::http(200)));
        assert!(ex.received() <= MAX_READ);
    }

    #[test]
    fn many_headers_still_count_as_http() {
        let mut resp = b"HTTP/1.1 200 OK\r\n".to_vec();
        for i in 0..200 {
            resp.extend_from_slice(format!("X-{i}: y\r\n").as_bytes());
        }
        assert_eq!(run(&[&resp]), http(200));
    }

    #[test]
    fn the_end_of_the_stream_before_and_after_bytes() {
        assert_eq!(Exchange::new().on_read(b""), Step::Done(Outcome::Closed));
        let mut ex = Exchange::new();
        assert_eq!(ex.on_read(b"HTTP/1.0 2"), Step::NeedMore);
        assert_eq!(ex.on_read(b"04 No Content\r\n"), Step::NeedMore);
        assert_eq!(ex.on_read(b""), Step::Done(Outcome::http(204)));
        let mut ex = Exchange::new();
        assert_eq!(ex.on_read(b"HTTP/1.0 2"), Step::NeedMore);
        assert_eq!(ex.on_read(b""), Step::Done(Outcome::NotHttp));
    }

    #[test]
    fn errors_are_judged_by_what_had_arrived() {
        let reset = io::Error::from(io::ErrorKind::ConnectionReset);
        assert_eq!(Exchange::new().on_error(&reset), Outcome::Closed);
        let mut ex = Exchange::new();
        ex.on_read(b"HTTP/1.");
        assert_eq!(ex.on_error(&reset), Outcome::NotHttp);
        let refused = io::Error::from(io::ErrorKind::ConnectionRefused);
        assert_eq!(Exchange::new().on_error(&refused), Outcome::Refused);
        let timed_out = io::Error::from(io::ErrorKind::TimedOut);
        assert_eq!(Exchange::new().on_error(&timed_out), Outcome::Timeout);
        let pipe = io::Error::from(io::ErrorKind::BrokenPipe);
        assert_eq!(Exchange::new().on_error(&pipe), Outcome::Closed);
        // Whatever follows the status line does not change what the host is.
        let mut ex = Exchange::new();
        ex.on_read(b"HTTP/1.1 200 OK\r\n");
        assert_eq!(ex.on_error(&reset), Outcome::http(200));
        assert_eq!(ex.on_deadline(), Outcome::http(200));
        // Any other error keeps what the OS said.
        let emfile = io::Error::from_raw_os_error(24);
        let Outcome::Error(failure) = Exchange::new().on_error(&emfile) else {
            panic!("an error")
        };
        assert_eq!(failure.os_code, Some(24));
        assert_eq!(failure.kind, emfile.kind());
        assert_eq!(failure.to_string(), emfile.to_string());
    }
}
