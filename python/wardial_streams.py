"""The same scan on asyncio's raw streams, no HTTP library: connect, send the request, and read
until the answer is decided, classified byte by byte as the Rust workspace's exchange does
(`wardial_common.Exchange`).

    python3 python/wardial_streams.py 127.64.0.0/22 --port 8080 --timeout 1

Each probe runs under one deadline (`asyncio.wait_for` around the whole exchange), and
--max_connections workers take addresses from one shared iterator, so at most that many
sockets are open at once.
"""

import asyncio
import time

from wardial_common import Exchange, request, run


async def exchange(addr, port, answer):
    reader, writer = await asyncio.open_connection(addr, port)
    try:
        writer.write(request(addr, port))
        await writer.drain()
        while True:
            outcome = answer.on_read(await reader.read(1024))
            if outcome is not None:
                return outcome
    finally:
        writer.close()


async def probe(addr, port, timeout):
    answer = Exchange()
    try:
        return await asyncio.wait_for(exchange(addr, port, answer), timeout)
    except asyncio.TimeoutError:
        return answer.on_deadline()
    except OSError as e:
        return answer.on_error(e)


async def wardial(hosts, port, timeout, max_connections, output):
    async def worker():
        for addr in hosts:
            started = time.monotonic()
            output.finding(addr, port, await probe(addr, port, timeout), started)

    await asyncio.gather(*(worker() for _ in range(max_connections)))


if __name__ == "__main__":
    run("Scan a range for web servers: asyncio streams", wardial)
