"""The same scan with blocking sockets on a pool of OS threads: --max_connections threads, each
probing one address at a time (with --max_connections 1, the blocking scan of the lecture's
first lab).

    python3 python/wardial_threads.py 127.64.0.0/22 --port 8080 --timeout 1

Each probe has one deadline: every blocking call is given only the time that is left, so a host
that sends one byte a second cannot stretch it. Python's threads take turns holding the GIL,
which they give up while they wait on a socket: waiting scales with threads, working does not.
"""

import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from wardial_common import Exchange, request, run


def probe(addr, port, timeout):
    deadline = time.monotonic() + timeout
    answer = Exchange()

    def left():
        remaining = deadline - time.monotonic()
        # A timeout of 0 would make the socket non-blocking, not expire it.
        if remaining <= 0:
            raise socket.timeout()
        return remaining

    try:
        with socket.create_connection((addr, port), timeout=left()) as s:
            s.settimeout(left())
            s.sendall(request(addr, port))
            while True:
                s.settimeout(left())
                outcome = answer.on_read(s.recv(1024))
                if outcome is not None:
                    return outcome
    except socket.timeout:
        return answer.on_deadline()
    except OSError as e:
        return answer.on_error(e)


def wardial(hosts, port, timeout, max_connections, output):
    lock = threading.Lock()

    def worker():
        while True:
            with lock:  # one iterator shared by every thread: each address taken once
                addr = next(hosts, None)
            if addr is None:
                return
            started = time.monotonic()
            outcome = probe(addr, port, timeout)
            with lock:
                output.finding(addr, port, outcome, started)

    with ThreadPoolExecutor(max_workers=max_connections) as pool:
        for done in [pool.submit(worker) for _ in range(max_connections)]:
            done.result()


if __name__ == "__main__":
    run("Scan a range for web servers: a pool of threads", wardial)
