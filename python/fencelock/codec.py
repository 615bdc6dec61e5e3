"""State codecs: the core stores bytes; users see JSON values (default) or raw bytes."""

from __future__ import annotations

import json
from typing import Any, Literal, Protocol

CodecName = Literal["json", "bytes"]


class Codec(Protocol):
    def encode(self, value: Any) -> bytes | None: ...
    def decode(self, raw: bytes | None) -> Any: ...


class JsonCodec:
    """Any JSON value. No state, or an empty one (zero bytes, e.g. cleared by a bytes client),
    reads as None; None is stored as JSON ``null``; stored bytes that are not JSON raise
    ``ValueError`` (never read as None). The same rules as Node's (docs/STATE.md)."""

    def encode(self, value: Any) -> bytes | None:
        try:
            return json.dumps(value, separators=(",", ":")).encode()
        except (TypeError, ValueError) as e:
            raise TypeError(
                f"state must be JSON-serialisable with the json codec ({e}); "
                'pass codec="bytes" to store raw bytes'
            ) from e

    def decode(self, raw: bytes | None) -> Any:
        if not raw:
            return None
        try:
            return json.loads(raw)
        except ValueError as e:
            raise ValueError(
                f"the stored state is not JSON ({e}); it was probably written with "
                'codec="bytes", so read it with that codec'
            ) from e


class BytesCodec:
    """Raw bytes; None means no state."""

    def encode(self, value: Any) -> bytes | None:
        if value is None:
            return None
        if isinstance(value, (bytes, bytearray, memoryview)):
            return bytes(value)
        raise TypeError(
            f'state must be bytes or None with codec="bytes", not {type(value).__name__}'
        )

    def decode(self, raw: bytes | None) -> Any:
        return raw


def make_codec(name: str) -> Codec:
    if name == "json":
        return JsonCodec()
    if name == "bytes":
        return BytesCodec()
    if not isinstance(name, str):
        raise TypeError(f"codec must be 'json' or 'bytes', not {type(name).__name__}")
    raise ValueError(f"codec must be 'json' or 'bytes', not {name!r}")
