"""The lost signal: event (sync and async) and callback, when someone breaks the lock."""

from __future__ import annotations

import asyncio
import threading

import fencelock


def test_lost_event_and_callback(nats_client: fencelock.Client) -> None:
    fired = threading.Event()
    g = nats_client.acquire("lost", timeout=5, lease=0.3, on_lost=fired.set)
    assert not g.lost.is_set()
    assert g.lost.wait(0.05) is False
    nats_client.delete("lost")  # the renewal that follows is refused
    assert g.lost.wait(5) is True
    assert g.lost.is_set()
    assert fired.wait(5)
    assert g.status == "lost"
    assert g.release() is False


def test_released_lock_is_never_lost(client: fencelock.Client) -> None:
    g = client.acquire("rel", timeout=5)
    fired = threading.Event()
    g.on_lost(fired.set)
    g.release()
    assert g.lost.wait(1) is False
    assert not fired.wait(0.2)


async def test_async_lost_event_and_callback(url: str, namespace: str) -> None:
    async with await fencelock.connect_async(url, namespace=namespace) as c:
        loop = asyncio.get_running_loop()
        fired = asyncio.Event()
        on_loop: list[bool] = []

        def cb() -> None:
            on_loop.append(asyncio.get_running_loop() is loop)
            fired.set()

        g = await c.acquire("alost", timeout=5, lease=0.3, on_lost=cb)
        await c.delete("alost")
        assert await asyncio.wait_for(g.lost.wait(), 5) is True
        await asyncio.wait_for(fired.wait(), 5)
        assert on_loop == [True]


def test_lost_callback_may_use_the_sync_client(nats_client: fencelock.Client) -> None:
    seen: list[object] = []
    done = threading.Event()

    def cb() -> None:
        seen.append(nats_client.get("cbuse").holder)
        done.set()

    g = nats_client.acquire("cbuse", timeout=5, lease=0.3, on_lost=cb)
    nats_client.delete("cbuse")
    assert done.wait(5)
    assert seen == [None]
    assert g.status == "lost"
