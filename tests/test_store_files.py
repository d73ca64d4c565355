"""Owner-only database files whatever the umask (issue 14, point 2): the SQLite file, its
``-wal`` and ``-shm``, the service's lock file, the folders made for them, and the data
folder's sub-folders."""

from __future__ import annotations

import os
import sqlite3
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from assistant.guide import guide_pdf_path
from assistant.settings import Settings
from assistant.texts import Texts
from store.db import Database

pytestmark = pytest.mark.sqlite_only  # the database's files and their modes

ROOT = Path(__file__).resolve().parent.parent


def mode(path: Path) -> int:
    """The permission bits of ``path``."""
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture(params=[0o022, 0o000], ids=["umask022", "umask000"])
def umask(request: pytest.FixtureRequest) -> Iterator[int]:
    """The process's umask for the test (restored after)."""
    previous = os.umask(request.param)
    try:
        yield request.param
    finally:
        os.umask(previous)


async def _write(db: Database) -> None:
    async with db.transaction():
        await db.execute(
            "INSERT INTO audit_log (at, event) VALUES ('2026-01-01T00:00:00+00:00', 'x')"
        )


async def test_a_new_database_its_wal_its_shm_and_its_folders_are_owner_only(
    tmp_path: Path, umask: int
) -> None:
    path = tmp_path / "var" / "data" / "areaclienti.db"
    db = await Database.open(path, exclusive=True)  # as the service opens it
    try:
        await _write(db)
        wal, shm = path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")
        lock = path.with_name(path.name + ".lock")
        assert wal.exists() and shm.exists()  # open, in WAL mode
        assert [mode(p) for p in (path, wal, shm, lock)] == [0o600] * 4
        assert mode(path.parent) == 0o700 and mode(path.parent.parent) == 0o700
    finally:
        await db.close()


async def test_an_existing_folder_is_left_alone_and_an_existing_database_is_tightened(
    tmp_path: Path, umask: int
) -> None:
    folder = tmp_path / "chosen"
    folder.mkdir()
    folder.chmod(0o755)
    path = folder / "areaclienti.db"
    other = sqlite3.connect(path, isolation_level=None)  # an earlier version's files, in use
    other.execute("PRAGMA journal_mode = WAL")
    other.execute("CREATE TABLE t (x)")
    other.execute("INSERT INTO t VALUES (1)")
    sides = [path.with_name(path.name + suffix) for suffix in ("-wal", "-shm")]
    for file in (path, *sides):
        file.chmod(0o644)
    try:
        db = await Database.open(path)
        await db.close()
    finally:
        other.close()
    assert mode(folder) == 0o755
    assert mode(path) == 0o600
    assert all(mode(side) == 0o600 for side in sides if side.exists())


def test_the_guide_folders_are_owner_only(tmp_path: Path, umask: int) -> None:
    settings = Settings.from_environ({"AREACLIENTI_DATA_DIR": str(tmp_path / "data")})
    path = guide_pdf_path(Texts(settings.templates_dir), settings, "it")
    assert path.is_file()
    for folder in (tmp_path / "data", tmp_path / "data" / "guide", path.parent):
        assert mode(folder) == 0o700, folder


def test_demo_and_faq_as_run_under_umask_000_leave_nothing_readable_to_others(
    tmp_path: Path,
) -> None:
    """``main.py demo`` (database, demo files, PDFs) and ``main.py faq`` (the vectors' cache)
    in a process whose umask is 000: every folder they make is 0700, the data files 0600."""
    var = tmp_path / "var"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "SMTP_", "IMAP_"))}
    env.update(
        AREACLIENTI_DB=str(var / "areaclienti.db"),
        AREACLIENTI_DATA_DIR=str(var),
        OUTBOX_DIR=str(var / "outbox"),
    )
    for command in (["demo", "--customers", "4"], ["faq", "come recupero la password?"]):
        done = subprocess.run(
            [sys.executable, str(ROOT / "main.py"), *command],
            env=env, cwd=tmp_path, capture_output=True, text=True, timeout=300, umask=0,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
    folders = [var, *(p for p in var.rglob("*") if p.is_dir())]
    assert {"demo", "documents", "cache"} <= {p.name for p in folders}
    assert [p for p in folders if mode(p) != 0o700] == []
    data = [var / "areaclienti.db", *(var / "documents").rglob("*.pdf")]
    assert len(data) > 1 and [p for p in data if mode(p) != 0o600] == []
