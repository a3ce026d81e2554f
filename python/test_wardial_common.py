"""The shared exchange classifies every answer as the Rust workspace's does (the same cases as
crates/probe's tests). Run: python3 -m unittest discover -s python"""

import unittest

from wardial_common import Exchange, netmask_to_ips


def outcome(*chunks):
    """What an exchange decides after reading `chunks`, or at the deadline if still undecided."""
    answer = Exchange()
    for chunk in chunks:
        decided = answer.on_read(chunk)
        if decided is not None:
            return decided
    return answer.on_deadline()


class ExchangeTest(unittest.TestCase):
    def test_a_status_line_decides_a_server(self):
        self.assertEqual(outcome(b"HTTP/1.1 404 Not Found\r\nServer: x\r\n\r\n"), ("http", 404))
        self.assertEqual(outcome(b"HTTP/1.0 200 OK\r\n"), ("http", 200))
        self.assertEqual(outcome(b"HTTP/1.1 204\r\n"), ("http", 204))
        self.assertEqual(outcome(b"HTTP/1.1 200 OK\n"), ("http", 200))
        # However TCP splits it, and whatever header follows.
        self.assertEqual(outcome(*[bytes([b]) for b in b"HTTP/1.1 200 OK\r\n"]), ("http", 200))
        self.assertEqual(outcome(b"HTTP/1.1 301 Moved\r\nLocation : /x\r\n"), ("http", 301))

    def test_what_is_not_a_status_line_is_not_http(self):
        for answer in [b"S", b"SSH-2.0-OpenSSH_9.6\r\n", b"\x00\xff\x13", b"HTTP/1.1 abc\r\n",
                       b"220 ftp ready\r\n", b"HTTP/2 200 OK\r\n", b"HTTP/1.1 099 x\r\n",
                       b"HTTP/1.1 200 OK\rx\n"]:
            self.assertEqual(outcome(answer), ("not_http", None), answer)

    def test_blank_lines_and_interim_answers_are_skipped(self):
        self.assertEqual(outcome(b"\r\nHTTP/1.1 ", b"200 OK\r\n"), ("http", 200))
        self.assertEqual(
            outcome(b"HTTP/1.1 100 Continue\r\n", b"\r\n", b"HTTP/1.1 2", b"04 x\r\n"), ("http", 204)
        )
        # No final answer in time: the interim one stands.
        self.assertEqual(outcome(b"HTTP/1.1 100 Continue\r\n\r\n"), ("http", 100))
        self.assertEqual(outcome(b"HTTP/1.1 101 Switching Protocols\r\n"), ("http", 101))

    def test_how_the_stream_ended(self):
        self.assertEqual(outcome(b"HTTP/1."), ("timeout", None))
        half = Exchange()
        half.on_read(b"HTTP/1.")
        self.assertEqual(half.on_error(ConnectionResetError()), ("not_http", None))
        self.assertEqual(Exchange().on_error(ConnectionResetError()), ("closed", None))
        self.assertEqual(Exchange().on_read(b""), ("closed", None))
        self.assertEqual(Exchange().on_error(ConnectionRefusedError()), ("refused", None))
        self.assertEqual(Exchange().on_error(TimeoutError()), ("timeout", None))
        self.assertEqual(Exchange().on_error(PermissionError()), ("error", None))

    def test_ranges_are_lazy_and_whole(self):
        self.assertEqual(sum(1 for _ in netmask_to_ips("134.173.0.0/16")), 65536)
        self.assertEqual(next(netmask_to_ips("0.0.0.0/0")), "0.0.0.0")


if __name__ == "__main__":
    unittest.main()
