"""Turns ``connect``'s Python-friendly arguments into the native client's keyword arguments."""

from __future__ import annotations

import os
import socket
from collections.abc import Sequence
from typing import Any


def servers_url(servers: str | Sequence[str]) -> str:
    if isinstance(servers, str):
        return servers
    if isinstance(servers, Sequence) and servers and all(isinstance(s, str) for s in servers):
        return ",".join(servers)
    raise TypeError(
        "servers must be a URL string (nats://host:port, memory://) or a non-empty list of "
        f"them, not {servers!r}"
    )


def native_kwargs(
    namespace: str | None,
    lock_duration: float | None,
    object_expiry: float | None,
    replication: int | None,
    extra: dict[str, Any],
) -> dict[str, Any]:
    if namespace is not None and not isinstance(namespace, str):
        raise TypeError(f"namespace must be a str, not {type(namespace).__name__}")
    if replication is not None and (
        isinstance(replication, bool) or not isinstance(replication, int)
    ):
        raise TypeError(f"replication must be an int, not {type(replication).__name__}")
    return dict(
        namespace=namespace,
        lease=lock_duration,
        object_expiry=object_expiry,
        replication=replication,
        **extra,
    )


def default_candidate() -> str:
    """A leader candidate's default name: host and pid, for operators reading `leader()`."""
    return f"{socket.gethostname()} pid {os.getpid()}"
