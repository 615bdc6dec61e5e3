"""W1 and W3 from Python (sync and asyncio) beside the Rust core's figures, in one run against
one nats-server (DESIGN.md §6; target: Python W1 latency <= 1.3x the core's).

    python bench/bench.py [--quick] [--url nats://host:port] [--no-rust]

The Rust figures come from `cargo run --release -p fencelock-bench -- --only W1,W3 --url ...`
against the same server. W1: one client, acquire+release, keys rotating over 64 names,
sequential. W3: A holds, B waits in acquire (settled 5 ms into its wait), A releases; the time
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
from pathlib import Path

import fencelock

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from natsserver import NatsServer  # noqa: E402

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


def rust_figures(url: str, quick: bool) -> tuple[float | None, float | None, str]:
    """(W1 us per cycle, W3 p50 us, raw output) from the Rust bench, run against `url`."""
    root = Path(__file__).resolve().parents[2]
    cmd = ["cargo", "run", "--quiet", "--release", "-p", "fencelock-bench", "--",
           "--only", "W1,W3", "--url", url] + (["--quick"] if quick else [])
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


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--url")
    ap.add_argument("--no-rust", action="store_true")
    args = ap.parse_args()
    server = None if args.url else NatsServer()
    url = args.url or server.url  # type: ignore[union-attr]
    ns = "fencelock_pybench_" + uuid.uuid4().hex[:8]
    rounds, secs, reps = (2, 0.5, 20) if args.quick else (5, 1.0, 60)
    try:
        # The Rust bench runs before and after the Python runs (the machine may be shared);
        # the table shows the mean of the two.
        rust_runs = [] if args.no_rust else [rust_figures(url, args.quick)]
        with fencelock.connect(url, namespace=ns) as a, fencelock.connect(url, namespace=ns) as b:
            w1_sync(a, 0.3)  # warm-up: connections and the bucket
            sync_w1 = statistics.median(w1_sync(a, secs) for _ in range(rounds))
            w3_sync(a, b, 6)
            sync_w3 = [x for _ in range(rounds) for x in w3_sync(a, b, reps // rounds)]

        async def run_async() -> tuple[float, list[float]]:
            async with await fencelock.connect_async(url, namespace=ns) as a2, \
                    await fencelock.connect_async(url, namespace=ns) as b2:
                await w1_async(a2, 0.3)
                w1s = [await w1_async(a2, secs) for _ in range(rounds)]
                await w3_async(a2, b2, 6)
                w3 = [x for _ in range(rounds) for x in await w3_async(a2, b2, reps // rounds or 1)]
                return statistics.median(w1s), w3

        async_w1, async_w3 = asyncio.run(run_async())
        uv_w1: float | None = None
        uv_w3: list[float] = []
        if importlib.util.find_spec("uvloop") is not None:  # the same workload on libuv's loop
            import uvloop

            uv_w1, uv_w3 = uvloop.run(run_async())
        if rust_runs:
            rust_runs.append(rust_figures(url, args.quick))
    finally:
        if server:
            server.stop()

    def mean(xs: list[float | None]) -> float | None:
        got = [x for x in xs if x is not None]
        return sum(got) / len(got) if got else None

    rust_w1 = mean([r[0] for r in rust_runs])
    rust_best = min((r[0] for r in rust_runs if r[0] is not None), default=None)
    rust_w3 = mean([r[1] for r in rust_runs])
    rust_text = rust_runs[-1][2] if rust_runs else "skipped (--no-rust)"
    if rust_runs:
        print("Rust core W1 us/cycle per run:", [r[0] for r in rust_runs])

    def ratio(x: float | None) -> str:
        return f"{x / rust_w1:.2f}x" if (x is not None and rust_w1) else "n/a"

    rows = [
        ("Rust core", rust_w1, rust_w3, None),
        ("Python sync", sync_w1, pct(sync_w3, 0.5), pct(sync_w3, 0.99)),
        ("Python asyncio", async_w1, pct(async_w3, 0.5), pct(async_w3, 0.99)),
    ]
    if uv_w1 is not None:
        rows.append(("asyncio+uvloop", uv_w1, pct(uv_w3, 0.5), pct(uv_w3, 0.99)))
    print(f"fencelock Python bench{' --quick' if args.quick else ''}: nats at {url}")
    print("W1 target: Python latency <= 1.3x the core's (vs the mean of the core's runs, and vs "
          "its best run)")
    print("| client         | W1 us/cycle | vs core mean | vs core best | W3 p50 us | W3 p99 us |")
    print("|----------------|-------------|--------------|--------------|-----------|-----------|")
    for name, w1, w3, w3p99 in rows:
        w1s = f"{w1:.1f}" if w1 is not None else "n/a"
        w3s = f"{w3:.0f}" if w3 is not None else "n/a"
        p99 = f"{w3p99:.0f}" if w3p99 is not None else "-"
        if name == "Rust core":
            r, rb = ("1.00x", f"best {rust_best:.1f}") if rust_best else ("n/a", "n/a")
        else:
            r = ratio(w1)
            rb = f"{w1 / rust_best:.2f}x" if (w1 is not None and rust_best) else "n/a"
        print(f"| {name:<14} | {w1s:>11} | {r:>12} | {rb:>12} | {w3s:>9} | {p99:>9} |")
    if rust_w1 is None:
        print("Rust figures unavailable; output of the Rust bench:\n" + rust_text[-2000:])
    return 0


if __name__ == "__main__":
    sys.exit(main())
