"""PostgreSQL's migrations (``store/migrations/postgresql/``) against SQLite's: the same numbers,
the same tables, columns, indexes and triggers, the same data migrations, and the SQLite
functions the repositories use meaning the same on both. A real throwaway cluster
(tests/fixtures/postgres.py) beside a real SQLite file, whatever the suite's backend."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from store.db import MIGRATIONS_DIR, Database, migrations
from store.inbox import InboxQuery, InboxRepo
from store.postgres import PG_MIGRATIONS_DIR, PostgresDatabase
from store.tickets import insert_ticket

FTS_TABLE = "tickets_search"  # SQLite's FTS5 table (and its triggers); PostgreSQL: an index


@pytest.fixture
async def sqlite_db(tmp_path: Path) -> AsyncIterator[Database]:
    db = await Database.open(tmp_path / "twin.db")
    yield db
    await db.close()


@pytest.fixture
async def pg_db(pg_url: str) -> AsyncIterator[Database]:
    db = await PostgresDatabase.open(pg_url)
    yield db
    await db.close()


def test_every_migration_has_its_postgresql_twin() -> None:
    """One PostgreSQL file per SQLite file, same number, same name (and no stray one)."""
    sqlite = {number: path.name for number, path in migrations(MIGRATIONS_DIR)}
    postgresql = {number: path.name for number, path in migrations(PG_MIGRATIONS_DIR)}
    assert postgresql == sqlite


async def test_both_engines_build_the_same_schema(sqlite_db: Database, pg_db: Database) -> None:
    """Same tables and columns (types of one family, NOT NULL alike), same indexes and
    triggers; SQLite's FTS5 search table is PostgreSQL's trigram index of the same name."""
    sqlite_tables, pg_tables = await _sqlite_tables(sqlite_db), await _pg_tables(pg_db)
    assert pg_tables == sqlite_tables

    rows = await sqlite_db.fetchall(
        "SELECT type, name FROM sqlite_master WHERE type IN ('index', 'trigger')"
        " AND sql IS NOT NULL AND name NOT LIKE 'tickets\\_search%' ESCAPE '\\'"
    )
    sqlite_indexes = {r[1] for r in rows if r[0] == "index"}
    sqlite_triggers = {r[1] for r in rows if r[0] == "trigger"}
    rows = await pg_db.fetchall(
        "SELECT indexname FROM pg_indexes WHERE schemaname = 'public'"
    )  # less the constraints' own (primary keys, UNIQUE)
    pg_indexes = {r[0] for r in rows if not r[0].endswith(("_pkey", "_key"))}
    assert pg_indexes == sqlite_indexes | {FTS_TABLE}
    rows = await pg_db.fetchall(
        "SELECT tgname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid"
        " JOIN pg_namespace n ON n.oid = c.relnamespace"
        " WHERE n.nspname = 'public' AND NOT t.tgisinternal"
    )
    assert {r[0] for r in rows} == sqlite_triggers


async def _sqlite_tables(db: Database) -> dict[str, list[tuple[str, str, bool]]]:
    names = await db.fetchall(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%'"
        " ESCAPE '\\' AND name NOT LIKE 'tickets\\_search%' ESCAPE '\\' ORDER BY name"
    )
    family = {"INTEGER": "integer", "TEXT": "text", "BLOB": "bytes"}
    tables = {}
    for (name,) in names:
        columns = await db.fetchall(f"PRAGMA table_info({name})")
        tables[name] = [
            (c["name"], family[c["type"]], bool(c["notnull"]) or bool(c["pk"])) for c in columns
        ]
    return tables


async def _pg_tables(db: Database) -> dict[str, list[tuple[str, str, bool]]]:
    rows = await db.fetchall(
        "SELECT c.table_name, c.column_name, c.data_type, c.is_nullable = 'NO'"
        " FROM information_schema.columns c JOIN information_schema.tables t"
        " ON t.table_schema = c.table_schema AND t.table_name = c.table_name"
        " WHERE c.table_schema = 'public' AND t.table_type = 'BASE TABLE'"
        " AND c.table_name != 'schema_version' ORDER BY c.table_name, c.ordinal_position"
    )
    family = {"integer": "integer", "bigint": "integer", "text": "text", "bytea": "bytes"}
    tables: dict[str, list[tuple[str, str, bool]]] = {}
    for table, column, data_type, not_null in rows:
        tables.setdefault(table, []).append((column, family[data_type], bool(not_null)))
    return tables


async def test_both_engines_keep_the_same_keys_and_defaults(
    sqlite_db: Database, pg_db: Database
) -> None:
    """Primary keys, UNIQUE constraints, foreign keys and column defaults alike."""
    keys, references, defaults = set(), set(), {}
    for (table,) in await sqlite_db.fetchall(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%'"
        " ESCAPE '\\' AND name NOT LIKE 'tickets\\_search%' ESCAPE '\\'"
    ):
        columns = await sqlite_db.fetchall(f"PRAGMA table_info({table})")
        primary = tuple(c["name"] for c in sorted(columns, key=lambda c: c["pk"]) if c["pk"])
        keys.add((table, primary))
        defaults.update({(table, c["name"]): c["dflt_value"] for c in columns})
        for index in await sqlite_db.fetchall(f"PRAGMA index_list({table})"):
            if index["unique"] and index["origin"] == "u":
                names = await sqlite_db.fetchall(f"PRAGMA index_info({index['name']})")
                keys.add((table, tuple(n["name"] for n in names)))
        for key in await sqlite_db.fetchall(f"PRAGMA foreign_key_list({table})"):
            references.add((table, key["from"], key["table"]))
    rows = await pg_db.fetchall(
        "SELECT c.conrelid::regclass::text, c.contype, c.confrelid::regclass::text,"
        " (SELECT string_agg(a.attname, ',' ORDER BY k.ord) FROM unnest(c.conkey)"
        " WITH ORDINALITY AS k(num, ord) JOIN pg_attribute a"
        " ON a.attrelid = c.conrelid AND a.attnum = k.num)"
        " FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace"
        " WHERE n.nspname = 'public' AND c.contype IN ('p', 'u', 'f')"
        " AND c.conrelid != 'schema_version'::regclass"
    )
    assert {(r[0], tuple(r[3].split(","))) for r in rows if r[1] != "f"} == keys
    assert {(r[0], r[3], r[2]) for r in rows if r[1] == "f"} == references
    rows = await pg_db.fetchall(
        "SELECT table_name, column_name, column_default FROM information_schema.columns"
        " WHERE table_schema = 'public' AND table_name != 'schema_version'"
    )
    assert {(r[0], r[1]): r[2] and r[2].split("::")[0] for r in rows} == defaults


async def test_a_queued_secret_moves_out_of_the_body_as_on_sqlite(
    tmp_path: Path, pg_empty_url: str
) -> None:
    """Migration 0007's data migration: the password or code leaves ``body_text`` for its
    column, and is dropped at once from mails already sent or refused, alike on both."""
    mails = [
        ("temp_password", "Ciao\nPassword temporanea: Ab3$x%y\nA presto\n", "pending"),
        ("temp_password", "Hi\nTemporary password: Zz9\n", "sent"),
        ("verification_code", "Codice di verifica: 123456", "pending"),
        ("verification_code", "Verification code: \nnothing on the line", "failed"),
        ("notice", "Password temporanea: not a secret in a notice", "pending"),
    ]
    results = []
    for db in (
        await Database.open(tmp_path / "old.db", upto=6),
        await PostgresDatabase.open(pg_empty_url, upto=6),
    ):
        try:
            async with db.transaction():
                for number, (kind, body, status) in enumerate(mails):
                    await db.execute(
                        "INSERT INTO outbox (message_id, kind, recipient, subject, body_text,"
                        " status, next_attempt_at, created_at) VALUES (?, ?, 'r', 's', ?, ?,"
                        " '2026-01-01T00:00:00+00:00', '2026-01-01T00:00:00+00:00')",
                        (f"<{number}@test>", kind, body, status),
                    )
            await db.migrate(upto=7)
            rows = await db.fetchall(
                "SELECT body_text, secret, secret_dropped_at IS NOT NULL FROM outbox ORDER BY id"
            )
            results.append([(r[0], r[1], bool(r[2])) for r in rows])
        finally:
            await db.close()
    sqlite, postgresql = results
    assert postgresql == sqlite
    assert sqlite[0] == ("Ciao\nPassword temporanea: [secret]\nA presto\n", "Ab3$x%y", False)
    assert sqlite[1] == ("Hi\nTemporary password: [secret]\n", None, True)


async def test_julianday_and_nocase_mean_the_same_on_both(
    sqlite_db: Database, pg_db: Database
) -> None:
    """The compatibility function and collation of PostgreSQL's 0001 (the dashboard's
    julianday arithmetic, the customer search's ``COLLATE NOCASE``)."""
    moments = [
        "2026-01-02T03:04:05+00:00",
        "2026-01-02T03:04:05.250000+00:00",
        "2026-01-02T05:04:05+02:00",
        "2008-02-29T23:59:59+00:00",
    ]  # (the store writes every moment with its offset: store.values.iso)
    for moment in moments:
        lite = await sqlite_db.fetchone("SELECT julianday(?)", (moment,))
        pg = await pg_db.fetchone("SELECT julianday(?)", (moment,))
        assert lite is not None and pg is not None
        assert abs(lite[0] - pg[0]) * 86400 < 0.002, moment  # SQLite: to the millisecond
    for db in (sqlite_db, pg_db):
        row = await db.fetchone(
            "SELECT 'Mario.Rossi@Example.IT' = ? COLLATE NOCASE, 'a' = ? COLLATE NOCASE",
            ("mario.rossi@example.it", "b"),
        )
        assert row is not None and (bool(row[0]), bool(row[1])) == (True, False)


async def test_the_inbox_search_finds_a_part_of_a_word_in_any_case(
    sqlite_db: Database, pg_db: Database
) -> None:
    """SQLite's FTS5 trigram table and PostgreSQL's trigram index answer the same."""
    now = datetime(2026, 3, 1, tzinfo=UTC)
    for db in (sqlite_db, pg_db):
        ids = []
        async with db.transaction():
            for n, (subject, contact) in enumerate(
                [("Fattura non ricevuta", "anna@example.it"), ("Disdetta", "Bruno@Posta.it")]
            ):
                moment = (now + timedelta(minutes=n)).isoformat()
                values = ("email", contact, None, subject, "it", "open", moment, moment)
                ids.append((await db.run(insert_ticket, values))[0])
        inbox = InboxRepo(db)

        async def found(search: str, inbox: InboxRepo = inbox) -> set[int]:
            return {r.id for r in await inbox.page(InboxQuery(status="all", search=search))}

        assert await found("RICEV") == {ids[0]}, db.dialect
        assert await found("bruno@posta") == {ids[1]}, db.dialect
        assert await found("100%") == set(), db.dialect
        assert await found("zzz") == set(), db.dialect
