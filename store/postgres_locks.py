"""Session-level advisory locks on PostgreSQL: each held on a connection of its own.

``PostgresDatabase.advisory_lock``/``try_advisory_lock`` (``store.postgres``) open a connection
for the lock (not from the pool: a leader may hold it for hours), take
``pg_advisory_lock``/``pg_try_advisory_lock`` and close the connection when the block ends,
which releases the lock, even when the block was cancelled half-way through a wait. The server
releases it too when the process dies (kill -9, a lost machine): the session ends with its
connection. ``PgLockHold.alive`` tells a leader whether it still holds it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from typing import Any

import psycopg

from store.db import LockHold
from store.postgres_conn import store_error


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


@asynccontextmanager
async def lock_connection(url: str) -> AsyncIterator[psycopg.AsyncConnection[Any]]:
    """A connection of its own for a session-level lock; closing it releases the lock."""
    try:
        conn = await psycopg.AsyncConnection.connect(url, autocommit=True)
    except psycopg.Error as exc:
        raise store_error(exc) from exc
    try:
        yield conn
    except psycopg.Error as exc:
        raise store_error(exc) from exc
    finally:
        with suppress(psycopg.Error):
            await conn.close()
