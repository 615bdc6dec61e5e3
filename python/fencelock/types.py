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
