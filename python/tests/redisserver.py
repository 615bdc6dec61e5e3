"""A throwaway redis-server on a free loopback port (asked of the OS, then bound by the server;
started again on another port if that one was taken in between), for the API tests on Redis."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time


def binary() -> str | None:
    """``$FENCELOCK_REDIS_SERVER``, else ``redis-server`` on PATH, else None."""
    return os.environ.get("FENCELOCK_REDIS_SERVER") or shutil.which("redis-server")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class RedisServer:
    def __init__(self) -> None:
        exe = binary()
        if exe is None:
            raise RuntimeError(
                "redis-server not found: run scripts/ensure-redis (make test does) or set "
                "FENCELOCK_REDIS_SERVER"
            )
        self.dir = tempfile.mkdtemp(prefix="fencelock-py-redis-")
        for _attempt in range(3):
            self.port = _free_port()
            self.proc = subprocess.Popen(
                [exe, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                 "--appendonly", "no", "--dir", self.dir],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            if self._ready():
                return
            self.proc.kill()
            self.proc.wait()
        raise RuntimeError(f"redis-server did not start on loopback (last port {self.port})")

    def _ready(self) -> bool:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                return False  # exited, e.g. the port was taken meanwhile
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as s:
                    s.sendall(b"PING\r\n")
                    if s.recv(16).startswith(b"+PONG"):
                        return True
            except OSError:
                time.sleep(0.05)
        return False

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}"

    def stop(self) -> None:
        self.proc.kill()
        self.proc.wait()
        shutil.rmtree(self.dir, ignore_errors=True)
