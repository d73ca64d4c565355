"""The running sender keeps one SMTP connection, and never lets two accepted mails go unrecorded."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest

from assistant.clock import ManualClock
from assistant.settings import Settings
from mailbox.outbound import sender as outgoing
from mailbox.outbound.sender import OutboxSender
from store.store import Store
from tests.fixtures.smtp import SmtpServer
from tests.test_outgoing import enqueue


@asynccontextmanager
async def running(sender: OutboxSender) -> AsyncIterator[OutboxSender]:
    """``sender.run()`` in a task, cancelled at the end."""
    task = asyncio.create_task(sender.run())
    try:
        yield sender
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task


async def test_one_connection_across_batches_and_wake_ups(
    store: Store, clock: ManualClock, smtp_server: SmtpServer, smtp_settings: Settings
) -> None:
    for number in range(5):
        await enqueue(store, clock, recipient=f"c{number}@example.it")
    sender = OutboxSender(store, smtp_settings, clock, poll_seconds=60, batch_size=2)
    async with running(sender):
        await smtp_server.wait_for(5)  # three batches
        await enqueue(store, clock, recipient="later@example.it")
        sender.wake()
        received = await smtp_server.wait_for(6)
    assert len({mail.peer for mail in received}) == 1


async def test_a_dropped_connection_is_replaced_without_delaying_the_mail(
    store: Store, clock: ManualClock, smtp_server: SmtpServer, smtp_settings: Settings
) -> None:
    await enqueue(store, clock)
    sender = OutboxSender(store, smtp_settings, clock, poll_seconds=60)
    async with running(sender):
        await smtp_server.wait_for(1)
        smtp_server.stop()  # drops our idle connection
        smtp_server.start()
        message_id = await enqueue(store, clock, recipient="later@example.it")
        sender.wake()
        first, second = await smtp_server.wait_for(2)  # the clock did not move: no backoff
    assert first.peer != second.peer
    mail = await store.outbox.by_message_id(message_id)
    assert mail is not None and (mail.status, mail.attempts) == ("sent", 1)


async def test_an_idle_connection_is_closed(
    store: Store,
    clock: ManualClock,
    smtp_server: SmtpServer,
    smtp_settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(outgoing, "IDLE_CLOSE_SECONDS", 0.0)
    await enqueue(store, clock)
    sender = OutboxSender(store, smtp_settings, clock, poll_seconds=0.05)
    async with running(sender):
        await smtp_server.wait_for(1)
        await enqueue(store, clock, recipient="later@example.it")  # found by the next poll
        first, second = await smtp_server.wait_for(2)
    assert first.peer != second.peer  # the first connection was closed meanwhile


async def test_the_next_mail_waits_until_the_previous_one_is_recorded(
    store: Store,
    clock: ManualClock,
    smtp_server: SmtpServer,
    smtp_settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    first = await enqueue(store, clock, recipient="anna@example.it")
    second = await enqueue(store, clock, recipient="carlo@example.it")

    async def killed(*args: Any, **kwargs: Any) -> None:
        await asyncio.sleep(0.05)  # the next envelope is on its way meanwhile
        raise RuntimeError("process killed here")

    monkeypatch.setattr(store.outbox, "mark_sent", killed)
    with pytest.raises(RuntimeError):
        await OutboxSender(store, smtp_settings, clock).send_due()
    monkeypatch.undo()
    assert [m.message()["Message-ID"] for m in smtp_server.messages] == [first]

    assert await OutboxSender(store, smtp_settings, clock).send_due() == 2
    received = smtp_server.messages
    assert [m.message()["Message-ID"] for m in received] == [first, first, second]
    assert received[0].data == received[1].data  # the one mail resent is the same message
