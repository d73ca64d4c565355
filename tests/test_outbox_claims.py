"""A queued row is claimed before it is sent (issue 14, point 3): two senders on one database
never send the same mail or chat notice twice, and a killed sender's rows are taken over once
its claims lapse.

The senders here share nothing but the SQLite file (two ``Store``s: two connections, as two
processes have); the kill is a real ``main.py chat`` process ended with SIGKILL mid-batch.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from assistant.clock import ManualClock
from assistant.notice_delivery import Pacing, TelegramNoticeSender
from assistant.settings import Settings
from bot.telegram_render import TELEGRAM_PACING
from mailbox.outbound.sender import LEASE, OutboxSender
from store.notices import NewTelegramNotice
from store.store import Store
from tests.fixtures.area_data import AreaData
from tests.fixtures.smtp import RecordingHandler, SmtpServer
from tests.fixtures.telegram import TelegramHarness

ROOT = Path(__file__).resolve().parent.parent
MAILS = 300


async def queue_mails(store: Store, now: datetime, count: int = MAILS) -> list[str]:
    """``count`` notice mails, due at ``now``; their Message-IDs in queue order."""
    ids = []
    for n in range(count):
        message_id = await store.outbox.enqueue(
            kind="notice", recipient=f"cliente{n}@example.it", subject=f"Avviso {n}",
            body_text=f"Nuova fattura {n}.\n", now=now,
        )  # fmt: skip
        assert message_id is not None
        ids.append(message_id)
    return ids


def received_ids(server: SmtpServer) -> list[str]:
    """The Message-ID of every message the server accepted, in arrival order."""
    return [str(m.message()["Message-ID"]) for m in server.messages]


async def test_two_senders_on_one_database_send_each_mail_once(
    settings: Settings, clock: ManualClock, smtp_server: SmtpServer
) -> None:
    first = await Store.open(settings.db_target, message_id_domain="test.areaclienti")
    second = await Store.open(settings.db_target, message_id_domain="test.areaclienti")
    smtp = smtp_server.settings_for(settings)
    tasks = []
    try:
        queued = await queue_mails(first, clock.now())
        senders = [
            OutboxSender(store, smtp, clock, batch_size=40, poll_seconds=0.05)
            for store in (first, second)
        ]
        tasks = [asyncio.create_task(sender.run()) for sender in senders]
        await smtp_server.wait_for(MAILS, timeout=60)
        await asyncio.sleep(1.0)  # time for a second copy of anything to arrive
    finally:
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await first.close()
        await second.close()

    arrived = Counter(received_ids(smtp_server))
    assert [message_id for message_id, n in arrived.items() if n > 1] == []
    assert sorted(arrived) == sorted(queued)
    peers = {m.peer for m in smtp_server.messages}
    assert len(peers) >= 2  # both senders did deliver


class StallingHandler(RecordingHandler):
    """Accepts mail, but holds the ``stall_at``-th DATA unanswered until released (then refuses
    it with a 451, as a server whose client went away would never have accepted it)."""

    def __init__(self, stall_at: int) -> None:
        super().__init__()
        self.stall_at = stall_at
        self.calls = 0
        self.stalled = threading.Event()
        self.release = threading.Event()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        """Record, or stall the one DATA the test waits in."""
        self.calls += 1
        if self.calls != self.stall_at:
            return await super().handle_DATA(server, session, envelope)
        self.stalled.set()
        while not self.release.is_set():
            await asyncio.sleep(0.05)
        return "451 4.3.0 Try again later"


@pytest.fixture
def stalling_server() -> Any:
    """An SMTP server that stalls in its 21st DATA."""
    server = SmtpServer()
    server.handler = StallingHandler(stall_at=21)
    server.start()
    yield server
    server.handler.release.set()
    server.stop()


async def test_a_sender_killed_mid_batch_leaves_its_rows_to_another_after_the_lease(
    settings: Settings, stalling_server: SmtpServer, tmp_path: Path
) -> None:
    now = datetime.now(UTC) - timedelta(minutes=1)
    store = await Store.open(settings.db_target, message_id_domain="test.areaclienti")
    try:
        queued = await queue_mails(store, now)
    finally:
        await store.close()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "IMAP_"))}
    env.update(
        AREACLIENTI_DB=str(settings.db_target), AREACLIENTI_DATA_DIR=str(settings.data_dir),
        OUTBOX_DIR=str(settings.outbox_dir), SMTP_HOST=stalling_server.host,
        SMTP_PORT=str(stalling_server.port), SMTP_SECURITY="none",
    )  # fmt: skip
    service = subprocess.Popen(
        [sys.executable, str(ROOT / "main.py"), "chat"],
        env=env, cwd=tmp_path, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )  # fmt: skip
    handler = stalling_server.handler
    assert isinstance(handler, StallingHandler)
    try:
        deadline = time.monotonic() + 120
        while not handler.stalled.is_set():  # 20 mails in, the 21st on the wire
            assert service.poll() is None, service.stderr.read() if service.stderr else ""
            assert time.monotonic() < deadline, "the service never reached its 21st mail"
            await asyncio.sleep(0.05)
        os.kill(service.pid, signal.SIGKILL)  # mid-batch: it had claimed the first 200
        service.wait(timeout=30)
    finally:
        if service.poll() is None:
            service.kill()
            service.wait()
        if service.stderr:
            service.stderr.close()
        if service.stdin:
            service.stdin.close()
    before = received_ids(stalling_server)
    assert before == queued[:20]

    clock = ManualClock(datetime.now(UTC))
    other = await Store.open(settings.db_target, message_id_domain="test.areaclienti")
    try:
        sender = OutboxSender(other, stalling_server.settings_for(settings), clock)
        assert await sender.send_due() == 100  # the rows nobody had claimed
        assert received_ids(stalling_server)[20:] == queued[200:]
        assert await sender.send_due() == 0  # the killed sender's claims still hold

        clock.advance(seconds=LEASE.total_seconds() + 1)
        assert await sender.send_due() == 180  # its claims lapsed: taken over
        assert await sender.send_due() == 0
    finally:
        await other.close()
    arrived = received_ids(stalling_server)
    assert sorted(arrived) == sorted(queued)  # each once: the stalled one was never accepted
    assert len(arrived) == len(set(arrived))


async def test_two_notice_senders_on_one_database_send_each_chat_message_once(
    telegram: TelegramHarness, area: AreaData, clock: ManualClock, settings: Settings
) -> None:
    customer = await area.customer()
    chats = [str(7000 + n) for n in range(40)]
    assert telegram.store is not None
    await telegram.store.notices.enqueue_telegram(
        [
            NewTelegramNotice(f"notice-{chat}-{n}", chat, customer, f"Avviso {n} per {chat}", ())
            for n in range(3)
            for chat in chats
        ],
        clock.now(),
    )
    assert telegram.front is not None
    fast: Pacing = dataclasses.replace(TELEGRAM_PACING, per_second=500, chat_interval_seconds=0)
    stores = [await Store.open(settings.db_target) for _ in range(2)]
    try:
        senders = [
            TelegramNoticeSender(store, telegram.front.notifier(), clock, pacing=fast)
            for store in stores
        ]
        sent = await asyncio.gather(*(sender.send_due() for sender in senders))
        for _ in range(10):  # what one skipped (the other held its chat) is due again now
            sent.extend(await asyncio.gather(*(sender.send_due() for sender in senders)))
    finally:
        for store in stores:
            await store.close()

    texts = Counter(call.text for call in telegram.api.sent())
    assert [text for text, n in texts.items() if n > 1] == []
    assert len(texts) == 3 * len(chats) == sum(sent)
