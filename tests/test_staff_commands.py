"""The staff's command lines as staff run them: ``python main.py tickets|outbox|import ...``.

Customer-controlled text never drives the staff's terminal, bad arguments get a clear message
and exit 1, and an interrupted import says so with a non-zero status.
"""

from __future__ import annotations

import contextlib
import os
import pty
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from assistant.clock import ManualClock
from assistant.settings import Settings
from assistant.texts import Texts
from assistant.tickets import TicketService
from store.store import Store

ROOT = Path(__file__).resolve().parent.parent
HOSTILE = "Aiuto \x1b]0;pwned\x07\x1b[2J subito \u202egnp.exe"


def staff(settings: Settings, *argv: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """``python main.py ARGV`` against the test's database, output captured."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "SMTP_", "IMAP_"))}
    env.update(
        AREACLIENTI_DB=str(settings.db_target),
        AREACLIENTI_DATA_DIR=str(settings.data_dir),
        OUTBOX_DIR=str(settings.outbox_dir),
    )
    return subprocess.run(
        [sys.executable, str(ROOT / "main.py"), *argv],
        env=env, cwd=settings.data_dir.parent, capture_output=True, text=True, timeout=timeout,
    )  # fmt: skip


async def hostile_ticket(store: Store, settings: Settings, clock: ManualClock) -> str:
    """A chat ticket whose subject and text try to drive a terminal; its reference."""
    service = TicketService(store, Texts(settings.templates_dir), settings)
    return await service.open_from_chat("telegram", "42", None, HOSTILE, "it", clock.now())


def assert_inert(output: str) -> None:
    for control in ("\x1b", "\x07", "\u202e"):
        assert control not in output


async def test_ticket_texts_are_printed_without_control_characters(
    store: Store, settings: Settings, clock: ManualClock
) -> None:
    reference = await hostile_ticket(store, settings, clock)
    listing = staff(settings, "tickets", "list")
    shown = staff(settings, "tickets", "show", reference)
    for run in (listing, shown):
        assert run.returncode == 0, run.stderr
        assert_inert(run.stdout + run.stderr)
    assert "Aiuto \\x1b]0;pwned\\x07\\x1b[2J subito \\u202egnp.exe" in shown.stdout


async def test_a_hostile_csv_header_is_reported_inert(settings: Settings, tmp_path: Path) -> None:
    bad = tmp_path / "customers.csv"
    bad.write_text("customer_code,\x1b[2Jkind,name,fiscal_code\n", encoding="utf-8")
    run = staff(settings, "import", "customers", str(bad))
    assert run.returncode == 2
    assert_inert(run.stdout + run.stderr)
    assert "\\x1b[2Jkind" in run.stderr


async def test_reply_with_an_unreadable_body_file_says_why(
    store: Store, settings: Settings, clock: ManualClock, tmp_path: Path
) -> None:
    reference = await hostile_ticket(store, settings, clock)
    latin1 = tmp_path / "reply.txt"
    latin1.write_bytes("Già fatto, cordiali saluti".encode("latin-1"))
    for body_file, reason in ((tmp_path / "missing.txt", "No such file"), (latin1, "UTF-8")):
        run = staff(settings, "tickets", "reply", reference, "--body-file", str(body_file))
        assert run.returncode == 1
        assert f"cannot read {body_file}" in run.stderr and reason in run.stderr
        assert "Traceback" not in run.stderr
    assert [t.status for t in await store.tickets.recent()] == ["open"]  # nothing changed


async def test_an_absurd_ticket_or_mail_number_is_not_found(settings: Settings) -> None:
    for argv, message in (
        (("tickets", "show", "9" * 30), "no ticket"),
        (("tickets", "show", "AC-²³⁴⁵⁶⁷"), "no ticket"),
        (("tickets", "mail", "9" * 30, "--out", "x.eml"), "no kept bytes"),
    ):
        run = staff(settings, *argv)
        assert run.returncode == 1, run.stderr
        assert message in run.stderr and "Traceback" not in run.stderr


@pytest.mark.sqlite_only  # reads the SQLite file afterwards
def test_sigterm_during_an_import_exits_non_zero_and_writes_nothing(
    settings: Settings, tmp_path: Path
) -> None:
    from bankfiles.demodata import make_customer

    people = [make_customer(2008, n, ManualClock().now().date()) for n in range(1, 101)]
    rows = [f"{p.code},{p.kind},{p.name},{p.fiscal_code}" for p in people]
    big = tmp_path / "customers.csv"
    with big.open("w", encoding="utf-8") as out:
        out.write("customer_code,kind,name,fiscal_code\n")
        for n in range(6000):  # 600,000 rows: seconds of work
            out.write("".join(f"X{n:04d}{row}\n" for row in rows))
    assert staff(settings, "outbox").returncode == 0  # the database exists, schema applied
    env = {**os.environ, "AREACLIENTI_DB": str(settings.db_target)}
    env["AREACLIENTI_DATA_DIR"] = str(settings.data_dir)
    terminal, stderr = pty.openpty()  # a terminal shows the import's progress
    process = subprocess.Popen(
        [sys.executable, str(ROOT / "main.py"), "import", "customers", str(big)],
        env=env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=stderr,
    )  # fmt: skip
    os.close(stderr)
    seen = b""
    while b"rows (" not in seen:  # rows are being written: stop it as staff would
        seen += os.read(terminal, 4096)
    process.send_signal(signal.SIGTERM)
    process.wait(timeout=60)
    with contextlib.suppress(OSError):
        while chunk := os.read(terminal, 4096):
            seen += chunk
    os.close(terminal)
    err = seen.decode(errors="replace")
    assert process.returncode == 128 + signal.SIGTERM, err
    assert "interrupted by SIGTERM" in err
    with sqlite3.connect(settings.db_path) as db:
        assert db.execute("SELECT count(*) FROM customers").fetchone() == (0,)
