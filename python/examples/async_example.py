"""Typed usage of the asyncio API (checked with `mypy --strict` in `make -C python test`)."""

from __future__ import annotations

import asyncio
import sys

import fencelock


async def bump(state: int | None) -> int:
    await asyncio.sleep(0)
    return (state or 0) + 1


async def run(url: str) -> int:
    async with await fencelock.connect_async(url, namespace="examples") as client:
        async with client.lock("job", timeout=5) as g:
            g.state = {"token": g.token}
        count = await client.with_lock("counter", bump, timeout=5)
        guard = await client.try_acquire("job")
        if guard is not None:
            await guard.release()
        print(count)
        return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(run(sys.argv[1] if len(sys.argv) > 1 else "memory://")))
