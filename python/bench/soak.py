"""Soak worker (`make soak`): `python soak.py sync|asyncio URL CYCLES NAMESPACE`.

Runs the soak's mixed loop through the Python package and prints `rss 10 <KiB>` and
`rss 100 <KiB>` (after a garbage collection) at 10 % and 100 % of the cycles, then `ok`.
Per 8 cycles: 4 acquire + release, 2 with_lock increments, 1 try_acquire on a key another
client holds, 1 wait on a free key (the same mix as every binding's worker)."""

from __future__ import annotations

import asyncio
import gc
import sys
import time
from pathlib import Path

# This file sits beside the source folder `fencelock/` (which lacks the compiled module):
# import the installed package instead.
_here = Path(__file__).resolve().parent.parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _here]

import fencelock  # noqa: E402

KEYS = 64
HELD_KEY = "soak-held"
TIMEOUT = 10.0


def mark(percent: int) -> None:
    gc.collect()
    with open("/proc/self/status") as f:
        kib = next(line.split()[1] for line in f if line.startswith("VmRSS:"))
    print(f"rss {percent} {kib}", flush=True)


def increment(n: int | None) -> int:
    return (n or 0) + 1


def run_sync(url: str, cycles: int, ns: str) -> None:
    with fencelock.connect(url, namespace=ns) as client, fencelock.connect(
        url, namespace=ns
    ) as other:
        held = other.acquire(HELD_KEY, TIMEOUT)
        for i in range(cycles):
            key = f"soak-{i % KEYS}"
            step = i % 8
            if step < 4:
                g = client.acquire(key, TIMEOUT)
                if not (client.release(g, i) if i % 2 == 0 else client.release(g)):
                    raise RuntimeError(f"release of {key} at cycle {i} found the lock lost")
            elif step < 6:
                client.with_lock(key, lambda s: increment(s if isinstance(s, int) else None), TIMEOUT)
            elif step == 6:
                if client.try_acquire(HELD_KEY) is not None:
                    raise RuntimeError("try_acquire took a key another client holds")
            else:
                client.wait(key, TIMEOUT)
            if i + 1 == cycles // 10:
                mark(10)
        mark(100)
        other.release(held)


async def run_async(url: str, cycles: int, ns: str) -> None:
    async with await fencelock.connect_async(url, namespace=ns) as client, await fencelock.connect_async(
        url, namespace=ns
    ) as other:
        held = await other.acquire(HELD_KEY, TIMEOUT)
        for i in range(cycles):
            key = f"soak-{i % KEYS}"
            step = i % 8
            if step < 4:
                g = await client.acquire(key, TIMEOUT)
                released = await (client.release(g, i) if i % 2 == 0 else client.release(g))
                if not released:
                    raise RuntimeError(f"release of {key} at cycle {i} found the lock lost")
            elif step < 6:
                await client.with_lock(
                    key, lambda s: increment(s if isinstance(s, int) else None), TIMEOUT
                )
            elif step == 6:
                if await client.try_acquire(HELD_KEY) is not None:
                    raise RuntimeError("try_acquire took a key another client holds")
            else:
                await client.wait(key, TIMEOUT)
            if i + 1 == cycles // 10:
                mark(10)
        mark(100)
        await other.release(held)


def main(argv: list[str]) -> int:
    if len(argv) != 5 or argv[1] not in ("sync", "asyncio"):
        print(f"usage: {argv[0]} sync|asyncio URL CYCLES NAMESPACE", file=sys.stderr)
        return 2
    mode, url, cycles, ns = argv[1], argv[2], int(argv[3]), argv[4]
    started = time.monotonic()
    if mode == "sync":
        run_sync(url, cycles, ns)
    else:
        asyncio.run(run_async(url, cycles, ns))
    print(f"ok {cycles} {int((time.monotonic() - started) * 1000)}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
