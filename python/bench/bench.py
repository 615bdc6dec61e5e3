"""W1-W4 from Python (sync and asyncio) beside the Rust core, in one process, on one server per
backend (docs/BENCHMARKS.md).

    python bench/bench.py [--backend nats|redis|all] [--rounds N] [--seconds S] [--w3-reps N]
                          [--quick] [--url nats://...] [--redis-url redis://...]

Starts its own nats-server and redis-server unless given URLs. Each workload runs in rounds; in
every round each client takes one turn, in an order rotating between rounds, so that load from
elsewhere on a shared machine hits all alike. The core's turns are `fencelock-bench`'s loops
(`_native._bench_core_round`: the calling thread blocks on the core runtime, GIL released).
A figure is the median over the rounds of the per-round Python/core ratio, with its range.

W1: one client, acquire + release, 64 rotating keys (sync, asyncio, asyncio on uvloop when
installed). W2: 2 async clients x 8 tasks incrementing one counter with `with_lock`; exact at
the end. W3: A holds, B waits in acquire (settled 5 ms into its wait, as the core's), A
releases; the time from A's release call to B's acquire returning (sync: the waiter is a
thread). W4: 64 asyncio tasks on distinct keys over one client.
Targets (issue 18): W1 latency <= 1.3x the core's, W3 p50 <= 1.2x, W2 and W4 rates >= 0.85x."""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import os
import shutil
import statistics
import sys
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import fencelock
from fencelock import _native

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from natsserver import NatsServer  # noqa: E402
from redisserver import RedisServer  # noqa: E402
from redisserver import binary as redis_binary  # noqa: E402

KEYS = [f"w1-{i}" for i in range(64)]
SETTLE = 0.005  # W3's pause before the release, as the core's
W2_TASKS = 8
TIMEOUT = 30.0


def w1_sync(c: fencelock.Client, seconds: float) -> float:
    """Microseconds per acquire+release."""
    n, start = 0, time.perf_counter()
    end = start + seconds
    while time.perf_counter() < end:
        for _ in range(16):
            c.acquire(KEYS[n % 64], timeout=TIMEOUT).release()
            n += 1
    return (time.perf_counter() - start) / n * 1e6


async def w1_async(c: fencelock.AsyncClient, seconds: float) -> float:
    n, start = 0, time.perf_counter()
    end = start + seconds
    while time.perf_counter() < end:
        for _ in range(16):
            g = await c.acquire(KEYS[n % 64], timeout=TIMEOUT)
            await g.release()
            n += 1
    return (time.perf_counter() - start) / n * 1e6


async def w2_async(clients: list[fencelock.AsyncClient], key: str, seconds: float) -> tuple[int, float]:
    """(increments, per second)."""
    start = time.perf_counter()
    end = start + seconds

    async def task(c: fencelock.AsyncClient) -> int:
        n = 0
        while time.perf_counter() < end:
            await c.with_lock(key, lambda v: (v or 0) + 1, TIMEOUT)
            n += 1
        return n

    counts = await asyncio.gather(*(task(c) for c in clients for _ in range(W2_TASKS)))
    return sum(counts), sum(counts) / (time.perf_counter() - start)


async def w4_async(c: fencelock.AsyncClient, seconds: float) -> float:
    """Cycles per second."""
    start = time.perf_counter()
    end = start + seconds

    async def task(key: str) -> int:
        n = 0
        while time.perf_counter() < end:
            g = await c.acquire(key, timeout=TIMEOUT)
            if not await g.release():
                raise RuntimeError(f"W4: release of {key} reported the lock lost")
            n += 1
        return n

    counts = await asyncio.gather(*(task(f"w4-{i}") for i in range(64)))
    return sum(counts) / (time.perf_counter() - start)


class SyncHandoff:
    """W3 with the sync API; the waiter runs in a thread. Keeps the holder across rounds."""

    def __init__(self, a: fencelock.Client, b: fencelock.Client) -> None:
        self.clients = [a, b]
        self.who = 0
        self.guard = a.acquire("w3", timeout=TIMEOUT)

    def run(self, reps: int) -> list[float]:
        out = []
        for _ in range(reps):
            waiter = 1 - self.who
            got: list[tuple[fencelock.Guard, float]] = []
            c = self.clients[waiter]
            t = threading.Thread(
                target=lambda: got.append((c.acquire("w3", timeout=TIMEOUT), time.perf_counter()))
            )
            t.start()
            time.sleep(SETTLE)
            if got:
                raise RuntimeError("W3: the waiter acquired while the lock was held")
            released = time.perf_counter()
            if not self.guard.release():
                raise RuntimeError("W3: release reported the lock lost")
            t.join()
            self.guard, acquired = got[0]
            out.append((acquired - released) * 1e6)
            self.who = waiter
        return out


class AsyncHandoff:
    def __init__(self, a: fencelock.AsyncClient, b: fencelock.AsyncClient) -> None:
        self.clients = [a, b]
        self.who = 0
        self.guard: fencelock.AsyncGuard | None = None

    async def run(self, reps: int) -> list[float]:
        if self.guard is None:
            self.guard = await self.clients[0].acquire("w3a", timeout=TIMEOUT)
        out = []
        for _ in range(reps):
            waiter = 1 - self.who

            async def wait(c: fencelock.AsyncClient = self.clients[waiter]) -> tuple[fencelock.AsyncGuard, float]:
                g = await c.acquire("w3a", timeout=TIMEOUT)
                return g, time.perf_counter()

            task = asyncio.ensure_future(wait())
            await asyncio.sleep(SETTLE)
            if task.done():
                raise RuntimeError("W3: the waiter acquired while the lock was held")
            released = time.perf_counter()
            if not await self.guard.release():
                raise RuntimeError("W3: release reported the lock lost")
            self.guard, acquired = await task
            out.append((acquired - released) * 1e6)
            self.who = waiter
        return out


def pct(v: list[float], p: float) -> float:
    s = sorted(v)
    return s[round((len(s) - 1) * p)]


class Loop:
    """An asyncio event loop kept across rounds (its clients stay connected)."""

    def __init__(self, factory: Callable[[], asyncio.AbstractEventLoop]) -> None:
        self.loop = factory()

    def run(self, coro: Any) -> Any:
        return self.loop.run_until_complete(coro)

    def close(self) -> None:
        self.loop.close()


def measure(url: str, rounds: int, secs: float, reps: int) -> dict[str, Any]:
    ns = "fencelock_pybench_" + uuid.uuid4().hex[:8]
    loops = {"Python asyncio": Loop(asyncio.new_event_loop)}
    if importlib.util.find_spec("uvloop") is not None:
        import uvloop

        loops["asyncio+uvloop"] = Loop(uvloop.new_event_loop)
    sync_a = fencelock.connect(url, namespace=ns)
    sync_b = fencelock.connect(url, namespace=ns)
    aclients = {
        name: [lp.run(fencelock.connect_async(url, namespace=ns)) for _ in range(2)]
        for name, lp in loops.items()
    }
    _native._bench_core_open(url, ns)
    aio = loops["Python asyncio"]
    a1, a2 = aclients["Python asyncio"]
    w2_key = f"w2-{uuid.uuid4().hex[:8]}"
    sync_handoff = SyncHandoff(sync_a, sync_b)
    async_handoff = AsyncHandoff(a1, a2)
    w2_done = [0]
    core_w2_done = [0]

    def core(workload: str, amount: float) -> Any:
        r = _native._bench_core_round(workload, amount)
        if workload == "W1":
            return r[1] * 1e3 / r[0]
        if workload == "W2":
            core_w2_done[0] += int(sum(r[1:]))
            return sum(r[1:]) / (r[0] / 1e3)
        if workload == "W3":
            return [x * 1e3 for x in r]
        return r[0] / (r[1] / 1e3)

    def w2(seconds: float) -> float:
        n, rate = aio.run(w2_async([a1, a2], w2_key, seconds))
        w2_done[0] += n
        return float(rate)

    # name -> (client -> one round's figure): W1 us/cycle, W2/W4 per second, W3 latencies (us)
    work: dict[str, dict[str, Callable[[], Any]]] = {
        "W1": {
            "Rust core": lambda: core("W1", secs),
            "Python sync": lambda: w1_sync(sync_a, secs),
            **{n: (lambda lp=lp, c=aclients[n][0]: lp.run(w1_async(c, secs))) for n, lp in loops.items()},
        },
        "W2": {"Rust core": lambda: core("W2", secs), "Python asyncio": lambda: w2(secs)},
        "W3": {
            "Rust core": lambda: core("W3", reps),
            "Python sync": lambda: sync_handoff.run(reps),
            "Python asyncio": lambda: aio.run(async_handoff.run(reps)),
        },
        "W4": {"Rust core": lambda: core("W4", secs), "Python asyncio": lambda: aio.run(w4_async(a1, secs))},
    }
    # Warm-up: connections, buckets, change feeds.
    for wl, clients in work.items():
        for name, fn in clients.items():
            if wl == "W3" and name == "Rust core":
                core("W3", 6)
            else:
                fn()
    results: dict[str, dict[str, list[Any]]] = {}
    for wl, clients in work.items():
        names = list(clients)
        results[wl] = {n: [] for n in names}
        for r in range(rounds):
            for name in names[r % len(names):] + names[: r % len(names)]:
                results[wl][name].append(clients[name]())
    sync_handoff.guard.release()
    if async_handoff.guard is not None:
        aio.run(async_handoff.guard.release())
    w2_final = aio.run(a1.get(w2_key)).state
    core_final = _native._bench_core_close()
    for name, lp in loops.items():
        for c in aclients[name]:
            lp.run(c.close())
        lp.close()
    sync_a.close()
    sync_b.close()
    if w2_final != w2_done[0] or core_final != core_w2_done[0]:
        raise RuntimeError(
            f"W2: counters not exact: Python key {w2_final} after {w2_done[0]} increments, "
            f"core key {core_final} after {core_w2_done[0]}"
        )
    return {"results": results, "w2": (w2_final, core_final)}


TARGETS = {  # workload: (what, unit, lower is better, target)
    "W1": ("W1 uncontended cycle", "us/cycle", True, 1.3),
    "W2": ("W2 contended with_lock 2x8", "incr/s", False, 0.85),
    "W3": ("W3 handoff p50", "us", True, 1.2),
    "W4": ("W4 64 parallel keys", "cycles/s", False, 0.85),
}
# Clients each target is for (issue 18): asyncio for all, sync for W1 and W3.
TARGETED = {"Python sync", "Python asyncio"}


def report(backend: str, url: str, m: dict[str, Any], rounds: int, secs: float, reps: int) -> tuple[int, int]:
    fmt = lambda x: f"{x:.0f}" if x >= 100 else f"{x:.1f}"  # noqa: E731
    print(f"\n### {backend} ({url}): {rounds} interleaved rounds of {secs:g} s (W3: {reps} handoffs per round)")
    print("| workload | client | median | vs core per round: median (min-max) | target | result |")
    print("|---|---|---|---|---|---|")
    met = total = 0
    for wl, per in m["results"].items():
        what, unit, lower, target = TARGETS[wl]
        core = per["Rust core"]
        fig = (lambda x: pct(x, 0.5)) if wl == "W3" else (lambda x: x)
        core_figs = [fig(x) for x in core]
        print(f"| {what} | Rust core | {fmt(statistics.median(core_figs))} {unit} | 1.00x | | |")
        for name, runs in per.items():
            if name == "Rust core":
                continue
            figs = [fig(x) for x in runs]
            ratios = [f / c for f, c in zip(figs, core_figs)]
            r = statistics.median(ratios)
            aimed = name in TARGETED
            ok = (r <= target) if lower else (r >= target)
            if aimed:
                met += ok
                total += 1
            verdict = ("pass" if ok else "MISS") if aimed else "(info)"
            print(f"| {what} | {name} | {fmt(statistics.median(figs))} {unit} | {r:.2f}x "
                  f"({min(ratios):.2f}-{max(ratios):.2f}) | {'<=' if lower else '>='} {target}x | {verdict} |")
        if wl == "W3":
            p99 = ", ".join(f"{n} {fmt(pct([x for run in runs for x in run], 0.99))}" for n, runs in per.items())
            print(f"| W3 p99 over all rounds (us) | {p99} | | | | |")
    print(f"W2 counters exact: Python key {m['w2'][0]}, core key {m['w2'][1]}")
    return met, total


def load() -> str:
    return f"load average {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f}"


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--backend", default="all", choices=["nats", "redis", "all"])
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--seconds", type=float, default=1.0)
    ap.add_argument("--w3-reps", type=int, default=20)
    ap.add_argument("--quick", action="store_true", help="3 rounds of 0.3 s, 8 handoffs")
    ap.add_argument("--url")
    ap.add_argument("--redis-url")
    args = ap.parse_args()
    rounds, secs, reps = (3, 0.3, 8) if args.quick else (args.rounds, args.seconds, args.w3_reps)
    backends = ["nats", "redis"] if args.backend == "all" else [args.backend]
    print(f"fencelock Python bench: Python {sys.version.split()[0]}; {load()} at start")
    met = total = 0
    for backend in backends:
        server: Any = None
        if backend == "nats":
            server = None if args.url else NatsServer()
            url = args.url or server.url
        else:
            if not args.redis_url and redis_binary() is None and not shutil.which("redis-server"):
                print("\n### redis: skipped (no redis-server)")
                continue
            server = None if args.redis_url else RedisServer()
            url = args.redis_url or server.url
        try:
            m = measure(url, rounds, secs, reps)
        finally:
            if server is not None:
                server.stop()
        got = report(backend, url, m, rounds, secs, reps)
        met, total = met + got[0], total + got[1]
    print(f"\n{met} of {total} targeted figures reach their targets; {load()} at end")
    return 0


if __name__ == "__main__":
    sys.exit(main())
