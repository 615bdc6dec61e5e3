"""fencelock: distributed locks with fencing tokens and attached state.

>>> import fencelock
>>> with fencelock.connect("memory://", namespace="doc") as client:
...     with client.lock("nightly-import", timeout=5) as g:
...         g.state = {"done": True}
...     client.get("nightly-import").state
{'done': True}
"""

from __future__ import annotations

import atexit
import logging
import os

from . import _native
from .async_client import AsyncClient, connect_async
from .client import Client, connect
from .errors import (
    BackendError,
    CallbackError,
    ClientClosed,
    FencelockError,
    InvalidArgument,
    InvalidKey,
    LockExpired,
    LockHeld,
    LockNotHeld,
    LockTimeout,
    StateTooLarge,
    TimeoutError,
)
from .guard import AsyncGuard, AsyncLostEvent, Guard, LostEvent
from .leadership import AsyncLeaderObserver, AsyncLeadership, LeaderObserver, Leadership
from .types import Holder, KeyInfo, Stats, Timing

logging.getLogger("fencelock").addHandler(logging.NullHandler())
# See _after_fork_in_child in python/src/lib.rs: keeps forked children's NATS inboxes apart.
os.register_at_fork(after_in_child=_native._after_fork_in_child)
# See _at_exit in python/src/runtime.rs: the core's threads stay out of a finalizing interpreter.
atexit.register(_native._at_exit)

# The core's version (the one version of every fencelock package), read from the native module
# so it cannot drift from the code that runs.
__version__: str = _native.VERSION
MAX_KEY_LEN: int = _native.MAX_KEY_LEN
MIN_LEASE: float = _native.MIN_LEASE
MAX_LEASE: float = _native.MAX_LEASE
DEFAULT_LEASE: float = _native.DEFAULT_LEASE


def reset_log_cache() -> None:
    """Levels of the ``fencelock`` loggers are cached for speed; call this after changing
    them (e.g. ``logging.getLogger("fencelock").setLevel(logging.DEBUG)``)."""
    _native.reset_log_cache()


__all__ = [
    "DEFAULT_LEASE",
    "MAX_KEY_LEN",
    "MAX_LEASE",
    "MIN_LEASE",
    "AsyncClient",
    "AsyncGuard",
    "AsyncLeaderObserver",
    "AsyncLeadership",
    "AsyncLostEvent",
    "BackendError",
    "CallbackError",
    "Client",
    "ClientClosed",
    "FencelockError",
    "Guard",
    "Holder",
    "InvalidArgument",
    "InvalidKey",
    "KeyInfo",
    "LeaderObserver",
    "Leadership",
    "LockExpired",
    "LockHeld",
    "LockNotHeld",
    "LockTimeout",
    "LostEvent",
    "StateTooLarge",
    "Stats",
    "TimeoutError",
    "Timing",
    "connect",
    "connect_async",
    "reset_log_cache",
]
