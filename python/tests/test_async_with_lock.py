"""AsyncClient.with_lock runs its callback on the event loop between an acquire and the core's
finish_with_lock: the same outcomes as the core's own with_lock (state written or kept, the
callback's exception unchanged, LockTimeout past the lease with nothing written), and a
cancelled call leaves no lock behind."""

from __future__ import annotations

import asyncio
import time

import pytest

import fencelock


async def test_the_answer_is_stored_and_none_keeps_the_state(aclient: fencelock.AsyncClient) -> None:
    assert await aclient.with_lock("wl", lambda s: {"n": 1}, timeout=5) == {"n": 1}

    async def keep(state: object) -> None:
        assert state == {"n": 1}

    assert await aclient.with_lock("wl", keep, timeout=5) == {"n": 1}
    assert await aclient.with_lock("wl", lambda s: None, timeout=5) == {"n": 1}
    assert (await aclient.get("wl")).state == {"n": 1}
    assert (await aclient.get("wl")).holder is None


async def test_the_callbacks_own_exception_comes_back_unchanged_and_the_lock_is_free(
    aclient: fencelock.AsyncClient,
) -> None:
    await aclient.with_lock("wx", lambda s: 5, timeout=5)
    raised = ValueError("mine")

    def fail(_: object) -> None:
        raise raised

    with pytest.raises(ValueError) as info:
        await aclient.with_lock("wx", fail, timeout=5)
    assert info.value is raised
    # Its own TimeoutError is not taken for the lease's end.
    async def slow_fail(_: object) -> None:
        raise TimeoutError("the callback's own")

    with pytest.raises(TimeoutError, match="the callback's own") as timeout_info:
        await aclient.with_lock("wx", slow_fail, timeout=5)
    assert not isinstance(timeout_info.value, fencelock.LockTimeout)
    g = await aclient.try_acquire("wx")
    assert g is not None and g.initial_state == 5
    await aclient.release(g)


async def test_a_coroutine_past_its_lease_gets_lock_timeout_and_writes_nothing(
    aclient: fencelock.AsyncClient,
) -> None:
    await aclient.with_lock("wt", lambda s: "before", timeout=5)

    async def too_slow(_: object) -> str:
        await asyncio.sleep(5)
        return "after"

    started = time.monotonic()
    with pytest.raises(fencelock.LockTimeout, match="ran longer than its lease"):
        await aclient.with_lock("wt", too_slow, timeout=5, lease=0.3)
    assert time.monotonic() - started < 3
    # Left to its lease (nothing released early), then free with the old state.
    assert await aclient.wait("wt", timeout=5) == "before"


async def test_a_plain_function_blocking_past_its_lease_gets_lock_timeout(
    aclient: fencelock.AsyncClient,
) -> None:
    def blocking(_: object) -> str:
        time.sleep(0.3)
        return "after"

    with pytest.raises(fencelock.LockTimeout):
        await aclient.with_lock("wb", blocking, timeout=5, lease=0.1)
    assert await aclient.wait("wb", timeout=5) is None


async def test_cancelled_while_the_callback_runs_the_lock_goes_back_at_once(
    aclient: fencelock.AsyncClient,
) -> None:
    entered = asyncio.Event()

    async def hang(_: object) -> int:
        entered.set()
        await asyncio.sleep(60)
        return 1

    kept: list[BaseException] = []

    async def run() -> None:
        try:
            await aclient.with_lock("wc", hang, timeout=5, lease=30)
        except asyncio.CancelledError as e:
            # Its traceback keeps with_lock's frame, and so the guard, alive: the lock must go
            # back without waiting for the guard to be freed (a caller logging the exception,
            # or a debugger, holds it the same way).
            kept.append(e)
            raise

    task = asyncio.create_task(run())
    await entered.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert kept and kept[0].__traceback__ is not None
    # Well inside the 30 s lease: released, not left to expire; nothing written.
    g = await aclient.acquire("wc", timeout=5)
    assert g.initial_state is None
    await aclient.release(g)


async def test_a_callable_is_checked_before_locking(aclient: fencelock.AsyncClient) -> None:
    with pytest.raises(TypeError, match="needs a callable"):
        await aclient.with_lock("wn", 42, timeout=5)  # type: ignore[arg-type]
    assert (await aclient.get("wn")).holder is None
