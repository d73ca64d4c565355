"""Waiting in the long-running loops: backoff, and never losing a cancellation.

Before Python 3.12, ``asyncio.wait_for`` swallows a cancellation that arrives just as the
awaited thing completes (and libraries such as aiosmtplib use it inside). A loop that only
relies on ``CancelledError`` reaching it may then run forever after shutdown asked it to stop.
The loops call ``raise_if_cancelled`` each round and wait with ``wait_or_timeout``; a
bookkeeping step that must not be cut short runs under ``finish_even_if_cancelled``.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable
from datetime import timedelta


def raise_if_cancelled() -> None:
    """Raise ``CancelledError`` if this task was asked to stop and something swallowed it."""
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError


async def wait_or_timeout(event: asyncio.Event, seconds: float) -> None:
    """Return when ``event`` is set or after ``seconds``; a cancellation always propagates."""
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(seconds):
            await event.wait()
    raise_if_cancelled()


def backoff(failures: int, first: timedelta, cap: timedelta) -> timedelta:
    """Wait after the n-th failure in a row: ``first``, doubling each time, at most ``cap``."""
    return min(first * 2 ** min(max(failures - 1, 0), 20), cap)


async def finish_even_if_cancelled(step: Awaitable[None]) -> None:
    """Run a bookkeeping step to its end even when the caller is cancelled meanwhile."""
    task = asyncio.ensure_future(step)
    try:
        await asyncio.shield(task)
    except asyncio.CancelledError:
        await task
        raise
