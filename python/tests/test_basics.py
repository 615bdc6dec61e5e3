"""Acquire, release, state, reads and helpers, on NATS and on the memory backend."""

from __future__ import annotations

import re

import pytest

import fencelock


def test_tokens_increase_and_state_round_trips_as_json(client: fencelock.Client) -> None:
    with client.lock("job", timeout=5) as g:
        assert g.key == "job"
        assert re.fullmatch(r"[0-9a-f]{32}", g.lock_id)
        assert g.state is None and g.initial_state is None
        first = g.token
        g.state = {"count": 1, "items": [1, "a", None]}
    with client.lock("job", timeout=5) as g:
        assert g.token > first
        assert g.initial_state == {"count": 1, "items": [1, "a", None]}
        assert g.status == "held"
    assert g.status == "released"
    info = client.get("job")
    assert info.state == {"count": 1, "items": [1, "a", None]}
    assert info.holder is None
    assert info.revision > 0


def test_a_failing_block_releases_without_writing(client: fencelock.Client) -> None:
    client.with_lock("k", lambda s: 1)
    with pytest.raises(RuntimeError, match="boom"):
        with client.lock("k", timeout=5) as g:
            g.state = 2
            raise RuntimeError("boom")
    assert client.get("k").holder is None
    assert client.get("k").state == 1


def test_bytes_codec(backend_url: str, namespace: str) -> None:
    with fencelock.connect(backend_url, namespace=namespace, codec="bytes") as c:
        g = c.acquire("raw", timeout=5)
        assert g.state is None
        assert g.release(b"\x00\xffdata") is True
        assert c.get("raw").state == b"\x00\xffdata"
        assert c.wait("raw", timeout=5) == b"\x00\xffdata"
        g = c.acquire("raw", timeout=5)
        assert g.release_clearing_state() is True
        assert c.get("raw").state is None


def test_try_acquire_is_none_while_held(client: fencelock.Client) -> None:
    g = client.acquire("busy", timeout=5)
    assert client.try_acquire("busy") is None
    held = client.get("busy").holder
    assert held is not None and held.token == g.token and held.lock_id == g.lock_id
    assert client.release(g) is True
    g2 = client.try_acquire("busy")
    assert g2 is not None and g2.token > g.token
    g2.release()


def test_put_writes_without_releasing(client: fencelock.Client) -> None:
    with client.lock("p", timeout=5) as g:
        g.put([1, 2])
        assert client.get("p").state == [1, 2]
        assert g.state == [1, 2]
        g.refresh()
        assert 0 < g.remaining <= g.lease
    assert client.get("p").state == [1, 2]


def test_with_lock_stores_the_returned_state(client: fencelock.Client) -> None:
    for _ in range(3):
        client.with_lock("n", lambda s: (s or 0) + 1, timeout=5)
    assert client.with_lock("n", lambda s: None) == 3  # None keeps the state
    assert client.get("n").state == 3


def test_with_lock_callback_exceptions_propagate_and_release(client: fencelock.Client) -> None:
    class Mine(Exception):
        pass

    def fail(_: object) -> None:
        raise Mine("from the callback")

    with pytest.raises(Mine, match="from the callback"):
        client.with_lock("e", fail, timeout=5)
    assert client.try_acquire("e") is not None


def test_with_lock_callback_may_use_the_client(client: fencelock.Client) -> None:
    def nested(state: object) -> object:
        assert client.try_acquire("e") is None  # held by this very with_lock
        return client.get("other").state

    client.with_lock("other", lambda s: "x")
    assert client.with_lock("e", nested, timeout=5) == "x"


def test_do_if_free(client: fencelock.Client) -> None:
    client.with_lock("d", lambda s: {"v": 1})
    assert client.do_if_free("d", lambda s: s["v"] + 1) == (True, 2)
    g = client.acquire("d", timeout=5)
    assert client.do_if_free("d", lambda s: 1) == (False, None)
    g.release()
    assert client.get("d").state == {"v": 1}


def test_wait_returns_the_state_once_free(client: fencelock.Client) -> None:
    assert client.wait("never", timeout=1) is None
    g = client.acquire("w", timeout=5)
    with pytest.raises(fencelock.LockTimeout):
        client.wait("w", timeout=0.2)
    g.release("done")
    assert client.wait("w", timeout=5) == "done"


def test_delete_breaks_the_lock(client: fencelock.Client) -> None:
    g = client.acquire("del", timeout=5)
    client.delete("del")
    assert client.get("del").holder is None
    with pytest.raises(fencelock.LockExpired) as e:
        g.put(1)
    assert e.value.key == "del" and e.value.token == g.token


def test_client_properties(client: fencelock.Client) -> None:
    assert client.default_lease == 30
    assert client.max_state_len > 1000
    assert not client.closed
    assert "fencelock client" in repr(client)


def test_stats_count_acquisitions_misses_and_timeouts(client: fencelock.Client) -> None:
    before = client.stats()
    for _ in range(3):
        with client.lock("counted", timeout=5):
            pass
    with client.lock("counted", timeout=5):
        assert client.try_acquire("counted") is None
        with pytest.raises(fencelock.TimeoutError):
            client.acquire("counted", timeout=0.1)
    s = client.stats()
    assert isinstance(s, fencelock.Stats) and isinstance(s.wait, fencelock.Timing)
    assert s.acquisitions - before.acquisitions == 4
    assert s.try_misses - before.try_misses == 1
    assert s.timeouts - before.timeouts == 1
    assert s.wait.count - before.wait.count == 4
    assert s.hold.count - before.hold.count == 4
    assert s.hold.max >= s.hold.mean > 0
    assert s.locks_lost == before.locks_lost and s.backend_errors == before.backend_errors
