"""The blocking client. Every wait releases the GIL (other threads run) and checks for
Ctrl-C every 50 ms."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from types import TracebackType
from typing import Any, TypeVar

from . import _native
from ._connect_args import default_candidate, native_kwargs, servers_url
from .codec import Codec, CodecName, make_codec
from .guard import Guard
from .leadership import LeaderObserver, Leadership
from .types import UNSET, Holder, KeyInfo, Stats

T = TypeVar("T")


def connect(
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
) -> Client:
    """Connects to ``servers`` (``nats://host:port``, a list of them, ``redis://…`` or
    ``memory://``). Durations are seconds: ``lock_duration`` is the default lease (30 s),
    ``object_expiry`` drops entries unwritten that long, ``replication`` the copies of every
    write counting the primary (NATS: stream replicas, 1..5; Redis: writes ``WAIT`` for
    ``replication - 1`` replicas, at most ``replication_timeout``). ``clock_free=True`` (NATS)
    judges lease expiry by observation alone also on nats-server 2.11+, where the server's
    clock decides by default (older servers always work clock-free). An option the backend
    does not use (e.g. ``token`` on Redis) raises ``InvalidArgument`` naming it; the README's
    options table lists them."""
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
    return Client(_native.NativeClient.connect(servers_url(servers), **kwargs), c)


class Client:
    """A connection plus a namespace. Thread-safe; ``with`` closes it. Do not use a client
    made before ``os.fork()`` in the child: connect again there."""

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

    def _guard(self, native: _native.NativeGuard, on_lost: Callable[[], Any] | None) -> Guard:
        g = Guard(native, self._codec)
        if on_lost is not None:
            g.on_lost(on_lost)
        return g

    def acquire(
        self,
        key: str,
        timeout: float | None = None,
        *,
        lease: float | None = None,
        renew: bool | None = None,
        label: str | None = None,
        on_lost: Callable[[], Any] | None = None,
    ) -> Guard:
        """Acquires ``key``, waiting up to ``timeout`` seconds (None: forever; 0: one try).
        Raises ``LockTimeout``."""
        return self._guard(self._native.acquire(key, timeout, lease, renew, label), on_lost)

    def lock(
        self,
        key: str,
        timeout: float | None = None,
        *,
        lease: float | None = None,
        renew: bool | None = None,
        label: str | None = None,
        on_lost: Callable[[], Any] | None = None,
    ) -> Guard:
        """``with client.lock("job", timeout=5) as g:`` acquires now and releases on exit."""
        return self.acquire(key, timeout, lease=lease, renew=renew, label=label, on_lost=on_lost)

    def try_acquire(
        self,
        key: str,
        *,
        lease: float | None = None,
        renew: bool | None = None,
        label: str | None = None,
        on_lost: Callable[[], Any] | None = None,
    ) -> Guard | None:
        """Acquires ``key`` if it is free now; None when someone holds it."""
        native = self._native.try_acquire(key, lease, renew, label)
        return None if native is None else self._guard(native, on_lost)

    def release(self, guard: Guard, state: Any = UNSET) -> bool:
        """Releases ``guard`` (which must come from this client), writing ``state`` or the
        assigned ``guard.state`` if any. False when the lock had been lost."""
        if not isinstance(guard, Guard):
            raise TypeError(f"release needs a fencelock.Guard, not {type(guard).__name__}")
        out = self._native.release(guard._native, guard._release_state(state))
        guard._pending = UNSET
        return bool(out)

    def with_lock(
        self,
        key: str,
        fn: Callable[[Any], Any],
        timeout: float | None = None,
        *,
        lease: float | None = None,
        label: str | None = None,
    ) -> Any:
        """Runs ``fn(state)`` under the lock and stores what it returns (None keeps the old
        state); returns the stored state. ``fn`` must finish within the lease (no renewal),
        else ``LockTimeout`` and nothing is written. Its exceptions propagate unchanged after
        the lock is released."""
        codec = self._codec

        def call(raw: bytes | None) -> bytes | None:
            out = fn(codec.decode(raw))
            return None if out is None else codec.encode(out)

        return codec.decode(self._native.with_lock(key, call, timeout, lease, label))

    def do_if_free(self, key: str, fn: Callable[[Any], T]) -> tuple[bool, T | None]:
        """Runs ``fn(state)`` only if ``key`` is free right now, holding it meanwhile (the
        state is kept). Returns ``(True, fn's result)``, or ``(False, None)`` when held."""
        result: list[T] = []

        def call(raw: bytes | None) -> None:
            result.append(fn(self._codec.decode(raw)))

        ran, _ = self._native.do_if_free(key, call)
        return (True, result[0]) if ran else (False, None)

    def wait(self, key: str, timeout: float | None = None) -> Any:
        """Waits until ``key`` is free and returns its state; takes no lock."""
        return self._codec.decode(self._native.wait(key, timeout))

    def get(self, key: str) -> KeyInfo:
        """Reads the state and holder of ``key`` without locking."""
        state, holder, revision = self._native.get(key)
        return KeyInfo(self._codec.decode(state), Holder._from_native(holder), revision)

    def delete(self, key: str) -> None:
        """Deletes the lock and state of ``key``; a current holder loses the lock."""
        self._native.delete(key)

    def campaign(
        self, election: str, candidate: str | None = None, timeout: float | None = None
    ) -> Leadership:
        """Campaigns until elected (or ``timeout``); the lease is renewed while leading."""
        return Leadership(
            self._native.campaign(election, candidate or default_candidate(), timeout)
        )

    def try_campaign(self, election: str, candidate: str | None = None) -> Leadership | None:
        native = self._native.try_campaign(election, candidate or default_candidate())
        return None if native is None else Leadership(native)

    def leader(self, election: str) -> Holder | None:
        return Holder._from_native(self._native.leader(election))

    def observe_leader(self, election: str) -> LeaderObserver:
        return LeaderObserver(self._native.observe_leader(election))

    def close(self) -> None:
        """Stops renewals and watches, releases held locks (keeping their state), closes the
        connection. Later calls raise ``ClientClosed``."""
        self._native.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return repr(self._native)
