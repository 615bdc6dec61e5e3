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


def test_one_client_per_loop_across_loops_and_threads(url: str, namespace: str) -> None:
    """Operations run on the loop that awaits them: loops started one after another on a
    thread, and loops on several threads at once, each finish their own calls."""

    async def count(n: int) -> list[int]:
        async with await fencelock.connect_async(url, namespace=namespace) as c:
            tokens = []
            for _ in range(n):
                async with c.lock("shared", timeout=10) as g:
                    g.state = (g.state or 0) + 1
                    tokens.append(g.token)
            return tokens

    first = asyncio.run(count(5))
    second = asyncio.run(count(5))  # a new loop on the same thread
    assert first + second == sorted(first + second)

    import concurrent.futures

    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        runs = list(pool.map(lambda _: asyncio.run(count(10)), range(4)))
    tokens = [t for run in runs for t in run]
    assert len(set(tokens)) == 40

    async def final() -> fencelock.KeyInfo:
        async with await fencelock.connect_async(url, namespace=namespace) as c:
            return await c.get("shared")

    info = asyncio.run(final())
    assert info.state == 50


def _child_counts(url: str, namespace: str) -> None:
    async def run() -> None:
        async with await fencelock.connect_async(url, namespace=namespace) as c:
            for _ in range(5):
                async with c.lock("forked", timeout=10) as g:
                    g.state = (g.state or 0) + 1

    asyncio.run(run())


def test_asyncio_in_a_forked_child(url: str, namespace: str) -> None:
    """A child forked after the parent used asyncio gets loops of its own that work."""
    import multiprocessing

    async def parent() -> None:
        async with await fencelock.connect_async(url, namespace=namespace) as c:
            async with c.lock("forked", timeout=10) as g:
                g.state = 0

    asyncio.run(parent())
    ctx = multiprocessing.get_context("fork")
    procs = [ctx.Process(target=_child_counts, args=(url, namespace)) for _ in range(2)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    with fencelock.connect(url, namespace=namespace) as c:
        assert c.get("forked").state == 10


def test_uvloop_tasks_contend_and_cancel_cleanly(backend_url: str, namespace: str) -> None:
    """The same driving works on uvloop (libuv's loop), which many asyncio services run."""
    uvloop = pytest.importorskip("uvloop")

    async def run() -> None:
        async with await fencelock.connect_async(backend_url, namespace=namespace) as c:

            async def bump() -> None:
                for _ in range(5):
                    await c.with_lock("n", lambda v: (v or 0) + 1, timeout=10)

            await asyncio.gather(*(bump() for _ in range(4)))
            assert (await c.get("n")).state == 20
            held = await c.acquire("busy", timeout=1)
            waiter = asyncio.ensure_future(c.acquire("busy", timeout=30))
            await asyncio.sleep(0.05)
            waiter.cancel()
            with pytest.raises(asyncio.CancelledError):
                await waiter
            await held.release()
            again = await c.try_acquire("busy")
            assert again is not None, "the cancelled acquire left a lock behind"
            await again.release()

    uvloop.run(run())
