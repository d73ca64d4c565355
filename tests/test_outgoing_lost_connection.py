"""A database connection lost right after the SMTP server accepted a mail (PostgreSQL
restarting, a connection cut) does not send the mail again: the sender retries recording it as
sent on a fresh connection, for up to ``RECORD_RETRY_SECONDS``.

The loss is real: the statement that records the mail waits on a row lock another connection
holds, and PostgreSQL ends its backend (``pg_terminate_backend``, what a restart does to every
connection). The PostgreSQL leg only (``AREACLIENTI_TEST_BACKEND=postgresql``).
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from assistant.clock import ManualClock
from assistant.settings import Settings
from mailbox.outbound.sender import LEASE, OutboxSender
from store.store import Store
from tests.fixtures.smtp import SmtpServer
from tests.test_outbox_claims import queue_mails, received_ids

pytestmark = [
    pytest.mark.postgresql,
    pytest.mark.skipif(
        os.environ.get("AREACLIENTI_TEST_BACKEND", "").strip().lower() != "postgresql",
        reason="a lost server connection: PostgreSQL only (AREACLIENTI_TEST_BACKEND=postgresql)",
    ),
]

WAITING_ON_A_LOCK = (
    "SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
    " AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()"
)


async def end_the_waiting_backend(url: str, timeout: float = 30) -> None:
    """Wait until a statement waits on a lock, then end its connection, as a restart does."""
    deadline = time.monotonic() + timeout
    async with await psycopg.AsyncConnection.connect(url, autocommit=True) as admin:
        while True:
            cursor = await admin.execute(
                f"SELECT pg_terminate_backend(pid) FROM ({WAITING_ON_A_LOCK}) AS waiting"
            )
            if any(row[0] for row in await cursor.fetchall()):
                return
            assert time.monotonic() < deadline, "nothing waited on the row lock"
            await asyncio.sleep(0.02)


async def test_a_mail_whose_record_loses_its_connection_is_recorded_and_not_sent_again(
    settings: Settings, smtp_server: SmtpServer, caplog: pytest.LogCaptureFixture
) -> None:
    assert settings.db_url is not None
    clock = ManualClock(datetime.now(UTC))
    store = await Store.open(settings.db_url, message_id_domain="test.areaclienti")
    try:
        [queued] = await queue_mails(store, clock.now() - timedelta(minutes=1), count=1)
        [mail] = await store.outbox.list(status="pending")
        sender = OutboxSender(store, smtp_server.settings_for(settings), clock)
        async with await psycopg.AsyncConnection.connect(settings.db_url) as holder:
            await holder.execute(  # the row stays as it is; recording it sent must wait
                "SELECT id FROM outbox WHERE id = %s FOR NO KEY UPDATE", (mail.id,)
            )
            with caplog.at_level(logging.WARNING, logger="mailbox.outbound.sender"):
                sending = asyncio.create_task(sender.send_due())
                await smtp_server.wait_for(1, timeout=30)  # accepted by the server
                await end_the_waiting_backend(settings.db_url)
                await asyncio.sleep(0.5)  # the record is retried on a new connection, and waits
                await holder.rollback()
                assert await asyncio.wait_for(sending, timeout=30) == 1
        assert [r.getMessage() for r in caplog.records if "not recorded" in r.getMessage()]

        assert [m.id for m in await store.outbox.list(status="sent")] == [mail.id]
        clock.advance(seconds=LEASE.total_seconds() + 1)  # any claim it held has lapsed
        assert await sender.send_due() == 0
    finally:
        await store.close()
    assert received_ids(smtp_server) == [queued]  # once
