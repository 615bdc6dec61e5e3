"""Loop-side helpers of the native awaitables (python/src/runtime.rs): results computed on
the core's threads are handed to the asyncio future here, on the loop's thread."""

from __future__ import annotations

import asyncio
from typing import Any


def resolve(fut: asyncio.Future[Any], value: Any) -> None:
    if not fut.done():  # cancelled meanwhile: the result is dropped
        fut.set_result(value)


def reject(fut: asyncio.Future[Any], exc: BaseException) -> None:
    if not fut.done():
        fut.set_exception(exc)
