"""A lock whose lease ended is free for every client at once, also for one that never saw it
held: the three scenarios of issue 12, on NATS, Redis and the memory backend."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator

import pytest

import fencelock
from natsserver import NatsServer


def _redis_binary() -> str | None:
    return os.environ.get("FENCELOCK_REDIS_SERVER") or shutil.which("redis-server")


@pytest.fixture(scope="module")
def redis_url() -> Iterator[str]:
    binary = _redis_binary()
    if binary is None:
        pytest.skip("redis-server not installed (set FENCELOCK_REDIS_SERVER)")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    workdir = tempfile.mkdtemp(prefix="fencelock-py-redis-")
    proc = subprocess.Popen(
        [binary, "--bind", "127.0.0.1", "--port", str(port), "--save", "", "--dir", workdir],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 10
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            if time.monotonic() > deadline:
                proc.kill()
                raise RuntimeError("redis-server did not start") from None
            time.sleep(0.05)
    yield f"redis://127.0.0.1:{port}"
    proc.terminate()
    proc.wait(10)
    shutil.rmtree(workdir, ignore_errors=True)


@pytest.fixture(params=["nats", "redis", "memory"])
def late_url(request: pytest.FixtureRequest, nats: NatsServer) -> str:
    if request.param == "nats":
        return nats.url
    if request.param == "redis":
        return str(request.getfixturevalue("redis_url"))
    return "memory://"


def test_a_client_that_never_saw_the_lock_takes_it_once_the_lease_ended(
    late_url: str, namespace: str
) -> None:
    with fencelock.connect(late_url, namespace, renew=False) as a:
        a.acquire("k", 1, lease=1).release({"n": 1})
        held = a.acquire("k", 1, lease=1)
        time.sleep(1.3)
        with fencelock.connect(late_url, namespace) as b:
            g = b.try_acquire("k")
            assert g is not None, "the lease ended 300 ms ago: the lock is free"
            assert g.token > held.token
            assert g.initial_state == {"n": 1}
            assert held.release({"n": "stale"}) is False
            assert g.release() is True
            assert b.get("k").state == {"n": 1}


def test_a_late_acquirer_gets_the_lock_when_the_default_lease_ends(
    late_url: str, namespace: str
) -> None:
    with fencelock.connect(late_url, namespace, lock_duration=2, renew=False) as a:
        with fencelock.connect(late_url, namespace, lock_duration=2) as b:
            t0 = time.monotonic()
            held = a.acquire("k", 1)  # kept: dropping a guard releases it
            time.sleep(1.8 - (time.monotonic() - t0))
            g = b.acquire("k", 1)
            at = time.monotonic() - t0
            assert at >= 2.0, f"taken over {at:.3f} s into a 2 s lease"
            assert at < 2.6, f"taken over only at {at:.3f} s"
            assert g.release() is True
            assert held.release() is False


def test_after_a_release_that_came_too_late_wait_returns_the_old_state_at_once(
    late_url: str, namespace: str
) -> None:
    with fencelock.connect(late_url, namespace, renew=False) as a:
        a.acquire("k", 1, lease=0.3).release({"v": "old"})
        g = a.acquire("k", 1, lease=0.3)
        time.sleep(0.45)
        assert g.release({"v": "new"}) is False
        with fencelock.connect(late_url, namespace) as b:
            t = time.monotonic()
            assert b.wait("k", 0.1) == {"v": "old"}
            assert time.monotonic() - t < 0.1
            assert b.get("k").holder is None


def test_clock_free_keeps_the_observation_rule_on_a_new_server(url: str, namespace: str) -> None:
    with fencelock.connect(url, namespace, renew=False, clock_free=True) as a:
        held = a.acquire("k", 1, lease=0.3)  # kept: dropping a guard releases it
        time.sleep(0.45)
        with fencelock.connect(url, namespace, clock_free=True) as b:
            assert b.try_acquire("k") is None
            t = time.monotonic()
            g = b.acquire("k", 2)
            assert time.monotonic() - t >= 0.25
            assert g.release() is True
            assert held.release() is False
