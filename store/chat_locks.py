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
query string (two statements, one round trip); under READ COMMITTED the second statement takes
its snapshot after the first returned, so it sees everything committed before the lock was
granted, as if sent after it. ``HeldChat.then_row`` is its first row, and ``HeldChat.execute``
runs more statements on the held connection from the event loop (no worker thread to wake).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

import psycopg
from psycopg import sql

from store.postgres_conn import store_error
from store.postgres_sql import lock_key

DEFAULT_SIZE = 20
IDLE = psycopg.pq.TransactionStatus.IDLE  # a connection fit for the next turn


class HeldChat:
    """A chat lock held on its connection: the row its companion query gave, more statements."""

    def __init__(self, conn: psycopg.AsyncConnection[Any], then_row: Any) -> None:
        self._conn = conn
        self.then_row = then_row  # the first row of ``hold``'s ``then`` (None: none or no query)

    async def execute(self, query: str, params: Sequence[Any] = ()) -> int:
        """Run one PostgreSQL statement (autocommit) on the lock's connection; rows changed."""
        try:
            cursor = await self._conn.execute(query, params)
        except psycopg.Error as exc:
            raise store_error(exc) from exc
        return cursor.rowcount


class ChatLockPool:
    """Session-level advisory locks, each held on one of up to ``size`` reused connections."""

    def __init__(self, url: str, size: int = DEFAULT_SIZE) -> None:
        self.url = url
        self._slots = asyncio.Semaphore(size)
        self._idle: list[psycopg.AsyncConnection[Any]] = []
        self._closed = False

    @asynccontextmanager
    async def hold(self, name: str, then: sql.Composable | None = None) -> AsyncIterator[HeldChat]:
        """Hold the advisory lock ``name`` while the block runs (waiting as long as it takes);
        ``then``, a statement without parameters, runs right after the lock is granted, in the
        same round trip."""
        key = lock_key(name)
        lock = sql.SQL("SELECT pg_advisory_lock({})").format(sql.Literal(key))
        query = lock if then is None else sql.SQL("; ").join([lock, then])
        async with self._slots:
            conn = await self._connection()
            reusable = False
            try:
                cursor = await conn.execute(query)
                row = None
                if then is not None and cursor.nextset():
                    row = await cursor.fetchone()
                try:
                    yield HeldChat(conn, row)
                finally:
                    await conn.execute("SELECT pg_advisory_unlock(%s)", (key,))
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
            return await psycopg.AsyncConnection.connect(self.url, autocommit=True)
        except psycopg.Error as exc:
            raise store_error(exc) from exc

    async def close(self) -> None:
        """Close the idle connections (those in use close when their turn ends)."""
        self._closed = True
        idle, self._idle = self._idle, []
        for conn in idle:
            with contextlib.suppress(psycopg.Error):
                await conn.close()
