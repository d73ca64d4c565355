"""Customers of the leasing division, as imported from the bank's customers file."""

from __future__ import annotations

import logging
import sqlite3

from store.contracts import contract_from_row
from store.db import Database
from store.records import Contract, Customer
from store.values import compact_fiscal_code, normalise_key

logger = logging.getLogger(__name__)


class CustomerRepo:
    """Read customers; the only write besides the import is the paper-invoice preference."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def get(self, customer_id: int) -> Customer | None:
        """One customer by id."""
        row = await self.db.fetchone("SELECT * FROM customers WHERE id = ?", (customer_id,))
        return customer_from_row(row) if row else None

    async def by_code(self, code: str) -> Customer | None:
        """One customer by the bank's customer code."""
        row = await self.db.fetchone(
            "SELECT * FROM customers WHERE code = ?", (normalise_key(code),)
        )
        return customer_from_row(row) if row else None

    async def set_paper_invoices(self, customer_id: int, on: bool) -> None:
        """Start or stop sending this customer's invoices by post too."""
        async with self.db.transaction():
            await self.db.execute(
                "UPDATE customers SET paper_invoices = ? WHERE id = ?", (int(on), customer_id)
            )

    async def find_by_identifiers(
        self, contract_number: str, module_number: str, fiscal_code: str
    ) -> tuple[Customer, Contract] | None:
        """The customer and contract the three identifiers name together, or None.

        The registration and recovery check: contract number and module number must name one
        contract, and its customer's fiscal code must be ``fiscal_code``. Case, spaces and an
        ``IT`` prefix on a partita IVA do not matter.
        """
        row = await self.db.fetchone(
            "SELECT cu.id AS cu_id, cu.code AS cu_code, cu.kind AS cu_kind, cu.name AS cu_name,"
            " cu.fiscal_code AS cu_fiscal_code, cu.paper_invoices AS cu_paper_invoices, c.*"
            " FROM contracts c JOIN customers cu ON cu.id = c.customer_id"
            " WHERE c.contract_number = ? AND c.module_number = ? AND cu.fiscal_code = ?",
            (
                normalise_key(contract_number),
                normalise_key(module_number),
                compact_fiscal_code(fiscal_code),
            ),
        )
        if row is None:
            return None
        customer = Customer(
            id=row["cu_id"],
            code=row["cu_code"],
            kind=row["cu_kind"],
            name=row["cu_name"],
            fiscal_code=row["cu_fiscal_code"],
            paper_invoices=bool(row["cu_paper_invoices"]),
        )
        return customer, contract_from_row(row)

    async def count(self) -> int:
        """How many customers there are."""
        row = await self.db.fetchone("SELECT count(*) FROM customers")
        return int(row[0]) if row else 0


def customer_from_row(row: sqlite3.Row) -> Customer:
    """The record of one ``customers`` row."""
    return Customer(
        id=row["id"],
        code=row["code"],
        kind=row["kind"],
        name=row["name"],
        fiscal_code=row["fiscal_code"],
        paper_invoices=bool(row["paper_invoices"]),
    )
