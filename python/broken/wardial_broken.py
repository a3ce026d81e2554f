"""A deliberately broken scanner, for `wardial check` to catch: the two mistakes of the
lecture's first homework version. Do not copy it.

1. A timeout per read (`sock_read`), not one deadline for the probe: a host that trickles its
   answer a byte at a time holds the probe for as long as it likes, and is reported a server
   long after the deadline.
2. No limit on connections (`limit=0`), and a task per address gathered at once: the whole
   range is connected at the same moment, whatever --max_connections says.

    wardial check 'python3 python/broken/wardial_broken.py'
"""

import argparse
import asyncio
import ipaddress
import json
import sys
import time

import aiohttp


async def probe(session, addr, port):
    started = time.monotonic()
    line = {"addr": addr, "port": port}
    try:
        async with session.get("http://%s:%d/" % (addr, port), allow_redirects=False) as r:
            line.update(outcome="http", status=r.status)
    except asyncio.TimeoutError:
        line.update(outcome="timeout")
    except aiohttp.ClientConnectorError as e:
        refused = isinstance(e.os_error, ConnectionRefusedError)
        line.update(outcome="refused" if refused else "error")
    except aiohttp.ClientResponseError as e:
        line.update(outcome="not_http" if "status" in str(e.message).lower() else "http")
    except (aiohttp.ClientError, OSError):
        line.update(outcome="error")
    line["ms"] = int((time.monotonic() - started) * 1000)
    print(json.dumps(line), flush=True)
    return line["outcome"] == "http"


async def wardial(netmask, port, timeout):
    timeouts = aiohttp.ClientTimeout(total=None, sock_connect=timeout, sock_read=timeout)
    connector = aiohttp.TCPConnector(limit=0, force_close=True)
    async with aiohttp.ClientSession(timeout=timeouts, connector=connector) as session:
        hosts = [str(ip) for ip in ipaddress.ip_network(netmask, strict=False)]
        return await asyncio.gather(*(probe(session, h, port) for h in hosts))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("netmask")
    parser.add_argument("--port", type=int, default=80)
    parser.add_argument("--timeout", type=float, default=10)
    parser.add_argument("--max_connections", type=int, default=500)  # ignored: the bug
    args = parser.parse_args()
    found = asyncio.run(wardial(args.netmask, args.port, args.timeout))
    print("total ips found =", sum(found), file=sys.stderr)


if __name__ == "__main__":
    main()
