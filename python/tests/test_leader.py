"""Leader election: campaign, leader, try_campaign, resign, observe."""

from __future__ import annotations

import threading

import fencelock


def test_campaign_leader_resign(client: fencelock.Client) -> None:
    with client.campaign("el", "node-a", timeout=5) as lead:
        assert lead.is_leader and lead.election == "el"
        leader = client.leader("el")
        assert leader is not None and leader.label == "node-a" and leader.token == lead.term
        assert client.try_campaign("el", "node-b") is None
    assert client.leader("el") is None
    nxt = client.try_campaign("el")
    assert nxt is not None and nxt.term > lead.term
    assert nxt.resign() is True
    assert not nxt.is_leader


def test_observe_leader(client: fencelock.Client) -> None:
    seen: list[fencelock.Holder | None] = []
    obs = client.observe_leader("obs")
    assert obs.next(timeout=5) is None  # nobody leads yet
    first, done = threading.Event(), threading.Event()

    def watch() -> None:
        for h in obs:
            seen.append(h)
            first.set()
            if len(seen) == 2:
                done.set()
                return

    t = threading.Thread(target=watch, daemon=True)
    t.start()
    lead = client.campaign("obs", "node-x", timeout=5)
    # The observer reports the latest state: a term that ends before it looks is skipped.
    assert first.wait(10), seen
    lead.resign()
    assert done.wait(10), seen
    assert seen[0] is not None and seen[0].label == "node-x"
    assert seen[1] is None


async def test_async_campaign_and_observe(aclient: fencelock.AsyncClient) -> None:
    obs = await aclient.observe_leader("ael")
    assert await obs.__anext__() is None
    async with await aclient.campaign("ael", "a", timeout=5) as lead:
        assert lead.is_leader
        h = await obs.__anext__()
        assert h is not None and h.token == lead.term
        assert await aclient.try_campaign("ael", "b") is None
        assert (await aclient.leader("ael")) == h
    assert await obs.__anext__() is None
