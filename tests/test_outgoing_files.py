"""Without SMTP_HOST the outbox becomes ``.eml`` files; the staff listing; unbuildable rows."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from typing import Any, cast

import pytest

from assistant.clock import ManualClock
from assistant.settings import Settings
from mailbox.outbound.compose import build_message
from mailbox.outbound.sender import OutboxSender
from store.records import OutboxMail
from store.store import Store
from tests.fixtures.commands import run_outbox_listing
from tests.test_outgoing import BODY, CUSTOMER, SUBJECT, enqueue


def read_eml(path: Path) -> EmailMessage:
    """One file parsed the way a mail client would."""
    return cast(EmailMessage, BytesParser(policy=policy.default).parsebytes(path.read_bytes()))


async def test_writes_one_valid_eml_file_per_mail(
    store: Store, clock: ManualClock, settings: Settings
) -> None:
    ids = [await enqueue(store, clock), await enqueue(store, clock, kind="temp_password")]
    sender = OutboxSender(store, settings, clock)

    assert await sender.send_due() == 2
    assert await sender.send_due() == 0

    files = sorted(settings.outbox_dir.iterdir())
    assert [path.suffix for path in files] == [".eml", ".eml"]  # and no temporary file left
    assert "temp_password" in files[1].name
    for path, message_id in zip(files, ids, strict=True):
        message = read_eml(path)
        assert message["Message-ID"] == message_id
        assert message["Subject"] == SUBJECT
        assert message["To"] == CUSTOMER
        assert message["Auto-Submitted"] == "auto-generated"
        body = message.get_body(("plain",))
        assert body is not None and body.get_content() == BODY
    mail = await store.outbox.by_message_id(ids[0])
    assert mail is not None and mail.status == "sent"


async def test_rewriting_after_a_crash_replaces_the_same_file(
    store: Store, clock: ManualClock, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    await enqueue(store, clock)

    async def killed(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("process killed here")

    monkeypatch.setattr(store.outbox, "mark_sent", killed)
    with pytest.raises(RuntimeError):
        await OutboxSender(store, settings, clock).send_due()
    monkeypatch.undo()
    assert await OutboxSender(store, settings, clock).send_due() == 1

    assert len(list(settings.outbox_dir.iterdir())) == 1


async def test_unfinished_temporary_files_are_swept_at_start(
    store: Store, clock: ManualClock, settings: Settings
) -> None:
    settings.outbox_dir.mkdir(parents=True)
    stale = settings.outbox_dir / ".000001-notice-x@test.eml.k3j2.tmp"
    stale.write_bytes(b"Subject: half")
    sender = OutboxSender(store, settings, clock)
    task = asyncio.create_task(sender.run())
    try:
        await enqueue(store, clock)
        sender.wake()
        for _ in range(250):  # until the first file is written (at most 5 s)
            if any(p.suffix == ".eml" for p in settings.outbox_dir.iterdir()):
                break
            await asyncio.sleep(0.02)
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    assert [p.suffix for p in settings.outbox_dir.iterdir()] == [".eml"]


async def test_a_row_that_cannot_make_a_message_fails_without_blocking_the_rest(
    store: Store, clock: ManualClock, settings: Settings
) -> None:
    bad = await enqueue(store, clock, headers={"References": "<a@b>\r\nBcc: x@evil.example"})
    good = await enqueue(store, clock)

    assert await OutboxSender(store, settings, clock).send_due() == 1

    failed = await store.outbox.by_message_id(bad)
    sent = await store.outbox.by_message_id(good)
    assert failed is not None and failed.status == "failed"
    assert failed.last_error is not None and "cannot build" in failed.last_error
    assert sent is not None and sent.status == "sent"


async def test_listing_shows_every_status_with_masked_recipients(
    store: Store, clock: ManualClock, settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    assert await run_outbox_listing(settings, failed_only=False) == 0
    assert "empty" in capsys.readouterr().out

    await enqueue(store, clock)
    await OutboxSender(store, settings, clock).send_due()
    await enqueue(store, clock, kind="verification_code", recipient="giulia@example.it")

    assert await run_outbox_listing(settings, failed_only=False) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split()[:3] == ["ID", "CREATED", "(UTC)"]
    assert lines[1].split()[:3] == ["2", "2026-01-15", "09:00"]
    assert (
        "verification_code" in lines[1] and "pending" in lines[1] and "g***@example.it" in lines[1]
    )
    assert "notice" in lines[2] and "sent" in lines[2] and "m***@example.it" in lines[2]
    assert "giulia@" not in "\n".join(lines) and "mario.rossi@" not in "\n".join(lines)

    assert await run_outbox_listing(settings, failed_only=True) == 0
    assert "no failed e-mails" in capsys.readouterr().out


def test_build_message_is_the_same_every_time(settings: Settings) -> None:
    mail = OutboxMail(
        id=7,
        message_id="<1.2.3@test.areaclienti>",
        dedup_key=None,
        kind="notice",
        recipient=CUSTOMER,
        subject=SUBJECT,
        body_text=BODY,
        body_html=None,
        headers={},
        status="pending",
        attempts=0,
        next_attempt_at=datetime(2026, 1, 15, tzinfo=UTC),
        last_error=None,
        created_at=datetime(2026, 1, 15, tzinfo=UTC),
        sent_at=None,
    )
    assert build_message(mail, settings).as_bytes() == build_message(mail, settings).as_bytes()
