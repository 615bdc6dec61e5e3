"""Lock guards (sync and asyncio) and their ``lost`` events. Each is a thin view over the
native guard plus the client's codec; the lock itself lives in the Rust core."""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import Callable
from types import TracebackType
from typing import Any

from . import _native
from .codec import Codec
from .types import UNSET

_log = logging.getLogger("fencelock")

_NativeGuardLike = Any  # _native.NativeGuard or _native.NativeLeadership


class LostEvent:
    """Like :class:`threading.Event`: set once the lock is lost (lease lapsed, renewal refused,
    or broken by someone else). A released lock is never lost."""

    def __init__(self, native: _NativeGuardLike) -> None:
        self._native = native

    def is_set(self) -> bool:
        return bool(self._native.wait_lost(0))

    def wait(self, timeout: float | None = None) -> bool:
        """Blocks (GIL released, Ctrl-C works) until lost; False on timeout or release."""
        return bool(self._native.wait_lost(timeout))


class AsyncLostEvent:
    """Like :class:`asyncio.Event`: ``await guard.lost.wait()`` returns True when the lock is
    lost, False if it is released first."""

    def __init__(self, native: _NativeGuardLike) -> None:
        self._native = native

    def is_set(self) -> bool:
        return bool(self._native.wait_lost(0))

    async def wait(self) -> bool:
        return bool(await self._native.wait_lost_async())


def _sync_callback(callback: Callable[[], Any]) -> Callable[[], None]:
    if not callable(callback):
        raise TypeError(f"on_lost must be callable, not {type(callback).__name__}")

    def run() -> None:
        callback()

    return run


def _loop_callback(callback: Callable[[], Any]) -> Callable[[], None]:
    """Runs an asyncio client's lost callback on its loop (a coroutine becomes a task)."""
    if not callable(callback):
        raise TypeError(f"on_lost must be callable, not {type(callback).__name__}")
    loop = asyncio.get_running_loop()

    def on_loop() -> None:
        out = callback()
        if inspect.isawaitable(out):
            asyncio.ensure_future(out)

    def run() -> None:
        if not loop.is_closed():
            loop.call_soon_threadsafe(on_loop)

    return run


class _GuardBase:
    def __init__(self, native: _native.NativeGuard, codec: Codec) -> None:
        self._native = native
        self._codec = codec
        self._pending: Any = UNSET

    @property
    def key(self) -> str:
        return self._native.key

    @property
    def token(self) -> int:
        """The fencing token: greater than every earlier holder's token of this key."""
        return self._native.token

    @property
    def lock_id(self) -> str:
        return self._native.lock_id

    @property
    def lease(self) -> float:
        return self._native.lease

    @property
    def remaining(self) -> float:
        """Seconds left on the lease by this process's clock."""
        return self._native.remaining

    @property
    def status(self) -> str:
        """``"held"``, ``"lost"`` or ``"released"``."""
        return self._native.status

    @property
    def initial_state(self) -> Any:
        """The state read when the lock was acquired."""
        return self._codec.decode(self._native.initial_state)

    @property
    def state(self) -> Any:
        """The state: the value assigned since the last write, else the last written or read.
        Assigning stores nothing yet: the value is written on release (or ``put``)."""
        if self._pending is not UNSET:
            return self._codec.decode(self._pending)
        return self._codec.decode(self._native.state())

    @state.setter
    def state(self, value: Any) -> None:
        # Encode now so a value the codec refuses fails at the assignment, not at release.
        self._pending = self._codec.encode(value)

    def _release_state(self, state: Any) -> bytes | None:
        if state is not UNSET:
            return self._codec.encode(state)
        if self._pending is not UNSET:
            return self._pending  # type: ignore[no-any-return]
        return None

    def __repr__(self) -> str:
        return f"<{type(self).__name__} key={self.key!r} token={self.token} status={self.status}>"


class Guard(_GuardBase):
    """A held lock (sync). ``with`` releases it, writing ``guard.state`` if it was assigned
    and the block did not raise."""

    @property
    def lost(self) -> LostEvent:
        return LostEvent(self._native)

    def on_lost(self, callback: Callable[[], Any]) -> None:
        """Calls ``callback()`` once, on a fencelock thread, if the lock is lost."""
        self._native.on_lost(_sync_callback(callback))

    def put(self, state: Any) -> None:
        """Writes ``state`` now, keeping the lock (raises ``LockExpired`` if it was lost)."""
        self._native.put(self._codec.encode(state))
        self._pending = UNSET

    def refresh(self) -> None:
        """Renews the lease now."""
        self._native.refresh()

    def release(self, state: Any = UNSET) -> bool:
        """Releases, writing ``state`` (or the assigned ``guard.state``) if given. False when
        the lock had been lost: then nothing was written."""
        out = self._native.release(self._release_state(state))
        self._pending = UNSET
        return bool(out)

    def release_clearing_state(self) -> bool:
        """Releases and removes the state."""
        out = self._native.release(None, clear=True)
        self._pending = UNSET
        return bool(out)

    def __enter__(self) -> Guard:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self.status != "held":
            return
        if exc_type is None:
            self.release()
            return
        # The block failed: give the lock back without writing what it assigned.
        try:
            self._native.release(None)
        except Exception:  # noqa: BLE001 - the block's own exception matters more
            _log.warning("releasing %r after an exception failed", self.key, exc_info=True)


class AsyncGuard(_GuardBase):
    """A held lock (asyncio). ``async with`` releases it like :class:`Guard`'s ``with``."""

    @property
    def lost(self) -> AsyncLostEvent:
        return AsyncLostEvent(self._native)

    def on_lost(self, callback: Callable[[], Any]) -> None:
        """Calls ``callback()`` on the running loop if the lock is lost (a coroutine it
        returns is scheduled as a task)."""
        self._native.on_lost(_loop_callback(callback))

    async def put(self, state: Any) -> None:
        await self._native.put_async(self._codec.encode(state))
        self._pending = UNSET

    async def refresh(self) -> None:
        await self._native.refresh_async()

    async def release(self, state: Any = UNSET) -> bool:
        out = await self._native.release_async(self._release_state(state))
        self._pending = UNSET
        return bool(out)

    async def release_clearing_state(self) -> bool:
        out = await self._native.release_async(None, clear=True)
        self._pending = UNSET
        return bool(out)

    async def __aenter__(self) -> AsyncGuard:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self.status != "held":
            return
        if exc_type is None:
            await self.release()
            return
        try:
            await self._native.release_async(None)
        except Exception:  # noqa: BLE001 - the block's own exception matters more
            _log.warning("releasing %r after an exception failed", self.key, exc_info=True)
