"""Bulk writes of the bank's files, and the look-ups they need.

An import has two steps (``store.imports`` runs them):

- staging: each batch of checked rows is one ``Staged``, a single ``INSERT ... SELECT FROM
  json_each(?)`` into the ``rows`` table of the import's staging file, which SQLite runs on the
  connection's thread without the Python interpreter (joining references to ids, sorting), so
  the import checks the next batch meanwhile. It writes the staging file only: the database
  itself is only read, and other connections keep writing to it;
- applying: ``apply_slice`` moves a range of staged rows into the live table with an upsert that
  touches a row only when a value differs (re-running a file changes nothing), and queues the
  publication notices of the documents that range published for the first time.

Look-ups (do these codes and numbers exist?) go through a separate read-only connection,
``Lookups``, so they never queue behind a batch being written. They see committed data, which
is all they need: a file refers to rows of another table, imported by an earlier command (an
import interrupted while being applied is finished before the next one stages anything).
Requires SQLite 3.38 or later (the ``->>`` operator).
"""

from __future__ import annotations

import json
import logging
import sqlite3
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, NamedTuple

from store.db import BUSY_TIMEOUT_MS
from store.errors import StoreError, store_error

logger = logging.getLogger(__name__)

BULK_CACHE_KIB = 1024 * 1024  # page cache while importing: a big file touches big indexes
TABLES = ("customers", "contracts", "documents")

# The staging file's one table, by target: the live table's columns, references as ids.
STAGING_TABLES = {
    "customers": "CREATE TABLE staging.rows (code, kind, name, fiscal_code)",
    "contracts": """CREATE TABLE staging.rows (contract_number, module_number, customer_id,
        status, description, start_date, end_date, periodic_fee_cents)""",
    "documents": """CREATE TABLE staging.rows (number, contract_id, kind, issue_date,
        amount_cents, pdf_path, pdf_sha256)""",
}


# Each statement reads a JSON array of rows as ``bankfiles`` makes them (?1). References are
# joined here (the import checked that they exist), and each batch is sorted in index order:
# documents by (contract, date), so that index grows page by page when applied.
# A document's amount may come as digits in a string (the fast path: "012345"), and its module
# as "" for a bare contract number, which names the contract's only module.
def _stage_documents(pdf: str) -> str:
    return f"""INSERT INTO staging.rows (number, contract_id, kind, issue_date,
        amount_cents, pdf_path, pdf_sha256)
    SELECT j.value ->> 0, c.id, j.value ->> 3, j.value ->> 4, CAST(j.value ->> 5 AS INTEGER),
        {pdf}
    FROM json_each(?1) AS j JOIN main.contracts c
        ON c.contract_number = j.value ->> 1
        AND c.module_number = coalesce(nullif(j.value ->> 2, ''), (SELECT min(k.module_number)
            FROM main.contracts k WHERE k.contract_number = j.value ->> 1))
    ORDER BY c.id, j.value ->> 4"""


STAGE = {
    "customers": """INSERT INTO staging.rows (code, kind, name, fiscal_code)
    SELECT value ->> 0, value ->> 1, value ->> 2, value ->> 3 FROM json_each(?1) ORDER BY 1""",
    "contracts": """INSERT INTO staging.rows (contract_number, module_number, customer_id,
        status, description, start_date, end_date, periodic_fee_cents)
    SELECT j.value ->> 0, j.value ->> 1, cu.id, j.value ->> 3, j.value ->> 4, j.value ->> 5,
        j.value ->> 6, j.value ->> 7
    FROM json_each(?1) AS j JOIN main.customers cu ON cu.code = j.value ->> 2
    ORDER BY 1, 2""",
    "documents": _stage_documents("NULL, NULL"),  # metadata only: the PDF recorded stays
    "published": _stage_documents("j.value ->> 7, j.value ->> 8"),  # and the stored PDF's
}

# What an upsert may change in an existing row, and only when a value differs.
UPDATES = {
    "customers": """kind = excluded.kind, name = excluded.name,
        fiscal_code = excluded.fiscal_code, updated_at = excluded.updated_at
    WHERE kind IS NOT excluded.kind OR name IS NOT excluded.name
        OR fiscal_code IS NOT excluded.fiscal_code""",
    "contracts": """customer_id = excluded.customer_id, status = excluded.status,
        description = excluded.description, start_date = excluded.start_date,
        end_date = excluded.end_date, periodic_fee_cents = excluded.periodic_fee_cents,
        updated_at = excluded.updated_at
    WHERE customer_id IS NOT excluded.customer_id OR status IS NOT excluded.status
        OR description IS NOT excluded.description OR start_date IS NOT excluded.start_date
        OR end_date IS NOT excluded.end_date
        OR periodic_fee_cents IS NOT excluded.periodic_fee_cents""",
    # A metadata-only row (no PDF) keeps the PDF already recorded; a new PDF forgets the
    # Telegram copy of the old one; published_at is set once, at the first publication.
    "documents": """contract_id = excluded.contract_id, kind = excluded.kind,
        issue_date = excluded.issue_date, amount_cents = excluded.amount_cents,
        pdf_path = coalesce(excluded.pdf_path, pdf_path),
        telegram_file_id = CASE WHEN coalesce(excluded.pdf_sha256, pdf_sha256) IS pdf_sha256
            THEN telegram_file_id END,
        pdf_sha256 = coalesce(excluded.pdf_sha256, pdf_sha256),
        published_at = coalesce(published_at, excluded.published_at)
    WHERE contract_id IS NOT excluded.contract_id OR kind IS NOT excluded.kind
        OR issue_date IS NOT excluded.issue_date OR amount_cents IS NOT excluded.amount_cents
        OR (excluded.pdf_path IS NOT NULL AND pdf_path IS NOT excluded.pdf_path)
        OR (excluded.pdf_sha256 IS NOT NULL AND pdf_sha256 IS NOT excluded.pdf_sha256)
        OR (published_at IS NULL AND excluded.published_at IS NOT NULL)""",
}

_SLICE = "FROM staging.rows WHERE rowid > ?2 AND rowid <= ?3 ORDER BY rowid"


def _apply(table: str, columns: str, on_conflict: str) -> str:
    return f"""INSERT INTO main.{table} ({columns}, {_TIME_COLUMN[table]})
    SELECT {columns}, ?1 {_SLICE}
    ON CONFLICT ({on_conflict}) DO UPDATE SET {UPDATES[table]}"""


_TIME_COLUMN = {"customers": "updated_at", "contracts": "updated_at", "documents": "published_at"}

# Each statement writes the staged rows ``?2 < rowid <= ?3`` with the import's time ?1.
APPLY = {
    "customers": _apply("customers", "code, kind, name, fiscal_code", "code"),
    "contracts": _apply(
        "contracts",
        "contract_number, module_number, customer_id, status, description, start_date,"
        " end_date, periodic_fee_cents",
        "contract_number, module_number",
    ),
    "documents": _apply(
        "documents",
        "number, contract_id, kind, issue_date, amount_cents, pdf_path, pdf_sha256",
        "number",
    ),
}

# One notice per document ever (notices.document_id is UNIQUE): only for the documents the
# slice published for the first time, which carry this import's publication time.
QUEUE_NOTICES = """
INSERT INTO main.notices (customer_id, document_id, created_at)
SELECT c.customer_id, d.id, ?1 FROM staging.rows AS s
JOIN main.documents d ON d.number = s.number JOIN main.contracts c ON c.id = d.contract_id
WHERE s.rowid > ?2 AND s.rowid <= ?3 AND d.published_at = ?1
ON CONFLICT DO NOTHING
"""


class Written(NamedTuple):
    """What one slice changed."""

    changed: int  # rows inserted or updated
    notices: int = 0  # publication notices queued


class StoredPdf(NamedTuple):
    """What the store knows of a document's file before a publication."""

    pdf_path: str | None
    pdf_sha256: str | None


class Staged:
    """One batch of checked rows for the staging file (``ImportSession.stage``); called on the
    database thread, outside any transaction: it writes the staging file only.

    ``kind`` names the statement (customers, contracts, documents, published: documents with
    their stored PDF); ``rows`` are sequences in the order ``bankfiles`` makes them, or
    (``encoded``) their JSON array already. The repr never shows the rows (they hold personal
    data).
    """

    def __init__(
        self, kind: str, rows: Sequence[Sequence[Any]] | None = None, *, encoded: str = ""
    ) -> None:
        self.kind = kind
        self.sql = STAGE[kind]
        self.params = (encoded or json.dumps(rows or [], separators=(",", ":")),)

    def __call__(self, conn: sqlite3.Connection) -> int:
        """Stage the batch; return how many rows were staged."""
        if conn.in_transaction:  # its rows would share another unit of work's fate
            raise StoreError("a staged batch must not join another transaction")
        before = conn.total_changes
        conn.execute(self.sql, self.params).close()
        return conn.total_changes - before

    def __repr__(self) -> str:
        return f"<Staged {self.kind} rows>"


def create_staging(conn: sqlite3.Connection, target: str) -> None:
    """The staging file's table, in the attached ``staging`` schema."""
    conn.execute(STAGING_TABLES[target]).close()


def staged_rows(conn: sqlite3.Connection) -> int:
    """How many rows the attached staging file holds (its last rowid)."""
    return int(conn.execute("SELECT coalesce(max(rowid), 0) FROM staging.rows").fetchone()[0])


def apply_slice(
    conn: sqlite3.Connection, target: str, at: str, after: int, upto: int, *, notify: bool
) -> Written:
    """Upsert the staged rows ``after < rowid <= upto`` into ``target``; queue their notices."""
    before = conn.total_changes
    conn.execute(APPLY[target], (at, after, upto)).close()
    changed = conn.total_changes - before
    if not notify:
        return Written(changed)
    before = conn.total_changes
    conn.execute(QUEUE_NOTICES, (at, after, upto)).close()
    return Written(changed, conn.total_changes - before)


def max_id(conn: sqlite3.Connection, table: str) -> int:
    """The highest row id of one of the bank tables (0 when empty)."""
    assert table in TABLES
    return int(conn.execute(f"SELECT coalesce(max(id), 0) FROM main.{table}").fetchone()[0])


def count_after(conn: sqlite3.Connection, table: str, after_id: int) -> int:
    """How many rows of ``table`` have an id above ``after_id`` (the rows a run inserted)."""
    assert table in TABLES
    row = conn.execute(f"SELECT count(*) FROM main.{table} WHERE id > ?", (after_id,)).fetchone()
    return int(row[0])


class Lookups:
    """Codes and numbers to ids, on a read-only connection of the calling thread."""

    def __init__(self, path: Path) -> None:
        try:
            self.conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
            self.conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        except sqlite3.Error as exc:
            raise store_error(exc) from exc

    def close(self) -> None:
        """Close the connection."""
        self.conn.close()

    def customer_ids(self, codes: Iterable[str]) -> dict[str, int]:
        """Customer id by code, for the codes that exist."""
        rows = self._rows(
            "SELECT c.code, c.id FROM json_each(?) AS j JOIN customers c ON c.code = j.value",
            list(codes),
        )
        return dict(rows)

    def contract_ids(self, numbers: Iterable[tuple[str, str]]) -> dict[tuple[str, str], int]:
        """Contract id by (contract number, module number), for the pairs that exist."""
        rows = self._rows(
            "SELECT c.contract_number, c.module_number, c.id FROM json_each(?) AS j"
            " JOIN contracts c ON c.contract_number = j.value ->> 0"
            " AND c.module_number = j.value ->> 1",
            [list(pair) for pair in numbers],
        )
        return {(number, module): cid for number, module, cid in rows}

    def contracts_by_number(self, numbers: Iterable[str]) -> dict[str, list[tuple[str, int]]]:
        """(module number, id) of every contract with each bare contract number."""
        rows = self._rows(
            "SELECT c.contract_number, c.module_number, c.id FROM json_each(?) AS j"
            " JOIN contracts c ON c.contract_number = j.value",
            list(numbers),
        )
        found: dict[str, list[tuple[str, int]]] = {}
        for number, module, cid in rows:
            found.setdefault(number, []).append((module, cid))
        return found

    def stored_pdfs(self, numbers: Iterable[str]) -> dict[str, StoredPdf]:
        """The recorded PDF of each document number that exists."""
        rows = self._rows(
            "SELECT d.number, d.pdf_path, d.pdf_sha256 FROM json_each(?) AS j"
            " JOIN documents d ON d.number = j.value",
            list(numbers),
        )
        return {number: StoredPdf(path, sha) for number, path, sha in rows}

    def _rows(self, sql: str, values: list[Any]) -> list[Any]:
        """The rows of ``sql`` over ``values`` as one JSON array."""
        try:
            return self.conn.execute(sql, (json.dumps(values),)).fetchall()
        except sqlite3.Error as exc:
            raise store_error(exc) from exc
