"""A big import beside the chat (issue 14, point 8): the chat's writes never wait more than about
a second, a killed import leaves nothing visible, and one killed while being applied is finished
by the next. Real ``main.py import`` processes on a real SQLite file (or the PostgreSQL leg's
database), watched through a pty."""

from __future__ import annotations

import os
import pty
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import pytest

from assistant.clock import ManualClock
from assistant.settings import Settings
from bankfiles.demodata import make_customer
from bankfiles.importer import EXIT_OK, EXIT_UNUSABLE, import_file, publish_file
from store.postgres import PostgresDatabase
from store.staging import ImportLock
from store.store import Store
from tests.fixtures.commands import run_import

ROOT = Path(__file__).resolve().parent.parent
HEADER = "customer_code,kind,name,fiscal_code\n"
CHAT_WAIT_LIMIT = 1.5  # seconds: "about a second", with room for a busy two-core machine


def big_customers_file(path: Path, rows: int) -> Path:
    """``rows`` customers (real codici fiscali, so each row is checked in full)."""
    people = [make_customer(2008, n, ManualClock().now().date()) for n in range(1, 101)]
    lines = [f"{p.code},{p.kind},{p.name},{p.fiscal_code}\n" for p in people]
    with path.open("w", encoding="utf-8") as out:
        out.write(HEADER)
        for n in range(rows // len(lines)):
            out.write("".join(f"X{n:05d}{line}" for line in lines))
    return path


class Running:
    """A ``main.py import`` process whose stderr is a terminal (so it shows its progress)."""

    def __init__(self, settings: Settings, what: str, path: Path) -> None:
        env = {**os.environ, "AREACLIENTI_DB": str(settings.db_target)}
        env["AREACLIENTI_DATA_DIR"] = str(settings.data_dir)
        self._terminal, stderr = pty.openpty()
        self.process = subprocess.Popen(
            [sys.executable, str(ROOT / "main.py"), "import", what, str(path)],
            env=env, cwd=path.parent, stdout=subprocess.PIPE, stderr=stderr,
        )  # fmt: skip
        os.close(stderr)
        self.seen = b""
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        while True:
            try:
                chunk = os.read(self._terminal, 4096)
            except OSError:
                return
            if not chunk:
                return
            self.seen += chunk

    def wait_for(self, text: bytes, timeout: float = 120) -> None:
        """Until the progress shows ``text``."""
        deadline = time.monotonic() + timeout
        while text not in self.seen:
            assert self.process.poll() is None, self.seen.decode(errors="replace")
            assert time.monotonic() < deadline, self.seen.decode(errors="replace")
            time.sleep(0.01)

    def finish(self) -> int:
        """Its exit status, once it has ended and its output is read."""
        status = self.process.wait(timeout=300)
        self._reader.join(timeout=10)
        os.close(self._terminal)
        assert self.process.stdout is not None
        self.seen += self.process.stdout.read()
        self.process.stdout.close()
        return status


@contextmanager
def importing(settings: Settings, what: str, path: Path) -> Iterator[Running]:
    """An import running in its own process for the block (killed if still running)."""
    running = Running(settings, what, path)
    try:
        yield running
    finally:
        if running.process.poll() is None:
            running.process.kill()
            running.finish()


def count(settings: Settings, table: str) -> int:
    """Rows of ``table`` as any reader sees them."""
    return int(_one(settings, f"SELECT count(*) FROM {table}"))


def staging_left(settings: Settings) -> bool:
    """Whether an import's staged rows are still there (SQLite's file, PostgreSQL's table)."""
    if settings.db_url is not None:
        return bool(_one(settings, "SELECT to_regclass('staging.rows') IS NOT NULL"))
    return settings.db_path.with_name(settings.db_path.name + "-staging").exists()


def _one(settings: Settings, sql: str) -> object:
    if settings.db_url is not None:
        with psycopg.connect(settings.db_url) as pg:
            row = pg.execute(sql).fetchone()  # type: ignore[arg-type]
            assert row is not None
            return row[0]
    with sqlite3.connect(settings.db_path) as db:
        return db.execute(sql).fetchone()[0]


@asynccontextmanager
async def import_lock_held(settings: Settings) -> AsyncIterator[None]:
    """What a running import holds: the lock file, or PostgreSQL's ``import`` advisory lock."""
    if settings.db_url is None:
        lock = ImportLock(settings.db_path)
        lock.acquire()
        try:
            yield
        finally:
            lock.release()
        return
    db = await PostgresDatabase.open(settings.db_url, migrate=False)
    try:
        async with db.try_advisory_lock("import") as held:
            assert held
            yield
    finally:
        await db.close()


async def test_a_chat_write_waits_at_most_about_a_second_while_a_big_import_runs(
    store: Store, settings: Settings, tmp_path: Path
) -> None:
    path = big_customers_file(tmp_path / "customers.csv", 200_000)
    waits: list[tuple[float, bool]] = []  # (seconds, while being applied)
    with importing(settings, "customers", path) as running:
        running.wait_for(b"rows (")
        while running.process.poll() is None:
            applying = b"customers.csv: applying" in running.seen
            started = time.monotonic()
            await store.audit.record("chat_turn", datetime.now(UTC))  # BEGIN IMMEDIATE...COMMIT
            waits.append((time.monotonic() - started, applying))
            time.sleep(0.05)
        assert running.finish() == EXIT_OK, running.seen.decode(errors="replace")
    assert count(settings, "customers") == 200_000
    assert max(w for w, _ in waits) < CHAT_WAIT_LIMIT, sorted(waits)[-5:]
    assert len(waits) > 20
    assert [w for w, applying in waits if applying], "no chat write while the rows were applied"
    assert not staging_left(settings)


async def test_a_killed_import_leaves_nothing_visible_and_the_next_one_cleans_up(
    settings: Settings, tmp_path: Path
) -> None:
    path = big_customers_file(tmp_path / "customers.csv", 60_000)
    with importing(settings, "customers", path) as running:
        running.wait_for(b"rows (")  # its rows are being checked and staged
        running.process.kill()
        running.finish()
    assert count(settings, "customers") == 0
    assert count(settings, "staged_imports") == 0
    assert staging_left(settings)  # left behind by the kill: the next import's
    small = tmp_path / "small.csv"
    small.write_text(HEADER + "C1,person,Mario Rossi,RSSMRA85T10A562S\n", encoding="utf-8")
    assert await run_import(settings, "customers", small, skip_invalid=False) == EXIT_OK
    assert count(settings, "customers") == 1
    assert not staging_left(settings)


async def test_an_import_killed_while_being_applied_is_finished_by_the_next_one(
    settings: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = big_customers_file(tmp_path / "customers.csv", 100_000)
    with importing(settings, "customers", path) as running:
        running.wait_for(b"customers.csv: applying")  # committed: at least one slice is applied
        running.process.send_signal(signal.SIGKILL)
        running.finish()
    partly = count(settings, "customers")
    assert 0 < partly < 100_000  # readers see part of the file until the next import
    assert count(settings, "staged_imports") == 1
    small = tmp_path / "small.csv"
    small.write_text(HEADER + "C1,person,Mario Rossi,RSSMRA85T10A562S\n", encoding="utf-8")
    assert await run_import(settings, "customers", small, skip_invalid=False) == EXIT_OK
    out = capsys.readouterr().out
    assert "customers.csv: its import was interrupted while being applied and has now" in out
    assert count(settings, "customers") == 100_001
    assert count(settings, "staged_imports") == 0
    assert not staging_left(settings)
    again = await run_import(settings, "customers", path, skip_invalid=False)
    assert again == EXIT_OK
    assert "0 new, 0 updated, 100,000 unchanged" in capsys.readouterr().out


async def test_a_second_import_beside_a_running_one_is_refused_and_writes_nothing(
    settings: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    small = tmp_path / "small.csv"
    small.write_text(HEADER + "C1,person,Mario Rossi,RSSMRA85T10A562S\n", encoding="utf-8")
    assert await run_import(settings, "customers", small, skip_invalid=False) == EXIT_OK
    async with import_lock_held(settings):
        status = await run_import(settings, "customers", small, skip_invalid=False)
    assert status == EXIT_UNUSABLE
    assert "another import or publication is running" in capsys.readouterr().err


async def test_a_publication_applied_in_many_slices_queues_each_notice_once(
    store: Store, settings: Settings, tmp_path: Path, clock: ManualClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    import store.imports as imports

    monkeypatch.setattr(imports, "FIRST_SLICE_ROWS", 2)  # slices of 2 rows: 3 of them and 1
    monkeypatch.setattr(imports, "MAX_SLICE_ROWS", 2)
    monkeypatch.setattr(imports, "PAUSE_SECONDS", 0)
    (tmp_path / "customers.csv").write_text(
        HEADER + "C1,person,Mario Rossi,RSSMRA85T10A562S\n", encoding="utf-8"
    )
    (tmp_path / "contracts.csv").write_text(
        "contract_number,module_number,customer_code,status,description,start_date,end_date,"
        "periodic_fee\n1000001,01,C1,active,Fiat Panda,2020-01-01,,450.00\n",
        encoding="utf-8",
    )
    for what in ("customers", "contracts"):
        assert (await import_file(store, what, tmp_path / f"{what}.csv", now=clock.now())).written
    lines = ["document_number,contract_number,document_type,issue_date,amount,file"]
    for n in range(1, 8):
        (tmp_path / f"{n}.pdf").write_bytes(b"%PDF-1.4 invoice " + bytes([48 + n]))
        lines.append(f"2024/{n},1000001/01,invoice,2024-0{n}-05,450.00,{n}.pdf")
    manifest = tmp_path / "manifest.csv"
    manifest.write_text("\n".join(lines) + "\n", encoding="utf-8")
    first = await publish_file(store, manifest, settings.data_dir, now=clock.now())
    assert (first.new, first.changed, first.notices) == (7, 7, 7)
    assert count(settings, "notices") == 7
    again = await publish_file(store, manifest, settings.data_dir, now=clock.now())
    assert (again.new, again.changed, again.notices, again.written) == (0, 0, 0, True)
    assert count(settings, "notices") == 7


async def test_an_interrupted_import_whose_staged_rows_are_gone_is_reported_not_guessed(
    store: Store, settings: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    async with store.transaction():  # what a kill -9 while applying left, minus its staged rows
        await store.db.execute(
            "INSERT INTO staged_imports (target, source, at, staged, applied, before_id)"
            " VALUES ('customers', 'lost.csv', '2026-01-01T00:00:00+00:00', 500, 200, 0)"
        )
    small = tmp_path / "small.csv"
    small.write_text(HEADER + "C1,person,Mario Rossi,RSSMRA85T10A562S\n", encoding="utf-8")
    assert await run_import(settings, "customers", small, skip_invalid=False) == EXIT_OK
    out = capsys.readouterr().out
    assert "lost.csv: its import was interrupted while being applied and cannot be finished" in out
    assert "200 of 500 rows were applied; import that file again" in out
    assert count(settings, "staged_imports") == 0
    assert count(settings, "customers") == 1
