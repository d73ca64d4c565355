"""The SQLite database: one connection on its own thread, WAL, numbered migrations, transactions.

The sqlite3 connection lives on a thread of its own (``store.thread``, the aiosqlite design):
``run(function, *args)`` queues ``function(connection, *args)`` there and awaits its result, so
the event loop never waits on the disk, and work of many statements (a mail batch, an import
batch) costs one hop. Calls run in the order they were queued, even when the task awaiting one
is cancelled; the driver's errors come back as ``store.errors.StoreError``.

Long reads that need not queue behind the writes (the staff console's pages) go to ``reads``:
a second connection to the same file, read-only, on a thread of its own; WAL lets it read the
last committed state while the first one writes.

Every write runs inside ``async with db.transaction():`` (BEGIN IMMEDIATE), which also
serialises the coroutines sharing the connection. Nested ``transaction()`` calls from the
same task join the outer one. A transaction's end cannot be cancelled half-way: a COMMIT asked
for is awaited to its outcome, and a cancellation that arrived meanwhile comes at the task's
next await, so nobody is told "failed" about a change that was committed.

Opening reads the schema's version first and takes the write lock only when a migration is due,
so a start beside a busy writer does not wait for it (``StoreBusy`` after ``busy_timeout``
seconds is the most any statement waits). The file, its ``-wal``/``-shm`` and the folders made
for it are owner-only (``store.files``); ``exclusive=True`` holds the service's lock file too.
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
from store.files import ServiceLock, create_private
from store.thread import DatabaseThread, to_the_end

logger = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
BUSY_TIMEOUT_MS = 30_000  # the default: how long a statement waits for another's write lock
# secure_delete: deleted and moved content is overwritten with zeros, whatever SQLite's build
# default (a temporary password deleted from the outbox must not stay readable in the file).
PRAGMAS = ("journal_mode = WAL", "synchronous = NORMAL", "foreign_keys = ON", "secure_delete = ON")

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


class LockHold:
    """What ``advisory_lock``/``try_advisory_lock`` yield: whether the lock is held (truth value)
    and, while the block runs, whether it still is (``alive``: on PostgreSQL the lock lives with
    its connection, which the server or the network may end)."""

    def __init__(self, held: bool) -> None:
        self.held = held

    def __bool__(self) -> bool:
        return self.held

    async def alive(self) -> bool:
        """Whether the lock is still held."""
        return self.held


class Database:
    """An open SQLite file. Create with ``await Database.open(path)``."""

    dialect = "sqlite"  # or "postgresql" (``store.postgres.PostgresDatabase``)

    def __init__(self, path: Path, *, busy_timeout: float = BUSY_TIMEOUT_MS / 1000) -> None:
        self.path = path
        self.busy_timeout = busy_timeout  # seconds a statement waits for another's write lock
        self._conn: sqlite3.Connection | None = None  # used on the worker thread only
        self._thread = DatabaseThread(f"store {path.name}")
        self._lock = asyncio.Lock()
        self._service_lock: ServiceLock | None = None
        self._closed = False
        self._named_locks: dict[str, asyncio.Lock] = {}
        self._reader: Database | None = None  # ``reads``, made on first use

    @property
    def reads(self) -> Database:
        """Where long reads go that need not queue behind this connection's work: a second
        connection to the same file, on a thread of its own, read-only (``ReadingDatabase``;
        WAL lets it read while the first one writes), so the staff console's pages over
        100,000 tickets do not hold up the bot's statements. Inside this database's open
        transaction its calls join the transaction here (they see its writes). PostgreSQL's
        pool reads side by side already: there ``reads`` is the database itself."""
        if self._reader is None:
            in_memory = str(self.path) in ("", ":memory:")
            self._reader = self if in_memory else ReadingDatabase(self)
        return self._reader

    @classmethod
    async def open(
        cls,
        path: Path,
        *,
        migrate: bool = True,
        upto: int | None = None,
        busy_timeout: float = BUSY_TIMEOUT_MS / 1000,
        exclusive: bool = False,
    ) -> Database:
        """Open (creating it and its folder, owner-only) and bring the schema up to date.

        ``exclusive``: hold the service's lock file while open; ``StoreInUse`` when another
        process holds it.
        """
        db = cls(path, busy_timeout=busy_timeout)
        try:
            if exclusive:
                db._service_lock = ServiceLock(path)
                db._service_lock.acquire()
            await db._thread.call(db._connect)
            if migrate:
                await db.migrate(upto=upto)
        except BaseException:
            await db.close()
            raise
        return db

    async def close(self) -> None:
        """Close the connection, stop its thread, let the service's lock go (once)."""
        if self._closed:
            return
        self._closed = True
        try:
            if self._reader is not None and self._reader is not self:
                await self._reader.close()
            await self._thread.call(self._disconnect)
        finally:
            self._thread.stop()
            if self._service_lock is not None:
                self._service_lock.release()

    async def schema_version(self) -> int:
        """The number of the last migration applied (0 for a new file)."""
        row = await self.fetchone("PRAGMA user_version")
        return int(row[0]) if row else 0

    async def migrate(self, *, upto: int | None = None) -> list[int]:
        """Apply the migrations the file has not seen yet, each in its own transaction.

        A file already up to date is only read: no write lock is asked for.
        """
        due = [(n, p) for n, p in migrations() if upto is None or n <= upto]
        if not due or await self.schema_version() >= due[-1][0]:
            return []
        applied = []
        for number, path in due:
            async with self.transaction():  # checked again inside: another process may migrate
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
                await to_the_end(self.submit(_commit_or_rollback))
            finally:
                _in_transaction.reset(token)

    @asynccontextmanager
    async def advisory_lock(self, name: str) -> AsyncIterator[LockHold]:
        """Hold the lock ``name`` while the block runs, waiting for it as long as it takes.

        On SQLite a process-local lock: the service's lock file already makes this process the
        only service on the file (PostgreSQL: a session-level advisory lock, across replicas).
        """
        lock = self._named_locks.setdefault(name, asyncio.Lock())
        async with lock:
            yield LockHold(True)

    @asynccontextmanager
    async def try_advisory_lock(self, name: str) -> AsyncIterator[LockHold]:
        """Hold the lock ``name`` while the block runs if it is free now (the hold is false if
        not: the block runs without it)."""
        lock = self._named_locks.setdefault(name, asyncio.Lock())
        if lock.locked():
            yield LockHold(False)
            return
        async with lock:
            yield LockHold(True)

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

    def _connect(self, pragmas: tuple[str, ...] = PRAGMAS) -> None:
        create_private(self.path)  # before SQLite: its -wal and -shm take the file's mode
        conn = sqlite3.connect(self.path, timeout=self.busy_timeout, isolation_level=None)
        try:
            conn.row_factory = sqlite3.Row
            milliseconds = round(self.busy_timeout * 1000)
            for pragma in (f"busy_timeout = {milliseconds}", *pragmas):
                conn.execute(f"PRAGMA {pragma}").close()
        except BaseException:
            conn.close()
            raise
        self._conn = conn

    def _disconnect(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None


class ReadingDatabase(Database):
    """``Database.reads`` on SQLite: a second connection to the writer's file, on its own
    thread, connected at its first call, with ``query_only`` on (a write through it fails).
    Each call reads the last committed state. Called inside the writer's open transaction, a
    call goes to the writer instead, so it sees that transaction's writes."""

    def __init__(self, writer: Database) -> None:
        super().__init__(writer.path, busy_timeout=writer.busy_timeout)
        self._writer = writer
        self._reader = self

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Database]:
        """Not here: writes go to the writer."""
        raise StoreError("the read-only connection takes no transaction")
        yield self  # pragma: no cover

    def submit(
        self,
        function: Callable[Concatenate[sqlite3.Connection, P], T],
        *args: P.args,
        **kwargs: P.kwargs,
    ) -> asyncio.Future[T]:
        """Queue ``function(connection, *args)`` on the reading thread (inside the writer's
        open transaction: on the writer's)."""
        if _in_transaction.get() is self._writer:
            return self._writer.submit(function, *args, **kwargs)
        return super().submit(function, *args, **kwargs)

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None and not self._closed:
            self._connect()
        return super()._connection()

    def _connect(self, pragmas: tuple[str, ...] = ("query_only = ON",)) -> None:
        super()._connect(pragmas)  # the file's own settings (WAL) are the writer's to make


# --- run on the connection's thread: one hop per call ---------------------------------------


def _begin(conn: sqlite3.Connection) -> None:
    conn.execute("BEGIN IMMEDIATE")


def _commit_or_rollback(conn: sqlite3.Connection) -> None:
    try:
        conn.execute("COMMIT")
    except BaseException:
        _rollback_if_open(conn)  # a failed COMMIT leaves the transaction open
        raise


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
