"""The PostgreSQL database: the same ``Database`` API as ``store.db``, over a psycopg pool.

Why synchronous psycopg, not its async API: the repositories' units of work are synchronous
functions ``fn(conn, *args)`` that ``Database.run`` sends, in one hop, to the connection's
thread. Keeping one copy of them for both backends matters more than an async driver, so here
they run on worker threads, each with a pooled synchronous psycopg connection wrapped to behave
like the sqlite3 connection they expect (``store.postgres_conn``, SQL translated by
``store.postgres_sql``). The event loop never waits on the database either way.

Transactions: ``transaction()``'s first statement checks one connection out of the pool and
sends, in one round trip (pipeline mode), ``BEGIN``, ``pg_advisory_xact_lock(WRITE)`` and
itself: the lock is the counterpart of SQLite's ``BEGIN IMMEDIATE``, one writer at a time across
every replica, taken before any statement of the transaction runs, so the repositories'
check-then-write logic stays correct unchanged (a transaction that runs no statement takes
nothing and commits nothing). Its statements run, in the order queued, on the transaction's own
thread (``store.thread``); nested calls from the same task join it; COMMIT is awaited to its
end. An in-process ``asyncio.Lock`` queues this process's coroutines before they take a
connection, so they do not hold several connections waiting on the advisory lock. Calls outside
a transaction run in autocommit on any pooled connection, several at once. A statement waits at
most the busy timeout for a lock (``lock_timeout``) and runs at most the statement timeout;
either ends in ``StoreBusy``. A connection the server ended (a restart) is noticed when checked
out and replaced (``_check_connection``, no round trip for a live one).

Riding a chat's turn: while a task handles a Telegram update it holds its chat's lock on a
connection of its own (``store.chat_locks``, ``store.updates``), idle between the turn's
statements. ``riding(held)`` sends that task's statements outside a transaction (``fetchone``,
``fetchall``, ``execute``, ``execute_rowcount``, ``execute_alone``) on that connection, from the
event loop: the same SQL, translated the same way, in autocommit as on the pool, without a
worker thread to wake or a connection to check out. Units of work (``run``) and transactions
keep their threads.

``advisory_lock(name)`` / ``try_advisory_lock(name)`` hold a session-level advisory lock on a
connection of their own for as long as the block runs (leadership, per-chat order).

Migrations: ``store/migrations/postgresql/NNNN_*.sql`` override, by number, the common
``store/migrations/NNNN_*.sql``. The version is kept in ``schema_version``. A replica that finds
migrations due takes the migration lock first: it waits while another applies them, then finds
them applied; none ever runs against a half-migrated schema.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import select
from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager, suppress
from pathlib import Path
from typing import Any, Concatenate, ParamSpec, TypeVar, cast

import psycopg
from psycopg import pq
from psycopg_pool import ConnectionPool, PoolTimeout

from store.chat_locks import HeldChat
from store.db import MIGRATIONS_DIR, Database, LockHold, migrations
from store.errors import StoreBusy, StoreError
from store.postgres_conn import Connection, configure, store_error
from store.postgres_locks import LockConnections
from store.postgres_sql import lock_key, public_url, split_statements
from store.thread import DatabaseThread, to_the_end

logger = logging.getLogger(__name__)

P = ParamSpec("P")
T = TypeVar("T")

PG_MIGRATIONS_DIR = MIGRATIONS_DIR / "postgresql"
DEFAULT_POOL_SIZE = 5
DEFAULT_STATEMENT_TIMEOUT = 30.0
WRITE_LOCK = lock_key("write")  # every transaction's, as BEGIN IMMEDIATE on SQLite
OPENING = ("BEGIN", f"SELECT pg_advisory_xact_lock({WRITE_LOCK})")  # a transaction's first words
MIGRATION_LOCK = "migrate"

_in_transaction: contextvars.ContextVar[PostgresDatabase | None] = contextvars.ContextVar(
    "_in_pg_transaction", default=None
)
_riding: contextvars.ContextVar[tuple[PostgresDatabase, HeldChat] | None] = contextvars.ContextVar(
    "_riding_pg_turn", default=None
)


def pg_migrations(
    common: Path = MIGRATIONS_DIR, own: Path = PG_MIGRATIONS_DIR
) -> list[tuple[int, Path]]:
    """The migrations for PostgreSQL: its own file where there is one, else the common one."""
    chosen = dict(migrations(common))
    if own.is_dir():
        chosen.update(migrations(own))
    return sorted(chosen.items())


class PostgresDatabase(Database):
    """An open PostgreSQL database. Create with ``await PostgresDatabase.open(url)``.

    A ``Database`` for the repositories (same methods, same meaning); units of work receive a
    ``store.postgres_conn.Connection`` where SQLite gives them a ``sqlite3.Connection``.
    """

    dialect = "postgresql"

    def __init__(
        self,
        url: str,
        *,
        busy_timeout: float,
        pool_size: int,
        statement_timeout: float,
        migrations_dirs: tuple[Path, Path] = (MIGRATIONS_DIR, PG_MIGRATIONS_DIR),
    ) -> None:
        self.url = url
        self.path = Path(public_url(url))  # for messages only: there is no file
        self.busy_timeout = busy_timeout
        self.statement_timeout = statement_timeout
        self._migrations_dirs = migrations_dirs
        options = (
            f"-c lock_timeout={round(busy_timeout * 1000)}"
            f" -c statement_timeout={round(statement_timeout * 1000)}"
            " -c idle_in_transaction_session_timeout=0"
        )
        self.options = options  # each connection's server settings (the chat locks' too)
        self._pool = ConnectionPool(
            url,
            min_size=1,
            max_size=max(2, pool_size),
            kwargs={"autocommit": True, "options": options},
            configure=configure,
            check=_check_connection,
            open=False,
            name="areaclienti",
            timeout=busy_timeout,
        )
        self._workers = DatabaseThread("store pg", threads=max(1, pool_size - 1))
        self._thread = DatabaseThread("store pg transaction")
        self._lock = asyncio.Lock()
        self._tx: Connection | None = None  # the open transaction's, on its thread only
        # transactions opened (counted on the loop) and ended (on their thread): while more
        # were opened, the first job of the open one takes the connection
        self._opened = self._ended = 0
        self._tables_with_id: frozenset[str] = frozenset()
        self._service_lock = None
        self._closed = False
        self._named_locks = {}
        self._lock_connections = LockConnections(url)  # leadership, migrations

    @classmethod
    async def open(  # type: ignore[override]
        cls,
        url: str,
        *,
        migrate: bool = True,
        upto: int | None = None,
        busy_timeout: float = 30.0,
        pool_size: int = DEFAULT_POOL_SIZE,
        statement_timeout: float = DEFAULT_STATEMENT_TIMEOUT,
        migrations_dirs: tuple[Path, Path] = (MIGRATIONS_DIR, PG_MIGRATIONS_DIR),
    ) -> PostgresDatabase:
        """Connect and bring the schema up to date (waiting for a replica migrating it)."""
        db = cls(
            url,
            busy_timeout=busy_timeout,
            pool_size=pool_size,
            statement_timeout=statement_timeout,
            migrations_dirs=migrations_dirs,
        )
        try:
            await db._call_in_worker(db._open_pool)
            await db._read_tables()
            if migrate:
                await db.migrate(upto=upto)
        except BaseException:
            await db.close()
            raise
        return db

    async def close(self) -> None:
        """Close the pool and stop the threads (once)."""
        if self._closed:
            return
        self._closed = True
        try:
            await self._lock_connections.close()
            await self._workers.call(self._pool.close)
        finally:
            self._workers.stop()
            self._thread.stop()

    async def schema_version(self) -> int:
        """The number of the last migration applied (0 for a new database)."""
        row = await self.fetchone("SELECT to_regclass('schema_version') IS NOT NULL")
        if not row or not row[0]:
            return 0
        row = await self.fetchone("SELECT coalesce(max(version), 0) FROM schema_version")
        return int(row[0]) if row else 0

    async def migrate(self, *, upto: int | None = None) -> list[int]:
        """Apply the migrations not applied yet, each in its own transaction, under the
        migration lock; an up-to-date database is only read."""
        found = pg_migrations(*self._migrations_dirs)
        due = [(n, p) for n, p in found if upto is None or n <= upto]
        if not due or await self.schema_version() >= due[-1][0]:
            return []
        applied = []
        async with self.advisory_lock(MIGRATION_LOCK):  # another replica may be applying them
            await self.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER)")
            for number, path in due:
                async with self.transaction():
                    if number <= await self.schema_version():
                        continue
                    logger.info("applying migration %s (PostgreSQL)", path.name)
                    await self.execute("SET LOCAL statement_timeout = 0")  # an index may take long
                    for statement in split_statements(path.read_text(encoding="utf-8")):
                        await self.execute(statement)
                    await self.execute("DELETE FROM schema_version")
                    await self.execute("INSERT INTO schema_version VALUES (?)", (number,))
                    applied.append(number)
        await self._read_tables()
        return applied

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Database]:
        """BEGIN + the write lock ... COMMIT, or ROLLBACK on any exception."""
        if _in_transaction.get() is self:
            yield self
            return
        async with self._lock:
            token = _in_transaction.set(self)
            try:
                self._opened += 1  # its first statement's job takes a connection
                try:
                    yield self
                except BaseException:
                    await self._thread.call(self._guarded(self._end, False))
                    raise
                await to_the_end(self._thread.call(self._guarded(self._end, True)))
            finally:
                _in_transaction.reset(token)

    @asynccontextmanager
    async def advisory_lock(self, name: str) -> AsyncIterator[LockHold]:
        """Hold the session-level advisory lock ``name`` (on a connection of its own) while
        the block runs, waiting for it as long as it takes."""
        async with self._lock_connections.hold(name, wait=True) as hold:
            yield hold

    @asynccontextmanager
    async def try_advisory_lock(self, name: str) -> AsyncIterator[LockHold]:
        """Hold the advisory lock ``name`` while the block runs if it is free now (the hold
        is false if not)."""
        async with self._lock_connections.hold(name, wait=False) as hold:
            yield hold

    @property
    def reads(self) -> Database:
        """The database itself: its pool reads side by side already."""
        return self

    @contextmanager
    def riding(self, held: HeldChat) -> Iterator[None]:
        """While the block runs, this task's statements outside a transaction go on ``held``'s
        connection (see the module doc)."""
        token = _riding.set((self, held))
        try:
            yield
        finally:
            _riding.reset(token)

    def _ride(self) -> HeldChat | None:
        """The chat turn's connection this task's next statement goes on, if any."""
        ride = _riding.get()
        if ride is None or ride[0] is not self or _in_transaction.get() is self:
            return None
        return ride[1] if ride[1].active and not self._closed else None

    async def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        """Run one statement; return the id of the row it inserted, or 0."""
        held = self._ride()
        if held is None:
            return await super().execute(sql, params)
        return (await held.run(sql, params, self._tables_with_id)).lastrowid or 0

    async def execute_rowcount(self, sql: str, params: Sequence[Any] = ()) -> int:
        """Run one statement; return how many rows it changed."""
        held = self._ride()
        if held is None:
            return await super().execute_rowcount(sql, params)
        return (await held.run(sql, params, self._tables_with_id)).rowcount

    async def fetchone(self, sql: str, params: Sequence[Any] = ()) -> Any:
        """The first row, or None."""
        held = self._ride()
        if held is None:
            return await super().fetchone(sql, params)
        rows = (await held.run(sql, params, self._tables_with_id, first_only=True)).rows
        return rows[0] if rows else None

    async def fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        """All rows."""
        held = self._ride()
        if held is None:
            return await super().fetchall(sql, params)
        return (await held.run(sql, params, self._tables_with_id)).rows

    def joined(self) -> bool:
        """Whether a call from here joins the caller's open ``transaction()``."""
        return _in_transaction.get() is self

    async def execute_alone(self, sql: str, params: Sequence[Any] = ()) -> int:
        """Run one statement as its own transaction (autocommit), in one hop; return the rows
        it changed. Inside the caller's ``transaction()`` it simply joins it."""
        if _in_transaction.get() is self:
            return await self.execute_rowcount(sql, params)
        held = self._ride()
        if held is not None:  # its own connection: nothing queued here to overtake or be overtaken
            return (await held.run(sql, params, self._tables_with_id)).rowcount
        async with self._lock:
            # Held until the statement has run, even when the caller is cancelled meanwhile: the
            # workers are several threads, and a clean-up queued next (a sender letting go of its
            # claims) must not overtake it.
            return await to_the_end(self.submit(_rowcount, sql, params))

    async def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        """Run one statement for many parameter rows."""
        listed = list(rows)
        await self.run(lambda conn: conn.executemany(sql, listed).close())

    def submit(
        self,
        function: Callable[Concatenate[Any, P], T],
        *args: P.args,
        **kwargs: P.kwargs,
    ) -> asyncio.Future[T]:
        """Queue ``function(connection, *args)`` now: on the transaction's thread inside one,
        else on a worker with a pooled connection in autocommit."""
        if _in_transaction.get() is self:
            return self._thread.call(
                self._guarded(lambda: function(self._transaction(), *args, **kwargs))
            )
        return self._call_in_worker(lambda: self._autocommit(function, *args, **kwargs))

    # --- on the threads ---------------------------------------------------------------------

    def _call_in_worker(self, job: Callable[[], T]) -> asyncio.Future[T]:
        if self._closed:
            raise StoreError(f"the database {public_url(self.url)} is not open")
        return self._workers.call(self._guarded(job))

    def _guarded(self, job: Callable[..., T], *args: Any) -> Callable[[], T]:
        """``job`` with psycopg's and the pool's errors turned into the store's."""

        def run() -> T:
            try:
                return job(*args)
            except psycopg.Error as exc:
                raise store_error(exc) from exc
            except PoolTimeout as exc:
                raise StoreBusy(f"no database connection free: {exc}") from exc

        return run

    def _open_pool(self) -> None:
        try:
            self._pool.open(wait=True, timeout=self.busy_timeout)
        except PoolTimeout as exc:  # not busy: nobody answers
            raise StoreError(f"{public_url(self.url)}: cannot connect to the database") from exc

    def _autocommit(self, function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        with self._pool.connection() as raw:
            return function(Connection(raw, self._tables_with_id), *args, **kwargs)

    def _transaction(self) -> Connection:
        if self._tx is None and self._opened > self._ended:
            self._begin()
        if self._tx is None:
            raise StoreError("no transaction is open on this connection")
        return self._tx

    def _begin(self) -> None:
        """A pooled connection for the transaction; BEGIN and the write lock go with the
        first statement, in its round trip."""
        raw = self._pool.getconn()
        self._tx = Connection(raw, self._tables_with_id, OPENING)

    def _end(self, commit: bool) -> None:
        """COMMIT (or ROLLBACK), then the connection back to the pool, whatever happens."""
        tx, self._tx = self._tx, None
        self._ended += 1
        if tx is None:
            return
        opened, raw = tx.opened, tx.detach()  # not opened: no statement ran, nothing to end
        try:
            if commit and opened:
                raw.execute("COMMIT")
        finally:
            if not raw.closed and raw.info.transaction_status != pq.TransactionStatus.IDLE:
                with suppress(psycopg.Error):
                    raw.execute("ROLLBACK")
            self._pool.putconn(raw)

    async def _read_tables(self) -> None:
        """The tables with an ``id`` column: their INSERTs return it, for ``lastrowid``."""
        rows = await self.fetchall(
            "SELECT table_name FROM information_schema.columns"
            " WHERE column_name = 'id' AND table_schema = current_schema()"
        )
        self._tables_with_id = frozenset(str(row[0]).lower() for row in rows)


def _check_connection(conn: psycopg.Connection[Any]) -> None:
    """The pool's check before lending a connection, without a round trip when it can: an idle
    connection the server ended (a restart, a terminated backend) has something to read (its
    FATAL message or the end of the stream), and only then is it probed for real (psycopg
    raises, the pool replaces it). A connection cut without a word is found by its next use."""
    if conn.closed or conn.broken:
        raise psycopg.OperationalError("the connection is closed")
    readable, _, _ = select.select([conn.fileno()], [], [], 0)
    if readable:
        ConnectionPool.check_connection(conn)


def as_connection(conn: Any) -> Connection:
    """``conn`` as the PostgreSQL wrapper (for the few units of work that differ by dialect)."""
    return cast(Connection, conn)


def _rowcount(conn: Connection, sql: str, params: Sequence[Any]) -> int:
    """Run one statement; how many rows it changed."""
    cursor = conn.execute(sql, params)
    try:
        return int(cursor.rowcount)
    finally:
        cursor.close()
