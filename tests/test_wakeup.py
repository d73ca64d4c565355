"""Long-running loops stop when cancelled, even if a wake-up lands at the same moment."""

from __future__ import annotations

import asyncio
import contextlib

import pytest

from assistant.clock import ManualClock
from assistant.settings import Settings
from assistant.wakeup import raise_if_cancelled
from mailbox.outbound.sender import OutboxSender
from store.store import Store


async def test_a_swallowed_cancellation_is_raised_again() -> None:
    async def swallowing_loop() -> None:
        while True:
            raise_if_cancelled()
            # what asyncio.wait_for (Python < 3.12) can do inside a library:
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.sleep(10)

    task = asyncio.create_task(swallowing_loop())
    await asyncio.sleep(0)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(task, timeout=5)


@pytest.mark.parametrize("turns", [0, 1, 2, 3])
async def test_the_sender_stops_when_cancelled_as_it_is_woken(
    store: Store, settings: Settings, clock: ManualClock, turns: int
) -> None:
    sender = OutboxSender(store, settings, clock, poll_seconds=30)
    task = asyncio.create_task(sender.run())
    await asyncio.sleep(0.2)  # idle, waiting for work
    sender.wake()
    for _ in range(turns):
        await asyncio.sleep(0)
    task.cancel()
    done, _ = await asyncio.wait([task], timeout=5)
    assert done, "the sender kept running after it was cancelled"
    assert task.cancelled()
