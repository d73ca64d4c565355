"""A database another process keeps write-locked (issue 14, point 8): reading commands do not
write and so are not held up, writing ones stop with a clear message, and a chat turn keeps
the customer's place in the flow."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from assistant.dialogs.core import Assistant
from assistant.settings import Settings
from assistant.texts import Texts
from assistant.tickets import TicketService
from store.db import Database
from store.store import Store
from tests.fixtures.customers import KnownCustomers
from tests.fixtures.dialogs import Chat, text

pytestmark = pytest.mark.sqlite_only  # another sqlite3 connection holds the write lock

ROOT = Path(__file__).resolve().parent.parent
BUSY = "busy: another process holds a write lock; try again"


def _env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "SMTP_", "IMAP_"))}
    env.update(
        AREACLIENTI_DB=str(tmp_path / "var" / "areaclienti.db"),
        AREACLIENTI_DATA_DIR=str(tmp_path / "var"),
        OUTBOX_DIR=str(tmp_path / "var" / "outbox"),
        DB_BUSY_TIMEOUT_SECONDS="1",
    )
    return env


def _main(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(ROOT / "main.py"), *args],
        env=_env(tmp_path), cwd=tmp_path, stdin=subprocess.DEVNULL, capture_output=True,
        text=True, timeout=60,
    )  # fmt: skip


async def _a_ticket(tmp_path: Path) -> str:
    settings = Settings.from_environ(_env(tmp_path))
    store = await Store.open(settings.db_path)
    try:
        service = TicketService(store, Texts(settings.templates_dir), settings)
        ticket = await service.open_ticket(
            channel="email",
            contact="cliente@example.it",
            customer_id=None,
            subject="Fattura di marzo",
            text="Non trovo la fattura di marzo.",
            language="it",
            now=datetime(2026, 3, 2, 9, 0, tzinfo=UTC),
        )
    finally:
        await store.close()
    return ticket.reference


@pytest.fixture
def write_lock(tmp_path: Path) -> Iterator[sqlite3.Connection]:
    """Another process's connection holding the database's write lock (BEGIN IMMEDIATE)."""
    other = sqlite3.connect(tmp_path / "var" / "areaclienti.db", isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        yield other
    finally:
        other.rollback()
        other.close()


@pytest.fixture
def reference(tmp_path: Path) -> str:
    """A ticket in the database, made before the lock is taken."""
    return asyncio.run(_a_ticket(tmp_path))


def test_reading_commands_run_beside_a_held_write_lock(
    tmp_path: Path, reference: str, write_lock: sqlite3.Connection
) -> None:
    for args, expected in (
        (["tickets", "list"], reference),
        (["tickets", "show", reference], "Non trovo la fattura di marzo."),
        (["outbox"], ""),
    ):
        started = time.monotonic()
        done = _main(tmp_path, *args)
        assert done.returncode == 0, (args, done.stderr)
        assert expected in done.stdout and "Traceback" not in done.stderr
        assert time.monotonic() - started < 20  # nothing waited for the lock


def test_a_writing_command_under_a_held_write_lock_says_busy_and_exits_non_zero(
    tmp_path: Path, reference: str, write_lock: sqlite3.Connection
) -> None:
    started = time.monotonic()
    done = _main(tmp_path, "tickets", "close", reference)
    assert done.returncode == 1
    assert f"{tmp_path / 'var' / 'areaclienti.db'}: {BUSY}" in done.stderr
    assert "Traceback" not in done.stdout + done.stderr
    assert time.monotonic() - started < 20  # the busy timeout was 1 s: no hang
    write_lock.rollback()
    assert _main(tmp_path, "tickets", "close", reference).returncode == 0  # free again


def test_a_migration_due_under_a_held_write_lock_says_busy(tmp_path: Path) -> None:
    path = tmp_path / "var" / "areaclienti.db"

    async def old_file() -> None:
        await (await Database.open(path, upto=1)).close()

    asyncio.run(old_file())
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        done = _main(tmp_path, "outbox")
    finally:
        other.rollback()
        other.close()
    assert done.returncode == 1 and f"{path}: {BUSY}" in done.stderr
    assert "Traceback" not in done.stdout + done.stderr


async def test_a_chat_turn_under_a_held_write_lock_keeps_the_customers_place(
    assistant: Assistant, customers: KnownCustomers, store: Store
) -> None:
    await store.db.execute("PRAGMA busy_timeout = 100")  # DB_BUSY_TIMEOUT_SECONDS, shortened
    chat = Chat(assistant)
    person = customers.person
    await chat.say("/registrazione")
    await chat.say(person.contract)
    await chat.say(person.module)
    other = sqlite3.connect(store.db.path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        busy = text(await chat.say(person.fiscal_code))
    finally:
        other.rollback()
        other.close()
    assert "riprova tra poco" in busy.lower() and "qualcosa è andato storto" not in busy
    out = await chat.say(person.fiscal_code)  # the same answer again, where it was
    assert "e-mail" in text(out)
    out = await chat.say("mario.rossi@example.it")
    assert "Controlla i dati" in text(out) and person.fiscal_code in text(out)
