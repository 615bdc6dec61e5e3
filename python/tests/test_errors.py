"""Each exception type, and bad input: wrong types, invalid keys, huge state, bad durations,
use after close, double release, a guard of another client."""

from __future__ import annotations

import builtins
import time

import pytest

import fencelock


def test_exception_tree() -> None:
    for cls in (
        fencelock.LockTimeout,
        fencelock.LockHeld,
        fencelock.LockNotHeld,
        fencelock.LockExpired,
        fencelock.InvalidKey,
        fencelock.InvalidArgument,
        fencelock.StateTooLarge,
        fencelock.ClientClosed,
        fencelock.BackendError,
    ):
        assert issubclass(cls, fencelock.FencelockError)
    assert issubclass(fencelock.LockTimeout, builtins.TimeoutError)
    assert fencelock.TimeoutError is fencelock.LockTimeout
    assert issubclass(fencelock.InvalidKey, ValueError)


def test_timeout(client: fencelock.Client) -> None:
    g = client.acquire("t", timeout=5)
    with pytest.raises(TimeoutError) as e:  # the built-in catches it
        client.acquire("t", timeout=0.2)
    assert isinstance(e.value, fencelock.LockTimeout)
    assert e.value.key == "t" and e.value.kind == "timeout"
    assert "t" in str(e.value)
    with pytest.raises(fencelock.LockTimeout):
        client.acquire("t", timeout=0)
    g.release()


def test_double_release_is_not_held(client: fencelock.Client) -> None:
    g = client.acquire("r", timeout=5)
    assert g.release() is True
    with pytest.raises(fencelock.LockNotHeld) as e:
        g.release()
    assert e.value.key == "r" and e.value.token == g.token
    with pytest.raises(fencelock.LockNotHeld):
        g.put(1)


def test_expired_lease(client: fencelock.Client) -> None:
    g = client.acquire("x", timeout=5, lease=0.05, renew=False)
    time.sleep(0.1)
    with pytest.raises(fencelock.LockExpired) as e:
        g.put("late")
    assert e.value.token == g.token
    assert g.release() is False  # nothing written
    assert client.get("x").state is None


@pytest.mark.parametrize("key", ["", "k" * 2000])
def test_invalid_keys(client: fencelock.Client, key: str) -> None:
    with pytest.raises(fencelock.InvalidKey) as e:
        client.acquire(key, timeout=1)
    assert isinstance(e.value, ValueError)
    with pytest.raises(fencelock.InvalidKey):
        client.get(key)


def test_unusual_keys_work(client: fencelock.Client) -> None:
    for key in ("a b/c", "ключ", "x" * 1024, "*>.", "tab\tkey"):
        with client.lock(key, timeout=5) as g:
            g.state = key
        assert client.get(key).state == key


def test_state_too_large(nats_client: fencelock.Client) -> None:
    huge = "x" * (nats_client.max_state_len + 10)
    with nats_client.lock("big", timeout=5) as g:
        with pytest.raises(fencelock.StateTooLarge) as e:
            g.put(huge)
        assert e.value.key == "big"
    with pytest.raises(fencelock.StateTooLarge):
        nats_client.with_lock("big", lambda s: huge, timeout=5)


def test_use_after_close(backend_url: str, namespace: str) -> None:
    c = fencelock.connect(backend_url, namespace=namespace)
    g = c.acquire("c", timeout=5)
    c.close()
    assert c.closed
    with pytest.raises(fencelock.ClientClosed):
        c.acquire("c", timeout=1)
    with pytest.raises(fencelock.ClientClosed):
        g.put(1)
    c.close()  # twice is fine


def test_backend_unreachable() -> None:
    with pytest.raises(fencelock.BackendError) as e:
        fencelock.connect("nats://127.0.0.1:1", namespace="n", connect_timeout=0.5)
    assert "127.0.0.1:1" in str(e.value)


def test_unsupported_scheme() -> None:
    with pytest.raises(fencelock.InvalidArgument, match="scheme"):
        fencelock.connect("http://localhost", namespace="n")


def test_guard_of_another_client(backend_url: str, namespace: str) -> None:
    with fencelock.connect(backend_url, namespace=namespace) as a, fencelock.connect(
        backend_url, namespace=namespace
    ) as b:
        g = a.acquire("o", timeout=5)
        with pytest.raises(fencelock.InvalidArgument, match="another client"):
            b.release(g)
        assert a.release(g) is True


def test_wrong_argument_types(client: fencelock.Client) -> None:
    with pytest.raises(TypeError):
        client.acquire(42, timeout=1)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="timeout must be a number of seconds"):
        client.acquire("k", timeout="5")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="timeout"):
        client.acquire("k", timeout=True)
    with pytest.raises(TypeError, match="callable"):
        client.with_lock("k", 3)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="JSON"):
        client.with_lock("k", lambda s: object())
    with pytest.raises(TypeError, match="Guard"):
        client.release("not a guard")  # type: ignore[arg-type]
    with client.lock("k", timeout=5) as g:
        with pytest.raises(TypeError, match="JSON"):
            g.state = {1, 2}
    with pytest.raises(TypeError, match="servers"):
        fencelock.connect(5, namespace="n")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="namespace"):
        fencelock.connect("memory://", namespace=5)  # type: ignore[arg-type]


def test_bad_durations(client: fencelock.Client, backend_url: str) -> None:
    with pytest.raises(ValueError, match="timeout"):
        client.acquire("k", timeout=-1)
    with pytest.raises(ValueError, match="timeout"):
        client.acquire("k", timeout=float("nan"))
    with pytest.raises(ValueError, match="lease"):
        client.acquire("k", timeout=1, lease=0)
    with pytest.raises(fencelock.InvalidArgument, match="lease"):
        client.acquire("k", timeout=1, lease=0.001)  # below the core's minimum
    with pytest.raises(ValueError, match="lock_duration"):
        fencelock.connect(backend_url, namespace="n", lock_duration=-5)
    # Zero copies: out of range on NATS and Redis, an option memory does not use.
    with pytest.raises(fencelock.InvalidArgument, match="replication"):
        fencelock.connect(backend_url, namespace="n", replication=0)
    with pytest.raises(ValueError, match="codec"):
        fencelock.connect(backend_url, namespace="n", codec="xml")  # type: ignore[arg-type]


def test_an_option_the_backend_does_not_use_is_refused(url: str, namespace: str) -> None:
    # Dropping it silently would let a user believe, say, that a token protects the lock.
    with pytest.raises(fencelock.InvalidArgument, match="option token .* memory backend"):
        fencelock.connect("memory://", namespace=namespace, token="secret")
    with pytest.raises(fencelock.InvalidArgument, match="option replication_timeout .* NATS"):
        fencelock.connect(url, namespace=namespace, replication_timeout=1)
    with pytest.raises(fencelock.InvalidArgument, match="option creds_file .* Redis"):
        fencelock.connect("redis://127.0.0.1:1", namespace=namespace, creds_file="x.creds")
    # The same options where the backend uses them connect.
    with fencelock.connect(url, namespace=namespace, replication=1, storage="memory") as c:
        assert c.try_acquire("k") is not None


async def test_an_option_the_backend_does_not_use_is_refused_async(namespace: str) -> None:
    with pytest.raises(fencelock.InvalidArgument, match="option clock_free .* memory"):
        await fencelock.connect_async("memory://", namespace=namespace, clock_free=True)


def test_bytes_codec_refuses_str(backend_url: str, namespace: str) -> None:
    with fencelock.connect(backend_url, namespace=namespace, codec="bytes") as c:
        with c.lock("b", timeout=5) as g:
            with pytest.raises(TypeError, match="bytes"):
                g.put("text")


def test_non_json_state_reads_clearly(backend_url: str, namespace: str) -> None:
    with fencelock.connect(backend_url, namespace=namespace, codec="bytes") as raw:
        raw.with_lock("j", lambda s: b"\xff not json")
    with fencelock.connect(backend_url, namespace=namespace) as c:
        with pytest.raises(ValueError, match='codec="bytes"'):
            c.get("j")


def test_the_class_table_matches_the_cores_error_kinds() -> None:
    # The core lists its kinds once; a kind missing here would surface as a bare FencelockError.
    from fencelock import _native
    from fencelock.errors import KIND_CLASSES, FencelockError

    assert sorted(KIND_CLASSES) == sorted(_native.error_kinds())
    assert len(set(KIND_CLASSES.values())) == len(KIND_CLASSES)
    assert all(issubclass(c, FencelockError) for c in KIND_CLASSES.values())


def test_a_backend_error_keeps_its_cause_chain(namespace: str) -> None:
    # Nothing listens on port 1: the core's message names the server, the cause says why.
    with pytest.raises(fencelock.BackendError) as info:
        fencelock.connect("nats://127.0.0.1:1", namespace=namespace, connect_timeout=0.3)
    cause = info.value.__cause__
    assert cause is not None and str(cause), info.value
