"""Smoke scenario of the installed wheel against a real nats-server: connect, acquire (fencing
token), wait for a held key from a second client, release with state, with_lock updating the
state, the same through asyncio, and the version. Usage: smoke.py NATS_URL EXPECTED_VERSION"""

from __future__ import annotations

import asyncio
import sys
import threading
import uuid

import fencelock


def check(cond: bool, what: str) -> None:
    if not cond:
        raise SystemExit(f"python smoke: {what}")


def sync_part(url: str, ns: str) -> int:
    key = "job"
    with fencelock.connect(url, namespace=ns) as a, fencelock.connect(url, namespace=ns) as b:
        g = a.acquire(key, timeout=5)
        check(g.token > 0, f"token {g.token} should be positive")
        seen: list[object] = []
        waiter = threading.Thread(target=lambda: seen.append(b.wait(key, timeout=10)))
        waiter.start()
        g.release({"runs": 1})
        waiter.join(15)
        check(seen == [{"runs": 1}], f"wait returned {seen}, expected the released state")
        after = b.with_lock(key, lambda s: {"runs": s["runs"] + 1}, timeout=5)
        check(after == {"runs": 2}, f"with_lock returned {after}")
        check(a.get(key).state == {"runs": 2}, "with_lock's state was not stored")
        with a.lock(key, timeout=5) as g2:
            check(g2.token > g.token, f"second token {g2.token} not above {g.token}")
            return g2.token


async def async_part(url: str, ns: str, last_token: int) -> None:
    async with await fencelock.connect_async(url, namespace=ns) as client:
        g = await client.acquire("job", timeout=5)
        check(g.token > last_token, f"async token {g.token} not above {last_token}")
        check(g.state == {"runs": 2}, f"async acquire saw state {g.state}")
        await g.release()


def main() -> None:
    url, version = sys.argv[1], sys.argv[2]
    check(fencelock.__version__ == version, f"__version__ is {fencelock.__version__}, expected {version}")
    ns = f"dist-py-{uuid.uuid4().hex[:8]}"
    token = sync_part(url, ns)
    asyncio.run(async_part(url, ns, token))
    print(f"python smoke: fencelock {fencelock.__version__} ok on {url} (token {token})")


main()
