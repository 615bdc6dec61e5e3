"""The state rules shared with Node (docs/STATE.md): an empty state reads as None, a callback
returning None keeps the state, stored bytes that are not JSON raise instead of reading as None."""

from __future__ import annotations

import pytest

import fencelock


def test_an_empty_stored_state_reads_as_none(backend_url: str, namespace: str) -> None:
    with fencelock.connect(backend_url, namespace=namespace, codec="bytes") as raw:
        raw.with_lock("e", lambda s: b"")  # as a C, Go or bytes client may store
        assert raw.get("e").state == b""
    with fencelock.connect(backend_url, namespace=namespace) as c:
        assert c.get("e").state is None
        seen: list[object] = []
        c.with_lock("e", lambda s: seen.append(s) or {"n": 1})
        assert seen == [None]
        assert c.get("e").state == {"n": 1}


def test_a_callback_returning_none_keeps_the_state(backend_url: str, namespace: str) -> None:
    with fencelock.connect(backend_url, namespace=namespace) as c:
        c.with_lock("k", lambda s: {"count": 7})
        c.with_lock("k", lambda s: None)
        assert c.get("k").state == {"count": 7}
        # JSON null is stored through the guard.
        with c.lock("k", timeout=5) as g:
            g.put(None)
        with fencelock.connect(backend_url, namespace=namespace, codec="bytes") as raw:
            assert raw.get("k").state == b"null"


def test_stored_bytes_that_are_not_json_raise_and_stay(backend_url: str, namespace: str) -> None:
    with fencelock.connect(backend_url, namespace=namespace, codec="bytes") as raw:
        raw.with_lock("j", lambda s: b"not json")
        with fencelock.connect(backend_url, namespace=namespace) as c:
            with pytest.raises(ValueError, match="not JSON"):
                c.with_lock("j", lambda s: 1)
        assert raw.get("j").state == b"not json"
