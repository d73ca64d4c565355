from __future__ import annotations

import asyncio
import sqlite3

import pytest

from store.errors import StoreBusy, StoreError
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


async def test_a_database_error_comes_out_as_a_store_error(store: Store) -> None:
    with pytest.raises(StoreError) as raised:
        await store.db.execute("INSERT INTO no_such_table VALUES (1)")
    assert isinstance(raised.value.__cause__, sqlite3.OperationalError)


async def test_a_write_lock_held_past_the_busy_timeout_is_store_busy(store: Store) -> None:
    await store.db.execute("PRAGMA busy_timeout = 50")
    other = sqlite3.connect(store.db.path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another process holds the write lock
    try:
        with pytest.raises(StoreBusy):
            async with store.transaction():
                pass
    finally:
        other.rollback()
        other.close()
    async with store.transaction():  # the connection stays usable
        await store.db.execute(
            "INSERT INTO audit_log (at, event) VALUES ('2026-01-01T00:00:00+00:00', 'kept')"
        )
    assert len(await store.db.fetchall("SELECT * FROM audit_log")) == 1


async def test_a_closed_database_refuses_work_instead_of_hanging(store: Store) -> None:
    await store.close()
    with pytest.raises(StoreError):
        await store.db.fetchone("SELECT 1")
    await store.close()  # a second close does nothing
