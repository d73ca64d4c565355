"""Leasing contracts: one customer has many; contract number + module number name one."""

from __future__ import annotations

import logging
import sqlite3
from datetime import date

from store.db import Database
from store.records import Contract
from store.values import normalise_key

logger = logging.getLogger(__name__)

# Active contracts first ('active' < 'terminated'), newest first within each status.
LISTING_ORDER = "ORDER BY status, start_date DESC, id DESC"


class ContractRepo:
    """Read contracts (they are written only by the import)."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def get(self, contract_id: int) -> Contract | None:
        """One contract by id."""
        row = await self.db.fetchone("SELECT * FROM contracts WHERE id = ?", (contract_id,))
        return contract_from_row(row) if row else None

    async def by_number(self, contract_number: str, module_number: str) -> Contract | None:
        """The contract with this number and module (case and spaces do not matter)."""
        row = await self.db.fetchone(
            "SELECT * FROM contracts WHERE contract_number = ? AND module_number = ?",
            (normalise_key(contract_number), normalise_key(module_number)),
        )
        return contract_from_row(row) if row else None

    async def with_number(self, contract_number: str, limit: int = 20) -> list[Contract]:
        """The contracts with this number, whatever their module (a number typed without one)."""
        rows = await self.db.fetchall(
            "SELECT * FROM contracts WHERE contract_number = ? ORDER BY id LIMIT ?",
            (normalise_key(contract_number), limit),
        )
        return [contract_from_row(row) for row in rows]

    async def for_customer(
        self, customer_id: int, status: str | None = None, offset: int = 0, limit: int = 10
    ) -> list[Contract]:
        """One page of a customer's contracts: active first, then by start date, newest first."""
        where, params = _customer_filter(customer_id, status)
        rows = await self.db.fetchall(
            f"SELECT * FROM contracts WHERE {where} {LISTING_ORDER} LIMIT ? OFFSET ?",
            (*params, limit, offset),
        )
        return [contract_from_row(row) for row in rows]

    async def counts_by_status(self, customer_id: int) -> dict[str, int]:
        """How many contracts the customer has of each status (a status with none: absent)."""
        rows = await self.db.fetchall(
            "SELECT status, count(*) FROM contracts WHERE customer_id = ? GROUP BY status",
            (customer_id,),
        )
        return {str(row[0]): int(row[1]) for row in rows}

    async def count_for_customer(self, customer_id: int, status: str | None = None) -> int:
        """How many contracts the customer has (of one status, if given)."""
        where, params = _customer_filter(customer_id, status)
        row = await self.db.fetchone(f"SELECT count(*) FROM contracts WHERE {where}", params)
        return int(row[0]) if row else 0


def _customer_filter(customer_id: int, status: str | None) -> tuple[str, tuple[object, ...]]:
    if status is None:
        return "customer_id = ?", (customer_id,)
    return "customer_id = ? AND status = ?", (customer_id, status)


def contract_from_row(row: sqlite3.Row) -> Contract:
    """The record of one ``contracts`` row."""
    return Contract(
        id=row["id"],
        contract_number=row["contract_number"],
        module_number=row["module_number"],
        customer_id=row["customer_id"],
        status=row["status"],
        description=row["description"],
        start_date=date.fromisoformat(row["start_date"]),
        end_date=date.fromisoformat(row["end_date"]) if row["end_date"] else None,
        periodic_fee_cents=row["periodic_fee_cents"],
    )
