"""The bank's communications to customers, and the notices that announce them."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import datetime

from store.db import Database
from store.values import iso, parse_iso


@dataclass(frozen=True)
class Communication:
    id: int
    customer_id: int
    subject: str
    body: str
    created_at: datetime
    read_at: datetime | None

    @property
    def unread(self) -> bool:
        """Whether the customer has not opened it yet."""
        return self.read_at is None


class CommunicationRepo:
    """Create, list and read communications."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def registered_customers(self, among: list[int] | None = None) -> list[int]:
        """Customers with an active account (all of them, or those ``among`` the given ids)."""
        if among is not None and not among:
            return []
        if among is None:
            rows = await self.db.fetchall(
                "SELECT customer_id FROM accounts WHERE status = 'active' ORDER BY customer_id"
            )
        else:
            rows = await self.db.fetchall(
                "SELECT customer_id FROM accounts WHERE status = 'active'"
                f" AND customer_id IN ({', '.join('?' * len(among))}) ORDER BY customer_id",
                tuple(among),
            )
        return [int(r[0]) for r in rows]

    async def customer_id_by_code(self, code: str) -> int | None:
        """The id of the customer with the bank's code, or None."""
        row = await self.db.fetchone("SELECT id FROM customers WHERE code = ?", (code,))
        return int(row[0]) if row else None

    async def create_for(
        self, customer_ids: list[int], *, subject: str, body: str, now: datetime
    ) -> int:
        """One communication and one pending notice per customer; return how many were made."""
        created = iso(now)
        async with self.db.transaction():
            row = await self.db.fetchone("SELECT COALESCE(MAX(id), 0) FROM communications")
            before = int(row[0]) if row else 0
            await self.db.executemany(
                "INSERT INTO communications (customer_id, subject, body, created_at)"
                " VALUES (?, ?, ?, ?)",
                [(customer_id, subject, body, created) for customer_id in customer_ids],
            )
            await self.db.execute(
                "INSERT INTO notices (customer_id, communication_id, created_at)"
                " SELECT customer_id, id, created_at FROM communications WHERE id > ?",
                (before,),
            )
        return len(customer_ids)

    async def get(self, communication_id: int) -> Communication | None:
        """One communication by id, or None."""
        row = await self.db.fetchone(
            "SELECT * FROM communications WHERE id = ?", (communication_id,)
        )
        return _communication(row) if row else None

    async def many(self, communication_ids: list[int]) -> dict[int, Communication]:
        """Several communications by id (those that exist)."""
        found: dict[int, Communication] = {}
        for start in range(0, len(communication_ids), 900):
            chunk = communication_ids[start : start + 900]
            rows = await self.db.fetchall(
                f"SELECT * FROM communications WHERE id IN ({', '.join('?' * len(chunk))})",
                tuple(chunk),
            )
            found.update((row["id"], _communication(row)) for row in rows)
        return found

    async def for_customer(
        self, customer_id: int, *, offset: int = 0, limit: int = 10
    ) -> list[Communication]:
        """The customer's communications, newest first."""
        rows = await self.db.fetchall(
            "SELECT * FROM communications WHERE customer_id = ?"
            " ORDER BY created_at DESC, id DESC LIMIT ? OFFSET ?",
            (customer_id, limit, offset),
        )
        return [_communication(row) for row in rows]

    async def count_for_customer(self, customer_id: int) -> tuple[int, int]:
        """How many communications the customer has, and how many of them are unread."""
        row = await self.db.fetchone(
            "SELECT COUNT(*), COUNT(*) - COUNT(read_at) FROM communications WHERE customer_id = ?",
            (customer_id,),
        )
        return (int(row[0]), int(row[1])) if row else (0, 0)

    async def mark_read(self, communication_id: int, now: datetime) -> None:
        """Record the first time the customer opened it."""
        async with self.db.transaction():
            await self.db.execute(
                "UPDATE communications SET read_at = ? WHERE id = ? AND read_at IS NULL",
                (iso(now), communication_id),
            )


def _communication(row: sqlite3.Row) -> Communication:
    return Communication(
        id=row["id"],
        customer_id=row["customer_id"],
        subject=row["subject"],
        body=row["body"],
        created_at=parse_iso(row["created_at"]),
        read_at=parse_iso(row["read_at"]) if row["read_at"] else None,
    )
