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
from operator import itemgetter
from typing import Any, NamedTuple

from store.db import Database

logger = logging.getLogger(__name__)

BULK_CACHE_KIB = 512 * 1024  # page cache while importing: big files insert into big indexes
TABLES = ("customers", "contracts", "documents")

CUSTOMER_COLUMNS = ("code", "kind", "name", "fiscal_code", "updated_at")
CONTRACT_COLUMNS = (
    "contract_number",
    "module_number",
    "customer_id",
    "status",
    "description",
    "start_date",
    "end_date",
    "periodic_fee_cents",
    "updated_at",
)
DOCUMENT_COLUMNS = (
    "number",
    "contract_id",
    "kind",
    "issue_date",
    "amount_cents",
    "pdf_path",
    "pdf_sha256",
    "published_at",
)


def _upsert_from_json(table: str, columns: tuple[str, ...], on_conflict: str) -> str:
    """INSERT ... SELECT from a JSON array of rows (each an array in ``columns`` order).

    One statement per batch: SQLite walks the whole batch in one step, without the Python
    interpreter (so the import can check the next batch meanwhile).
    """
    values = ", ".join(f"value ->> {index}" for index in range(len(columns)))
    return (
        f"INSERT INTO {table} ({', '.join(columns)}) SELECT {values} FROM json_each(?)"
        f" WHERE true {on_conflict}"
    )


UPSERT_CUSTOMERS = _upsert_from_json(
    "customers",
    CUSTOMER_COLUMNS,
    """ON CONFLICT (code) DO UPDATE SET
        kind = excluded.kind, name = excluded.name, fiscal_code = excluded.fiscal_code,
        updated_at = excluded.updated_at
    WHERE kind IS NOT excluded.kind OR name IS NOT excluded.name
        OR fiscal_code IS NOT excluded.fiscal_code""",
)

UPSERT_CONTRACTS = _upsert_from_json(
    "contracts",
    CONTRACT_COLUMNS,
    """ON CONFLICT (contract_number, module_number) DO UPDATE SET
        customer_id = excluded.customer_id, status = excluded.status,
        description = excluded.description, start_date = excluded.start_date,
        end_date = excluded.end_date, periodic_fee_cents = excluded.periodic_fee_cents,
        updated_at = excluded.updated_at
    WHERE customer_id IS NOT excluded.customer_id OR status IS NOT excluded.status
        OR description IS NOT excluded.description OR start_date IS NOT excluded.start_date
        OR end_date IS NOT excluded.end_date
        OR periodic_fee_cents IS NOT excluded.periodic_fee_cents""",
)

# A metadata-only row (pdf_path and pdf_sha256 NULL) keeps the PDF already recorded; a new PDF
# forgets the Telegram copy of the old one; published_at is set once, at first publication.
UPSERT_DOCUMENTS = _upsert_from_json(
    "documents",
    DOCUMENT_COLUMNS,
    """ON CONFLICT (number) DO UPDATE SET
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
        OR (published_at IS NULL AND excluded.published_at IS NOT NULL)""",
)
UPSERTS = {
    "customers": UPSERT_CUSTOMERS,
    "contracts": UPSERT_CONTRACTS,
    "documents": UPSERT_DOCUMENTS,
}

# One notice per document ever (notices.document_id is UNIQUE): only for the documents this
# run published for the first time, which carry this run's publication time.
QUEUE_NOTICES = """
INSERT INTO notices (customer_id, document_id, created_at)
SELECT c.customer_id, d.id, ? FROM json_each(?) AS j
JOIN documents d ON d.number = j.value JOIN contracts c ON c.id = d.contract_id
WHERE d.published_at = ?
ON CONFLICT DO NOTHING
"""


class Written(NamedTuple):
    """What one batch changed."""

    changed: int  # rows inserted or updated
    notices: int = 0  # publication notices queued


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


class Upsert:
    """One batch of rows to write, as a callable for ``Database.run``.

    Rows are in the ``*_COLUMNS`` order of their table. Documents are written in (contract,
    date) order, so the index on those columns grows page by page instead of at random. With
    ``published_at`` and ``notify``, each document first published by this batch gets a
    notice. The repr never shows the rows (they hold personal data).
    """

    def __init__(
        self,
        table: str,
        rows: list[Sequence[Any]],
        *,
        published_at: str | None = None,
        notify: bool = False,
    ) -> None:
        assert table in TABLES
        if table == "documents":
            rows.sort(key=_CONTRACT_AND_DATE)
        self.table = table
        self.size = len(rows)
        self.payload = json.dumps(rows, ensure_ascii=False, separators=(",", ":"))
        self.published_at = published_at
        self.numbers = json.dumps([row[0] for row in rows]) if notify and published_at else None

    def __call__(self, conn: sqlite3.Connection) -> Written:
        """Write the batch; return what changed."""
        before = conn.total_changes
        conn.execute(UPSERTS[self.table], (self.payload,))
        changed = conn.total_changes - before
        if self.numbers is None:
            return Written(changed)
        before = conn.total_changes
        conn.execute(QUEUE_NOTICES, (self.published_at, self.numbers, self.published_at))
        return Written(changed, conn.total_changes - before)

    def __repr__(self) -> str:
        return f"<Upsert of {self.size} {self.table} rows>"


_CONTRACT_AND_DATE = itemgetter(1, 3)
