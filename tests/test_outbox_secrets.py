"""A temporary password or a code lives only in the mail that carries it (issue 14, point 1).

Until the server accepts the mail (or refuses it for good) the outbox keeps the secret apart
from the stored body; then it is deleted, its bytes zeroed, and the WAL emptied. These tests
read the database's files byte by byte, as someone with read access to them (or to a backup)
would.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from assistant.clock import ManualClock
from assistant.dialogs.core import Assistant
from assistant.settings import Settings
from mailbox.outbound.sender import OutboxSender
from store.db import Database
from store.outbox import SECRET_MARK
from store.store import Store
from tests.fixtures.commands import run_outbox_retry
from tests.fixtures.customers import KnownCustomers
from tests.fixtures.dialogs import (
    Chat,
    credentials_in,
    login_first_time,
    mails,
    register,
    text,
)
from tests.fixtures.smtp import SmtpServer

pytestmark = pytest.mark.sqlite_only  # reads the SQLite file's bytes (secure_delete)

EMAIL = "mario.rossi@example.it"
NEW_PASSWORD = "Autunno2026x"
LEGACY = (("sent", "Kq7pWz3mRt5x"), ("pending", "Hn4vBc8dLs2y"))  # queued before migration 0007


def database_bytes(path: Path) -> bytes:
    """The database file with its -wal and -shm, as a copy of the folder would hold them."""
    names = (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm"))
    return b"".join(name.read_bytes() for name in names if name.exists())


def holds(path: Path, secret: str) -> bool:
    """Whether the secret appears anywhere in the database's files."""
    return secret.encode() in database_bytes(path)


async def registered(
    assistant: Assistant, customers: KnownCustomers, store: Store
) -> tuple[str, str]:
    """Register the known person; return (username, temporary password) of the queued mail."""
    await register(Chat(assistant), customers.person, EMAIL)
    (mail,) = await mails(store, "temp_password")
    assert mail.status == "pending"
    return credentials_in(mail.body_text)


async def test_a_delivered_temporary_password_is_gone_from_the_database_files(
    assistant: Assistant,
    customers: KnownCustomers,
    store: Store,
    clock: ManualClock,
    smtp_server: SmtpServer,
    smtp_settings: Settings,
) -> None:
    username, password = await registered(assistant, customers, store)
    assert holds(smtp_settings.db_path, password)  # kept until delivery: the test sees it

    assert await OutboxSender(store, smtp_settings, clock).send_due() == 1

    (received,) = smtp_server.messages
    assert credentials_in(received.message().get_content()) == (username, password)
    assert not holds(smtp_settings.db_path, password)
    (mail,) = await mails(store, "temp_password")
    assert mail.status == "sent" and mail.secret == "dropped"
    assert f"Password temporanea: {SECRET_MARK}" in mail.body_text
    chat = Chat(assistant, "200")
    out = await login_first_time(chat, username, password, NEW_PASSWORD)  # the mail's password
    assert "accesso eseguito" in text(out)


async def test_after_an_outage_the_retry_carries_the_same_password_then_drops_it(
    assistant: Assistant,
    customers: KnownCustomers,
    store: Store,
    clock: ManualClock,
    smtp_server: SmtpServer,
    smtp_settings: Settings,
) -> None:
    username, password = await registered(assistant, customers, store)
    smtp_server.stop()
    sender = OutboxSender(store, smtp_settings, clock)
    assert await sender.send_due() == 0
    (waiting,) = await mails(store, "temp_password")
    assert waiting.status == "pending" and waiting.attempts == 1
    assert holds(smtp_settings.db_path, password)  # kept for the next attempt

    smtp_server.start()
    clock.advance(seconds=30)
    assert await sender.send_due() == 1

    (received,) = smtp_server.messages
    assert credentials_in(received.message().get_content()) == (username, password)
    assert not holds(smtp_settings.db_path, password)
    (sent,) = await mails(store, "temp_password")
    assert sent.secret == "dropped"


async def test_a_password_written_to_an_eml_file_is_gone_from_the_database_files(
    assistant: Assistant,
    customers: KnownCustomers,
    store: Store,
    clock: ManualClock,
    settings: Settings,
) -> None:
    _, password = await registered(assistant, customers, store)

    assert await OutboxSender(store, settings, clock).send_due() == 1

    (eml,) = settings.outbox_dir.glob("*.eml")
    assert f"Password temporanea: {password}".encode() in eml.read_bytes()  # the mail has it
    assert not holds(settings.db_path, password)


async def test_a_delivered_verification_code_is_gone_from_the_database_files(
    assistant: Assistant,
    customers: KnownCustomers,
    store: Store,
    clock: ManualClock,
    smtp_server: SmtpServer,
    smtp_settings: Settings,
) -> None:
    username, password = await registered(assistant, customers, store)
    chat = Chat(assistant)
    await login_first_time(chat, username, password, NEW_PASSWORD)
    await chat.press("prof:email")
    await chat.say("mario.nuovo@example.it")
    (mail,) = await mails(store, "verification_code")
    code = re.findall(r"^Codice di verifica: (\d{6})$", mail.body_text, re.M)[0]
    assert holds(smtp_settings.db_path, code)

    assert await OutboxSender(store, smtp_settings, clock).send_due() == 2

    codes = [m.message().get_content() for m in smtp_server.messages]
    assert f"Codice di verifica: {code}\n" in codes[1]
    assert not holds(smtp_settings.db_path, code)
    assert not holds(smtp_settings.db_path, password)
    out = await chat.say(code)  # the code from the mail still works: only its copy is gone
    assert "mario.nuovo@example.it" in text(out)


async def test_a_mail_refused_for_good_loses_its_password_and_staff_cannot_requeue_it(
    assistant: Assistant,
    customers: KnownCustomers,
    store: Store,
    clock: ManualClock,
    smtp_server: SmtpServer,
    smtp_settings: Settings,
    capsys: pytest.CaptureFixture[str],
) -> None:
    _, password = await registered(assistant, customers, store)
    smtp_server.refuse(EMAIL, "550 5.1.1 no such user")

    assert await OutboxSender(store, smtp_settings, clock).send_due() == 0

    (failed,) = await mails(store, "temp_password")
    assert failed.status == "failed"
    assert not holds(smtp_settings.db_path, password)
    assert failed.secret == "dropped"
    smtp_server.handler.refused.clear()  # the mailbox exists now
    assert await run_outbox_retry(smtp_settings, [failed.id], clock=clock) == 1
    out = capsys.readouterr().out
    assert f"{failed.id}: not queued again" in out and "/recupero" in out
    assert await OutboxSender(store, smtp_settings, clock).send_due() == 0
    assert smtp_server.messages == []  # never a credentials mail without its password
    again = await store.outbox.get(failed.id)
    assert again is not None and again.status == "failed"


async def test_mails_queued_before_the_upgrade_lose_their_secret_too(
    tmp_path: Path, clock: ManualClock, smtp_server: SmtpServer, settings: Settings
) -> None:
    path = tmp_path / "old.db"
    old = await Database.open(path, upto=6)
    body = "Gentile Cliente,\n\nNome utente: ac12345678\nPassword temporanea: {}\n\nSaluti\n"
    at = datetime(2026, 1, 15, 8, 0, tzinfo=UTC).isoformat()
    async with old.transaction():
        for n, (status, password) in enumerate(LEGACY):
            await old.execute(
                "INSERT INTO outbox (message_id, kind, recipient, subject, body_text, status,"
                " next_attempt_at, created_at) VALUES (?, 'temp_password', ?, 'Credenziali', ?,"
                " ?, ?, ?)",
                (f"<old{n}@test>", EMAIL, body.format(password), status, at, at),
            )
    await old.close()

    store = await Store.open(path)
    try:
        sent, pending = reversed(await store.outbox.list())
        assert "Kq7pWz3mRt5x" not in sent.body_text and sent.secret == "dropped"
        assert pending.body_text == body.format("Hn4vBc8dLs2y") and pending.secret == "held"
        settings_here = smtp_server.settings_for(settings)
        assert await OutboxSender(store, settings_here, clock).send_due() == 1
        (received,) = smtp_server.messages
        assert "Password temporanea: Hn4vBc8dLs2y\n" in received.message().get_content()
        assert not holds(path, "Hn4vBc8dLs2y")
        assert not holds(path, "Kq7pWz3mRt5x")
    finally:
        await store.close()


async def test_the_database_overwrites_what_it_deletes(store: Store) -> None:
    """``secure_delete`` whatever SQLite's build default (Debian builds it in, others do not):
    without it, a deleted secret can stay in free space, e.g. where a page split moved it."""
    row = await store.db.fetchone("PRAGMA secure_delete")
    assert row is not None and row[0] == 1
