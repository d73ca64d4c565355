from __future__ import annotations

import asyncio
import sqlite3
import threading

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


@pytest.mark.sqlite_only  # a second sqlite3 connection, PRAGMAs
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


@pytest.mark.sqlite_only  # a second sqlite3 connection, PRAGMAs
async def test_a_database_error_comes_out_as_a_store_error(store: Store) -> None:
    with pytest.raises(StoreError) as raised:
        await store.db.execute("INSERT INTO no_such_table VALUES (1)")
    assert isinstance(raised.value.__cause__, sqlite3.OperationalError)


@pytest.mark.sqlite_only  # a second sqlite3 connection, PRAGMAs
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


async def test_a_cancellation_during_the_commit_waits_for_it_and_comes_after(store: Store) -> None:
    """The COMMIT runs on the thread whatever happens to the task: the transaction ends as
    committed, and the cancellation reaches the task at its next await."""
    started, gate = threading.Event(), threading.Event()

    def hold_the_thread(conn: sqlite3.Connection) -> None:
        started.set()
        gate.wait(10)

    steps: list[str] = []

    async def write() -> None:
        async with store.db.transaction():
            await store.db.execute(
                "INSERT INTO audit_log (at, event) VALUES ('2026-01-01T00:00:00+00:00', 'kept')"
            )
            store.db.submit(hold_the_thread)  # the COMMIT queues behind it
        steps.append("committed")
        await asyncio.sleep(0)
        steps.append("went on")

    task = asyncio.create_task(write())
    while not started.is_set():  # the COMMIT is queued and the task awaits it
        await asyncio.sleep(0.001)
    task.cancel()
    await asyncio.sleep(0.01)
    gate.set()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert steps == ["committed"]
    events = [row["event"] for row in await store.db.fetchall("SELECT event FROM audit_log")]
    assert events == ["kept"]


@pytest.mark.sqlite_only  # a second sqlite3 connection, PRAGMAs
async def test_a_failed_commit_is_rolled_back_and_the_connection_stays_usable(
    store: Store,
) -> None:
    with pytest.raises(StoreError, match="FOREIGN KEY"):
        async with store.db.transaction():
            await store.db.execute("PRAGMA defer_foreign_keys = ON")  # checked at COMMIT
            await store.db.execute(
                "INSERT INTO ticket_messages (ticket_id, direction, author, body, created_at)"
                " VALUES (999, 'in', 'customer', 'x', '2026-01-01T00:00:00+00:00')"
            )
    async with store.db.transaction():
        await store.db.execute(
            "INSERT INTO audit_log (at, event) VALUES ('2026-01-01T00:00:00+00:00', 'kept')"
        )
    assert await store.db.fetchall("SELECT * FROM ticket_messages") == []
    assert len(await store.db.fetchall("SELECT * FROM audit_log")) == 1


@pytest.mark.sqlite_only  # the second, read-only connection is SQLite's (PostgreSQL: the pool)
async def test_the_consoles_reads_do_not_wait_behind_the_writer_and_see_only_committed_data(
    store: Store,
) -> None:
    reads = store.db.reads
    insert = "INSERT INTO audit_log (at, event) VALUES ('2026-01-01T00:00:00+00:00', ?)"
    await store.db.execute_alone(insert, ("committed",))
    writer_busy, let_go = threading.Event(), threading.Event()

    def long_work(conn: sqlite3.Connection) -> None:  # e.g. a big import batch, on the writer
        conn.execute(insert, ("uncommitted",))
        writer_busy.set()
        let_go.wait(10)

    async def write() -> None:
        async with store.db.transaction():
            await store.db.run(long_work)
            inside = await reads.fetchall("SELECT event FROM audit_log ORDER BY id")
            assert [r["event"] for r in inside] == ["committed", "uncommitted"]  # its own writes

    writing = asyncio.create_task(write())
    await asyncio.to_thread(writer_busy.wait, 10)
    async with asyncio.timeout(5):  # the writer's thread is busy: the read goes past it
        seen = await reads.fetchall("SELECT event FROM audit_log ORDER BY id")
    assert [r["event"] for r in seen] == ["committed"] and not writing.done()
    let_go.set()
    await writing

    with pytest.raises(StoreError):  # nothing is written through the reading connection
        await reads.execute(insert, ("sneaked",))
    events = [r["event"] for r in await reads.fetchall("SELECT event FROM audit_log ORDER BY id")]
    assert events == ["committed", "uncommitted"]
