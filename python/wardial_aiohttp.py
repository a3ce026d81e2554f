"""The lecture's homework, written for this workspace: asyncio and aiohttp, one HTTP GET per
address, as many in flight as --max_connections allows.

Run it on the simulated internet (`wardial simnet --at-addresses --range 127.64.0.0/22`):

    python3 python/wardial_aiohttp.py 127.64.0.0/22 --port 8080 --timeout 1

Two details the homework's first version got wrong, and why this one differs:

- The timeout is one deadline for the whole probe (`ClientTimeout(total=...)`), not a timeout
  per read (`sock_read=...`): a host that sends one byte a second would hold a per-read
  probe for as long as it likes.
- At most --max_connections probes exist at once: that many workers take addresses from one
  shared iterator. Gathering a task per address instead holds the whole range in memory, and
  a task that waits for a free connection is already spending its `total` timeout waiting.

aiohttp hands over only answers it has parsed whole, so some outcomes are coarser than the
Rust workspace's: a reset is reported as `error` (aiohttp does not say whether bytes came
first), and a status line followed by a header aiohttp refuses is `http` with no status. And
aiohttp retries a GET once when its connection is reset (HTTP allows that for a request that
changes nothing), so a host that resets is connected to twice.
"""

import asyncio
import time

import aiohttp

from wardial_common import USER_AGENT, run


async def is_server_at_host(session, addr, port):
    """What one GET to `addr` says: (kind, status), and the error's text where there was one."""
    url = "http://%s:%d/" % (addr, port)
    try:
        async with session.get(url, allow_redirects=False) as response:
            return ("http", response.status), None
    except asyncio.TimeoutError:
        return ("timeout", None), None
    except aiohttp.ClientConnectorError as e:
        if isinstance(e.os_error, ConnectionRefusedError):
            return ("refused", None), None
        return ("error", None), str(e)
    except aiohttp.ClientResponseError as e:
        # aiohttp's parser refused the answer: not HTTP if it was the status line, else a
        # status line came and something after it was refused (a malformed header).
        if "status" in str(e.message).lower():
            return ("not_http", None), None
        return ("http", None), str(e.message).splitlines()[0]
    except (aiohttp.ClientError, OSError) as e:
        return ("error", None), str(e) or type(e).__name__


async def wardial(hosts, port, timeout, max_connections, output):
    connector = aiohttp.TCPConnector(limit=max_connections, force_close=True)
    session_timeout = aiohttp.ClientTimeout(total=timeout)
    headers = {"User-Agent": USER_AGENT}
    async with aiohttp.ClientSession(
        connector=connector, timeout=session_timeout, headers=headers
    ) as session:

        async def worker():
            # One shared iterator: each address is taken once, when a worker is free. (No
            # await happens inside `next`, so two workers never take the same one.)
            for addr in hosts:
                started = time.monotonic()
                outcome, error = await is_server_at_host(session, addr, port)
                output.finding(addr, port, outcome, started, error)
                # aiohttp closes a finished connection on the event loop's next turn: give it
                # that turn before the next connect, or for a moment there are
                # max_connections + 1 sockets open.
                await asyncio.sleep(0)

        await asyncio.gather(*(worker() for _ in range(max_connections)))


if __name__ == "__main__":
    run("Scan a range for web servers: asyncio and aiohttp", wardial)
