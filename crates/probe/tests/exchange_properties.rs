//! One answer, one outcome: however TCP splits a peer's bytes into reads, and however the
//! exchange then ends (the peer closes, the peer resets, the deadline passes), the outcome is
//! the same for every model, because every model hands the exchange the same facts.

use std::io;

use proptest::prelude::*;
use wardial_probe::http::{Exchange, Step, MAX_READ};
use wardial_probe::Outcome;

/// How an exchange can end when the answer alone has not decided it.
#[derive(Debug, Clone, Copy)]
enum Ending {
    Close,
    Reset,
    Deadline,
}

/// Feeds `answer` to a fresh exchange in the reads given by `cuts`, then ends it.
fn outcome(answer: &[u8], cuts: &[usize], ending: Ending) -> Outcome {
    let mut ex = Exchange::new();
    let mut cuts: Vec<usize> = cuts.iter().map(|c| c % (answer.len() + 1)).collect();
    cuts.push(0);
    cuts.push(answer.len());
    cuts.sort_unstable();
    cuts.dedup();
    for read in cuts.windows(2) {
        if let Step::Done(o) = ex.on_read(&answer[read[0]..read[1]]) {
            return o;
        }
    }
    match ending {
        Ending::Close => match ex.on_read(b"") {
            Step::Done(o) => o,
            Step::NeedMore => panic!("the end of the stream always decides"),
        },
        Ending::Reset => ex.on_error(&io::Error::from(io::ErrorKind::ConnectionReset)),
        Ending::Deadline => ex.on_deadline(),
    }
}

const fn http(status: u16) -> Outcome {
    Outcome::http(status)
}

/// Answers with what they must give when the stream ends (by a close or a reset) and when the
/// deadline ends them.
// A table, one answer a row: its length is the corpus, not a function that does too much.
#[allow(clippy::too_many_lines)]
fn corpus() -> Vec<(Vec<u8>, Outcome, Outcome)> {
    use Outcome::*;
    let mut c: Vec<(&[u8], Outcome, Outcome)> = vec![
        (
            b"HTTP/1.1 200 OK\r\nServer: x\r\n\r\nhello",
            http(200),
            http(200),
        ),
        (b"HTTP/1.0 404 Not Found\r\n", http(404), http(404)),
        (b"HTTP/1.1 204\r\n\r\n", http(204), http(204)),
        (b"HTTP/1.1 301 Moved\n\n", http(301), http(301)),
        // Malformed headers after a valid status line: the status line decides.
        (
            b"HTTP/1.1 302 Found\r\nLocation : /x\r\n\r\n",
            http(302),
            http(302),
        ),
        (
            b"HTTP/1.1 200 OK\r\nX-A: a\r\n  folded\r\n\r\n",
            http(200),
            http(200),
        ),
        (
            b"HTTP/1.1 200 OK\r\nX-A: a\x00b\r\n\r\n",
            http(200),
            http(200),
        ),
        (b"HTTP/1.1 500 Oops\r\n\x01\x02\x03", http(500), http(500)),
        // Blank lines before the status line.
        (b"\r\nHTTP/1.1 200 OK\r\n\r\n", http(200), http(200)),
        (b"\n\r\n\nHTTP/1.1 403 Forbidden\r\n", http(403), http(403)),
        // Interim answers, skipped to the final status.
        (
            b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\n\r\n",
            http(201),
            http(201),
        ),
        (
            b"HTTP/1.1 103 Early Hints\r\nLink: </a.css>\r\n\r\nHTTP/1.1 200 OK\r\n",
            http(200),
            http(200),
        ),
        (
            b"HTTP/1.1 101 Switching Protocols\r\n\r\n\x00\x01",
            http(101),
            http(101),
        ),
        // An interim answer with no final one is still an answer in HTTP.
        (b"HTTP/1.1 100 Continue\r\n\r\n", http(100), http(100)),
        (
            b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 2",
            http(100),
            http(100),
        ),
        // Half a status line: not HTTP if the stream ends, a timeout if the deadline does.
        (b"", Closed, Timeout),
        (b"H", NotHttp, Timeout),
        (b"HTTP/1.", NotHttp, Timeout),
        (b"HTTP/1.1 200 OK", NotHttp, Timeout),
        (b"HTTP/1.1 200 OK\r", NotHttp, Timeout),
        (b"\r\n", NotHttp, Timeout),
        (b"\r\nHTTP/1.1 200", NotHttp, Timeout),
        // Not HTTP at all, decided as soon as it shows.
        (b"SSH-2.0-OpenSSH_9.6p1 Debian-4\r\n", NotHttp, NotHttp),
        (b"220 mail.example ESMTP ready\r\n", NotHttp, NotHttp),
        (b"HTTP/2 200\r\n", NotHttp, NotHttp),
        (b"HTTP/1.1 20 OK\r\n", NotHttp, NotHttp),
        (b"HTTP/1.1 200 O\x00K\r\n", NotHttp, NotHttp),
        (b"HTTP/1.1 000 Zero\r\n", NotHttp, NotHttp),
        (b"\rHTTP/1.1 200 OK\r\n", NotHttp, NotHttp),
        (
            b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03",
            NotHttp,
            NotHttp,
        ),
    ];
    let mut owned: Vec<(Vec<u8>, Outcome, Outcome)> =
        c.drain(..).map(|(a, e, d)| (a.to_vec(), e, d)).collect();
    // A status line that never ends: bounded by the read cap, not by the peer.
    let mut endless = b"HTTP/1.1 200 ".to_vec();
    endless.resize(MAX_READ + 100, b'a');
    owned.push((endless, NotHttp, NotHttp));
    // Interim answers enough to fill the cap: the last interim status stands.
    let many = b"HTTP/1.1 100 Continue\r\n\r\n".repeat(MAX_READ / 20);
    owned.push((many, http(100), http(100)));
    owned
}

fn ending() -> impl Strategy<Value = Ending> {
    prop_oneof![
        Just(Ending::Close),
        Just(Ending::Reset),
        Just(Ending::Deadline)
    ]
}

/// Any final answer: a status line, then anything at all (valid headers or not).
fn any_final_answer() -> impl Strategy<Value = (Vec<u8>, u16)> {
    (
        prop_oneof![Just("1.0"), Just("1.1")],
        200u16..600,
        "[A-Za-z ]{0,20}",
        prop::collection::vec(any::<u8>(), 0..300),
        prop::bool::ANY,
    )
        .prop_map(|(version, status, reason, tail, interim_first)| {
            let mut a = Vec::new();
            if interim_first {
                a.extend_from_slice(b"HTTP/1.1 100 Continue\r\n\r\n");
            }
            a.extend_from_slice(format!("HTTP/{version} {status} {reason}\r\n").as_bytes());
            a.extend_from_slice(&tail);
            (a, status)
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn every_split_and_every_ending_gives_one_outcome(
        pick in any::<prop::sample::Index>(),
        cuts in prop::collection::vec(any::<usize>(), 0..40),
        ending in ending(),
    ) {
        let corpus = corpus();
        let (answer, at_end, at_deadline) = &corpus[pick.index(corpus.len())];
        let want = match ending {
            Ending::Close | Ending::Reset => at_end,
            Ending::Deadline => at_deadline,
        };
        let got = outcome(answer, &cuts, ending);
        prop_assert_eq!(&got, want, "answer {:?} cut at {:?}, then {:?}",
            String::from_utf8_lossy(answer), cuts, ending);
    }

    #[test]
    fn a_status_line_decides_whatever_follows(
        (answer, status) in any_final_answer(),
        cuts in prop::collection::vec(any::<usize>(), 0..40),
        ending in ending(),
    ) {
        prop_assert_eq!(outcome(&answer, &cuts, ending), http(status));
    }

    #[test]
    fn the_outcome_of_any_bytes_does_not_depend_on_the_reads(
        answer in prop::collection::vec(
            prop_oneof![Just(b'H'), Just(b'\r'), Just(b'\n'), Just(b' '), Just(b'1'), any::<u8>()],
            0..64,
        ),
        cuts in prop::collection::vec(any::<usize>(), 0..20),
        ending in ending(),
    ) {
        prop_assert_eq!(outcome(&answer, &cuts, ending), outcome(&answer, &[], ending));
    }
}
