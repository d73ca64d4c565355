"""Rows of the support mailbox's tables, and the statements run on the database thread.

Called by ``InboundRepo`` and by the mail batch's writer (``store.mail_batch``), never from
outside the store.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from datetime import datetime

from store.tickets import Ticket, insert_message, insert_ticket, ticket_from_row
from store.values import iso, parse_iso


@dataclass(frozen=True)
class InboundMail:
    id: int
    folder: str
    uidvalidity: int
    uid: int
    message_id: str | None
    sha256: str
    size: int
    raw_path: str  # rows before migration 0006: the bytes' file under the data folder, else ""
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


@dataclass(frozen=True)
class MailIdentity:
    """Who a server message is: where it was, its Message-ID and its bytes (kept with it)."""

    folder: str
    uidvalidity: int
    uid: int
    message_id: str | None
    sha256: str
    size: int
    raw: bytes = field(repr=False)  # as downloaded (only the header when over the size limit)


@dataclass(frozen=True)
class NewTicket:
    """The ticket a message opens."""

    channel: str
    contact: str
    customer_id: int | None
    subject: str
    language: str
    status: str


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


def seen_before(conn: sqlite3.Connection, message_id: str | None, sha256: str) -> bool:
    """Whether the same message (same Message-ID, or same bytes without one) was processed."""
    sql = _SEEN_BY_ID if message_id else _SEEN_BY_BYTES
    return conn.execute(sql, (message_id or sha256,)).fetchone() is not None


def lookup_rows(
    conn: sqlite3.Connection,
    message_id: str | None,
    sha256: str,
    reference: str | None,
    thread_ids: tuple[str, ...],
    reply_to: str,
    sender: str,
    since: datetime,
) -> MailLookup:
    seen = seen_before(conn, message_id, sha256)
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
        seen_before=seen,
        ticket_by_reference=by_reference,
        ticket_by_thread=by_thread,
        auto_replies_since=int(replies[0]) if replies else 0,
        customer_id=int(customer[0]) if customer and sender else None,
    )


def insert_inbound(
    conn: sqlite3.Connection,
    identity: MailIdentity,
    outcome: str,
    detail: str,
    now: datetime,
    ticket_id: int | None = None,
) -> int | None:
    """Record a processed message and keep its bytes; None when this UID was recorded before."""
    cursor = conn.execute(
        "INSERT INTO inbound_mails (folder, uidvalidity, uid, message_id, sha256, size,"
        " raw_path, outcome, ticket_id, detail, processed_at)"
        " VALUES (?, ?, ?, ?, ?, ?, '', ?, ?, ?, ?)"
        " ON CONFLICT (folder, uidvalidity, uid) DO NOTHING",
        (
            identity.folder, identity.uidvalidity, identity.uid, identity.message_id,
            identity.sha256, identity.size, outcome, ticket_id, detail, iso(now),
        ),
    )  # fmt: skip
    if not cursor.rowcount or not cursor.lastrowid:
        return None
    inbound_id = int(cursor.lastrowid)
    conn.execute(
        "INSERT INTO inbound_raw (inbound_id, raw) VALUES (?, ?)", (inbound_id, identity.raw)
    )
    return inbound_id


def insert_inbound_with_ticket(
    conn: sqlite3.Connection,
    identity: MailIdentity,
    outcome: str,
    detail: str,
    new: NewTicket,
    text: str,
    now: datetime,
) -> tuple[int, Ticket] | None:
    """Record a message, the ticket it opens and its first message.

    None when this UID was recorded before: the ticket row is written by then, so call it
    inside a SAVEPOINT and roll back to it.
    """
    at = iso(now)
    values = (new.channel, new.contact, new.customer_id, new.subject, new.language, new.status)
    ticket_id, reference = insert_ticket(conn, (*values, at, at))
    inbound_id = insert_inbound(conn, identity, outcome, detail, now, ticket_id)
    if inbound_id is None:
        return None
    insert_message(
        conn,
        (ticket_id, "in", "customer", "message", text, identity.message_id, inbound_id, at),
        touch=False,  # the ticket was created at this very moment
    )
    ticket = Ticket(
        id=ticket_id, reference=reference, channel=new.channel, contact=new.contact,
        customer_id=new.customer_id, subject=new.subject, language=new.language,
        status=new.status, created_at=now, updated_at=now,
    )  # fmt: skip
    return inbound_id, ticket


def set_outcome(
    conn: sqlite3.Connection, inbound_id: int, outcome: str, ticket_id: int | None, detail: str
) -> None:
    """Complete a record once the message's effects are known (same transaction)."""
    conn.execute(
        "UPDATE inbound_mails SET outcome = ?, ticket_id = ?, detail = ? WHERE id = ?",
        (outcome, ticket_id, detail, inbound_id),
    )


def upsert_failure(
    conn: sqlite3.Connection, address: str, message_id: str, status: str, now: datetime
) -> None:
    """Mark an address failing (a newer bounce replaces an older mark)."""
    conn.execute(
        "INSERT INTO address_failures (address, failed_at, message_id, status)"
        " VALUES (?, ?, ?, ?) ON CONFLICT (address) DO UPDATE SET"
        " failed_at = excluded.failed_at, message_id = excluded.message_id,"
        " status = excluded.status, cleared_at = NULL",
        (address.lower(), iso(now), message_id, status[:20]),
    )


def inbound_from_row(row: sqlite3.Row) -> InboundMail:
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


def failure_from_row(row: sqlite3.Row) -> AddressFailure:
    return AddressFailure(
        address=row["address"],
        failed_at=parse_iso(row["failed_at"]),
        message_id=row["message_id"],
        status=row["status"],
        cleared_at=parse_iso(row["cleared_at"]) if row["cleared_at"] else None,
    )
