"""Exiting the interpreter while the core's threads are busy must not crash the process
(a thread taking the GIL during finalization is ended with pthread_exit, an abort in Rust)."""

from __future__ import annotations

import subprocess
import sys
import tempfile
import textwrap

ASYNC_THEN_EXIT = textwrap.dedent(
    """
    import asyncio, sys, fencelock
    async def main():
        c = await fencelock.connect_async(sys.argv[1], namespace=sys.argv[2])
        for i in range(200):
            g = await c.acquire(f"k{i % 8}", timeout=5)
            await g.release()
        await c.acquire("left-held", timeout=5)  # never released nor closed
    asyncio.run(main())
    """
)

DAEMON_BLOCKED_AT_EXIT = textwrap.dedent(
    """
    import os, sys, threading, time, fencelock
    c = fencelock.connect(sys.argv[1], namespace=sys.argv[2])
    key = f"held-{os.getpid()}"
    g = c.acquire(key, timeout=5)
    t = threading.Thread(target=lambda: c.acquire(key), daemon=True)
    t.start()
    time.sleep(0.2)
    print("exiting", flush=True)
    """
)


def run(code: str, url: str, namespace: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code, url, namespace],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tempfile.gettempdir(),
    )


def test_exit_right_after_async_work(url: str, namespace: str) -> None:
    for _ in range(5):
        p = run(ASYNC_THEN_EXIT, url, namespace)
        assert p.returncode == 0, p.stderr


def test_exit_with_a_daemon_thread_blocked_in_acquire(url: str, namespace: str) -> None:
    for _ in range(3):
        p = run(DAEMON_BLOCKED_AT_EXIT, url, namespace)
        assert p.returncode == 0 and p.stdout.strip() == "exiting", p.stderr
