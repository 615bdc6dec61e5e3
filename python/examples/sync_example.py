"""Typed usage of the sync API (checked with `mypy --strict` in `make -C python test`)."""

from __future__ import annotations

import sys

import fencelock


def run(url: str) -> int:
    with fencelock.connect(url, namespace="examples", lock_duration=10) as client:
        with client.lock("nightly-import", timeout=5) as g:
            runs: int = (g.state or {}).get("runs", 0)
            g.state = {"runs": runs + 1, "token": g.token}
        total = client.with_lock("quota", lambda s: (s or 0) + 1, timeout=5)
        info = client.get("nightly-import")
        print(info.state, total)
        with client.lock("nightly-import", timeout=5):
            try:
                client.acquire("nightly-import", timeout=0)  # held above: one try fails
            except fencelock.LockTimeout as e:
                print("held", e.key)
        with client.campaign("reconciler", "example") as lead:
            print("leading term", lead.term, lead.lost.is_set())
        return 0


if __name__ == "__main__":
    sys.exit(run(sys.argv[1] if len(sys.argv) > 1 else "memory://"))
