"""Bulk writes of the bank's files, run on the connection's own thread through ``Database.run``.

Every function takes the raw ``sqlite3.Connection`` first and is called inside the import's
single transaction. Upserts touch a row only when a value differs, so re-running a file changes
nothing; they return how many rows they inserted or changed.
"""

from __future__ import annotations

import json
import logging
import sqlite3
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from typing import Any, NamedTuple

from store.db import Database

logger = logging.getLogger(__name__)

BULK_CACHE_KIB = 512 * 1024  # page cache while importing: big files insert into big indexes
TABLES = ("customers", "contracts", "documents")

UPSERT_CUSTOMERS = """
INSERT INTO customers (code, kind, name, fiscal_code, updated_at) VALUES (?, ?, ?, ?, ?)
ON CONFLICT (code) DO UPDATE SET
    kind = excluded.kind, name = excluded.name, fiscal_code = excluded.fiscal_code,
    updated_at = excluded.updated_at
WHERE kind IS NOT excluded.kind OR name IS NOT excluded.name
    OR fiscal_code IS NOT excluded.fiscal_code
"""

UPSERT_CONTRACTS = """
INSERT INTO contracts (contract_number, module_number, customer_id, status, description,
    start_date, end_date, periodic_fee_cents, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (contract_number, module_number) DO UPDATE SET
    customer_id = excluded.customer_id, status = excluded.status,
    description = excluded.description, start_date = excluded.start_date,
    end_date = excluded.end_date, periodic_fee_cents = excluded.periodic_fee_cents,
    updated_at = excluded.updated_at
WHERE customer_id IS NOT excluded.customer_id OR status IS NOT excluded.status
    OR description IS NOT excluded.description OR start_date IS NOT excluded.start_date
    OR end_date IS NOT excluded.end_date OR periodic_fee_cents IS NOT excluded.periodic_fee_cents
"""

# A metadata-only row (pdf_path and pdf_sha256 NULL) keeps the PDF already recorded; a new PDF
# forgets the Telegram copy of the old one; published_at is set once, at first publication.
UPSERT_DOCUMENTS = """
INSERT INTO documents (number, contract_id, kind, issue_date, amount_cents, pdf_path,
    pdf_sha256, published_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (number) DO UPDATE SET
    contract_id = excluded.contract_id, kind = excluded.kind,
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
    OR (published_at IS NULL AND excluded.published_at IS NOT NULL)
"""

# One notice per document ever (notices.document_id is UNIQUE): only for the documents this
# run published for the first time, which carry this run's publication time.
QUEUE_NOTICES = """
INSERT INTO notices (customer_id, document_id, created_at)
SELECT c.customer_id, d.id, ? FROM documents d JOIN contracts c ON c.id = d.contract_id
WHERE d.number = ? AND d.published_at = ?
ON CONFLICT DO NOTHING
"""


class StoredPdf(NamedTuple):
    """What the store knows of a document's file before a publication."""

    pdf_path: str | None
    pdf_sha256: str | None


@asynccontextmanager
async def bulk_session(db: Database) -> AsyncIterator[None]:
    """A bigger page cache for the duration of a bulk import (restored afterwards)."""
    row = await db.fetchone("PRAGMA cache_size")
    previous = int(row[0]) if row else -2000
    await db.execute(f"PRAGMA cache_size = {-BULK_CACHE_KIB}")
    try:
        yield
    finally:
        await db.execute(f"PRAGMA cache_size = {previous}")


def max_id(conn: sqlite3.Connection, table: str) -> int:
    """The highest row id of one of the bank tables (0 when empty)."""
    assert table in TABLES
    return int(conn.execute(f"SELECT coalesce(max(id), 0) FROM {table}").fetchone()[0])


def count_after(conn: sqlite3.Connection, table: str, after_id: int) -> int:
    """How many rows of ``table`` have an id above ``after_id`` (the rows a run inserted)."""
    assert table in TABLES
    return int(
        conn.execute(f"SELECT count(*) FROM {table} WHERE id > ?", (after_id,)).fetchone()[0]
    )


def customer_ids(conn: sqlite3.Connection, codes: Iterable[str]) -> dict[str, int]:
    """Customer id by code, for the codes that exist."""
    rows = conn.execute(
        "SELECT c.code, c.id FROM json_each(?) AS j JOIN customers c ON c.code = j.value",
        (json.dumps(list(codes)),),
    )
    return dict(rows.fetchall())


def contract_ids(
    conn: sqlite3.Connection, numbers: Iterable[tuple[str, str]]
) -> dict[tuple[str, str], int]:
    """Contract id by (contract number, module number), for the pairs that exist."""
    rows = conn.execute(
        "SELECT c.contract_number, c.module_number, c.id FROM json_each(?) AS j"
        " JOIN contracts c ON c.contract_number = json_extract(j.value, '$[0]')"
        " AND c.module_number = json_extract(j.value, '$[1]')",
        (json.dumps([list(pair) for pair in numbers]),),
    )
    return {(number, module): cid for number, module, cid in rows.fetchall()}


def contracts_by_number(
    conn: sqlite3.Connection, numbers: Iterable[str]
) -> dict[str, list[tuple[str, int]]]:
    """(module number, id) of every contract with each bare contract number."""
    rows = conn.execute(
        "SELECT c.contract_number, c.module_number, c.id FROM json_each(?) AS j"
        " JOIN contracts c ON c.contract_number = j.value",
        (json.dumps(list(numbers)),),
    )
    found: dict[str, list[tuple[str, int]]] = {}
    for number, module, cid in rows.fetchall():
        found.setdefault(number, []).append((module, cid))
    return found


def stored_pdfs(conn: sqlite3.Connection, numbers: Iterable[str]) -> dict[str, StoredPdf]:
    """The recorded PDF of each document number that exists."""
    rows = conn.execute(
        "SELECT d.number, d.pdf_path, d.pdf_sha256 FROM json_each(?) AS j"
        " JOIN documents d ON d.number = j.value",
        (json.dumps(list(numbers)),),
    )
    return {number: StoredPdf(path, sha) for number, path, sha in rows.fetchall()}


def upsert_customers(conn: sqlite3.Connection, rows: Sequence[Sequence[Any]]) -> int:
    """Insert or update (code, kind, name, fiscal_code, updated_at) rows; return the changes."""
    return _changes(conn, UPSERT_CUSTOMERS, rows)


def upsert_contracts(conn: sqlite3.Connection, rows: Sequence[Sequence[Any]]) -> int:
    """Insert or update contract rows in the column order of ``UPSERT_CONTRACTS``."""
    return _changes(conn, UPSERT_CONTRACTS, rows)


def upsert_documents(conn: sqlite3.Connection, rows: list[Sequence[Any]]) -> int:
    """Insert or update (number, contract_id, kind, issue_date, amount_cents, pdf_path,
    pdf_sha256, published_at) rows; return the changes.

    The rows are written in (contract, date) order: the index on those columns then grows
    page by page instead of at random places.
    """
    rows.sort(key=lambda row: (row[1], row[3]))
    return _changes(conn, UPSERT_DOCUMENTS, rows)


def queue_notices(
    conn: sqlite3.Connection, numbers: Iterable[str], published_at: str, now: str
) -> int:
    """A publication notice for each of ``numbers`` first published at ``published_at``."""
    return _changes(conn, QUEUE_NOTICES, [(now, number, published_at) for number in numbers])


def _changes(conn: sqlite3.Connection, sql: str, rows: Sequence[Sequence[Any]]) -> int:
    before = conn.total_changes
    conn.executemany(sql, rows)
    return conn.total_changes - before
