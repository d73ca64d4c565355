"""The audit log of security and staff events. Callers pass no secret and no personal data."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import datetime

from store.db import Database
from store.values import iso, parse_iso


@dataclass(frozen=True)
class AuditEvent:
    id: int
    at: datetime
    event: str
    customer_id: int | None
    account_id: int | None
    channel: str | None
    chat_id: str | None
    detail: str


class AuditRepo:
    """Append and read audit events."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def record(
        self,
        event: str,
        now: datetime,
        *,
        customer_id: int | None = None,
        account_id: int | None = None,
        channel: str | None = None,
        chat_id: str | None = None,
        detail: str = "",
        staff_id: int | None = None,
    ) -> None:
        """Append one event (joins the caller's transaction when there is one); ``staff_id``:
        the staff user who acted (console)."""
        async with self.db.transaction():
            await self.db.run(
                insert_audit, event, now, customer_id, account_id, channel, chat_id, detail,
                staff_id,
            )  # fmt: skip

    async def list(self, event: str | None = None, limit: int = 200) -> list[AuditEvent]:
        """The newest events, optionally of one kind."""
        where, params = ("WHERE event = ?", [event]) if event else ("", [])
        rows = await self.db.fetchall(
            f"SELECT * FROM audit_log {where} ORDER BY id DESC LIMIT ?", (*params, limit)
        )
        return [
            AuditEvent(
                id=r["id"],
                at=parse_iso(r["at"]),
                event=r["event"],
                customer_id=r["customer_id"],
                account_id=r["account_id"],
                channel=r["channel"],
                chat_id=r["chat_id"],
                detail=r["detail"],
            )
            for r in rows
        ]


def insert_audit(
    conn: sqlite3.Connection,
    event: str,
    now: datetime,
    customer_id: int | None = None,
    account_id: int | None = None,
    channel: str | None = None,
    chat_id: str | None = None,
    detail: str = "",
    staff_id: int | None = None,
) -> None:
    """Append one event on the database thread (no secret, no personal data in ``detail``)."""
    if staff_id is not None:  # the column exists from migration 0010 on
        conn.execute(
            "INSERT INTO audit_log (at, event, customer_id, account_id, channel, chat_id, detail,"
            " staff_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (iso(now), event, customer_id, account_id, channel, chat_id, detail, staff_id),
        )
        return
    conn.execute(
        "INSERT INTO audit_log (at, event, customer_id, account_id, channel, chat_id, detail)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)",
        (iso(now), event, customer_id, account_id, channel, chat_id, detail),
    )
