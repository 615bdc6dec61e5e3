"""The asyncio client: contention between tasks, cancellation, coroutine callbacks."""

from __future__ import annotations

import asyncio

import pytest

import fencelock


async def test_tasks_contending_count_exactly(aclient: fencelock.AsyncClient) -> None:
    async def work() -> None:
        for _ in range(10):
            async with aclient.lock("acount", timeout=30) as g:
                g.state = (g.state or 0) + 1

    await asyncio.gather(*(work() for _ in range(8)))
    assert (await aclient.get("acount")).state == 80


async def test_async_with_lock_takes_coroutine_functions(aclient: fencelock.AsyncClient) -> None:
    async def bump(state: int | None) -> int:
        await asyncio.sleep(0.01)
        return (state or 0) + 1

    await asyncio.gather(*(aclient.with_lock("acb", bump, timeout=30) for _ in range(10)))
    assert await aclient.with_lock("acb", lambda s: s * 2) == 20


async def test_async_callback_exception_propagates(aclient: fencelock.AsyncClient) -> None:
    async def fail(_: object) -> None:
        raise KeyError("inner")

    with pytest.raises(KeyError, match="inner"):
        await aclient.with_lock("afail", fail, timeout=5)
    assert await aclient.try_acquire("afail") is not None


async def test_cancelling_an_awaiting_acquire_leaves_no_lock(
    aclient: fencelock.AsyncClient,
) -> None:
    holder = await aclient.acquire("cancel", timeout=5)
    waiter = asyncio.ensure_future(aclient.acquire("cancel", timeout=30))
    await asyncio.sleep(0.2)
    assert not waiter.done()
    waiter.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiter
    assert await holder.release() is True
    await asyncio.sleep(0.1)
    info = await aclient.get("cancel")
    assert info.holder is None
    again = await aclient.try_acquire("cancel")
    assert again is not None
    await again.release()


async def test_asyncio_timeout_cancels_cleanly(aclient: fencelock.AsyncClient) -> None:
    holder = await aclient.acquire("wf", timeout=5)
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(aclient.acquire("wf"), 0.2)
    await holder.release()
    assert (await aclient.get("wf")).holder is None


async def test_async_errors_and_reads(aclient: fencelock.AsyncClient) -> None:
    g = await aclient.acquire("ar", timeout=5)
    with pytest.raises(fencelock.LockTimeout):
        await aclient.acquire("ar", timeout=0.1)
    with pytest.raises(fencelock.LockTimeout):
        await aclient.wait("ar", timeout=0.1)
    await g.put({"a": 1})
    await g.refresh()
    assert await aclient.release(g) is True
    with pytest.raises(fencelock.LockNotHeld):
        await g.release()
    assert await aclient.wait("ar", timeout=5) == {"a": 1}
    assert await aclient.do_if_free("ar", lambda s: s["a"]) == (True, 1)
    await aclient.delete("ar")
    assert (await aclient.get("ar")).state is None
    with pytest.raises(fencelock.InvalidKey):
        await aclient.acquire("", timeout=1)


async def test_the_loop_keeps_running_while_waiting(aclient: fencelock.AsyncClient) -> None:
    g = await aclient.acquire("loop", timeout=5)
    ticks = 0

    async def tick() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0.01)

    t = asyncio.ensure_future(tick())
    with pytest.raises(fencelock.LockTimeout):
        await aclient.acquire("loop", timeout=0.5)
    t.cancel()
    assert ticks >= 20
    await g.release()


async def test_async_use_after_close(backend_url: str, namespace: str) -> None:
    c = await fencelock.connect_async(backend_url, namespace=namespace)
    await c.close()
    with pytest.raises(fencelock.ClientClosed):
        await c.acquire("k", timeout=1)
