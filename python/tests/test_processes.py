"""Several processes contending (spawn and fork), exact final count; a forked child works."""

from __future__ import annotations

import multiprocessing
import os
import time
from typing import Callable

import pytest

import fencelock
import mp_workers

PROCS = 4
ROUNDS = 10


@pytest.mark.parametrize("method", ["spawn", "fork"])
def test_processes_contending_count_exactly(url: str, namespace: str, method: str) -> None:
    # Use the library in the parent first, so the fork case inherits a started runtime.
    with fencelock.connect(url, namespace=namespace) as c:
        c.with_lock("mp", lambda s: 0, timeout=5)
        ctx = multiprocessing.get_context(method)
        with ctx.Pool(PROCS) as pool:
            results = pool.starmap(
                mp_workers.increment, [(url, namespace, ROUNDS)] * PROCS
            )
        assert c.get("mp").state == PROCS * ROUNDS
    tokens = [t for r in results for t in r]
    assert len(set(tokens)) == PROCS * ROUNDS


def test_raw_fork_child_connects_and_locks(url: str, namespace: str) -> None:
    with fencelock.connect(url, namespace=namespace) as c:
        g = c.acquire("forked", timeout=5)
        first = g.token
        g.release(1)
        pid = os.fork()
        if pid == 0:  # child: must not touch the parent's client, makes its own
            code = 1
            try:
                with fencelock.connect(url, namespace=namespace) as cc:
                    with cc.lock("forked", timeout=10) as cg:
                        if cg.token > first and cg.state == 1:
                            cg.state = 2
                            code = 0
            finally:
                os._exit(code)
        _, status = os.waitpid(pid, 0)
        assert os.waitstatus_to_exitcode(status) == 0
        assert c.get("forked").state == 2


def _in_forked_child(check: Callable[[], bool]) -> int:
    """Runs `check` in a child forked from this process; its exit code: 0 when `check` returned
    true, 2 when false, 1 when it raised. The child leaves with `os._exit` (no atexit hooks,
    no pytest teardown in the copy)."""
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            code = 0 if check() else 2
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status)

def test_a_guard_inherited_by_a_forked_child_is_not_held_there(url: str, namespace: str) -> None:
    """A child forked while the parent holds a lock does not hold it: the guard's copy reports
    lost, refuses writes, and dropping it does not release the parent's lock."""
    with fencelock.connect(url, namespace=namespace) as c:
        g = c.acquire("inherited", timeout=5)
        g.put("parent")

        def in_child() -> bool:
            nonlocal g
            ok = g.status == "lost"
            try:
                g.put("child")
                ok = False
            except fencelock.LockExpired as e:
                ok = ok and "forked" in str(e)
            del g  # must not release the parent's lock
            return ok

        assert _in_forked_child(in_child) == 0
        assert g.status == "held"
        with fencelock.connect(url, namespace=namespace) as other:
            assert other.try_acquire("inherited") is None
            assert other.get("inherited").state == "parent"
        g.put("still mine")
        g.release()
        assert c.get("inherited").state == "still mine"


def test_a_client_inherited_by_a_forked_child_refuses_at_once(url: str, namespace: str) -> None:
    """A forked child has the parent's client object but not its connection's threads: its
    calls fail at once with ClientClosed naming the fork, instead of hanging until a request
    times out with a message that blames the server."""
    with fencelock.connect(url, namespace=namespace) as c:
        g = c.acquire("inherited-client", timeout=5)

        def in_child() -> bool:
            ok = True
            for call in (lambda: c.acquire("inherited-client", timeout=5),
                         lambda: c.try_acquire("other"),
                         lambda: c.get("inherited-client")):
                started = time.monotonic()
                try:
                    call()
                    ok = False
                except fencelock.ClientClosed as e:
                    ok = ok and "fork" in str(e) and e.key is not None
                ok = ok and time.monotonic() - started < 1.0
            return ok

        assert _in_forked_child(in_child) == 0
        # The parent's client and lock are untouched.
        assert g.status == "held"
        assert c.get("inherited-client").holder is not None
        g.release()

