"""Bulk writes of the bank's files on PostgreSQL: ``store.bulk``'s statements in its dialect.

The import runs the same two steps as on SQLite (``store.imports``), with a table where SQLite
has a file:

- staging: the rows go into ``staging.rows``, an UNLOGGED table of the ``staging`` schema (one
  import at a time holds it, under the ``import`` advisory lock), numbered by ``rowid`` in the
  order staged. A batch is one ``INSERT ... SELECT FROM jsonb_array_elements(...)``, like
  SQLite's ``json_each``, joining references to ids on the server. ``commit`` makes the table
  LOGGED (the counterpart of the staging file's fsync: from then on a crash of the server does
  not empty it), then records the import;
- applying: the same upsert by slices of ``rowid``, written with qualified column names (in
  PostgreSQL's ``ON CONFLICT DO UPDATE`` a bare name is ambiguous) and ``IS DISTINCT FROM``.

``PgLookups`` answers the reference look-ups on a connection of its own.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import psycopg

from store.bulk import TABLES, Lookups, StoredPdf
from store.errors import StoreError
from store.postgres_conn import Connection, store_error

SCHEMA = "CREATE SCHEMA IF NOT EXISTS staging"
_ROWID = "rowid BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY"
STAGING_TABLES = {
    "customers": f"""CREATE UNLOGGED TABLE staging.rows ({_ROWID},
        code TEXT, kind TEXT, name TEXT, fiscal_code TEXT)""",
    "contracts": f"""CREATE UNLOGGED TABLE staging.rows ({_ROWID},
        contract_number TEXT, module_number TEXT, customer_id BIGINT, status TEXT,
        description TEXT, start_date TEXT, end_date TEXT, periodic_fee_cents BIGINT)""",
    "documents": f"""CREATE UNLOGGED TABLE staging.rows ({_ROWID},
        number TEXT, contract_id BIGINT, kind TEXT, issue_date TEXT, amount_cents BIGINT,
        pdf_path TEXT, pdf_sha256 TEXT)""",
}
DROP = "DROP TABLE IF EXISTS staging.rows"
MAKE_DURABLE = "ALTER TABLE staging.rows SET LOGGED"
EXISTS = "SELECT to_regclass('staging.rows') IS NOT NULL"

_JSON = "jsonb_array_elements(%s::jsonb) AS j(value)"


def _stage_documents(pdf: str) -> str:
    return f"""INSERT INTO staging.rows (number, contract_id, kind, issue_date,
        amount_cents, pdf_path, pdf_sha256)
    SELECT j.value ->> 0, c.id, j.value ->> 3, j.value ->> 4, (j.value ->> 5)::bigint, {pdf}
    FROM {_JSON} JOIN contracts c
        ON c.contract_number = j.value ->> 1
        AND c.module_number = coalesce(nullif(j.value ->> 2, ''), (SELECT min(k.module_number)
            FROM contracts k WHERE k.contract_number = j.value ->> 1))
    ORDER BY c.id, j.value ->> 4"""


# Sent to psycopg as they are (``%s``, not translated): one JSON array of rows each.
STAGE = {
    "customers": f"""INSERT INTO staging.rows (code, kind, name, fiscal_code)
    SELECT value ->> 0, value ->> 1, value ->> 2, value ->> 3 FROM {_JSON} ORDER BY 1""",
    "contracts": f"""INSERT INTO staging.rows (contract_number, module_number, customer_id,
        status, description, start_date, end_date, periodic_fee_cents)
    SELECT j.value ->> 0, j.value ->> 1, cu.id, j.value ->> 3, j.value ->> 4, j.value ->> 5,
        j.value ->> 6, (j.value ->> 7)::bigint
    FROM {_JSON} JOIN customers cu ON cu.code = j.value ->> 2
    ORDER BY 1, 2""",
    "documents": _stage_documents("NULL, NULL"),
    "published": _stage_documents("j.value ->> 7, j.value ->> 8"),
}

UPDATES = {
    "customers": """kind = excluded.kind, name = excluded.name,
        fiscal_code = excluded.fiscal_code, updated_at = excluded.updated_at
    WHERE t.kind IS DISTINCT FROM excluded.kind OR t.name IS DISTINCT FROM excluded.name
        OR t.fiscal_code IS DISTINCT FROM excluded.fiscal_code""",
    "contracts": """customer_id = excluded.customer_id, status = excluded.status,
        description = excluded.description, start_date = excluded.start_date,
        end_date = excluded.end_date, periodic_fee_cents = excluded.periodic_fee_cents,
        updated_at = excluded.updated_at
    WHERE t.customer_id IS DISTINCT FROM excluded.customer_id
        OR t.status IS DISTINCT FROM excluded.status
        OR t.description IS DISTINCT FROM excluded.description
        OR t.start_date IS DISTINCT FROM excluded.start_date
        OR t.end_date IS DISTINCT FROM excluded.end_date
        OR t.periodic_fee_cents IS DISTINCT FROM excluded.periodic_fee_cents""",
    "documents": """contract_id = excluded.contract_id, kind = excluded.kind,
        issue_date = excluded.issue_date, amount_cents = excluded.amount_cents,
        pdf_path = coalesce(excluded.pdf_path, t.pdf_path),
        telegram_file_id = CASE
            WHEN coalesce(excluded.pdf_sha256, t.pdf_sha256) IS NOT DISTINCT FROM t.pdf_sha256
            THEN t.telegram_file_id END,
        pdf_sha256 = coalesce(excluded.pdf_sha256, t.pdf_sha256),
        published_at = coalesce(t.published_at, excluded.published_at)
    WHERE t.contract_id IS DISTINCT FROM excluded.contract_id
        OR t.kind IS DISTINCT FROM excluded.kind
        OR t.issue_date IS DISTINCT FROM excluded.issue_date
        OR t.amount_cents IS DISTINCT FROM excluded.amount_cents
        OR (excluded.pdf_path IS NOT NULL AND t.pdf_path IS DISTINCT FROM excluded.pdf_path)
        OR (excluded.pdf_sha256 IS NOT NULL
            AND t.pdf_sha256 IS DISTINCT FROM excluded.pdf_sha256)
        OR (t.published_at IS NULL AND excluded.published_at IS NOT NULL)""",
}
_TIME_COLUMN = {"customers": "updated_at", "contracts": "updated_at", "documents": "published_at"}
_CONFLICT = {"customers": "code", "contracts": "contract_number, module_number",
             "documents": "number"}  # fmt: skip
_COLUMNS = {
    "customers": "code, kind, name, fiscal_code",
    "contracts": "contract_number, module_number, customer_id, status, description,"
    " start_date, end_date, periodic_fee_cents",
    "documents": "number, contract_id, kind, issue_date, amount_cents, pdf_path, pdf_sha256",
}

# Each writes the staged rows ``%(after)s < rowid <= %(upto)s`` with the import's time.
APPLY = {
    table: f"""INSERT INTO {table} AS t ({_COLUMNS[table]}, {_TIME_COLUMN[table]})
    SELECT {_COLUMNS[table]}, %(at)s::text FROM staging.rows
    WHERE rowid > %(after)s AND rowid <= %(upto)s ORDER BY rowid
    ON CONFLICT ({_CONFLICT[table]}) DO UPDATE SET {UPDATES[table]}"""
    for table in TABLES
}

QUEUE_NOTICES = """
INSERT INTO notices (customer_id, document_id, created_at)
SELECT c.customer_id, d.id, %(at)s::text FROM staging.rows AS s
JOIN documents d ON d.number = s.number JOIN contracts c ON c.id = d.contract_id
WHERE s.rowid > %(after)s AND s.rowid <= %(upto)s AND d.published_at = %(at)s::text
ON CONFLICT DO NOTHING
"""


class StagingTable:
    """The staging table of the one import running (the counterpart of ``StagingFile``); the
    methods run on the database's threads."""

    def attach_new(self, conn: Connection, target: str) -> None:
        """Replace any staging table by an empty one for ``target``'s rows."""
        for statement in (SCHEMA, DROP, STAGING_TABLES[target]):
            conn.raw.execute(statement)

    def attach_existing(self, conn: Connection, staged: int) -> None:
        """Check the table a committed import left; ``StoreError`` unless it holds its
        ``staged`` rows (a server crash empties it before ``commit``: it is unlogged)."""
        row = conn.raw.execute(EXISTS).fetchone()
        if not row or not row[0]:
            raise StoreError("staging.rows: gone")
        if staged_rows(conn) != staged:
            raise StoreError("staging.rows: not the rows staged")

    def sync(self, conn: Connection) -> None:
        """Make the staged rows durable (the table is written to the WAL from now on)."""
        conn.raw.execute(MAKE_DURABLE)

    def detach(self, conn: Connection) -> None:
        """Nothing to detach: the table is in the database."""

    def discard(self, conn: Connection) -> None:
        """Drop the staging table, if there is one."""
        conn.raw.execute(DROP)


def staged_rows(conn: Connection) -> int:
    """How many rows the staging table holds (its last rowid)."""
    row = conn.raw.execute("SELECT coalesce(max(rowid), 0) FROM staging.rows").fetchone()
    return int(row[0]) if row else 0


def stage(conn: Connection, kind: str, encoded: str) -> int:
    """Stage one batch (its rows as one JSON array); return how many rows were staged."""
    if conn.in_transaction:  # its rows would share another unit of work's fate
        raise StoreError("a staged batch must not join another transaction")
    with conn.raw.cursor() as cursor:
        cursor.execute(STAGE[kind], (encoded,))
        return max(cursor.rowcount, 0)


def apply(
    conn: Connection, target: str, at: str, after: int, upto: int, notify: bool
) -> tuple[int, int]:
    """Upsert the staged rows ``after < rowid <= upto``; (rows changed, notices queued)."""
    values = {"at": at, "after": after, "upto": upto}
    with conn.raw.cursor() as cursor:
        cursor.execute(APPLY[target], values)
        changed = max(cursor.rowcount, 0)
        if not notify:
            return changed, 0
        cursor.execute(QUEUE_NOTICES, values)
        return changed, max(cursor.rowcount, 0)


class PgLookups(Lookups):
    """Codes and numbers to ids, on a connection of its own (autocommit: committed data)."""

    def __init__(self, url: str) -> None:
        try:
            self.pg = psycopg.connect(url, autocommit=True)
        except psycopg.Error as exc:
            raise store_error(exc) from exc

    def close(self) -> None:
        """Close the connection."""
        self.pg.close()

    def customer_ids(self, codes: Iterable[str]) -> dict[str, int]:
        """Customer id by code, for the codes that exist."""
        rows = self._query("SELECT code, id FROM customers WHERE code = ANY(%s)", list(codes))
        return dict(rows)

    def contract_ids(self, numbers: Iterable[tuple[str, str]]) -> dict[tuple[str, str], int]:
        """Contract id by (contract number, module number), for the pairs that exist."""
        pairs = list(numbers)
        rows = self._query(
            "SELECT c.contract_number, c.module_number, c.id FROM contracts c"
            " JOIN unnest(%s::text[], %s::text[]) AS p(n, m)"
            " ON c.contract_number = p.n AND c.module_number = p.m",
            [n for n, _ in pairs],
            [m for _, m in pairs],
        )
        return {(number, module): cid for number, module, cid in rows}

    def contracts_by_number(self, numbers: Iterable[str]) -> dict[str, list[tuple[str, int]]]:
        """(module number, id) of every contract with each bare contract number."""
        rows = self._query(
            "SELECT contract_number, module_number, id FROM contracts"
            " WHERE contract_number = ANY(%s)",
            list(numbers),
        )
        found: dict[str, list[tuple[str, int]]] = {}
        for number, module, cid in rows:
            found.setdefault(number, []).append((module, cid))
        return found

    def stored_pdfs(self, numbers: Iterable[str]) -> dict[str, StoredPdf]:
        """The recorded PDF of each document number that exists."""
        rows = self._query(
            "SELECT number, pdf_path, pdf_sha256 FROM documents WHERE number = ANY(%s)",
            list(numbers),
        )
        return {number: StoredPdf(path, sha) for number, path, sha in rows}

    def _query(self, sql: str, *values: Any) -> list[Any]:
        try:
            return self.pg.execute(sql, values).fetchall()
        except psycopg.Error as exc:
            raise store_error(exc) from exc
