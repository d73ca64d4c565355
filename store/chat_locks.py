"""Per-chat advisory locks on PostgreSQL, on connections kept open between turns.

A chat's turn (``store.updates``) holds a session-level ``pg_advisory_lock`` for as long as one
update is handled: several transactions and Bot API calls, so not a transaction's lock. The
engine's ``Database.advisory_lock`` opens a connection of its own each time, right for the
long-held leadership locks; for a lock taken on *every* update that costs a connection set-up
(about 27 ms here, a server process forked each time). So the chat locks reuse a few open
connections: ``pg_advisory_lock``, the turn, ``pg_advisory_unlock``, and the connection waits
for the next turn. At most ``size`` chats hold or wait for their lock at once per process (the
others wait here, holding nothing). A connection whose unlock did not complete (an error, a
cancellation) is closed, which ends its session and so releases whatever it held.

Fewer round trips: ``hold(name, then=query)`` sends the lock and ``then`` as one simple-protocol
query string (one round trip); under READ COMMITTED the last statement takes its snapshot after
the lock was granted, so it sees everything committed before, as if sent after it.
``HeldChat.then_row`` is its first row; ``HeldChat.run`` runs the repositories' own
(SQLite-flavoured) statements on the held connection from the event loop, and
``HeldChat.release_with`` sends a last statement with the unlock, in its own transaction
committed just before the lock is let go. A connection is configured as the engine's pool's
are (the same adapters and timeouts); the wait for the lock itself has no timeout.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

import psycopg
from psycopg import sql

from store.postgres_conn import Result, configure, execute_async, store_error
from store.postgres_sql import lock_key

DEFAULT_SIZE = 20
IDLE = psycopg.pq.TransactionStatus.IDLE  # a connection fit for the next turn


class HeldChat:
    """A chat lock held on its connection: the row its companion query gave, more statements."""

    def __init__(self, conn: psycopg.AsyncConnection[Any], then_row: Any) -> None:
        self._conn = conn
        self.then_row = then_row  # the first row of ``hold``'s ``then`` (None: none or no query)
        self.active = True  # False once the lock is let go: the connection is not ours any more
        self.last: sql.Composable | None = None  # ``release_with``'s statement

    async def run(
        self,
        query: str,
        params: Sequence[Any],
        tables_with_id: frozenset[str],
        *,
        first_only: bool = False,
    ) -> Result:
        """Run one of the repositories' statements (SQLite-flavoured, translated here) on the
        lock's connection, in autocommit."""
        return await execute_async(self._conn, query, params, tables_with_id, first_only=first_only)

    def release_with(self, statement: sql.Composable) -> None:
        """Send ``statement`` (no parameters) with the unlock, in its own transaction committed
        before the lock is let go: whoever takes the lock next sees it done."""
        self.last = statement


class ChatLockPool:
    """Session-level advisory locks, each held on one of up to ``size`` reused connections."""

    def __init__(self, url: str, size: int = DEFAULT_SIZE, options: str = "") -> None:
        self.url = url
        self.options = options  # the server settings of each connection (``-c name=value``)
        self._slots = asyncio.Semaphore(size)
        self._idle: list[psycopg.AsyncConnection[Any]] = []
        self._closed = False

    @asynccontextmanager
    async def hold(self, name: str, then: sql.Composable | None = None) -> AsyncIterator[HeldChat]:
        """Hold the advisory lock ``name`` while the block runs (waiting as long as it takes);
        ``then``, a statement without parameters, runs right after the lock is granted, in the
        same round trip."""
        key = lock_key(name)
        # The wait for the lock is as long as it takes; the statements of the turn then get the
        # connection's own timeouts back (its ``options``).
        lock = sql.SQL(
            "SET lock_timeout = 0; SET statement_timeout = 0; SELECT pg_advisory_lock({});"
            " RESET lock_timeout; RESET statement_timeout"
        ).format(sql.Literal(key))
        query = lock if then is None else sql.SQL("; ").join([lock, then])
        async with self._slots:
            conn = await self._connection()
            reusable = False
            try:
                cursor = await conn.execute(query)
                row = None
                if then is not None:
                    while cursor.nextset():  # to the last result: ``then``'s
                        pass
                    row = await cursor.fetchone()
                held = HeldChat(conn, row)
                try:
                    yield held
                finally:
                    held.active = False
                    unlock = sql.SQL("SELECT pg_advisory_unlock({})").format(sql.Literal(key))
                    if held.last is not None:
                        unlock = sql.SQL("BEGIN; {}; COMMIT; {}").format(held.last, unlock)
                    await conn.execute(unlock)
                    reusable = True
            except psycopg.Error as exc:
                raise store_error(exc) from exc
            finally:
                if reusable and not self._closed:
                    self._idle.append(conn)
                else:
                    with contextlib.suppress(psycopg.Error):
                        await conn.close()

    async def _connection(self) -> psycopg.AsyncConnection[Any]:
        while self._idle:
            conn = self._idle.pop()
            if not conn.closed and conn.info.transaction_status == IDLE:
                return conn
            with contextlib.suppress(psycopg.Error):
                await conn.close()
        try:
            conn = await psycopg.AsyncConnection.connect(
                self.url, autocommit=True, options=self.options
            )
        except psycopg.Error as exc:
            raise store_error(exc) from exc
        configure(conn)
        return conn

    async def close(self) -> None:
        """Close the idle connections (those in use close when their turn ends)."""
        self._closed = True
        idle, self._idle = self._idle, []
        for conn in idle:
            with contextlib.suppress(psycopg.Error):
                await conn.close()
