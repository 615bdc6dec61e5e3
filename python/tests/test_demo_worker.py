"""The `make demo` worker: two of them share the counter and the count comes out exact."""

from __future__ import annotations

import re
import subprocess
import sys
import tempfile
from pathlib import Path

import fencelock

WORKER = Path(__file__).resolve().parents[1] / "demo_worker.py"


def test_demo_workers_count_exactly(url: str) -> None:
    with fencelock.connect(url, namespace="fencelock-demo") as c:
        c.delete("demo/counter")
    procs = [
        subprocess.Popen(
            [sys.executable, str(WORKER), url, f"py-{i}", "5"],
            stdout=subprocess.PIPE,
            text=True,
            cwd=tempfile.gettempdir(),  # the installed package, not the source folder
        )
        for i in range(2)
    ]
    outs = [p.communicate(timeout=60)[0] for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outs
    lines = [line for out in outs for line in out.splitlines()]
    assert len(lines) == 10
    assert all(re.fullmatch(r"py-\d token \d+ count \d+", line) for line in lines), lines
    assert sorted(int(line.rsplit(" ", 1)[1]) for line in lines) == list(range(1, 11))
    with fencelock.connect(url, namespace="fencelock-demo") as c:
        assert c.get("demo/counter").state["count"] == 10


def test_demo_worker_usage_error() -> None:
    p = subprocess.run(
        [sys.executable, str(WORKER)], capture_output=True, text=True, cwd=tempfile.gettempdir()
    )
    assert p.returncode == 2 and "usage" in p.stderr
