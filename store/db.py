"""The SQLite database: one connection on its own thread, WAL, numbered migrations, transactions.

The sqlite3 connection lives on a thread of its own (``store.thread``, the aiosqlite design):
``run(function, *args)`` queues ``function(connection, *args)`` there and awaits its result, so
the event loop never waits on the disk, and work of many statements (a mail batch, an import
batch) costs one hop. Calls run in the order they were queued, even when the task awaiting one
is cancelled; the driver's errors come back as ``store.errors.StoreError``.

Every write runs inside ``async with db.transaction():`` (BEGIN IMMEDIATE), which also
serialises the coroutines sharing the connection. Nested ``transaction()`` calls from the
same task join the outer one.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import re
import sqlite3
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, Concatenate, ParamSpec, TypeVar

from store.errors import StoreError
from store.thread import DatabaseThread

logger = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
BUSY_TIMEOUT_MS = 30_000
PRAGMAS = ("journal_mode = WAL", "synchronous = NORMAL", "foreign_keys = ON")

P = ParamSpec("P")
T = TypeVar("T")

_in_transaction: contextvars.ContextVar[Database | None] = contextvars.ContextVar(
    "_in_transaction", default=None
)


def migrations(directory: Path = MIGRATIONS_DIR) -> list[tuple[int, Path]]:
    """The numbered ``NNNN_name.sql`` files, in order."""
    found = []
    for path in directory.glob("*.sql"):
        match = re.match(r"(\d{4})_", path.name)
        if match:
            found.append((int(match.group(1)), path))
    return sorted(found)


class Database:
    """An open SQLite file. Create with ``await Database.open(path)``."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._conn: sqlite3.Connection | None = None  # used on the worker thread only
        self._thread = DatabaseThread(f"store {path.name}")
        self._lock = asyncio.Lock()
        self._closed = False

    @classmethod
    async def open(cls, path: Path, *, migrate: bool = True, upto: int | None = None) -> Database:
        """Open (creating it and its folder) and bring the schema up to date."""
        path.parent.mkdir(parents=True, exist_ok=True)
        db = cls(path)
        try:
            await db._thread.call(db._connect)
        except BaseException:
            db._thread.stop()
            raise
        if migrate:
            await db.migrate(upto=upto)
        return db

    async def close(self) -> None:
        """Close the connection and stop its thread (a second call does nothing)."""
        if self._closed:
            return
        self._closed = True
        try:
            await self._thread.call(self._disconnect)
        finally:
            self._thread.stop()

    async def schema_version(self) -> int:
        """The number of the last migration applied (0 for a new file)."""
        row = await self.fetchone("PRAGMA user_version")
        return int(row[0]) if row else 0

    async def migrate(self, *, upto: int | None = None) -> list[int]:
        """Apply the migrations the file has not seen yet, each in its own transaction."""
        applied = []
        for number, path in migrations():
            if upto is not None and number > upto:
                break
            async with self.transaction():
                if number <= await self.schema_version():
                    continue
                logger.info("applying migration %s", path.name)
                for statement in _split_sql(path.read_text(encoding="utf-8")):
                    await self.execute(statement)
                await self.execute(f"PRAGMA user_version = {number}")
                applied.append(number)
        return applied

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Database]:
        """BEGIN IMMEDIATE ... COMMIT, or ROLLBACK on any exception."""
        if _in_transaction.get() is self:
            yield self
            return
        async with self._lock:
            token = _in_transaction.set(self)
            try:
                try:
                    await self.run(_begin)
                except BaseException:
                    # Cancelled while BEGIN was queued: it still runs on the thread.
                    await self.run(_rollback_if_open)
                    raise
                try:
                    yield self
                except BaseException:
                    await self.run(_rollback_if_open)
                    raise
                await self.run(_commit)
            finally:
                _in_transaction.reset(token)

    async def execute_alone(self, sql: str, params: Sequence[Any] = ()) -> int:
        """Run one statement as its own transaction, in one hop; return the rows it changed.

        Inside the caller's ``transaction()`` it simply joins it.
        """
        if _in_transaction.get() is self:
            return await self.execute_rowcount(sql, params)
        async with self._lock:  # never inside another coroutine's open transaction
            return await self.execute_rowcount(sql, params)

    async def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        """Run one statement; return the last row id (for INSERT) or 0."""
        return await self.run(_execute_lastrowid, sql, params)

    async def execute_rowcount(self, sql: str, params: Sequence[Any] = ()) -> int:
        """Run one statement; return how many rows it changed."""
        return await self.run(_execute_rowcount, sql, params)

    async def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        """Run one statement for many parameter rows."""
        await self.run(_executemany, sql, list(rows))

    async def fetchone(self, sql: str, params: Sequence[Any] = ()) -> sqlite3.Row | None:
        """The first row, or None."""
        return await self.run(_fetchone, sql, params)

    async def fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[sqlite3.Row]:
        """All rows."""
        return await self.run(_fetchall, sql, params)

    async def run(
        self,
        function: Callable[Concatenate[sqlite3.Connection, P], T],
        *args: P.args,
        **kwargs: P.kwargs,
    ) -> T:
        """Run ``function(connection, *args)`` on the database thread, in one hop."""
        return await self.submit(function, *args, **kwargs)

    def submit(
        self,
        function: Callable[Concatenate[sqlite3.Connection, P], T],
        *args: P.args,
        **kwargs: P.kwargs,
    ) -> asyncio.Future[T]:
        """Queue ``function(connection, *args)`` on the database thread now; its result to come.

        For a pipeline that prepares the next piece of work while this one runs.
        """
        return self._thread.call(lambda: function(self._connection(), *args, **kwargs))

    # --- on the database thread ----------------------------------------------------------

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None:
            raise StoreError(f"the database {self.path.name} is not open")
        return self._conn

    def _connect(self) -> None:
        conn = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
        conn.row_factory = sqlite3.Row
        for pragma in (*PRAGMAS, f"busy_timeout = {BUSY_TIMEOUT_MS}"):
            conn.execute(f"PRAGMA {pragma}").close()
        self._conn = conn

    def _disconnect(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None


# --- run on the connection's thread: one hop per call ---------------------------------------


def _begin(conn: sqlite3.Connection) -> None:
    conn.execute("BEGIN IMMEDIATE")


def _commit(conn: sqlite3.Connection) -> None:
    conn.execute("COMMIT")


def _rollback_if_open(conn: sqlite3.Connection) -> None:
    if conn.in_transaction:
        conn.execute("ROLLBACK")


def _execute_lastrowid(conn: sqlite3.Connection, sql: str, params: Sequence[Any]) -> int:
    cursor = conn.execute(sql, params)
    try:
        return cursor.lastrowid or 0
    finally:
        cursor.close()


def _execute_rowcount(conn: sqlite3.Connection, sql: str, params: Sequence[Any]) -> int:
    cursor = conn.execute(sql, params)
    try:
        return cursor.rowcount
    finally:
        cursor.close()


def _executemany(conn: sqlite3.Connection, sql: str, rows: list[Sequence[Any]]) -> None:
    conn.executemany(sql, rows).close()


def _fetchone(conn: sqlite3.Connection, sql: str, params: Sequence[Any]) -> sqlite3.Row | None:
    cursor = conn.execute(sql, params)
    try:
        row: sqlite3.Row | None = cursor.fetchone()
        return row
    finally:
        cursor.close()


def _fetchall(conn: sqlite3.Connection, sql: str, params: Sequence[Any]) -> list[sqlite3.Row]:
    cursor = conn.execute(sql, params)
    try:
        return cursor.fetchall()
    finally:
        cursor.close()


def _split_sql(script: str) -> list[str]:
    """Split a migration file into complete statements."""
    statements, buffer = [], ""
    for line in script.splitlines(keepends=True):
        buffer += line
        if sqlite3.complete_statement(buffer):
            statements.append(buffer.strip())
            buffer = ""
    if buffer.strip() and not all(
        part.strip().startswith("--") or not part.strip() for part in buffer.splitlines()
    ):
        raise ValueError(f"incomplete SQL statement at the end of a migration: {buffer[:80]!r}")
    return statements
