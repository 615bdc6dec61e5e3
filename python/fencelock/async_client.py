"""The asyncio client: the same methods as :class:`fencelock.Client`, awaitable. Operations
run on the core's runtime and never block the loop; cancelling an awaiting ``acquire`` drops
the attempt, so no lock is left behind."""

from __future__ import annotations

import asyncio
import inspect
import sys
from collections.abc import Awaitable, Callable, Generator, Sequence
from types import TracebackType
from typing import Any, TypeVar

from . import _native
from ._connect_args import default_candidate, native_kwargs, servers_url
from .codec import Codec, CodecName, make_codec
from .guard import AsyncGuard
from .leadership import AsyncLeaderObserver, AsyncLeadership
from .types import UNSET, Holder, KeyInfo, Stats

T = TypeVar("T")


async def connect_async(
    servers: str | Sequence[str],
    namespace: str | None = None,
    lock_duration: float | None = None,
    object_expiry: float | None = None,
    replication: int | None = None,
    *,
    codec: CodecName = "json",
    storage: str | None = None,
    renew: bool | None = None,
    renew_fraction: float | None = None,
    max_hold: float | None = None,
    label: str | None = None,
    connect_timeout: float | None = None,
    token: str | None = None,
    user: str | None = None,
    password: str | None = None,
    creds_file: str | None = None,
    tls_root_cert: str | None = None,
    tls_client_cert: str | None = None,
    tls_client_key: str | None = None,
    require_tls: bool | None = None,
    clock_free: bool | None = None,
    replication_timeout: float | None = None,
) -> AsyncClient:
    """Like :func:`fencelock.connect`, for asyncio."""
    c = make_codec(codec)
    kwargs = native_kwargs(
        namespace,
        lock_duration,
        object_expiry,
        replication,
        dict(
            storage=storage,
            renew=renew,
            renew_fraction=renew_fraction,
            max_hold=max_hold,
            label=label,
            connect_timeout=connect_timeout,
            token=token,
            user=user,
            password=password,
            creds_file=creds_file,
            tls_root_cert=tls_root_cert,
            tls_client_cert=tls_client_cert,
            tls_client_key=tls_client_key,
            require_tls=require_tls,
            clock_free=clock_free,
            replication_timeout=replication_timeout,
        ),
    )
    native = await _native.NativeClient.connect_async(servers_url(servers), **kwargs)
    return AsyncClient(native, c)


class _Acquiring:
    """``client.lock(...)``: ``async with`` acquires on entry and releases on exit; awaiting
    it gives the guard."""

    def __init__(self, acquire: Callable[[], Awaitable[AsyncGuard]]) -> None:
        self._acquire = acquire
        self._guard: AsyncGuard | None = None

    def __await__(self) -> Generator[Any, None, AsyncGuard]:
        return self._acquire().__await__()

    async def __aenter__(self) -> AsyncGuard:
        self._guard = await self._acquire()
        return self._guard

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._guard is not None:
            await self._guard.__aexit__(exc_type, exc, tb)


class AsyncClient:
    """An asyncio client; ``async with`` closes it."""

    def __init__(self, native: _native.NativeClient, codec: Codec) -> None:
        self._native = native
        self._codec = codec

    @property
    def closed(self) -> bool:
        return self._native.closed

    @property
    def default_lease(self) -> float:
        return self._native.default_lease

    @property
    def max_state_len(self) -> int:
        return self._native.max_state_len

    def stats(self) -> Stats:
        """This client's lock statistics (counts and timings, see :class:`Stats`)."""
        return Stats._from_native(self._native.stats())

    def _guard(
        self, native: _native.NativeGuard, on_lost: Callable[[], Any] | None
    ) -> AsyncGuard:
        g = AsyncGuard(native, self._codec)
        if on_lost is not None:
            g.on_lost(on_lost)
        return g

    async def acquire(
        self,
        key: str,
        timeout: float | None = None,
        *,
        lease: float | None = None,
        renew: bool | None = None,
        label: str | None = None,
        on_lost: Callable[[], Any] | None = None,
    ) -> AsyncGuard:
        native = await self._native.acquire_async(key, timeout, lease, renew, label)
        return self._guard(native, on_lost)

    def lock(
        self,
        key: str,
        timeout: float | None = None,
        *,
        lease: float | None = None,
        renew: bool | None = None,
        label: str | None = None,
        on_lost: Callable[[], Any] | None = None,
    ) -> _Acquiring:
        """``async with client.lock("job", timeout=5) as g:``"""
        return _Acquiring(
            lambda: self.acquire(
                key, timeout, lease=lease, renew=renew, label=label, on_lost=on_lost
            )
        )

    async def try_acquire(
        self,
        key: str,
        *,
        lease: float | None = None,
        renew: bool | None = None,
        label: str | None = None,
        on_lost: Callable[[], Any] | None = None,
    ) -> AsyncGuard | None:
        native = await self._native.try_acquire_async(key, lease, renew, label)
        return None if native is None else self._guard(native, on_lost)

    async def release(self, guard: AsyncGuard, state: Any = UNSET) -> bool:
        if not isinstance(guard, AsyncGuard):
            raise TypeError(
                f"release needs a fencelock.AsyncGuard, not {type(guard).__name__}"
            )
        out = await self._native.release_async(guard._native, guard._release_state(state))
        guard._pending = UNSET
        return bool(out)

    async def with_lock(
        self,
        key: str,
        fn: Callable[[Any], Any],
        timeout: float | None = None,
        *,
        lease: float | None = None,
        label: str | None = None,
    ) -> Any:
        """Like :meth:`Client.with_lock`; ``fn`` may be a plain or a coroutine function."""
        if not callable(fn):
            raise TypeError(f"with_lock needs a callable taking the state, not {type(fn).__name__}")
        # The callback runs right here on the loop, between an acquire and the core's
        # finish_with_lock, which decides what becomes of the lock (write and release, release,
        # or leave it to its lease) as the core's own with_lock does. Handing the callback to
        # the core instead costs two thread crossings inside the critical section: W2 (16 tasks
        # incrementing one key) ran 1.4-1.5x faster this way (docs/BENCHMARKS.md).
        codec = self._codec
        native = await self._native.acquire_async(key, timeout, lease, False, label)
        state: bytes | None = None
        error: BaseException | None = None
        try:
            out = fn(codec.decode(native.initial_state))
            if inspect.isawaitable(out):
                out = await _within(out, native.remaining)
            elif native.remaining <= 0:
                raise _LeaseOver  # a plain function that blocked the loop past the lease
            state = None if out is None else codec.encode(out)
        except _LeaseOver:
            # The core leaves the lock to its lease and raises LockTimeout: nothing written.
            return codec.decode(await native.finish_with_lock_async(timed_out=True))
        except Exception as e:  # noqa: BLE001 - re-raised unchanged once the lock is released
            error = e
        except BaseException:
            # Cancelled or interrupted while the callback ran: nothing is written, and the lock
            # is given back without waiting (this task may not await any more).
            native.release_soon()
            raise
        return codec.decode(await native.finish_with_lock_async(state, error))

    async def do_if_free(
        self, key: str, fn: Callable[[Any], T | Awaitable[T]]
    ) -> tuple[bool, T | None]:
        result: list[Any] = []

        async def call(raw: bytes | None) -> None:
            out = fn(self._codec.decode(raw))
            if inspect.isawaitable(out):
                out = await out
            result.append(out)

        ran, _ = await self._native.do_if_free_async(key, call)
        return (True, result[0]) if ran else (False, None)

    async def wait(self, key: str, timeout: float | None = None) -> Any:
        return self._codec.decode(await self._native.wait_async(key, timeout))

    async def get(self, key: str) -> KeyInfo:
        state, holder, revision = await self._native.get_async(key)
        return KeyInfo(self._codec.decode(state), Holder._from_native(holder), revision)

    async def delete(self, key: str) -> None:
        await self._native.delete_async(key)

    async def campaign(
        self, election: str, candidate: str | None = None, timeout: float | None = None
    ) -> AsyncLeadership:
        native = await self._native.campaign_async(
            election, candidate or default_candidate(), timeout
        )
        return AsyncLeadership(native)

    async def try_campaign(
        self, election: str, candidate: str | None = None
    ) -> AsyncLeadership | None:
        native = await self._native.try_campaign_async(
            election, candidate or default_candidate()
        )
        return None if native is None else AsyncLeadership(native)

    async def leader(self, election: str) -> Holder | None:
        return Holder._from_native(await self._native.leader_async(election))

    async def observe_leader(self, election: str) -> AsyncLeaderObserver:
        return AsyncLeaderObserver(await self._native.observe_leader_async(election))

    async def close(self) -> None:
        await self._native.close_async()

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    def __repr__(self) -> str:
        return repr(self._native)


class _LeaseOver(Exception):
    """A with_lock callback ran past the lease (told apart from its own TimeoutError)."""


async def _within(aw: Awaitable[Any], seconds: float) -> Any:
    """What ``aw`` resolves to; raises _LeaseOver (``aw`` cancelled) past ``seconds``."""
    if sys.version_info >= (3, 11):
        deadline = asyncio.timeout(seconds)  # novermin
        try:
            async with deadline:
                return await aw
        except TimeoutError:
            if deadline.expired():
                raise _LeaseOver from None
            raise

    async def caught() -> tuple[Any, BaseException | None]:
        try:
            return await aw, None
        except Exception as e:  # noqa: BLE001 - raised again below, outside wait_for
            return None, e

    try:
        value, error = await asyncio.wait_for(caught(), seconds)
    except asyncio.TimeoutError:
        raise _LeaseOver from None
    if error is not None:
        raise error
    return value
