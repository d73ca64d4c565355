"""Session-level advisory locks on PostgreSQL: each held on a connection of its own.

``PostgresDatabase.advisory_lock``/``try_advisory_lock`` (``store.postgres``) open a connection
for the lock (not from the pool: a leader may hold it for hours), take
``pg_advisory_lock``/``pg_try_advisory_lock`` and close the connection when the block ends,
which releases the lock, even when the block was cancelled half-way through a wait. The server
releases it too when the process dies (kill -9, a lost machine): the session ends with its
connection. ``PgLockHold.alive`` tells a leader whether it still holds it.

``LockConnections`` keeps a connection whose ``pg_try_advisory_lock`` failed (it holds nothing)
for the next try: a follower tries every few seconds, and a new connection each time forks a
server process. One that the server ended meanwhile (something to read on an idle socket) is
closed, not reused. A lock held is let go with ``pg_advisory_unlock_all`` before the block
ends (closing alone frees it only once the server has seen the socket close); a connection
interrupted mid-statement is closed, which frees whatever it held.
"""

from __future__ import annotations

import select
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from typing import Any

import psycopg

from store.db import LockHold
from store.postgres_conn import store_error
from store.postgres_sql import lock_key

SPARES = 2  # connections that hold nothing, kept for the next try


class PgLockHold(LockHold):
    """An advisory lock held by the session of one dedicated connection."""

    def __init__(self, held: bool, conn: psycopg.AsyncConnection[Any]) -> None:
        super().__init__(held)
        self._conn = conn

    async def alive(self) -> bool:
        """Whether the lock's connection still answers (the lock ends with its session)."""
        if not self.held or self._conn.closed:
            return False
        try:
            await self._conn.execute("SELECT 1")
        except psycopg.Error:
            return False
        return True


class LockConnections:
    """Session-level advisory locks on connections of their own; those of a failed try kept."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._spares: list[psycopg.AsyncConnection[Any]] = []
        self._closed = False

    @asynccontextmanager
    async def hold(self, name: str, *, wait: bool) -> AsyncIterator[PgLockHold]:
        """Hold the lock ``name`` while the block runs: waiting for it (``wait``), else only if
        it is free now (the hold is false if not)."""
        key = lock_key(name)
        conn = await self._take()
        spare = held = False
        try:
            if wait:
                await conn.execute("SELECT pg_advisory_lock(%s)", (key,))
                held = True
            else:
                cursor = await conn.execute("SELECT pg_try_advisory_lock(%s)", (key,))
                row = await cursor.fetchone()
                held = bool(row and row[0])
            yield PgLockHold(held, conn)
            spare = not held  # it holds nothing: fit for the next try
        except psycopg.Error as exc:
            raise store_error(exc) from exc
        finally:
            try:
                if held and _idle(conn):  # let go now: a closed socket frees it a moment later
                    with suppress(psycopg.Error):
                        await conn.execute("SELECT pg_advisory_unlock_all()")
                        spare = True
            finally:
                if spare and not self._closed and len(self._spares) < SPARES and _idle(conn):
                    self._spares.append(conn)
                else:
                    with suppress(psycopg.Error):
                        await conn.close()

    async def _take(self) -> psycopg.AsyncConnection[Any]:
        while self._spares:
            conn = self._spares.pop()
            if _idle(conn):
                return conn
            with suppress(psycopg.Error):
                await conn.close()
        try:
            return await psycopg.AsyncConnection.connect(self.url, autocommit=True)
        except psycopg.Error as exc:
            raise store_error(exc) from exc

    async def close(self) -> None:
        """Close the spare connections."""
        self._closed = True
        spares, self._spares = self._spares, []
        for conn in spares:
            with suppress(psycopg.Error):
                await conn.close()


def _idle(conn: psycopg.AsyncConnection[Any]) -> bool:
    """Whether ``conn`` is open, outside a transaction, with nothing to read (a server that
    ended the session has sent its goodbye or closed the socket)."""
    if conn.closed or conn.broken:
        return False
    if conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
        return False
    readable, _, _ = select.select([conn.fileno()], [], [], 0)
    return not readable
