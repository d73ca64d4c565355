"""Support tickets and their messages, whatever channel they came from.

An answer sent by mail is queued in the outbox and kept in its ticket in one step
(``queue_answer``). The synchronous ``insert_*`` functions run on the database thread, for the
repository here and for ``store.mail_batch``.
"""

from __future__ import annotations

import secrets
import sqlite3
from dataclasses import dataclass
from datetime import datetime

from store.audit import insert_audit
from store.db import Database
from store.outbox import QueuedMail, insert_outbox
from store.values import iso, parse_iso

REFERENCE_PREFIX = "AC-"
OPEN_STATUSES = ("open", "answered", "auto_answered")


@dataclass(frozen=True)
class Ticket:
    id: int
    reference: str  # AC-123456
    channel: str  # email | telegram | console
    contact: str  # e-mail address or chat id
    customer_id: int | None
    subject: str
    language: str
    status: str  # open | answered | auto_answered | closed
    created_at: datetime
    updated_at: datetime

    @property
    def number(self) -> int:
        """The six digits of the reference, as staff type them."""
        return int(self.reference.removeprefix(REFERENCE_PREFIX))


@dataclass(frozen=True)
class TicketMessage:
    id: int
    ticket_id: int
    direction: str  # in | out
    author: str  # customer | assistant | staff
    kind: str  # message | acknowledgement | faq | too_large | staff_reply
    body: str
    message_id: str | None
    inbound_id: int | None
    created_at: datetime


@dataclass(frozen=True)
class TicketAnswer:
    """An answer as its ticket keeps it."""

    ticket_id: int
    author: str  # assistant | staff
    kind: str
    body: str
    auto_reply_to: str | None  # an automatic answer's address, counted by the loop guard
    touches_ticket: bool = True  # False when the ticket's updated_at is already this moment


class TicketRepo:
    """Create, find and update tickets; append their messages."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def create(
        self,
        *,
        channel: str,
        contact: str,
        customer_id: int | None,
        subject: str,
        language: str,
        status: str,
        now: datetime,
    ) -> Ticket:
        """A new ticket with a fresh, unguessable ``AC-`` reference."""
        values = (channel, contact, customer_id, subject, language, status, iso(now), iso(now))
        async with self.db.transaction():
            ticket_id, reference = await self.db.run(insert_ticket, values)
        return Ticket(
            id=ticket_id,
            reference=reference,
            channel=channel,
            contact=contact,
            customer_id=customer_id,
            subject=subject,
            language=language,
            status=status,
            created_at=now,
            updated_at=now,
        )

    async def get(self, ticket_id: int) -> Ticket | None:
        """One ticket by id."""
        row = await self.db.reads.fetchone("SELECT * FROM tickets WHERE id = ?", (ticket_id,))
        return ticket_from_row(row) if row else None

    async def by_reference(self, reference: str) -> Ticket | None:
        """The ticket with this ``AC-123456`` reference."""
        row = await self.db.fetchone(
            "SELECT * FROM tickets WHERE reference = ?", (reference.upper(),)
        )
        return ticket_from_row(row) if row else None

    async def latest_open_for(self, channel: str, contact: str) -> Ticket | None:
        """The most recently updated ticket not closed from this chat (or address), or None."""
        row = await self.db.fetchone(
            "SELECT * FROM tickets WHERE channel = ? AND contact = ? AND status != 'closed'"
            " ORDER BY updated_at DESC, id DESC LIMIT 1",
            (channel, contact),
        )
        return ticket_from_row(row) if row else None

    async def set_status(self, ticket_id: int, status: str, now: datetime) -> None:
        """Change a ticket's status."""
        async with self.db.transaction():
            await self.db.run(update_status, ticket_id, status, now)

    async def add_message(
        self,
        ticket_id: int,
        *,
        direction: str,
        author: str,
        body: str,
        now: datetime,
        kind: str = "message",
        message_id: str | None = None,
        inbound_id: int | None = None,
    ) -> int:
        """Append one message to a ticket and touch it; return the message id."""
        values = (ticket_id, direction, author, kind, body, message_id, inbound_id, iso(now))
        async with self.db.transaction():
            return int(await self.db.run(insert_message, values))

    async def add_customer_message(self, ticket: Ticket, text: str, now: datetime) -> None:
        """The customer wrote again: keep it; an answered or closed ticket opens again."""
        async with self.db.transaction():
            await self.db.run(insert_customer_message, ticket, text, now)

    async def queue_answer(self, mail: QueuedMail, answer: TicketAnswer, now: datetime) -> bool:
        """Queue an answer's mail and keep it in its ticket; False when its dedup key was queued."""
        async with self.db.transaction():
            return await self.db.run(queue_answer, mail, answer, now)

    async def messages(self, ticket_id: int) -> list[TicketMessage]:
        """A ticket's messages, oldest first."""
        rows = await self.db.reads.fetchall(
            "SELECT * FROM ticket_messages WHERE ticket_id = ? ORDER BY id", (ticket_id,)
        )
        return [_message(row) for row in rows]

    async def recent(self, *, open_only: bool = False, limit: int = 200) -> list[Ticket]:
        """The most recently updated tickets, optionally only those not closed."""
        where = "WHERE status != 'closed'" if open_only else ""
        rows = await self.db.reads.fetchall(
            f"SELECT * FROM tickets {where} ORDER BY updated_at DESC, id DESC LIMIT ?", (limit,)
        )
        return [ticket_from_row(row) for row in rows]


def insert_ticket(conn: sqlite3.Connection, values: tuple[object, ...]) -> tuple[int, str]:
    """INSERT a ticket under a random reference not used yet; return (id, reference)."""
    while True:
        reference = f"{REFERENCE_PREFIX}{secrets.randbelow(900_000) + 100_000}"
        cursor = conn.execute(
            "INSERT INTO tickets (reference, channel, contact, customer_id, subject, language,"
            " status, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (reference) DO NOTHING",
            (reference, *values),
        )
        if cursor.rowcount:  # else that reference is taken: draw another
            return int(cursor.lastrowid or 0), reference


def update_status(conn: sqlite3.Connection, ticket_id: int, status: str, now: datetime) -> None:
    """Change a ticket's status, on the database thread."""
    conn.execute(
        "UPDATE tickets SET status = ?, updated_at = ? WHERE id = ?", (status, iso(now), ticket_id)
    )


def insert_answer(
    conn: sqlite3.Connection, answer: TicketAnswer, message_id: str, now: datetime
) -> None:
    """Keep an answer in its ticket (and in the loop guard's log when automatic)."""
    at = iso(now)
    insert_message(
        conn,
        (answer.ticket_id, "out", answer.author, answer.kind, answer.body, message_id, None, at),
        touch=answer.touches_ticket,
    )
    if answer.auto_reply_to is not None:
        conn.execute(
            "INSERT INTO auto_replies (address, sent_at) VALUES (?, ?)",
            (answer.auto_reply_to.lower(), at),
        )


def queue_answer(
    conn: sqlite3.Connection, mail: QueuedMail, answer: TicketAnswer, now: datetime
) -> bool:
    """Queue an answer's mail and keep it in its ticket; False when its dedup key was queued."""
    if not insert_outbox(conn, mail, now):
        return False
    insert_answer(conn, answer, mail.message_id, now)
    return True


def insert_customer_message(
    conn: sqlite3.Connection,
    ticket: Ticket,
    text: str,
    now: datetime,
    message_id: str | None = None,
    inbound_id: int | None = None,
) -> None:
    """The customer wrote again (database thread): keep it; an answered or closed ticket opens."""
    at = iso(now)
    insert_message(conn, (ticket.id, "in", "customer", "message", text, message_id, inbound_id, at))
    if ticket.status != "open":
        update_status(conn, ticket.id, "open", now)
        insert_audit(
            conn, "ticket_reopened", now, customer_id=ticket.customer_id,
            channel=ticket.channel, detail=ticket.reference,
        )  # fmt: skip


def insert_message(
    conn: sqlite3.Connection, values: tuple[object, ...], *, touch: bool = True
) -> int:
    """INSERT a ticket message and touch its ticket (unless it was created at that moment);
    return the message id."""
    cursor = conn.execute(
        "INSERT INTO ticket_messages (ticket_id, direction, author, kind, body, message_id,"
        " inbound_id, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        values,
    )
    if touch:
        conn.execute("UPDATE tickets SET updated_at = ? WHERE id = ?", (values[-1], values[0]))
    return int(cursor.lastrowid or 0)


def ticket_from_row(row: sqlite3.Row) -> Ticket:
    """A ticket from its row (for the other repositories of the mailbox)."""
    return Ticket(
        id=row["id"],
        reference=row["reference"],
        channel=row["channel"],
        contact=row["contact"],
        customer_id=row["customer_id"],
        subject=row["subject"],
        language=row["language"],
        status=row["status"],
        created_at=parse_iso(row["created_at"]),
        updated_at=parse_iso(row["updated_at"]),
    )


def _message(row: sqlite3.Row) -> TicketMessage:
    return TicketMessage(
        id=row["id"],
        ticket_id=row["ticket_id"],
        direction=row["direction"],
        author=row["author"],
        kind=row["kind"],
        body=row["body"],
        message_id=row["message_id"],
        inbound_id=row["inbound_id"],
        created_at=parse_iso(row["created_at"]),
    )
