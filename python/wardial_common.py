"""What the three reference scanners share: the command line, the addresses of a CIDR range,
the request, how an answer is classified, and the lines they print.

Every scanner here prints one JSON line per address on stdout, as `wardial scan --json` does:

    {"addr": "127.64.0.7", "port": 8080, "outcome": "http", "status": 200, "ms": 31}

with `outcome` one of http, not_http, refused, closed, timeout, error, and at the end the line
the lecture's homework prints, `total ips found = N`, on stderr (so stdout stays JSON only).
"""

import argparse
import asyncio
import inspect
import ipaddress
import json
import sys
import time

USER_AGENT = "wardial-python/0.1 (concurrency course scanner)"

# The most a probe reads before it gives up on finding a status line: a status line is a few
# dozen bytes, and a peer that sends more without one is not speaking HTTP.
MAX_READ = 4096


def parse_args(description):
    """The lecture's command line: a netmask, `--timeout` and `--max_connections`, and the port
    (the simulated internet serves its hosts on one port, rarely 80)."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("netmask", help="the range to scan, as a CIDR: 127.64.0.0/22")
    parser.add_argument("--port", type=int, default=80)
    parser.add_argument(
        "--timeout",
        type=float,
        default=10,
        help="seconds each probe may take in all (a total deadline, not one per read)",
    )
    parser.add_argument(
        "--max_connections",
        "--max-connections",
        type=int,
        default=500,
        dest="max_connections",
        help="probes in flight at once",
    )
    args = parser.parse_args()
    if args.max_connections < 1 or args.timeout <= 0:
        parser.error("--max_connections must be at least 1 and --timeout more than 0")
    return args


def netmask_to_ips(netmask):
    """Every address of the range, network and broadcast addresses included, one at a time:
    a /8 has 16 million, and none of them is held in memory.

    >>> list(netmask_to_ips('134.173.55.1/30'))
    ['134.173.55.0', '134.173.55.1', '134.173.55.2', '134.173.55.3']
    >>> sum(1 for _ in netmask_to_ips('175.45.176.0/22'))
    1024
    """
    network = ipaddress.ip_network(netmask, strict=False)
    return (str(ip) for ip in network)


def request(addr, port):
    """The request every probe sends: HTTP/1.0, so the server closes when it has answered."""
    host = addr if port == 80 else "%s:%d" % (addr, port)
    text = "GET / HTTP/1.0\r\nHost: %s\r\nUser-Agent: %s\r\nAccept: */*\r\n\r\n"
    return (text % (host, USER_AGENT)).encode("ascii")


class NotHttp(Exception):
    """Bytes that cannot begin an HTTP status line."""


_DIGITS = b"0123456789"
# After `HTTP/1.`: the minor version, a space, three digits.
_AFTER_PREFIX = [b"01", b" ", _DIGITS, _DIGITS, _DIGITS]


def status_line(line):
    """The status of a whole status line (`HTTP/1.1 200 OK` and its line end), None for a
    valid beginning of one; raises NotHttp for bytes that cannot begin one, so that an SSH
    banner is rejected at its first byte instead of waiting for a line end.

    >>> status_line(b'HTTP/1.1 404 Not Found\\r\\n'), status_line(b'HTTP/1.0 204\\n')
    (404, 204)
    >>> status_line(b'HTTP/1.1 20') is None
    True
    >>> status_line(b'SSH-2.0-OpenSSH')
    Traceback (most recent call last):
    wardial_common.NotHttp
    """
    prefix = b"HTTP/1."
    if line[: len(prefix)] != prefix[: len(line)]:
        raise NotHttp()
    rest = line[len(prefix):]
    for i, allowed in enumerate(_AFTER_PREFIX):
        if i == len(rest):
            return None
        if rest[i:i + 1] not in allowed:
            raise NotHttp()
    status = int(rest[2:5])
    reason = rest[5:]
    # The reason phrase: printable bytes after a space, then the line's end (CR LF or LF).
    body = reason.rstrip(b"\n").rstrip(b"\r")
    if status < 100 or (reason and reason[:1] not in b" \r\n"):
        raise NotHttp()
    if any(b < 0x20 and b != 0x09 or b == 0x7F for b in body):
        raise NotHttp()
    if reason.count(b"\r") > (1 if reason.endswith(b"\r\n") or reason.endswith(b"\r") else 0):
        raise NotHttp()
    return status if line.endswith(b"\n") else None


def blank_line_end(data):
    """Where the header block at the start of `data` ends: just past its blank line."""
    line = 0
    for i, byte in enumerate(data):
        if byte == 0x0A:
            if all(c == 0x0D for c in data[line:i]):
                return i + 1
            line = i + 1
    return None


class Exchange:
    """One probe's answer, classified as the Rust workspace's exchange does, told what each
    read returned: only the status line decides a server; blank lines before it are skipped;
    an interim 1xx answer is skipped to the final one, and counts itself if none follows in
    time; no bytes then the end is `closed`, bytes without a status line `not_http`.
    Outcomes are (kind, status) pairs."""

    def __init__(self):
        self.received = b""
        self.start = 0  # where the status line being waited for starts
        self.interim = None

    def on_read(self, data):
        """The outcome, or None to read more. Empty `data`: the peer closed its side."""
        if not data:
            return self.ended()
        self.received += data[: MAX_READ - len(self.received)]
        while True:
            # Blank lines before a status line are skipped, never taken for its end.
            while True:
                if self.received.startswith(b"\n", self.start):
                    self.start += 1
                elif self.received.startswith(b"\r\n", self.start):
                    self.start += 2
                else:
                    break
            rest = self.received[self.start:]
            end = rest.find(b"\n")
            try:
                status = status_line(rest if end < 0 else rest[: end + 1])
            except NotHttp:
                return self.not_a_status_line()
            if status is None:
                return self.not_a_status_line() if len(self.received) >= MAX_READ else None
            if not 100 <= status < 200 or status == 101:
                return ("http", status)
            # An interim answer: skip its header block, to its blank line, and look again.
            self.interim = status
            skip = blank_line_end(rest[end + 1:])
            if skip is None:
                return self.ended() if len(self.received) >= MAX_READ else None
            self.start += end + 1 + skip

    def not_a_status_line(self):
        return ("http", self.interim) if self.interim else ("not_http", None)

    def ended(self):
        """The stream ended (a close, or a reset)."""
        if self.interim:
            return ("http", self.interim)
        return ("not_http", None) if self.received else ("closed", None)

    def on_deadline(self):
        return ("http", self.interim) if self.interim else ("timeout", None)

    def on_error(self, error):
        """What an OSError from connecting, writing or reading means."""
        if isinstance(error, ConnectionRefusedError):
            return ("refused", None)
        if isinstance(error, (ConnectionResetError, ConnectionAbortedError, BrokenPipeError)):
            return self.ended()
        if isinstance(error, TimeoutError):
            return self.on_deadline()
        return ("error", None)


class Output:
    """Prints each finding as a JSON line as soon as it is known (flushed, so whoever reads
    the output sees it at once), and the homework's total at the end."""

    def __init__(self):
        self.servers = 0

    def finding(self, addr, port, outcome, started, error=None):
        kind, status = outcome
        line = {"addr": addr, "port": port, "outcome": kind}
        if status is not None:
            line["status"] = status
        if error is not None:
            line["error"] = error
        line["ms"] = int((time.monotonic() - started) * 1000)
        self.servers += kind == "http"
        print(json.dumps(line), flush=True)

    def total(self):
        print("total ips found =", self.servers, file=sys.stderr, flush=True)


def run(description, wardial):
    """The lecture's `main`: the command line, then `wardial(hosts, port, timeout,
    max_connections, output)` (run on an event loop if it is a coroutine), then the total."""
    args = parse_args(description)
    output = Output()
    scan = wardial(netmask_to_ips(args.netmask), args.port, args.timeout, args.max_connections, output)
    if inspect.iscoroutine(scan):
        asyncio.run(scan)
    output.total()
