"""Leader election results (sync and asyncio) and leader observers."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from types import TracebackType
from typing import Any

from . import _native
from .guard import AsyncLostEvent, LostEvent, _loop_callback, _sync_callback
from .types import Holder


class _LeadershipBase:
    def __init__(self, native: _native.NativeLeadership) -> None:
        self._native = native

    @property
    def election(self) -> str:
        return self._native.key

    @property
    def term(self) -> int:
        """The fencing token of this term: greater than every earlier term's."""
        return self._native.term

    @property
    def is_leader(self) -> bool:
        return self._native.is_leader

    def __repr__(self) -> str:
        return (
            f"<{type(self).__name__} election={self.election!r} term={self.term} "
            f"leader={self.is_leader}>"
        )


class Leadership(_LeadershipBase):
    """Leadership of one election, renewed until resigned or lost. ``with`` resigns."""

    @property
    def lost(self) -> LostEvent:
        return LostEvent(self._native)

    def on_lost(self, callback: Callable[[], Any]) -> None:
        self._native.on_lost(_sync_callback(callback))

    def resign(self) -> bool:
        """Steps down; False if leadership had already been lost."""
        return bool(self._native.resign())

    def __enter__(self) -> Leadership:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self.is_leader:
            self.resign()


class AsyncLeadership(_LeadershipBase):
    """Leadership (asyncio). ``async with`` resigns."""

    @property
    def lost(self) -> AsyncLostEvent:
        return AsyncLostEvent(self._native)

    def on_lost(self, callback: Callable[[], Any]) -> None:
        self._native.on_lost(_loop_callback(callback))

    async def resign(self) -> bool:
        return bool(await self._native.resign_async())

    async def __aenter__(self) -> AsyncLeadership:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self.is_leader:
            await self.resign()


class LeaderObserver:
    """Iterates leadership changes: the current leader first, then each change (None when
    nobody leads). Iteration ends when the client closes."""

    def __init__(self, native: _native.NativeLeaderObserver) -> None:
        self._native = native

    def next(self, timeout: float | None = None) -> Holder | None:
        """The next change; raises ``fencelock.LockTimeout`` when none came within
        ``timeout`` seconds and ``StopIteration`` when the stream ended."""
        got, holder = self._native.next(timeout)
        if not got:
            if timeout is not None:
                from .errors import LockTimeout

                raise LockTimeout(
                    f"no leadership change within {timeout} s", "timeout", None, None
                )
            raise StopIteration
        return Holder._from_native(holder)

    def __iter__(self) -> Iterator[Holder | None]:
        return self

    def __next__(self) -> Holder | None:
        return self.next()


class AsyncLeaderObserver:
    """``async for leader in client.observe_leader(...)``: like :class:`LeaderObserver`."""

    def __init__(self, native: _native.NativeLeaderObserver) -> None:
        self._native = native

    def __aiter__(self) -> AsyncIterator[Holder | None]:
        return self

    async def __anext__(self) -> Holder | None:
        return Holder._from_native(await self._native.next_async())
