"""A bank file's import as the store runs it: staged aside, then applied in short transactions.

A long import must not hold the database's write lock for its whole run (the chat writes on every
turn), yet a file is applied all or nothing. So ``ImportRepo.session`` runs it in two steps:

1. staging. The session takes the import lock (``<db>.import.lock``: one import at a time per
   database; ``ImportInProgress`` otherwise) and attaches a new staging file beside the database
   (``<db>-staging``; both in ``store.staging``). ``stage`` queues each batch of
   checked rows on the database thread and returns at once, so the caller checks the next batch
   meanwhile. Staging writes that file only: the database is not locked and nothing is visible.
   Leaving the session without ``commit`` (a bad row, an error, SIGTERM, a crash) leaves the
   live tables untouched; the staging file is deleted then, or by the next import after a crash.
2. applying. ``commit`` makes the staging file durable (fsync) and records the import in
   ``staged_imports``, in one short transaction: from then on the file will be applied. ``apply``
   moves the staged rows into the live table in slices, each its own transaction sized to last
   about ``SLICE_SECONDS``, with a pause of ``PAUSE_SECONDS`` after each, so another writer waits
   at most about ``SLICE_SECONDS`` (SQLite's busy handler retries at least every 100 ms, within
   the pause). Each slice records its progress in the same transaction, so an import interrupted
   while being applied (kill -9, SIGTERM) is finished, from where it stopped, by the next session
   before it stages anything; a file small enough for one slice is applied in one transaction.

While a file of several slices is being applied, readers see some of its rows applied and the
others not yet, each row either as it was or as the file has it (references never dangle: a row
names only customers or contracts committed before its file was staged).
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import NamedTuple

from store import postgres_bulk
from store.bulk import (
    BULK_CACHE_KIB,
    Lookups,
    Staged,
    Written,
    apply_slice,
    count_after,
    max_id,
    staged_rows,
)
from store.db import Database
from store.errors import StoreError
from store.postgres import PostgresDatabase
from store.postgres_sql import public_url
from store.staging import ImportInProgress, ImportLock, StagingFile

Staging = StagingFile | postgres_bulk.StagingTable  # where the rows wait: a file or a table

SLICE_SECONDS = 0.5  # how long one applying transaction should hold the write lock
PAUSE_SECONDS = 0.11  # the lock left free after each: a waiting writer retries every 0.1 s
FIRST_SLICE_ROWS = 20_000  # a file this size or smaller is applied in one transaction
MIN_SLICE_ROWS, MAX_SLICE_ROWS = 500, 1_000_000

Progress = Callable[[int, int], None]  # (rows applied, rows staged)


class Applied(NamedTuple):
    """What applying a staged file did."""

    changed: int  # rows inserted or updated
    notices: int  # publication notices queued
    new: int  # rows inserted


class Resumed(NamedTuple):
    """An import interrupted while being applied, which a session found when it began."""

    source: str  # the file's name
    target: str
    staged: int
    finished: bool  # False: its staging file was gone or damaged; part of it stays applied
    applied: int  # its rows applied, all of them when finished


class _Run(NamedTuple):
    """A row of ``staged_imports``."""

    id: int
    target: str
    source: str
    at: str
    notify: bool
    staged: int
    applied: int
    before_id: int


class ImportSession:
    """One import in progress: staging until ``commit``, then ``apply``."""

    def __init__(
        self, db: Database, staging: Staging, target: str, source: str, at: str, notify: bool
    ) -> None:
        self._db = db
        self._staging = staging
        self.target = target
        self._source = source
        self._at = at
        self._notify = notify
        self._run: _Run | None = None
        self.committed = False
        self.resumed: list[Resumed] = []  # interrupted imports this session finished first

    def stage(self, batch: Staged) -> asyncio.Future[int]:
        """Queue one batch on the database thread now; how many rows it staged, when done."""
        if isinstance(self._db, PostgresDatabase):
            return self._db.submit(postgres_bulk.stage, batch.kind, batch.params[0])
        return self._db.submit(batch)

    async def commit(self) -> None:
        """The file is good: make its staged rows durable and record that they will be applied."""
        await self._db.run(self._staging.sync)  # type: ignore[arg-type]
        async with self._db.transaction():
            run = await self._db.run(_record, self.target, self._source, self._at, self._notify)
        self._run, self.committed = run, True

    async def apply(self, progress: Progress | None = None) -> Applied:
        """Apply the committed rows in short transactions (see the module doc)."""
        if not self.committed:
            raise StoreError("apply() before commit()")
        if self._run is None:  # nothing was staged
            return Applied(0, 0, 0)
        applied = await _apply(self._db, self._run, progress)
        self._run = None
        return applied

    @property
    def pending(self) -> bool:
        """Committed rows not all applied yet (the next session finishes them)."""
        return self._run is not None


class ImportRepo:
    """Imports of the bank's files (customers, contracts, documents)."""

    def __init__(self, db: Database) -> None:
        self.db = db

    @asynccontextmanager
    async def session(
        self, target: str, source: str, *, at: str, notify: bool = False
    ) -> AsyncIterator[ImportSession]:
        """Take the import lock, finish an interrupted import, stage into a new file.

        ``at`` is the import's time (the rows' ``updated_at``, documents' ``published_at``);
        ``notify`` queues a notice for each document first published.
        """
        staging: Staging
        if isinstance(self.db, PostgresDatabase):
            staging = postgres_bulk.StagingTable()
        else:
            staging = StagingFile(self.db.path)
        async with _import_lock(self.db), _bulk_cache(self.db):
            resumed = await _finish_interrupted(self.db, staging)
            await self.db.run(staging.attach_new, target)  # type: ignore[arg-type]
            session = ImportSession(self.db, staging, target, source, at, notify)
            session.resumed = resumed
            try:
                yield session
            finally:
                await self.db.run(staging.detach)  # type: ignore[arg-type]
                if not session.pending:
                    await self.db.run(staging.discard)  # type: ignore[arg-type]

    def lookups(self) -> Lookups:
        """A read-only connection for the references an import checks (close it after)."""
        if isinstance(self.db, PostgresDatabase):
            return postgres_bulk.PgLookups(self.db.url)
        return Lookups(self.db.path)


# --- applying, and finishing what a crash left ---------------------------------------------


async def _apply(db: Database, run: _Run, progress: Progress | None) -> Applied:
    """Apply ``run``'s staged rows from where it stopped, slice by slice."""
    rows, done = FIRST_SLICE_ROWS, run.applied
    while True:
        upto = min(run.staged, done + rows)
        async with db.transaction():
            started = time.monotonic()
            totals = await db.run(_apply_slice, run, done, upto)
            elapsed = time.monotonic() - started
        done = upto
        if progress is not None:
            progress(done, run.staged)
        if totals is not None:  # the last slice: only imports insert here, so count after it
            return Applied(*totals, await db.run(count_after, run.target, run.before_id))
        rows = _next_size(rows, elapsed)
        await asyncio.sleep(PAUSE_SECONDS)  # another writer's turn


def _next_size(rows: int, elapsed: float) -> int:
    """The next slice's rows, aiming at ``SLICE_SECONDS``."""
    wanted = rows * SLICE_SECONDS / max(elapsed, 0.001)
    return int(min(MAX_SLICE_ROWS, max(MIN_SLICE_ROWS, min(wanted, rows * 4))))


async def _finish_interrupted(db: Database, staging: Staging) -> list[Resumed]:
    """Apply the rest of an import a crash interrupted while being applied; remove a staging
    file a crash left before its import was committed."""
    rows = await db.fetchall("SELECT * FROM staged_imports ORDER BY id")
    if not rows:
        await db.run(staging.discard)  # type: ignore[arg-type]
        return []
    finished = []
    for row in rows:
        run = _Run(
            row["id"], row["target"], row["source"], row["at"], bool(row["notify"]),
            row["staged"], row["applied"], row["before_id"],
        )  # fmt: skip
        try:
            await db.run(staging.attach_existing, run.staged)  # type: ignore[arg-type]
        except (StoreError, OSError):
            async with db.transaction():
                await db.execute("DELETE FROM staged_imports WHERE id = ?", (run.id,))
            await db.run(staging.discard)  # type: ignore[arg-type]
            finished.append(Resumed(run.source, run.target, run.staged, False, run.applied))
            continue
        try:
            await _apply(db, run, None)
        finally:
            await db.run(staging.detach)  # type: ignore[arg-type]
        await db.run(staging.discard)  # type: ignore[arg-type]
        finished.append(Resumed(run.source, run.target, run.staged, True, run.staged))
    return finished


# --- on the database thread -------------------------------------------------------------------


def _record(
    conn: sqlite3.Connection, target: str, source: str, at: str, notify: bool
) -> _Run | None:
    staged = staged_rows(conn)  # the same SQL on both: PostgreSQL's table has a rowid column
    if not staged:
        return None
    before = max_id(conn, target)
    cursor = conn.execute(
        "INSERT INTO staged_imports (target, source, at, notify, staged, before_id)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        (target, source, at, int(notify), staged, before),
    )
    run_id = int(cursor.lastrowid or 0)
    cursor.close()
    return _Run(run_id, target, source, at, notify, staged, 0, before)


def _apply_slice(
    conn: sqlite3.Connection, run: _Run, after: int, upto: int
) -> tuple[int, int] | None:
    """One slice and its progress; (changed, notices) of the whole import after the last."""
    if isinstance(conn, sqlite3.Connection):
        written: Written = apply_slice(conn, run.target, run.at, after, upto, notify=run.notify)
    else:  # PostgreSQL's wrapper
        pg = postgres_bulk.apply(conn, run.target, run.at, after, upto, run.notify)
        written = Written(*pg)
    conn.execute(
        "UPDATE staged_imports SET applied = ?, changed = changed + ?, notices = notices + ?"
        " WHERE id = ?",
        (upto, written.changed, written.notices, run.id),
    ).close()
    if upto < run.staged:
        return None
    changed, notices = conn.execute(
        "SELECT changed, notices FROM staged_imports WHERE id = ?", (run.id,)
    ).fetchone()
    conn.execute("DELETE FROM staged_imports WHERE id = ?", (run.id,)).close()
    return int(changed), int(notices)


@asynccontextmanager
async def _bulk_cache(db: Database) -> AsyncIterator[None]:
    """A bigger page cache for the duration of a bulk import (restored afterwards); SQLite's
    alone (PostgreSQL's shared buffers are the server's)."""
    if isinstance(db, PostgresDatabase):
        yield
        return
    row = await db.fetchone("PRAGMA cache_size")
    previous = int(row[0]) if row else -2000
    await db.execute(f"PRAGMA cache_size = {-BULK_CACHE_KIB}")
    try:
        yield
    finally:
        await db.execute(f"PRAGMA cache_size = {previous}")


@asynccontextmanager
async def _import_lock(db: Database) -> AsyncIterator[None]:
    """One import at a time per database: the lock file beside SQLite's, an advisory lock on
    PostgreSQL (across replicas); ``ImportInProgress`` when another holds it."""
    if not isinstance(db, PostgresDatabase):
        lock = ImportLock(db.path)
        lock.acquire()
        try:
            yield
        finally:
            lock.release()
        return
    async with db.try_advisory_lock("import") as held:
        if not held:
            raise ImportInProgress(
                f"{public_url(db.url)}: another import or publication is running on this"
                " database; run this one when it has finished"
            )
        yield
