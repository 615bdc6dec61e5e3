"""Worker functions for multiprocessing tests (importable by name in spawned children)."""

from __future__ import annotations

import fencelock


def increment(url: str, namespace: str, rounds: int) -> list[int]:
    tokens = []
    with fencelock.connect(url, namespace=namespace) as c:
        for _ in range(rounds):
            with c.lock("mp", timeout=60) as g:
                g.state = (g.state or 0) + 1
                tokens.append(g.token)
    return tokens
