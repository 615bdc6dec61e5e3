"""Plain records returned by reads: who holds a key, and what ``get`` saw."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

HolderTuple = tuple[str, int, float, str]


@dataclass(frozen=True)
class Holder:
    """The holder of a lock (or the leader of an election) as recorded in the store."""

    lock_id: str
    """The acquisition's unique id (32 hex characters)."""
    token: int
    """The acquisition's fencing token."""
    lease: float
    """The lease the holder asked for, in seconds."""
    label: str
    """A free-form label naming the holder (leader candidate name)."""

    @classmethod
    def _from_native(cls, t: HolderTuple | None) -> Holder | None:
        return None if t is None else cls(t[0], t[1], t[2], t[3])


@dataclass(frozen=True)
class KeyInfo:
    """What :meth:`Client.get` read: the decoded state, the holder if any, the revision."""

    state: Any
    holder: Holder | None
    revision: int


@dataclass(frozen=True)
class Timing:
    """Count, total and maximum of one kind of duration (seconds)."""

    count: int
    total: float
    max: float

    @property
    def mean(self) -> float:
        """The average, 0.0 when nothing was recorded."""
        return self.total / self.count if self.count else 0.0


@dataclass(frozen=True)
class Stats:
    """One client's lock statistics since it connected (:meth:`Client.stats`). Counters only
    grow, so rates come from differences between two reads."""

    acquisitions: int
    """Locks acquired (acquire, try_acquire, lock, with_lock, campaign...)."""
    try_misses: int
    """try_acquire calls that found the lock held."""
    timeouts: int
    """Acquisitions (and waits) that gave up at their timeout."""
    wait: Timing
    """Time from calling acquire to holding the lock, for successful acquisitions."""
    hold: Timing
    """Time from acquiring to releasing or losing, per lock."""
    renewals: int
    """Leases renewed (by the lease keeper or refresh())."""
    renewal_failures: int
    """Renewals that failed."""
    locks_lost: int
    """Locks lost: lease lapsed, renewal refused, or broken by someone else."""
    backend_errors: int
    """Operations that failed with a backend (server, network) error."""

    @classmethod
    def _from_native(cls, t: Any) -> Stats:
        return cls(t[0], t[1], t[2], Timing(*t[3]), Timing(*t[4]), t[5], t[6], t[7], t[8])


class _Unset:
    """Marks an argument that was not passed (None is a valid JSON state)."""

    _instance: _Unset | None = None

    def __new__(cls) -> _Unset:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "UNSET"

    def __bool__(self) -> bool:
        return False


UNSET: Any = _Unset()
