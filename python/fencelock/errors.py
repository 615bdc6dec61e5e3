"""The exception tree. Every error fencelock raises derives from :class:`FencelockError` and
carries the stable ``kind`` of the core error plus ``key`` and ``token`` when known. Classes also
derive from the built-in they mean (``LockTimeout`` is a ``TimeoutError``, bad input a
``ValueError``) so generic handlers keep working."""

from __future__ import annotations


class FencelockError(Exception):
    """Base of every fencelock error."""

    kind: str
    key: str | None
    token: int | None

    def __init__(
        self,
        message: str,
        kind: str = "unknown",
        key: str | None = None,
        token: int | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.kind = kind
        self.key = key
        self.token = token


class LockTimeout(FencelockError, TimeoutError):
    """The lock (or a wait) did not become available in time, or a with_lock callback outlived
    its lease."""


TimeoutError = LockTimeout  # noqa: A001 - the documented name is fencelock.TimeoutError


class LockHeld(FencelockError):
    """Someone else holds the lock."""


class LockNotHeld(FencelockError):
    """The guard was already released."""


class LockExpired(FencelockError):
    """The guard's lease lapsed or another holder took over; its writes are refused."""


class InvalidKey(FencelockError, ValueError):
    """The key is empty or too long."""


class InvalidArgument(FencelockError, ValueError):
    """A duration, size or option is out of range."""


class StateTooLarge(FencelockError, ValueError):
    """The state is larger than the server accepts."""


class ClientClosed(FencelockError):
    """The client was closed."""


class BackendError(FencelockError, ConnectionError):
    """The server failed or could not be reached."""


class CallbackError(FencelockError):
    """A callback failed in a way that was not a Python exception of its own."""


# The class of each core error kind (`ErrorKind::as_str`). The native module raises through
# this table; tests/test_errors.py checks it against the core's own list of kinds.
KIND_CLASSES: dict[str, type[FencelockError]] = {
    "timeout": LockTimeout,
    "held": LockHeld,
    "not_held": LockNotHeld,
    "expired": LockExpired,
    "invalid_key": InvalidKey,
    "invalid_argument": InvalidArgument,
    "state_too_large": StateTooLarge,
    "closed": ClientClosed,
    "backend": BackendError,
    "callback": CallbackError,
}


__all__ = [
    "BackendError",
    "CallbackError",
    "ClientClosed",
    "FencelockError",
    "InvalidArgument",
    "InvalidKey",
    "LockExpired",
    "LockHeld",
    "LockNotHeld",
    "LockTimeout",
    "StateTooLarge",
    "TimeoutError",
]
