"""What the support mailbox has processed, addresses that bounce, and the loop guard's log."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import cast

from assistant.clock import iso, parse_iso
from store.db import Database
from store.tickets import Ticket, ticket_from_row


@dataclass(frozen=True)
class InboundMail:
    id: int
    folder: str
    uidvalidity: int
    uid: int
    message_id: str | None
    sha256: str
    size: int
    raw_path: str  # relative to the data folder
    outcome: str  # ticket | reply | faq | automatic | bounce | too_large | duplicate | quarantined
    ticket_id: int | None
    detail: str
    processed_at: datetime


@dataclass(frozen=True)
class AddressFailure:
    address: str
    failed_at: datetime
    message_id: str  # our Message-ID that bounced
    status: str  # DSN status such as 5.1.1, or empty
    cleared_at: datetime | None


class InboundRepo:
    """The identity of every processed message, bounce marks and automatic-reply counts."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def record(
        self,
        *,
        folder: str,
        uidvalidity: int,
        uid: int,
        message_id: str | None,
        sha256: str,
        size: int,
        raw_path: str,
        outcome: str,
        now: datetime,
        ticket_id: int | None = None,
        detail: str = "",
    ) -> int | None:
        """Record a processed message; None when this UID was recorded before."""
        values = (folder, uidvalidity, uid, message_id, sha256, size, raw_path, outcome)
        async with self.db.transaction():
            inbound_id: int | None = await self.db.run(
                _insert_inbound, (*values, ticket_id, detail, iso(now))
            )
        return inbound_id

    async def set_outcome(
        self, inbound_id: int, outcome: str, ticket_id: int | None, detail: str = ""
    ) -> None:
        """Complete a record once the message's effects are known (same transaction)."""
        async with self.db.transaction():
            await self.db.run(
                _execute,
                "UPDATE inbound_mails SET outcome = ?, ticket_id = ?, detail = ? WHERE id = ?",
                (outcome, ticket_id, detail, inbound_id),
            )

    async def outcomes(self, folder: str, uidvalidity: int, uids: Iterable[int]) -> dict[int, str]:
        """The recorded outcome of each of these UIDs that was processed already."""
        wanted = list(uids)
        found: dict[int, str] = {}
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            rows = await self.db.fetchall(
                "SELECT uid, outcome FROM inbound_mails WHERE folder = ? AND uidvalidity = ?"
                f" AND uid IN ({','.join('?' * len(chunk))})",
                (folder, uidvalidity, *chunk),
            )
            found.update((int(row[0]), str(row[1])) for row in rows)
        return found

    async def get(self, folder: str, uidvalidity: int, uid: int) -> InboundMail | None:
        """The record of one server message, or None."""
        row = await self.db.fetchone(
            "SELECT * FROM inbound_mails WHERE folder = ? AND uidvalidity = ? AND uid = ?",
            (folder, uidvalidity, uid),
        )
        return _inbound(row) if row else None

    async def seen_before(self, message_id: str | None, sha256: str) -> InboundMail | None:
        """An earlier record of the same message (same Message-ID, or same bytes without one)."""
        if message_id:
            row = await self.db.fetchone(
                "SELECT * FROM inbound_mails WHERE message_id = ? AND outcome != 'quarantined'"
                " ORDER BY id LIMIT 1",
                (message_id,),
            )
        else:
            row = await self.db.fetchone(
                "SELECT * FROM inbound_mails WHERE sha256 = ? AND outcome != 'quarantined'"
                " ORDER BY id LIMIT 1",
                (sha256,),
            )
        return _inbound(row) if row else None

    async def lookup(
        self,
        *,
        message_id: str | None,
        sha256: str,
        reference: str | None,
        thread_ids: Sequence[str],
        reply_to: str,
        sender: str,
        since: datetime,
    ) -> MailLookup:
        """Everything the mailbox asks the store about one customer mail, in one round trip."""
        return cast(
            MailLookup,
            await self.db.run(
                _lookup, message_id, sha256, reference, tuple(thread_ids), reply_to, sender, since
            ),
        )

    async def recent(self, outcome: str | None = None, limit: int = 100) -> list[InboundMail]:
        """The newest records, optionally of one outcome (e.g. ``quarantined``)."""
        where, params = ("WHERE outcome = ?", [outcome]) if outcome else ("", [])
        rows = await self.db.fetchall(
            f"SELECT * FROM inbound_mails {where} ORDER BY id DESC LIMIT ?", (*params, limit)
        )
        return [_inbound(row) for row in rows]

    # --- the loop guard ----------------------------------------------------------------------

    async def count_auto_replies(self, address: str, since: datetime) -> int:
        """Automatic replies sent to this address since a moment."""
        row = await self.db.fetchone(
            "SELECT COUNT(*) FROM auto_replies WHERE address = ? AND sent_at >= ?",
            (address.lower(), iso(since)),
        )
        return int(row[0]) if row else 0

    async def record_auto_reply(self, address: str, now: datetime) -> None:
        """Count one automatic reply to this address."""
        async with self.db.transaction():
            await self.db.run(
                _execute,
                "INSERT INTO auto_replies (address, sent_at) VALUES (?, ?)",
                (address.lower(), iso(now)),
            )

    # --- addresses that bounce ---------------------------------------------------------------

    async def mark_failing(self, address: str, message_id: str, status: str, now: datetime) -> None:
        """Record that mail to this address bounced (a newer bounce replaces an older mark)."""
        async with self.db.transaction():
            await self.db.execute(
                "INSERT INTO address_failures (address, failed_at, message_id, status)"
                " VALUES (?, ?, ?, ?) ON CONFLICT (address) DO UPDATE SET"
                " failed_at = excluded.failed_at, message_id = excluded.message_id,"
                " status = excluded.status, cleared_at = NULL",
                (address.lower(), iso(now), message_id, status[:20]),
            )

    async def failing(self, address: str) -> AddressFailure | None:
        """The uncleared failure mark of an address, or None."""
        row = await self.db.fetchone(
            "SELECT * FROM address_failures WHERE address = ? AND cleared_at IS NULL",
            (address.lower(),),
        )
        return _failure(row) if row else None

    async def failing_addresses(self, limit: int = 200) -> list[AddressFailure]:
        """Every address still marked failing, newest first."""
        rows = await self.db.fetchall(
            "SELECT * FROM address_failures WHERE cleared_at IS NULL"
            " ORDER BY failed_at DESC LIMIT ?",
            (limit,),
        )
        return [_failure(row) for row in rows]

    async def clear_failing(self, address: str, now: datetime) -> None:
        """Forget the failure mark (the customer corrected or confirmed the address)."""
        async with self.db.transaction():
            await self.db.execute(
                "UPDATE address_failures SET cleared_at = ? WHERE address = ?"
                " AND cleared_at IS NULL",
                (iso(now), address.lower()),
            )


@dataclass(frozen=True)
class MailLookup:
    """What the store knows about one incoming mail."""

    seen_before: bool  # its Message-ID (or bytes, without one) was processed already
    ticket_by_reference: Ticket | None
    ticket_by_thread: Ticket | None
    auto_replies_since: int  # automatic replies to its reply address since the moment asked
    customer_id: int | None  # the customer whose account registered the sender's address


_SEEN_BY_ID = (
    "SELECT 1 FROM inbound_mails WHERE message_id = ? AND outcome != 'quarantined' LIMIT 1"
)
_SEEN_BY_BYTES = "SELECT 1 FROM inbound_mails WHERE sha256 = ? AND outcome != 'quarantined' LIMIT 1"


def _lookup(
    conn: sqlite3.Connection,
    message_id: str | None,
    sha256: str,
    reference: str | None,
    thread_ids: tuple[str, ...],
    reply_to: str,
    sender: str,
    since: datetime,
) -> MailLookup:
    seen = conn.execute(
        _SEEN_BY_ID if message_id else _SEEN_BY_BYTES, (message_id or sha256,)
    ).fetchone()
    by_reference = by_thread = None
    if reference:
        row = conn.execute("SELECT * FROM tickets WHERE reference = ?", (reference,)).fetchone()
        by_reference = ticket_from_row(row) if row else None
    if thread_ids:
        row = conn.execute(
            "SELECT t.* FROM ticket_messages m JOIN tickets t ON t.id = m.ticket_id"
            f" WHERE m.message_id IN ({','.join('?' * len(thread_ids))})"
            " ORDER BY m.id DESC LIMIT 1",
            thread_ids,
        ).fetchone()
        by_thread = ticket_from_row(row) if row else None
    replies = conn.execute(
        "SELECT COUNT(*) FROM auto_replies WHERE address = ? AND sent_at >= ?",
        (reply_to.lower(), iso(since)),
    ).fetchone()
    customer = conn.execute(
        "SELECT customer_id FROM accounts WHERE lower(email) = lower(?)"
        " ORDER BY status = 'active' DESC, id DESC LIMIT 1",
        (sender,),
    ).fetchone()
    return MailLookup(
        seen_before=seen is not None,
        ticket_by_reference=by_reference,
        ticket_by_thread=by_thread,
        auto_replies_since=int(replies[0]) if replies else 0,
        customer_id=int(customer[0]) if customer and sender else None,
    )


def _insert_inbound(conn: sqlite3.Connection, values: tuple[object, ...]) -> int | None:
    cursor = conn.execute(
        "INSERT INTO inbound_mails (folder, uidvalidity, uid, message_id, sha256, size,"
        " raw_path, outcome, ticket_id, detail, processed_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
        " ON CONFLICT (folder, uidvalidity, uid) DO NOTHING",
        values,
    )
    return int(cursor.lastrowid) if cursor.rowcount and cursor.lastrowid else None


def _execute(conn: sqlite3.Connection, sql: str, params: tuple[object, ...]) -> None:
    conn.execute(sql, params)


def _inbound(row: sqlite3.Row) -> InboundMail:
    return InboundMail(
        id=row["id"],
        folder=row["folder"],
        uidvalidity=row["uidvalidity"],
        uid=row["uid"],
        message_id=row["message_id"],
        sha256=row["sha256"],
        size=row["size"],
        raw_path=row["raw_path"],
        outcome=row["outcome"],
        ticket_id=row["ticket_id"],
        detail=row["detail"],
        processed_at=parse_iso(row["processed_at"]),
    )


def _failure(row: sqlite3.Row) -> AddressFailure:
    return AddressFailure(
        address=row["address"],
        failed_at=parse_iso(row["failed_at"]),
        message_id=row["message_id"],
        status=row["status"],
        cleared_at=parse_iso(row["cleared_at"]) if row["cleared_at"] else None,
    )
