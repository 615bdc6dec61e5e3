"""Ctrl-C interrupts a blocking acquire promptly; core records reach `logging`."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import tempfile
import textwrap
import time

import pytest

import fencelock

CHILD = textwrap.dedent(
    """
    import signal, sys, time, fencelock
    # Python turns SIGINT into KeyboardInterrupt only when it starts with the default
    # disposition; a test run started in the background (`cmd &` in a script) passes it on
    # ignored. Ctrl-C in a terminal has the handler: install it as such a program would have.
    signal.signal(signal.SIGINT, signal.default_int_handler)
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


# The signal checks of blocked main-thread calls come from one ticker task that stops after a
# second without such calls (python/src/interrupt.rs): Ctrl-C must still work after it
# stopped, and in a child forked while it ran (whose copy of it does not exist).
LATER = textwrap.dedent(
    """
    import os, signal, sys, time, fencelock
    signal.signal(signal.SIGINT, signal.default_int_handler)  # as in CHILD
    c = fencelock.connect(sys.argv[1], namespace=sys.argv[2])
    assert c.try_acquire("sigint") is None  # a blocking call: the ticker runs
    if sys.argv[3] == "fork":
        pid = os.fork()
        if pid:
            print(pid, flush=True)
            _, status = os.waitpid(pid, 0)
            sys.exit(os.waitstatus_to_exitcode(status))
        # A client does not survive fork(): the child connects its own.
        c = fencelock.connect(sys.argv[1], namespace=sys.argv[2])
    else:
        time.sleep(1.6)  # the ticker stops after a second without blocked calls
        print(os.getpid(), flush=True)
    try:
        c.acquire("sigint")  # held by the test: blocks forever
    except KeyboardInterrupt:
        print("interrupted", flush=True)
        os._exit(3)
    """
)


@pytest.mark.parametrize("when", ["idle", "fork"])
def test_ctrl_c_interrupts_after_the_ticker_stopped_or_in_a_forked_child(
    nats_client: fencelock.Client, url: str, namespace: str, when: str
) -> None:
    g = nats_client.acquire("sigint", timeout=5)
    child = subprocess.Popen(
        [sys.executable, "-c", LATER, url, namespace, when],
        stdout=subprocess.PIPE,
        text=True,
        cwd=tempfile.gettempdir(),
    )
    assert child.stdout is not None
    blocked = int(child.stdout.readline().strip())
    try:
        time.sleep(0.5)
        sent = time.monotonic()
        os.kill(blocked, signal.SIGINT)
        assert child.stdout.readline().strip() == "interrupted"
        took = time.monotonic() - sent
        assert child.wait(10) == 3
        assert took < 1.0, took
    finally:
        if child.poll() is None:  # not interrupted: do not leave it blocked
            os.kill(blocked, signal.SIGKILL)
            child.kill()
            child.wait()
    g.release()


def test_core_records_go_to_logging(nats_client: fencelock.Client, caplog: object) -> None:
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
