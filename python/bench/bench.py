"""W1 and W3 from Python (sync and asyncio) beside the Rust core's figures, in one run against
one nats-server (docs/ARCHITECTURE.md; target: Python W1 latency <= 1.3x the core's).

    python bench/bench.py [--quick] [--url nats://host:port] [--no-rust]

W1: one client, acquire+release, keys rotating over 64 names, sequential. It runs in blocks of
one round per client (the Rust core, sync, asyncio, uvloop; the order rotates per block), all in
this process: the core's rounds are `fencelock-bench`'s W1 loop, driven from Rust by
`_native._bench_core_w1` (a thread blocking on its own tokio runtime, as the bench does).
Each figure is a median over the blocks. `cargo run --release -p fencelock-bench -- --only W1`
and `--only W3` also run once against the same server: a cross-check of the in-process core
figure, and the core's W3. W3: A holds, B waits in acquire (settled 5 ms into its wait), A releases; the time
from A's release call to B's acquire returning (p50, p99)."""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import re
import statistics
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any, TypeVar

import fencelock
from fencelock import _native

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from natsserver import NatsServer  # noqa: E402

T = TypeVar("T")
KEYS = [f"w1-{i}" for i in range(64)]
SETTLE = 0.005


def w1_sync(c: fencelock.Client, seconds: float) -> float:
    """Microseconds per acquire+release."""
    n, i, end = 0, 0, time.perf_counter() + seconds
    start = time.perf_counter()
    while time.perf_counter() < end:
        for _ in range(64):
            c.acquire(KEYS[i % 64], timeout=5).release()
            i += 1
        n += 64
    return (time.perf_counter() - start) / n * 1e6


async def w1_async(c: fencelock.AsyncClient, seconds: float) -> float:
    n, i, end = 0, 0, time.perf_counter() + seconds
    start = time.perf_counter()
    while time.perf_counter() < end:
        for _ in range(64):
            g = await c.acquire(KEYS[i % 64], timeout=5)
            await g.release()
            i += 1
        n += 64
    return (time.perf_counter() - start) / n * 1e6


def w3_sync(a: fencelock.Client, b: fencelock.Client, reps: int) -> list[float]:
    """Handoff latencies in microseconds; the waiter runs in a thread."""
    clients = [a, b]
    who, guard = 0, a.acquire("w3", timeout=5)
    out = []
    for _ in range(reps):
        waiter = 1 - who
        got: list[tuple[fencelock.Guard, float]] = []
        t = threading.Thread(
            target=lambda w=waiter: got.append(
                (clients[w].acquire("w3", timeout=30), time.perf_counter())
            )
        )
        t.start()
        time.sleep(SETTLE)
        if got:
            raise RuntimeError("W3: the waiter acquired while the lock was held")
        released = time.perf_counter()
        if not guard.release():
            raise RuntimeError("W3: release reported the lock lost")
        t.join()
        guard, acquired = got[0]
        out.append((acquired - released) * 1e6)
        who = waiter
    guard.release()
    return out


async def w3_async(a: fencelock.AsyncClient, b: fencelock.AsyncClient, reps: int) -> list[float]:
    clients = [a, b]
    who, guard = 0, await a.acquire("w3a", timeout=5)
    out = []
    for _ in range(reps):
        waiter = 1 - who

        async def wait(w: int = waiter) -> tuple[fencelock.AsyncGuard, float]:
            g = await clients[w].acquire("w3a", timeout=30)
            return g, time.perf_counter()

        task = asyncio.ensure_future(wait())
        await asyncio.sleep(SETTLE)
        if task.done():
            raise RuntimeError("W3: the waiter acquired while the lock was held")
        released = time.perf_counter()
        if not await guard.release():
            raise RuntimeError("W3: release reported the lock lost")
        guard, acquired = await task
        out.append((acquired - released) * 1e6)
        who = waiter
    await guard.release()
    return out


def pct(v: list[float], p: float) -> float:
    s = sorted(v)
    return s[round((len(s) - 1) * p)]


def rust_figures(url: str, only: str, quick: bool) -> tuple[float | None, float | None, str]:
    """(W1 us per cycle, W3 p50 us, raw output) from the Rust bench's workloads `only`
    ("W1", "W3"), run against `url`."""
    root = Path(__file__).resolve().parents[2]
    cmd = ["cargo", "run", "--quiet", "--release", "-p", "fencelock-bench", "--",
           "--only", only, "--url", url] + (["--quick"] if quick else [])
    try:
        out = subprocess.run(cmd, cwd=root, capture_output=True, text=True, timeout=1200)
    except (OSError, subprocess.TimeoutExpired) as e:
        return None, None, f"rust bench did not run: {e}"
    text = out.stdout + out.stderr
    w1 = re.search(r"W1: ([\d.]+) us per acquire\+release", text)
    w3 = re.search(r"\| W3 handoff\s*\| p50 (\d+) us", text)
    return (
        float(w1.group(1)) if w1 else None,
        float(w3.group(1)) if w3 else None,
        text,
    )


def uvloop_run() -> Callable[[Coroutine[Any, Any, T]], T] | None:
    if importlib.util.find_spec("uvloop") is None:
        return None
    import uvloop

    return uvloop.run


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--url")
    ap.add_argument("--no-rust", action="store_true", help="skip the fencelock-bench cross-check")
    args = ap.parse_args()
    server = None if args.url else NatsServer()
    url = args.url or server.url  # type: ignore[union-attr]
    ns = "fencelock_pybench_" + uuid.uuid4().hex[:8]
    blocks, secs, w3_rounds, reps = (3, 0.5, 2, 20) if args.quick else (8, 1.0, 5, 60)
    uv = uvloop_run()

    async def async_w1() -> float:
        async with await fencelock.connect_async(url, namespace=ns) as a:
            await w1_async(a, 0.2)  # warm-up: connection and bucket
            return await w1_async(a, secs)

    w1_clients: dict[str, Callable[[], float]] = {
        "Rust core": lambda: _native._bench_core_w1(url, ns, secs),
        "Python sync": lambda: w1_sync(sync_client, secs),
        "Python asyncio": lambda: asyncio.run(async_w1()),
    }
    if uv is not None:  # the same workload on libuv's loop
        w1_clients["asyncio+uvloop"] = lambda: uv(async_w1())
    # W1 runs in blocks of one round per client, in an order rotating per block, all in this
    # process against one server. The machine may be shared and its speed drift by 20 % within
    # minutes: short interleaved rounds give every client the same conditions.
    w1: dict[str, list[float]] = {name: [] for name in w1_clients}
    rust_text = "skipped (--no-rust)"
    bin_w1 = bin_w3 = None
    try:
        if not args.no_rust:
            bin_w1, _, rust_text = rust_figures(url, "W1", args.quick)
            _, bin_w3, _ = rust_figures(url, "W3", args.quick)
        with fencelock.connect(url, namespace=ns) as sync_client:
            w1_sync(sync_client, 0.3)  # warm-up
            for b in range(blocks):
                names = list(w1_clients)
                for name in names[b % len(names):] + names[: b % len(names)]:
                    w1[name].append(w1_clients[name]())
        with fencelock.connect(url, namespace=ns) as a, fencelock.connect(url, namespace=ns) as b2:
            w3_sync(a, b2, 6)
            sync_w3 = [x for _ in range(w3_rounds) for x in w3_sync(a, b2, reps // w3_rounds)]

        async def run_w3() -> list[float]:
            async with await fencelock.connect_async(url, namespace=ns) as a2, \
                    await fencelock.connect_async(url, namespace=ns) as b3:
                await w3_async(a2, b3, 6)
                return [x for _ in range(w3_rounds)
                        for x in await w3_async(a2, b3, reps // w3_rounds)]

        w3 = {"Python sync": sync_w3, "Python asyncio": asyncio.run(run_w3())}
        if uv is not None:
            w3["asyncio+uvloop"] = uv(run_w3())
    finally:
        if server:
            server.stop()

    core = w1["Rust core"]
    core_med = statistics.median(core)
    for name, figs in w1.items():
        print(f"{name} W1 us/cycle per block: {[round(f, 1) for f in figs]}")
    print(f"fencelock Python bench{' --quick' if args.quick else ''}: nats at {url}, "
          f"{blocks} blocks of {secs:g} s per client")
    print("W1 target: Python latency <= 1.3x the core's. 'vs core': median over the blocks "
          "against the core's; 'per block': median and range of the ratios within a block.")
    print("| client         | W1 us/cycle | vs core | per block           | W3 p50 us | W3 p99 us |")
    print("|----------------|-------------|---------|---------------------|-----------|-----------|")
    r3 = f"{bin_w3:.0f}" if bin_w3 is not None else "n/a"
    print(f"| {'Rust core':<14} | {core_med:>11.1f} | {'1.00x':>7} | {'':19} | {r3:>9} | "
          f"{'-':>9} |")
    for name, figs in w1.items():
        if name == "Rust core":
            continue
        med = statistics.median(figs)
        per = [f / c for f, c in zip(figs, core)]
        spread = f"{statistics.median(per):.2f} ({min(per):.2f}-{max(per):.2f})"
        p50, p99 = pct(w3[name], 0.5), pct(w3[name], 0.99)
        print(f"| {name:<14} | {med:>11.1f} | {med / core_med:>6.2f}x | {spread:>19} | "
              f"{p50:>9.0f} | {p99:>9.0f} |")
    if not args.no_rust:
        b1 = f"{bin_w1:.1f} us" if bin_w1 is not None else "n/a"
        print(f"Cross-check, fencelock-bench in its own process before the blocks: W1 {b1} per "
              f"cycle; its W3 p50 is the core's W3 above.")
        if bin_w1 is None:
            print("Rust bench output:\n" + rust_text[-2000:])
    return 0


if __name__ == "__main__":
    sys.exit(main())
