# Stubs of the pyo3 module `fencelock._native` (python/src/*.rs). Checked by stubtest in
# `make -C python test`. Durations are seconds; states are bytes (the codecs live in Python).

from collections.abc import Awaitable, Callable
from typing import Any, final

__all__ = [
    "DEFAULT_LEASE",
    "MAX_KEY_LEN",
    "MAX_LEASE",
    "MIN_LEASE",
    "NativeClient",
    "VERSION",
    "NativeGuard",
    "NativeLeaderObserver",
    "NativeLeadership",
    "_after_fork_in_child",
    "_bench_core_close",
    "_bench_core_open",
    "_bench_core_round",
    "error_kinds",
    "_at_exit",
    "reset_log_cache",
]

VERSION: str
MAX_KEY_LEN: int
MIN_LEASE: float
MAX_LEASE: float
DEFAULT_LEASE: float

_HolderTuple = tuple[str, int, float, str]
_Callback = Callable[[bytes | None], Any]

def error_kinds() -> list[str]: ...
def reset_log_cache() -> None: ...
def _after_fork_in_child() -> None: ...
def _at_exit() -> None: ...
def _bench_core_open(url: str, namespace: str) -> None: ...
def _bench_core_round(workload: str, amount: float) -> list[float]: ...
def _bench_core_close() -> int: ...
@final
class NativeGuard:
    @property
    def key(self) -> str: ...
    @property
    def token(self) -> int: ...
    @property
    def lock_id(self) -> str: ...
    @property
    def lease(self) -> float: ...
    @property
    def remaining(self) -> float: ...
    @property
    def status(self) -> str: ...
    @property
    def initial_state(self) -> bytes | None: ...
    def state(self) -> bytes | None: ...
    def put(self, state: bytes | None) -> None: ...
    def put_async(self, state: bytes | None) -> Awaitable[None]: ...
    def refresh(self) -> None: ...
    def refresh_async(self) -> Awaitable[None]: ...
    def release(self, state: bytes | None = None, clear: bool = False) -> bool: ...
    def release_async(self, state: bytes | None = None, clear: bool = False) -> Awaitable[bool]: ...
    def finish_with_lock_async(
        self,
        state: bytes | None = None,
        error: BaseException | None = None,
        timed_out: bool = False,
    ) -> Awaitable[bytes | None]: ...
    def release_soon(self) -> None: ...
    def wait_lost(self, timeout: float | None = None) -> bool: ...
    def wait_lost_async(self) -> Awaitable[bool]: ...
    def on_lost(self, callback: Callable[[], Any]) -> None: ...

@final
class NativeLeadership:
    @property
    def key(self) -> str: ...
    @property
    def term(self) -> int: ...
    @property
    def is_leader(self) -> bool: ...
    def resign(self) -> bool: ...
    def resign_async(self) -> Awaitable[bool]: ...
    def wait_lost(self, timeout: float | None = None) -> bool: ...
    def wait_lost_async(self) -> Awaitable[bool]: ...
    def on_lost(self, callback: Callable[[], Any]) -> None: ...

@final
class NativeLeaderObserver:
    def next(self, timeout: float | None = None) -> tuple[bool, _HolderTuple | None]: ...
    def next_async(self) -> Awaitable[_HolderTuple | None]: ...

@final
class NativeClient:
    @staticmethod
    def connect(
        url: str,
        *,
        namespace: str | None = None,
        lease: float | None = None,
        object_expiry: float | None = None,
        replication: int | None = None,
        replication_timeout: float | None = None,
        storage: str | None = None,
        renew: bool | None = None,
        renew_fraction: float | None = None,
        max_hold: float | None = None,
        label: str | None = None,
        token: str | None = None,
        user: str | None = None,
        password: str | None = None,
        creds_file: str | None = None,
        tls_root_cert: str | None = None,
        tls_client_cert: str | None = None,
        tls_client_key: str | None = None,
        require_tls: bool | None = None,
        connect_timeout: float | None = None,
        clock_free: bool | None = None,
    ) -> NativeClient: ...
    @staticmethod
    def connect_async(
        url: str,
        *,
        namespace: str | None = None,
        lease: float | None = None,
        object_expiry: float | None = None,
        replication: int | None = None,
        replication_timeout: float | None = None,
        storage: str | None = None,
        renew: bool | None = None,
        renew_fraction: float | None = None,
        max_hold: float | None = None,
        label: str | None = None,
        token: str | None = None,
        user: str | None = None,
        password: str | None = None,
        creds_file: str | None = None,
        tls_root_cert: str | None = None,
        tls_client_cert: str | None = None,
        tls_client_key: str | None = None,
        require_tls: bool | None = None,
        connect_timeout: float | None = None,
        clock_free: bool | None = None,
    ) -> Awaitable[NativeClient]: ...
    @property
    def server(self) -> str: ...
    @property
    def default_lease(self) -> float: ...
    @property
    def max_state_len(self) -> int: ...
    @property
    def held_count(self) -> int: ...
    @property
    def closed(self) -> bool: ...
    def stats(
        self,
    ) -> tuple[
        int, int, int, tuple[int, float, float], tuple[int, float, float], int, int, int, int
    ]: ...
    def acquire(
        self,
        key: str,
        timeout: float | None = None,
        lease: float | None = None,
        renew: bool | None = None,
        label: str | None = None,
    ) -> NativeGuard: ...
    def acquire_async(
        self,
        key: str,
        timeout: float | None = None,
        lease: float | None = None,
        renew: bool | None = None,
        label: str | None = None,
    ) -> Awaitable[NativeGuard]: ...
    def try_acquire(
        self,
        key: str,
        lease: float | None = None,
        renew: bool | None = None,
        label: str | None = None,
    ) -> NativeGuard | None: ...
    def try_acquire_async(
        self,
        key: str,
        lease: float | None = None,
        renew: bool | None = None,
        label: str | None = None,
    ) -> Awaitable[NativeGuard | None]: ...
    def release(self, guard: NativeGuard, state: bytes | None = None) -> bool: ...
    def release_async(self, guard: NativeGuard, state: bytes | None = None) -> Awaitable[bool]: ...
    def with_lock(
        self,
        key: str,
        func: Callable[[bytes | None], bytes | None],
        timeout: float | None = None,
        lease: float | None = None,
        label: str | None = None,
    ) -> bytes | None: ...
    def do_if_free(
        self, key: str, func: Callable[[bytes | None], None]
    ) -> tuple[bool, bytes | None]: ...
    def do_if_free_async(
        self, key: str, func: Callable[[bytes | None], Awaitable[None]]
    ) -> Awaitable[tuple[bool, bytes | None]]: ...
    def wait(self, key: str, timeout: float | None = None) -> bytes | None: ...
    def wait_async(self, key: str, timeout: float | None = None) -> Awaitable[bytes | None]: ...
    def get(self, key: str) -> tuple[bytes | None, _HolderTuple | None, int]: ...
    def get_async(
        self, key: str
    ) -> Awaitable[tuple[bytes | None, _HolderTuple | None, int]]: ...
    def delete(self, key: str) -> None: ...
    def delete_async(self, key: str) -> Awaitable[None]: ...
    def campaign(
        self, election: str, candidate: str, timeout: float | None = None
    ) -> NativeLeadership: ...
    def campaign_async(
        self, election: str, candidate: str, timeout: float | None = None
    ) -> Awaitable[NativeLeadership]: ...
    def try_campaign(self, election: str, candidate: str) -> NativeLeadership | None: ...
    def try_campaign_async(
        self, election: str, candidate: str
    ) -> Awaitable[NativeLeadership | None]: ...
    def leader(self, election: str) -> _HolderTuple | None: ...
    def leader_async(self, election: str) -> Awaitable[_HolderTuple | None]: ...
    def observe_leader(self, election: str) -> NativeLeaderObserver: ...
    def observe_leader_async(self, election: str) -> Awaitable[NativeLeaderObserver]: ...
    def close(self) -> None: ...
    def close_async(self) -> Awaitable[None]: ...
