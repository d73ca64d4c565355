"""The PostgreSQL engine (``store.postgres``): translation, rows, transactions, locks, migrations,
errors and reconnection, against a real throwaway cluster (tests/fixtures/postgres.py)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from store.bulk import Staged
from store.errors import StoreBusy, StoreError
from store.postgres import PostgresDatabase, pg_migrations
from store.postgres_sql import public_url, split_statements, translate
from store.store import Store
from tests.fixtures.postgres import PgServer, _free_port

# --- translation: pure text ---------------------------------------------------------------


def test_question_marks_become_psycopg_placeholders_outside_literals() -> None:
    """``?`` is a parameter; a ``?`` or ``%`` in a literal stays itself (``%`` doubled)."""
    done = translate("SELECT * FROM t WHERE a = ? AND b = '?%' AND c LIKE ? -- ?")
    assert done.sql == "SELECT * FROM t WHERE a = %s AND b = '?%%' AND c ILIKE %s -- ?"
    assert done.params(("x", "y")) == ("x", "y")


def test_numbered_parameters_are_reordered_and_repeated() -> None:
    """``?2 ... ?1 ... ?2``: the parameters follow the text's order."""
    done = translate("SELECT ?2, ?1, ?2")
    assert done.sql == "SELECT %s, %s, %s"
    assert done.params(("one", "two")) == ("two", "one", "two")


def test_sqlite_only_words_become_their_postgresql_equivalents() -> None:
    """IS [NOT] between values, the ``main.`` schema, INSERT OR IGNORE."""
    done = translate("UPDATE main.t SET a = 1 WHERE a IS NOT b OR c IS d OR e IS NOT NULL")
    assert done.sql == (
        "UPDATE t SET a = 1 WHERE a IS DISTINCT FROM b OR c IS NOT DISTINCT FROM d OR e IS NOT NULL"
    )
    assert translate("INSERT OR IGNORE INTO t (a) VALUES (?)").sql == (
        "INSERT INTO t (a) VALUES (%s) ON CONFLICT DO NOTHING"
    )


def test_an_insert_into_a_table_with_an_id_returns_it() -> None:
    """For ``lastrowid``: only tables with an id, only without a RETURNING of their own."""
    tables = frozenset({"t"})
    assert translate("INSERT INTO t (a) VALUES (?)", tables).sql.endswith(" RETURNING id")
    assert translate("INSERT INTO t (a) VALUES (?)", tables).returning_id
    assert not translate("INSERT INTO u (a) VALUES (?)", tables).returning_id
    assert translate("INSERT INTO t (a) VALUES (1) RETURNING a", tables).sql.count("RETURNING") == 1


def test_a_migration_is_split_at_semicolons_outside_bodies_and_literals() -> None:
    """A function's ``$$`` body, a ``';'`` literal and comments do not end a statement."""
    script = """-- a comment; still a comment
CREATE TABLE a (x TEXT DEFAULT ';');
CREATE FUNCTION f() RETURNS trigger AS $$
BEGIN
    NEW.x := 'y'; RETURN NEW;
END $$ LANGUAGE plpgsql;
/* a; block */ SELECT 1;
"""
    statements = split_statements(script)
    assert len(statements) == 3
    assert statements[1].startswith("CREATE FUNCTION") and statements[1].endswith("plpgsql")
    with pytest.raises(ValueError, match="incomplete"):
        split_statements("SELECT 1; SELECT 2")


def test_a_url_in_a_message_never_shows_its_password() -> None:
    """The password is replaced; a URL without one is unchanged."""
    assert public_url("postgresql://app:s3cret@db:5432/area") == "postgresql://app:***@db:5432/area"
    assert public_url("postgresql://app@db/area") == "postgresql://app@db/area"


# --- the engine on a real server ----------------------------------------------------------


async def _table(url: str, **options: float) -> PostgresDatabase:
    """A database with one table ``t`` (id, name, n), no migrations."""
    db = await PostgresDatabase.open(url, migrate=False, **options)  # type: ignore[arg-type]
    await db.execute(
        "CREATE TABLE IF NOT EXISTS t (id SERIAL PRIMARY KEY, name TEXT UNIQUE, n INTEGER)"
    )
    await db._read_tables()
    return db


async def test_rows_read_like_sqlite_rows(pg_empty_url: str) -> None:
    """By index and by name, keys(), dict(); sums as int, averages as float; lastrowid."""
    db = await _table(pg_empty_url)
    try:
        first = await db.execute("INSERT INTO t (name, n) VALUES (?, ?)", ("Anna", 2))
        second = await db.execute("INSERT INTO t (name, n) VALUES (?2, ?1)", (3, "Bruno"))
        assert (first, second) == (1, 2)
        row = await db.fetchone("SELECT name, n FROM t WHERE name LIKE 'anna'")
        assert row is not None
        assert (row[0], row["name"], row["N"], row.keys()) == ("Anna", "Anna", 2, ["name", "n"])
        assert dict(row) == {"name": "Anna", "n": 2} and tuple(row) == ("Anna", 2)
        figures = await db.fetchone("SELECT sum(n) AS total, avg(n) AS mean FROM t")
        assert figures is not None
        assert (figures["total"], figures["mean"]) == (5, 2.5)
        assert type(figures["total"]) is int and type(figures["mean"]) is float
        assert await db.execute_rowcount("UPDATE t SET n = n + 1") == 2
        assert await db.fetchall("SELECT id FROM t WHERE n > ?", (100,)) == []
        await db.executemany("INSERT INTO t (name, n) VALUES (?, ?)", [("C", 1), ("D", 1)])

        def names(conn: Any) -> list[str]:  # a unit of work iterating its cursor
            return [row["name"] for row in conn.execute("SELECT name FROM t ORDER BY id")]

        assert await db.run(names) == ["Anna", "Bruno", "C", "D"]
    finally:
        await db.close()


async def test_a_failed_transaction_leaves_nothing(pg_empty_url: str) -> None:
    """An exception rolls back every statement; nested transactions join the outer one."""
    db = await _table(pg_empty_url)
    try:
        with pytest.raises(RuntimeError):
            async with db.transaction():
                await db.execute("INSERT INTO t (name, n) VALUES ('a', 1)")
                async with db.transaction():
                    await db.execute("INSERT INTO t (name, n) VALUES ('b', 2)")
                raise RuntimeError("undo")
        assert await db.fetchall("SELECT * FROM t") == []
        async with db.transaction():
            await db.execute("INSERT INTO t (name, n) VALUES ('a', 1)")
        with pytest.raises(StoreError) as caught:
            async with db.transaction():
                await db.execute("INSERT INTO t (name, n) VALUES ('c', 3)")
                await db.execute("INSERT INTO t (name, n) VALUES ('a', 9)")  # UNIQUE
        assert not isinstance(caught.value, StoreBusy)
        rows = await db.fetchall("SELECT name FROM t ORDER BY name")
        assert [r["name"] for r in rows] == ["a"]
    finally:
        await db.close()


async def test_one_writer_at_a_time_across_processes(pg_empty_url: str) -> None:
    """Two databases (two replicas): the second transaction waits for the first's COMMIT, and
    gives up with StoreBusy after its busy timeout."""
    first = await _table(pg_empty_url)
    second = await _table(pg_empty_url, busy_timeout=0.3)
    try:
        entered = asyncio.Event()
        release = asyncio.Event()

        async def hold() -> None:
            async with first.transaction():
                await first.execute("INSERT INTO t (name, n) VALUES ('first', 1)")
                entered.set()
                await release.wait()

        holder = asyncio.create_task(hold())
        await entered.wait()
        with pytest.raises(StoreBusy):
            async with second.transaction():
                await second.execute("INSERT INTO t (name, n) VALUES ('second', 2)")
        release.set()
        await holder
        async with second.transaction():  # free again
            count = await second.fetchone("SELECT count(*) FROM t")
            assert count is not None and count[0] == 1
    finally:
        await first.close()
        await second.close()


async def test_a_statement_running_too_long_is_busy(pg_empty_url: str) -> None:
    """The statement timeout ends a runaway statement with StoreBusy; the pool goes on."""
    db = await _table(pg_empty_url, statement_timeout=0.2)
    try:
        with pytest.raises(StoreBusy):
            await db.fetchone("SELECT pg_sleep(2)")
        with pytest.raises(StoreError, match="syntax"):
            await db.fetchone("SELEC 1")
        assert await db.fetchone("SELECT 1") is not None
    finally:
        await db.close()


async def test_an_advisory_lock_is_held_by_one_replica(pg_empty_url: str) -> None:
    """While one holds ``mailbox``, another's try fails; after, it succeeds."""
    first = await PostgresDatabase.open(pg_empty_url, migrate=False)
    second = await PostgresDatabase.open(pg_empty_url, migrate=False)
    try:
        async with first.advisory_lock("mailbox") as held:
            assert held and await held.alive()
            async with second.try_advisory_lock("mailbox") as other:
                assert not other and not await other.alive()
            async with second.try_advisory_lock("notices") as unrelated:
                assert unrelated
        async with second.try_advisory_lock("mailbox") as later:
            assert later
    finally:
        await first.close()
        await second.close()


async def test_replicas_starting_together_migrate_once(pg_empty_url: str, tmp_path: Path) -> None:
    """Two opens at once: one applies the migrations, the other waits for it, then finds them
    applied; neither sees a half-migrated schema."""
    common, own = tmp_path / "common", tmp_path / "pg"
    common.mkdir()
    own.mkdir()
    (common / "0001_a.sql").write_text("CREATE TABLE a (x TEXT);\n", encoding="utf-8")
    (common / "0002_b.sql").write_text("CREATE TABLE b (x INTEGER PRIMARY KEY);\n", "utf-8")
    (own / "0002_b.sql").write_text(
        "SELECT pg_sleep(0.5);\nCREATE TABLE b (id SERIAL PRIMARY KEY, x INTEGER);\n", "utf-8"
    )
    dirs = (common, own)
    assert [p.parent.name for _, p in pg_migrations(common, own)] == ["common", "pg"]
    dbs = [
        await PostgresDatabase.open(pg_empty_url, migrate=False, migrations_dirs=dirs)
        for _ in range(2)
    ]
    try:
        applied = await asyncio.gather(*(db.migrate() for db in dbs))
        assert sorted(applied) == [[], [1, 2]]
        assert [await db.schema_version() for db in dbs] == [2, 2]
        assert await dbs[0].execute("INSERT INTO b (x) VALUES (7)") == 1  # the PG file's table
    finally:
        for db in dbs:
            await db.close()


async def test_the_real_migrations_apply(pg_url: str) -> None:
    """The template the suite copies holds every migration; a Store opens it as PostgreSQL."""
    store = await Store.open(pg_url)
    try:
        assert store.db.dialect == "postgresql"
        assert await store.db.schema_version() == pg_migrations()[-1][0]
    finally:
        await store.close()


async def test_the_pool_reconnects_after_the_server_restarts(
    pg_server: PgServer, pg_empty_url: str
) -> None:
    """The server goes away and comes back: the next unit of work gets a new connection."""
    db = await _table(pg_empty_url)
    try:
        await db.execute("INSERT INTO t (name, n) VALUES ('before', 1)")
        await asyncio.to_thread(pg_server.stop, "fast")
        await asyncio.to_thread(pg_server.start)
        async with db.transaction():
            await db.execute("INSERT INTO t (name, n) VALUES ('after', 2)")
        rows = await db.fetchall("SELECT name FROM t ORDER BY id")
        assert [r["name"] for r in rows] == ["before", "after"]
    finally:
        await db.close()


async def test_an_import_stages_applies_and_resumes_on_postgresql(
    pg_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A file is staged in ``staging.rows``, applied by slices; re-importing it changes
    nothing; an import interrupted while applied is finished by the next session."""
    import store.imports as imports
    from bankfiles.demodata import make_customer
    from bankfiles.importer import import_file

    monkeypatch.setattr(imports, "FIRST_SLICE_ROWS", 2)  # several slices of a small file
    monkeypatch.setattr(imports, "MAX_SLICE_ROWS", 2)
    monkeypatch.setattr(imports, "PAUSE_SECONDS", 0)
    when = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
    path = tmp_path / "customers.csv"
    people = [make_customer(2008, n, when.date()) for n in range(1, 4)]
    path.write_text(
        "customer_code,kind,name,fiscal_code\n"
        + "".join(f"C{n},{p.kind},{p.name},{p.fiscal_code}\n" for n, p in enumerate(people, 1)),
        encoding="utf-8",
    )
    store = await Store.open(pg_url)
    try:
        first = await import_file(store, "customers", path, now=when)
        assert (first.written, first.new, first.changed) == (True, 3, 3), first.bad
        again = await import_file(store, "customers", path, now=when)
        assert (again.new, again.changed) == (0, 0)
        async with store.imports.session("customers", "x.csv", at="2026-01-06") as session:
            await session.stage(Staged("customers", [["C4", "person", "Ugo Neri", "X"]] * 1))
            await session.stage(Staged("customers", [["C5", "person", "Eva Blu", "Y"]]))
            await session.commit()  # committed, never applied: as a kill -9 would leave it
        async with store.imports.session("customers", "y.csv", at="2026-01-06") as later:
            assert [(r.source, r.finished, r.applied) for r in later.resumed] == [
                ("x.csv", True, 2)
            ]
        rows = await store.db.fetchall("SELECT code FROM customers ORDER BY code")
        assert [r["code"] for r in rows] == ["C1", "C2", "C3", "C4", "C5"]
        left = await store.db.fetchone("SELECT to_regclass('staging.rows') IS NOT NULL")
        assert left is not None and not left[0]
    finally:
        await store.close()


async def test_a_server_that_does_not_answer_is_an_error_without_the_password(
    caplog_all: pytest.LogCaptureFixture,
) -> None:
    """Nobody listens: a StoreError (not "busy") naming the database, its password hidden in
    the message and the log."""
    url = f"postgresql://app:s3cret@127.0.0.1:{_free_port()}/areaclienti"
    with pytest.raises(StoreError) as raised:
        await Store.open(url, busy_timeout=1)
    assert not isinstance(raised.value, StoreBusy)
    assert "cannot connect" in str(raised.value) and "s3cret" not in str(raised.value)
    assert "s3cret" not in caplog_all.text
