"""A bank file's import as the store runs it: one transaction, batches on the database thread.

``ImportRepo.session(table)`` opens the unit of work (a bigger page cache, BEGIN IMMEDIATE, the
table's highest id so far); ``ImportSession.write`` queues one ``bulk.Upsert`` on the database
thread and returns at once, so the caller checks the next batch while SQLite writes this one;
leaving the ``async with`` commits, an exception rolls everything back. ``lookups()`` gives the
read-only connection that checks references meanwhile. The statements are in ``store.bulk``.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from store.bulk import BULK_CACHE_KIB, Lookups, Upsert, Written, count_after, max_id
from store.db import Database


class ImportSession:
    """One import in progress; its transaction is open."""

    def __init__(self, db: Database, table: str, before: int) -> None:
        self._db = db
        self.table = table
        self._before = before  # the highest id before the import: rows above it are new

    def write(self, batch: Upsert) -> asyncio.Future[Written]:
        """Queue one batch on the database thread now; what it changed, when written."""
        return self._db.submit(batch)

    async def inserted(self) -> int:
        """How many rows of the table this import inserted so far."""
        return await self._db.run(count_after, self.table, self._before)


class ImportRepo:
    """Imports of the bank's files (customers, contracts, documents)."""

    def __init__(self, db: Database) -> None:
        self.db = db

    @asynccontextmanager
    async def session(self, table: str) -> AsyncIterator[ImportSession]:
        """One transaction for a whole file; committed when the block ends without error."""
        async with _bulk_cache(self.db), self.db.transaction():
            before = await self.db.run(max_id, table)
            yield ImportSession(self.db, table, before)

    def lookups(self) -> Lookups:
        """A read-only connection for the references an import checks (close it after)."""
        return Lookups(self.db.path)


@asynccontextmanager
async def _bulk_cache(db: Database) -> AsyncIterator[None]:
    """A bigger page cache for the duration of a bulk import (restored afterwards)."""
    row = await db.fetchone("PRAGMA cache_size")
    previous = int(row[0]) if row else -2000
    await db.execute(f"PRAGMA cache_size = {-BULK_CACHE_KIB}")
    try:
        yield
    finally:
        await db.execute(f"PRAGMA cache_size = {previous}")
