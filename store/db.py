"""The SQLite database: one aiosqlite connection, WAL, numbered migrations, transactions.

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
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiosqlite

logger = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
BUSY_TIMEOUT_MS = 30_000

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

    def __init__(self, conn: aiosqlite.Connection, path: Path) -> None:
        self.conn = conn
        self.path = path
        self._lock = asyncio.Lock()

    @classmethod
    async def open(cls, path: Path, *, migrate: bool = True, upto: int | None = None) -> Database:
        """Open (creating it and its folder) and bring the schema up to date."""
        path.parent.mkdir(parents=True, exist_ok=True)
        conn = await aiosqlite.connect(
            str(path), timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None
        )
        conn.row_factory = sqlite3.Row
        await conn.execute("PRAGMA journal_mode = WAL")
        await conn.execute("PRAGMA synchronous = NORMAL")
        await conn.execute("PRAGMA foreign_keys = ON")
        await conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        db = cls(conn, path)
        if migrate:
            await db.migrate(upto=upto)
        return db

    async def close(self) -> None:
        """Close the connection."""
        await self.conn.close()

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
                    await self.conn.execute(statement)
                await self.conn.execute(f"PRAGMA user_version = {number}")
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
        return int(await self.run(_execute_lastrowid, sql, params))

    async def execute_rowcount(self, sql: str, params: Sequence[Any] = ()) -> int:
        """Run one statement; return how many rows it changed."""
        return int(await self.run(_execute_rowcount, sql, params))

    async def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        """Run one statement for many parameter rows."""
        await self.run(_executemany, sql, list(rows))

    async def fetchone(self, sql: str, params: Sequence[Any] = ()) -> sqlite3.Row | None:
        """The first row, or None."""
        row: sqlite3.Row | None = await self.run(_fetchone, sql, params)
        return row

    async def fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[sqlite3.Row]:
        """All rows."""
        rows: list[sqlite3.Row] = await self.run(_fetchall, sql, params)
        return rows

    async def run(self, function: Any, *args: Any) -> Any:
        """Run ``function(sqlite3_connection, *args)`` on the connection's own thread.

        For bulk work (imports) that would pay one thread hop per statement otherwise.
        """
        return await self.conn._execute(function, self.conn._conn, *args)


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
