from __future__ import annotations

import asyncio
import sqlite3

import pytest

from store.store import Store


async def test_a_failed_transaction_leaves_nothing_behind(store: Store) -> None:
    with pytest.raises(RuntimeError):
        async with store.db.transaction():
            await store.db.execute(
                "INSERT INTO audit_log (at, event) VALUES ('2026-01-01T00:00:00+00:00', 'x')"
            )
            raise RuntimeError("boom")
    assert await store.db.fetchall("SELECT * FROM audit_log") == []


async def test_cancelled_while_waiting_for_the_write_lock_the_connection_stays_usable(
    store: Store,
) -> None:
    other = sqlite3.connect(store.db.path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another process holds the write lock

    async def write() -> None:
        async with store.db.transaction():
            await store.db.execute(
                "INSERT INTO audit_log (at, event) VALUES ('2026-01-01T00:00:00+00:00', 'lost')"
            )

    task = asyncio.create_task(write())
    await asyncio.sleep(0.2)  # the BEGIN is now waiting on the database thread
    task.cancel()
    other.execute("COMMIT")
    other.close()
    with pytest.raises(asyncio.CancelledError):
        await task

    async with store.db.transaction():
        await store.db.execute(
            "INSERT INTO audit_log (at, event) VALUES ('2026-01-01T00:00:00+00:00', 'kept')"
        )
    events = [row["event"] for row in await store.db.fetchall("SELECT event FROM audit_log")]
    assert events == ["kept"]


async def test_nested_transactions_join_the_outer_one(store: Store) -> None:
    with pytest.raises(RuntimeError):
        async with store.db.transaction():
            async with store.db.transaction():
                await store.db.execute(
                    "INSERT INTO audit_log (at, event) VALUES ('2026-01-01T00:00:00+00:00', 'x')"
                )
            raise RuntimeError("the outer one fails")
    assert await store.db.fetchall("SELECT * FROM audit_log") == []
