"""Ctrl-C interrupts a blocking acquire promptly; core records reach `logging`."""

from __future__ import annotations

import logging
import signal
import subprocess
import sys
import tempfile
import textwrap
import time

import fencelock

CHILD = textwrap.dedent(
    """
    import sys, time, fencelock
    c = fencelock.connect(sys.argv[1], namespace=sys.argv[2])
    print("waiting", flush=True)
    try:
        c.acquire("sigint")  # held by the parent: blocks forever
    except KeyboardInterrupt:
        print("interrupted", flush=True)
        sys.exit(3)
    """
)


def test_ctrl_c_interrupts_a_blocking_acquire(nats_client: fencelock.Client, url: str,
                                              namespace: str) -> None:
    g = nats_client.acquire("sigint", timeout=5)
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, url, namespace],
        stdout=subprocess.PIPE,
        text=True,
        cwd=tempfile.gettempdir(),  # import the installed package, not the source folder
    )
    assert child.stdout is not None
    assert child.stdout.readline().strip() == "waiting"
    time.sleep(0.5)
    sent = time.monotonic()
    child.send_signal(signal.SIGINT)
    assert child.wait(10) == 3
    took = time.monotonic() - sent
    assert child.stdout.read().strip() == "interrupted"
    assert took < 1.0, took
    # The interrupted attempt left nothing behind: the holder is still us.
    holder = nats_client.get("sigint").holder
    assert holder is not None and holder.token == g.token
    g.release()


def test_core_records_go_to_logging(nats_client: fencelock.Client, caplog: object) -> None:
    import pytest

    assert isinstance(caplog, pytest.LogCaptureFixture)
    caplog.set_level(logging.DEBUG, logger="fencelock")
    fencelock.reset_log_cache()
    g = nats_client.acquire("logged", timeout=5, lease=0.3)
    nats_client.delete("logged")
    assert g.lost.wait(5)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and not any(
        r.name.startswith("fencelock") and "lost" in r.getMessage() for r in caplog.records
    ):
        time.sleep(0.05)
    lost = [r for r in caplog.records if r.name.startswith("fencelock") and "lost" in r.getMessage()]
    assert lost, [(r.name, r.getMessage()) for r in caplog.records]
    assert lost[0].levelno == logging.WARNING
