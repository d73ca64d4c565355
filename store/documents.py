"""Invoices and credit notes. Customers see a document once it is published, from 2008 on."""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Sequence
from datetime import date

from store.db import Database
from store.records import Document
from store.values import normalise_key, parse_iso

logger = logging.getLogger(__name__)

FIRST_YEAR = 2008  # the guide: invoices can be looked up from 2008 on
NEWEST_FIRST = "ORDER BY d.issue_date DESC, d.id DESC"
PUBLISHED_IN_YEAR = "d.published_at IS NOT NULL AND d.issue_date >= ? AND d.issue_date < ?"
OF_CUSTOMER = "FROM documents d JOIN contracts c ON c.id = d.contract_id WHERE c.customer_id = ?"


class DocumentRepo:
    """Read published documents; remember the Telegram copy of their PDF."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def get(self, document_id: int) -> Document | None:
        """One document by id (published or not)."""
        row = await self.db.fetchone("SELECT * FROM documents WHERE id = ?", (document_id,))
        return document_from_row(row) if row else None

    async def by_number(self, number: str) -> Document | None:
        """One document by its number (published or not)."""
        row = await self.db.fetchone(
            "SELECT * FROM documents WHERE number = ?", (normalise_key(number),)
        )
        return document_from_row(row) if row else None

    async def years_for_contract(self, contract_id: int) -> list[int]:
        """The years (2008 on) with published documents of one contract, newest first."""
        rows = await self.db.fetchall(
            "SELECT DISTINCT CAST(substr(issue_date, 1, 4) AS INTEGER) FROM documents"
            " WHERE contract_id = ? AND issue_date >= ? AND published_at IS NOT NULL"
            " ORDER BY 1 DESC",
            (contract_id, f"{FIRST_YEAR:04d}-01-01"),
        )
        return [int(row[0]) for row in rows]

    async def years_for_customer(self, customer_id: int) -> list[int]:
        """The years (2008 on) with published documents of any of a customer's contracts.

        One index seek per contract finds the newest year, then one EXISTS per candidate year:
        a company with a hundred contracts is not scanned document by document.
        """
        row = await self.db.fetchone(
            "SELECT max((SELECT max(issue_date) FROM documents d WHERE d.contract_id = c.id))"
            " FROM contracts c WHERE c.customer_id = ?",
            (customer_id,),
        )
        if row is None or row[0] is None or int(row[0][:4]) < FIRST_YEAR:
            return []
        candidates = range(int(row[0][:4]), FIRST_YEAR - 1, -1)
        # (year, its first day, the next year's): a VALUES list names its columns column1..3
        # on both engines, and the bounds come ready-made (no date function in the SQL).
        years = ", ".join("(?, ?, ?)" for _ in candidates)
        rows = await self.db.fetchall(
            f"SELECT y.column1 FROM (VALUES {years}) AS y WHERE EXISTS (SELECT 1"
            f" {OF_CUSTOMER} AND d.published_at IS NOT NULL"
            " AND d.issue_date >= y.column2 AND d.issue_date < y.column3)"
            " ORDER BY y.column1 DESC",
            (*(v for year in candidates for v in (year, *_year_bounds(year))), customer_id),
        )
        return [int(row[0]) for row in rows]

    async def for_contract_year(
        self, contract_id: int, year: int, offset: int = 0, limit: int = 10
    ) -> list[Document]:
        """One page of a contract's published documents of one year, newest first."""
        rows = await self.db.fetchall(
            f"SELECT d.* FROM documents d WHERE d.contract_id = ? AND {PUBLISHED_IN_YEAR}"
            f" {NEWEST_FIRST} LIMIT ? OFFSET ?",
            (contract_id, *_year_bounds(year), limit, offset),
        )
        return [document_from_row(row) for row in rows]

    async def count_for_contract_year(self, contract_id: int, year: int) -> int:
        """How many published documents a contract has in one year."""
        row = await self.db.fetchone(
            f"SELECT count(*) FROM documents d WHERE d.contract_id = ? AND {PUBLISHED_IN_YEAR}",
            (contract_id, *_year_bounds(year)),
        )
        return int(row[0]) if row else 0

    async def for_customer_year(
        self, customer_id: int, year: int, offset: int = 0, limit: int = 10
    ) -> list[Document]:
        """One page of the published documents of all a customer's contracts in one year."""
        rows = await self.db.fetchall(
            f"SELECT d.* {OF_CUSTOMER} AND {PUBLISHED_IN_YEAR} {NEWEST_FIRST} LIMIT ? OFFSET ?",
            (customer_id, *_year_bounds(year), limit, offset),
        )
        return [document_from_row(row) for row in rows]

    async def count_for_customer_year(self, customer_id: int, year: int) -> int:
        """How many published documents a customer has in one year."""
        row = await self.db.fetchone(
            f"SELECT count(*) {OF_CUSTOMER} AND {PUBLISHED_IN_YEAR}",
            (customer_id, *_year_bounds(year)),
        )
        return int(row[0]) if row else 0

    async def for_customer_matching(
        self,
        customer_id: int,
        *,
        kind: str | None = None,
        periods: Sequence[tuple[date, date]] = (),
        contract_ids: Sequence[int] = (),
        amount_cents: int | None = None,
        oldest_first: bool = False,
        limit: int = 10,
    ) -> list[Document]:
        """A customer's published documents (2008 on) matching a request in their own words.

        ``periods`` are ``[start, end)`` date ranges, any of which may hold the document (the
        Marches of several years); ``contract_ids`` narrow to those contracts, which must be the
        customer's too (the join on the customer keeps another's out whatever the caller
        passes). Newest first unless ``oldest_first``. Plain comparisons only, no date functions:
        the same SQL runs on PostgreSQL.
        """
        where = [OF_CUSTOMER, "AND d.published_at IS NOT NULL AND d.issue_date >= ?"]
        params: list[object] = [customer_id, f"{FIRST_YEAR:04d}-01-01"]
        if kind is not None:
            where.append("AND d.kind = ?")
            params.append(kind)
        if contract_ids:
            where.append(f"AND d.contract_id IN ({', '.join('?' for _ in contract_ids)})")
            params.extend(contract_ids)
        if amount_cents is not None:
            where.append("AND d.amount_cents = ?")
            params.append(abs(amount_cents))
        if periods:
            ranges = " OR ".join("(d.issue_date >= ? AND d.issue_date < ?)" for _ in periods)
            where.append(f"AND ({ranges})")
            for start, end in periods:
                params.extend((start.isoformat(), end.isoformat()))
        order = "ORDER BY d.issue_date, d.id" if oldest_first else NEWEST_FIRST
        rows = await self.db.fetchall(
            f"SELECT d.* {' '.join(where)} {order} LIMIT ?", (*params, limit)
        )
        return [document_from_row(row) for row in rows]

    async def set_telegram_file_id(self, document_id: int, file_id: str) -> None:
        """Remember Telegram's id of the uploaded PDF, to send it again without uploading."""
        async with self.db.transaction():
            await self.db.execute(
                "UPDATE documents SET telegram_file_id = ? WHERE id = ?", (file_id, document_id)
            )


def _year_bounds(year: int) -> tuple[str, str]:
    return f"{year:04d}-01-01", f"{year + 1:04d}-01-01"


def document_from_row(row: sqlite3.Row) -> Document:
    """The record of one ``documents`` row."""
    return Document(
        id=row["id"],
        number=row["number"],
        contract_id=row["contract_id"],
        kind=row["kind"],
        issue_date=date.fromisoformat(row["issue_date"]),
        amount_cents=row["amount_cents"],
        pdf_path=row["pdf_path"],
        pdf_sha256=row["pdf_sha256"],
        published_at=parse_iso(row["published_at"]) if row["published_at"] else None,
        telegram_file_id=row["telegram_file_id"],
    )
