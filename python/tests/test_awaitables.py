"""The native awaitables behind the asyncio client (python/src/loop_future.rs) speak asyncio's
future protocol: tasks, gather, wait_for, done-callbacks, cancellation and contextvars behave
as with an asyncio.Future. Run against NATS, where operations are really pending."""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import AsyncIterator
from typing import Any

import pytest

import fencelock


@pytest.fixture
async def nclient(url: str, namespace: str) -> AsyncIterator[fencelock.AsyncClient]:
    async with await fencelock.connect_async(url, namespace=namespace) as c:
        yield c


def native(c: fencelock.AsyncClient) -> Any:
    return c._native  # the awaitables are what its methods return


async def test_an_operation_is_an_asyncio_future(nclient: fencelock.AsyncClient) -> None:
    # The key is held, so the operation stays pending until the holder releases (a free key's
    # answer can arrive on a core thread before the next line runs).
    holder = await nclient.acquire("f1", timeout=5)
    fut = native(nclient).acquire_async("f1", 5.0, None, None, None)
    assert asyncio.isfuture(fut)
    assert asyncio.ensure_future(fut) is fut
    assert fut.get_loop() is asyncio.get_running_loop()
    assert not fut.done()
    with pytest.raises(asyncio.InvalidStateError):
        fut.result()
    seen: list[Any] = []
    fut.add_done_callback(seen.append)
    await holder.release()
    guard = await fut
    assert guard.key == "f1"
    assert fut.done() and not fut.cancelled()
    assert fut.exception() is None
    assert fut.result() is guard
    assert await native(nclient).release_async(guard) is True
    await asyncio.sleep(0)
    assert seen == [fut]
    # A callback added to a finished future runs on the loop's next turn.
    late: list[Any] = []
    fut.add_done_callback(late.append)
    assert late == []
    await asyncio.sleep(0)
    assert late == [fut]


async def test_an_error_is_raised_by_await_result_and_exception(
    nclient: fencelock.AsyncClient,
) -> None:
    g = await nclient.acquire("f2", timeout=5)
    fut = native(nclient).acquire_async("f2", 0.1, None, None, None)
    with pytest.raises(fencelock.LockTimeout):
        await fut
    assert isinstance(fut.exception(), fencelock.LockTimeout)
    with pytest.raises(fencelock.LockTimeout):
        fut.result()
    await g.release()


async def test_cancel_drops_the_operation_and_runs_callbacks(
    nclient: fencelock.AsyncClient,
) -> None:
    g = await nclient.acquire("f3", timeout=5)
    fut = native(nclient).acquire_async("f3", 30.0, None, None, None)
    seen: list[Any] = []
    fut.add_done_callback(seen.append)
    assert fut.remove_done_callback(print) == 0
    assert fut.cancel("stop") is True
    assert fut.cancel() is False
    assert fut.cancelled() and fut.done()
    with pytest.raises(asyncio.CancelledError, match="stop"):
        fut.result()
    await asyncio.sleep(0)
    assert seen == [fut]
    await g.release()
    # The dropped acquire took no lock: the key is free for another client at once.
    again = await nclient.try_acquire("f3")
    assert again is not None
    await again.release()


async def test_a_removed_callback_is_not_called(nclient: fencelock.AsyncClient) -> None:
    holder = await nclient.acquire("f4", timeout=5)  # keeps the operation below pending
    fut = native(nclient).acquire_async("f4", 5.0, None, None, None)
    seen: list[Any] = []
    fut.add_done_callback(seen.append)
    fut.add_done_callback(seen.append)
    assert fut.remove_done_callback(seen.append) == 2
    await holder.release()
    guard = await fut
    await asyncio.sleep(0)
    assert seen == []
    assert await native(nclient).release_async(guard) is True


async def test_gather_of_many_pending_operations(nclient: fencelock.AsyncClient) -> None:
    guards = await asyncio.gather(*(nclient.acquire(f"g{i}", timeout=5) for i in range(50)))
    assert sorted(g.key for g in guards) == sorted(f"g{i}" for i in range(50))
    assert all(await asyncio.gather(*(g.release() for g in guards)))


async def test_two_tasks_await_one_operation(nclient: fencelock.AsyncClient) -> None:
    fut = native(nclient).get_async("f5")

    async def waiter() -> Any:
        return await fut

    a, b = await asyncio.gather(waiter(), waiter())
    assert a == b


async def test_a_task_resumes_in_its_own_context(nclient: fencelock.AsyncClient) -> None:
    var: contextvars.ContextVar[str] = contextvars.ContextVar("var", default="unset")

    async def work(name: str) -> str:
        var.set(name)
        g = await nclient.acquire(f"ctx-{name}", timeout=5)
        await g.release()
        return var.get()

    assert await asyncio.gather(*(work(f"t{i}") for i in range(5))) == [f"t{i}" for i in range(5)]


async def test_a_failing_done_callback_goes_to_the_loop_handler(
    nclient: fencelock.AsyncClient,
) -> None:
    loop = asyncio.get_running_loop()
    reports: list[dict[str, Any]] = []
    loop.set_exception_handler(lambda _loop, ctx: reports.append(ctx))
    try:
        # On a held key, so the operation is still pending when the callbacks are added (a free
        # key's answer can complete it first under load; its callbacks then run via call_soon).
        holder = await nclient.acquire("f6", timeout=5)
        fut = native(nclient).acquire_async("f6", 5.0, None, None, None)

        def boom(_: Any) -> None:
            raise RuntimeError("callback failed")

        seen: list[Any] = []
        fut.add_done_callback(boom)
        fut.add_done_callback(seen.append)
        await holder.release()
        guard = await fut  # this task resumes too
        assert await native(nclient).release_async(guard) is True
        await asyncio.sleep(0)
        assert seen == [fut]
        assert len(reports) == 1
        assert isinstance(reports[0]["exception"], RuntimeError)
        assert reports[0]["future"] is fut
    finally:
        loop.set_exception_handler(None)


async def test_wait_for_times_out_an_awaiting_operation(nclient: fencelock.AsyncClient) -> None:
    g = await nclient.acquire("f7", timeout=5)
    fut = native(nclient).acquire_async("f7", 30.0, None, None, None)
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(fut, 0.1)
    assert fut.cancelled()
    await g.release()
    assert (await nclient.get("f7")).holder is None
