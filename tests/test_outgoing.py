"""The outbox sender against a real SMTP server (aiosmtpd) and a real SQLite file."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import subprocess
import sys
from datetime import timedelta
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

import pytest

from assistant.clock import ManualClock, iso
from assistant.settings import Settings
from mailbox.outbound.sender import MAX_RETRY, OutboxSender
from store.store import Store
from tests.fixtures.commands import run_outbox_listing, run_outbox_retry
from tests.fixtures.smtp import SmtpServer

CUSTOMER = "mario.rossi@example.it"
SUBJECT = "La sua fattura è disponibile – perché così?"
BODY = "Gentile cliente,\nla password temporanea è Xy7-segreta.\nCordiali saluti\n"


async def enqueue(store: Store, clock: ManualClock, **overrides: Any) -> str:
    """Queue one mail with accented text; return its Message-ID."""
    fields: dict[str, Any] = {
        "kind": "notice",
        "recipient": CUSTOMER,
        "subject": SUBJECT,
        "body_text": BODY,
        "now": clock.now(),
    }
    fields.update(overrides)
    message_id = await store.outbox.enqueue(**fields)
    assert message_id is not None
    return message_id


async def test_delivers_with_proper_headers(
    store: Store, clock: ManualClock, smtp_server: SmtpServer, smtp_settings: Settings
) -> None:
    message_id = await enqueue(
        store,
        clock,
        body_html="<p>La sua fattura è <b>disponibile</b></p>",
        headers={"In-Reply-To": "<q1@example.it>", "References": "<q1@example.it>"},
    )
    sender = OutboxSender(store, smtp_settings, clock)

    assert await sender.send_due() == 1

    [received] = smtp_server.messages
    assert received.mail_from == smtp_settings.mail_from_address
    assert received.rcpt_tos == (CUSTOMER,)
    raw_headers = received.data.split(b"\r\n\r\n", 1)[0]
    assert raw_headers.isascii()  # the accented subject travels RFC 2047-encoded
    message = received.message()
    assert message["Message-ID"] == message_id
    assert message["Subject"] == SUBJECT
    assert message["From"] == smtp_settings.mail_from
    assert message["To"] == CUSTOMER
    assert message["Auto-Submitted"] == "auto-generated"
    assert message["In-Reply-To"] == "<q1@example.it>"
    assert message["References"] == "<q1@example.it>"
    assert parsedate_to_datetime(message["Date"]) == clock.now()
    plain = message.get_body(("plain",))
    html = message.get_body(("html",))
    assert plain is not None and html is not None
    assert plain.get_content_charset() == "utf-8"
    assert plain.get_content() == BODY
    assert "è <b>disponibile</b>" in html.get_content()

    mail = await store.outbox.by_message_id(message_id)
    assert mail is not None
    assert (mail.status, mail.attempts, mail.sent_at) == ("sent", 1, clock.now())
    assert await sender.send_due() == 0
    assert len(smtp_server.messages) == 1


async def test_row_headers_override_auto_submitted_and_cannot_replace_core_headers(
    store: Store, clock: ManualClock, smtp_server: SmtpServer, smtp_settings: Settings
) -> None:
    answer_id = await enqueue(
        store, clock, headers={"Auto-Submitted": "auto-replied", "From": "x@evil.example"}
    )
    staff_id = await enqueue(store, clock, kind="staff_reply", headers={"Auto-Submitted": ""})

    assert await OutboxSender(store, smtp_settings, clock).send_due() == 2

    by_id = {m.message()["Message-ID"]: m.message() for m in smtp_server.messages}
    assert by_id[answer_id]["Auto-Submitted"] == "auto-replied"
    assert by_id[answer_id]["From"] == smtp_settings.mail_from
    assert "Auto-Submitted" not in by_id[staff_id]


async def test_waits_out_an_hour_long_outage_then_delivers_once(
    store: Store, clock: ManualClock, smtp_server: SmtpServer, smtp_settings: Settings
) -> None:
    smtp_server.stop()
    message_id = await enqueue(store, clock)
    sender = OutboxSender(store, smtp_settings, clock)
    started = clock.now()
    delays = []
    while clock.now() - started < timedelta(hours=1):
        before = clock.now()
        assert await sender.send_due() == 0
        mail = await store.outbox.by_message_id(message_id)
        assert mail is not None and mail.status == "pending" and mail.last_error
        delays.append(mail.next_attempt_at - before)
        clock.advance(seconds=(mail.next_attempt_at - clock.now()).total_seconds())

    assert delays[:3] == [timedelta(seconds=30), timedelta(seconds=60), timedelta(seconds=120)]
    assert max(delays) == MAX_RETRY
    assert mail.attempts == len(delays)

    smtp_server.start()
    clock.advance(seconds=-1)
    assert await sender.send_due() == 0  # not due yet: the backoff is respected
    clock.advance(seconds=1)
    assert await sender.send_due() == 1
    assert await sender.send_due() == 0
    [received] = smtp_server.messages
    assert received.message()["Message-ID"] == message_id


async def test_temporary_refusal_is_retried(
    store: Store, clock: ManualClock, smtp_server: SmtpServer, smtp_settings: Settings
) -> None:
    message_id = await enqueue(store, clock)
    sender = OutboxSender(store, smtp_settings, clock)
    smtp_server.data_reply = "451 4.3.0 Temporary local problem"

    assert await sender.send_due() == 0
    mail = await store.outbox.by_message_id(message_id)
    assert mail is not None and mail.status == "pending" and "451" in (mail.last_error or "")

    smtp_server.data_reply = None
    clock.advance(seconds=30)
    assert await sender.send_due() == 1
    assert len(smtp_server.messages) == 1


async def test_message_refused_for_good_is_failed(
    store: Store, clock: ManualClock, smtp_server: SmtpServer, smtp_settings: Settings
) -> None:
    message_id = await enqueue(store, clock)
    smtp_server.data_reply = "554 5.7.1 Message rejected as spam"

    assert await OutboxSender(store, smtp_settings, clock).send_due() == 0

    mail = await store.outbox.by_message_id(message_id)
    assert mail is not None and mail.status == "failed" and "554 5.7.1" in (mail.last_error or "")


async def test_refused_recipient_fails_alone_and_is_listed(
    store: Store,
    clock: ManualClock,
    smtp_server: SmtpServer,
    smtp_settings: Settings,
    capsys: pytest.CaptureFixture[str],
) -> None:
    first = await enqueue(store, clock, recipient="anna@example.it")
    refused = await enqueue(store, clock, recipient="nobody@example.it")
    last = await enqueue(store, clock, recipient="carlo@example.it")
    smtp_server.refuse("nobody@example.it", "550 5.1.1 <nobody@example.it>: no such user")

    assert await OutboxSender(store, smtp_settings, clock).send_due() == 2

    received = smtp_server.messages
    assert [m.message()["Message-ID"] for m in received] == [first, last]
    assert received[0].peer == received[1].peer  # one connection for the batch
    failed = await store.outbox.by_message_id(refused)
    assert failed is not None and failed.status == "failed"
    assert failed.last_error is not None and "550" in failed.last_error
    assert "nobody@" not in failed.last_error

    clock.advance(hours=2)
    assert await OutboxSender(store, smtp_settings, clock).send_due() == 0  # never retried

    assert await run_outbox_listing(smtp_settings, failed_only=True) == 0
    listing = capsys.readouterr().out
    assert f"{failed.id}  " in listing and "failed" in listing and "n***@example.it" in listing
    assert "550 5.1.1" in listing
    assert "nobody@example.it" not in listing
    assert "anna" not in listing  # only the failed ones


async def test_staff_can_queue_a_failed_mail_again_once_the_cause_is_fixed(
    store: Store,
    clock: ManualClock,
    smtp_server: SmtpServer,
    smtp_settings: Settings,
    capsys: pytest.CaptureFixture[str],
) -> None:
    refused = await enqueue(store, clock, recipient="nobody@example.it")
    sent = await enqueue(store, clock, recipient="anna@example.it")
    smtp_server.refuse("nobody@example.it", "550 5.1.1 no such user")
    assert await OutboxSender(store, smtp_settings, clock).send_due() == 1
    failed = await store.outbox.by_message_id(refused)
    delivered = await store.outbox.by_message_id(sent)
    assert failed is not None and failed.status == "failed" and delivered is not None

    smtp_server.handler.refused.clear()  # the mailbox exists now
    assert await run_outbox_retry(smtp_settings, [failed.id, delivered.id], clock=clock) == 1
    out = capsys.readouterr().out
    assert f"{failed.id}: queued again" in out and f"{delivered.id}: not a failed" in out

    assert await OutboxSender(store, smtp_settings, clock).send_due() == 1
    again = await store.outbox.by_message_id(refused)
    assert again is not None and again.status == "sent"
    assert [m.message()["Message-ID"] for m in smtp_server.messages] == [sent, refused]


async def test_nothing_lost_across_a_restart(
    settings: Settings, clock: ManualClock, smtp_server: SmtpServer, smtp_settings: Settings
) -> None:
    store = await Store.open(settings.db_target)
    message_id = await enqueue(store, clock)
    smtp_server.stop()
    assert await OutboxSender(store, smtp_settings, clock).send_due() == 0
    await store.close()

    smtp_server.start()
    clock.advance(minutes=1)
    reopened = await Store.open(settings.db_target)
    try:
        assert await OutboxSender(reopened, smtp_settings, clock).send_due() == 1
        assert await OutboxSender(reopened, smtp_settings, clock).send_due() == 0
    finally:
        await reopened.close()
    [received] = smtp_server.messages
    assert received.message()["Message-ID"] == message_id


async def test_kill_between_acceptance_and_bookkeeping_resends_the_same_message(
    store: Store,
    clock: ManualClock,
    smtp_server: SmtpServer,
    smtp_settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    message_id = await enqueue(store, clock)

    async def killed(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("process killed here")

    monkeypatch.setattr(store.outbox, "mark_sent", killed)
    with pytest.raises(RuntimeError):
        await OutboxSender(store, smtp_settings, clock).send_due()
    monkeypatch.undo()

    assert await OutboxSender(store, smtp_settings, clock).send_due() == 1
    first, second = smtp_server.messages
    assert first.message()["Message-ID"] == second.message()["Message-ID"] == message_id
    assert first.data == second.data


async def test_running_sender_picks_up_mail_queued_by_another_process(
    settings: Settings, store: Store, clock: ManualClock, smtp_server: SmtpServer
) -> None:
    sender = OutboxSender(store, smtp_server.settings_for(settings), clock)
    task = asyncio.create_task(sender.run())
    script = (
        "import asyncio, sys\n"
        "from assistant.clock import parse_iso\n"
        "from store.store import Store\n"
        "async def main():\n"
        "    store = await Store.open(sys.argv[1])\n"  # a file's path or a postgresql:// URL
        "    await store.outbox.enqueue(kind='notice', recipient='a@example.it',\n"
        "        subject='Pubblicata', body_text='Nuova fattura', now=parse_iso(sys.argv[2]))\n"
        "    await store.close()\n"
        "asyncio.run(main())\n"
    )
    try:
        await asyncio.to_thread(
            subprocess.run,
            [sys.executable, "-c", script, str(settings.db_target), iso(clock.now())],
            check=True,
            cwd=Path(__file__).resolve().parent.parent,
        )
        [received] = await smtp_server.wait_for(1, timeout=5)
        assert received.message()["Subject"] == "Pubblicata"
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task


async def test_wake_delivers_at_once(
    store: Store, clock: ManualClock, smtp_server: SmtpServer, smtp_settings: Settings
) -> None:
    sender = OutboxSender(store, smtp_settings, clock, poll_seconds=60)
    await enqueue(store, clock)
    task = asyncio.create_task(sender.run())
    try:
        await smtp_server.wait_for(1, timeout=5)  # its first pass; now idle for 60 s
        await enqueue(store, clock)
        sender.wake()
        await smtp_server.wait_for(2, timeout=5)
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task


async def test_logs_name_ids_never_addresses_or_bodies(
    store: Store,
    clock: ManualClock,
    smtp_server: SmtpServer,
    smtp_settings: Settings,
    caplog_all: pytest.LogCaptureFixture,
) -> None:
    await enqueue(store, clock)
    await enqueue(store, clock, recipient="nobody@example.it")
    smtp_server.refuse("nobody@example.it", "550 5.1.1 <nobody@example.it>: no such user")
    await OutboxSender(store, smtp_settings, clock).send_due()
    smtp_server.stop()
    await enqueue(store, clock, recipient="later@example.it")
    await OutboxSender(store, smtp_settings, clock).send_due()

    ours = [r for r in caplog_all.records if r.name.startswith(("mailbox", "store"))]
    text = "\n".join(record.getMessage() for record in ours)
    assert "outbox 1 (notice) sent" in text
    assert "outbox 2 (notice) failed permanently" in text
    assert any(r.levelno == logging.WARNING for r in ours)  # the outage
    for secret in ("example.it", "Xy7-segreta", "mario", "nobody", "later"):
        assert secret not in text


@pytest.mark.sqlite_only  # another sqlite3 connection holds the write lock
async def test_a_database_locked_by_another_process_does_not_cause_a_second_send(
    settings: Settings,
    store: Store,
    clock: ManualClock,
    smtp_server: SmtpServer,
    smtp_settings: Settings,
    caplog_all: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    await enqueue(store, clock)
    await store.db.execute("PRAGMA busy_timeout = 50")
    # e.g. a long `publish`, starting the moment the server has the mail (the sender claimed
    # the row before sending: a write, which waits for a lock taken earlier)
    importer = sqlite3.connect(settings.db_path, isolation_level=None, check_same_thread=False)
    accept = smtp_server.handler.handle_DATA

    async def lock_then_accept(*args: Any) -> str:
        importer.execute("BEGIN IMMEDIATE")
        return await accept(*args)

    monkeypatch.setattr(smtp_server.handler, "handle_DATA", lock_then_accept)
    try:
        delivery = asyncio.create_task(OutboxSender(store, smtp_settings, clock).send_due())
        await smtp_server.wait_for(1)
        for _ in range(250):  # until recording it has failed once (at most 5 s)
            if "database busy" in caplog_all.text:
                break
            await asyncio.sleep(0.02)
        assert not delivery.done()
    finally:
        importer.rollback()
        importer.close()
    assert await asyncio.wait_for(delivery, timeout=5) == 1
    assert await OutboxSender(store, smtp_settings, clock).send_due() == 0
    assert len(smtp_server.messages) == 1
