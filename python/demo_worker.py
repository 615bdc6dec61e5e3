"""`make demo` worker in Python: `python demo_worker.py <nats_url> <worker_name> <iterations>`.

Each iteration takes "demo/counter" in namespace "fencelock-demo", checks that its fencing
token is above the one stored with the count, and writes the count plus one on release."""

from __future__ import annotations

import sys
from pathlib import Path

# This file sits beside the source folder `fencelock/` (which lacks the compiled module):
# import the installed package instead.
_here = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _here]

import fencelock  # noqa: E402


def main(argv: list[str]) -> int:
    if len(argv) != 4:
        print(f"usage: {argv[0]} <nats_url> <worker_name> <iterations>", file=sys.stderr)
        return 2
    url, name, iterations = argv[1], argv[2], int(argv[3])
    with fencelock.connect(url, namespace="fencelock-demo") as client:
        for _ in range(iterations):
            with client.lock("demo/counter", timeout=60) as g:
                state = g.state or {"count": 0, "token": 0}
                if g.token <= state["token"]:
                    print(
                        f"{name}: token {g.token} is not above the stored {state['token']}",
                        file=sys.stderr,
                    )
                    return 1
                count = state["count"] + 1
                g.state = {"count": count, "token": g.token, "worker": name}
            print(f"{name} token {g.token} count {count}", flush=True)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv))
    except fencelock.FencelockError as e:
        print(f"{sys.argv[0]}: {e}", file=sys.stderr)
        sys.exit(1)
