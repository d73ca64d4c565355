"""What the staff console keeps around tickets: the inbox query, notes, assignment, snippets,
recent viewers and the thread's version.

The inbox pages with a keyset on ``(updated_at, id)`` (newest first), so page 2,000 costs what
page 1 costs; each filter has its index, and the search a trigram full-text index of subjects
and contacts (migration 0010). Every change is audited in the same
transaction with the staff user's id.
"""

from __future__ import annotations

import re
import sqlite3
from dataclasses import dataclass
from datetime import datetime

from store.db import Database
from store.staff import insert_staff_audit
from store.values import iso, normalise_key, parse_iso

INBOX_STATUSES = ("open", "answered", "auto_answered", "closed")
STATUS_FILTERS = ("open", "answered", "auto_answered", "closed", "active", "all")
ASSIGNED_FILTERS = ("anyone", "me", "unassigned")
TRIGRAM = 3  # the search index finds parts of at least this many characters
_REFERENCE = re.compile(r"^(?:AC-?)?(\d{6})$", re.IGNORECASE)


@dataclass(frozen=True, kw_only=True)
class InboxQuery:
    """One page of the inbox: filters, search, and where the previous page ended."""

    status: str = "open"  # one of STATUS_FILTERS; active = not closed
    channel: str | None = None  # email | telegram | console
    assigned: str = "anyone"  # one of ASSIGNED_FILTERS
    staff_id: int | None = None  # whose "me"
    search: str = ""  # a reference, a customer code, part of the subject or of the contact
    created_before: datetime | None = None  # the service level's overdue cut-off (12b)
    after: tuple[datetime, int] | None = None  # (updated_at, id) of the last row shown
    limit: int = 50


@dataclass(frozen=True)
class InboxRow:
    id: int
    reference: str
    channel: str
    contact: str
    subject: str
    status: str
    created_at: datetime
    updated_at: datetime
    customer_id: int | None
    customer_code: str | None
    assigned_staff_id: int | None
    waiting: bool  # no reply by a person yet (migration 0011's first_response_at)

    @property
    def cursor(self) -> tuple[datetime, int]:
        """Where the next page starts."""
        return (self.updated_at, self.id)


@dataclass(frozen=True)
class Note:
    id: int
    ticket_id: int
    staff_id: int
    body: str
    created_at: datetime


@dataclass(frozen=True)
class Snippet:
    id: int
    title: str
    language: str
    body: str


class InboxRepo:
    """The staff console's reads and writes around tickets."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.reads = db.reads  # the console's reads: beside the bot's statements, not behind

    async def page(self, query: InboxQuery) -> list[InboxRow]:
        """Up to ``query.limit`` tickets, newest first, after ``query.after``."""
        fts = self.db.dialect == "sqlite"
        where, params = _conditions(query, fts=fts)
        # A search starts from the tickets it finds (few, usually), sorted after; the rest walk
        # the (updated_at, id) index of their filter in order and stop at the page's end. (On
        # SQLite the unary + keeps the planner off that index for a search; PostgreSQL's planner
        # weighs the trigram index against it by itself.)
        searching = len(" ".join(query.search.split())) >= TRIGRAM
        order = "+t.updated_at" if searching and fts else "t.updated_at"
        sql = (
            "SELECT t.id, t.reference, t.channel, t.contact, t.subject, t.status, t.created_at,"
            " t.updated_at, t.customer_id, t.assigned_staff_id, c.code AS customer_code,"
            " t.first_response_at IS NULL AS waiting"
            " FROM tickets t LEFT JOIN customers c ON c.id = t.customer_id"
            f" {'WHERE ' + ' AND '.join(where) if where else ''}"
            f" ORDER BY {order} DESC, t.id DESC LIMIT ?"
        )
        rows = await self.reads.fetchall(sql, (*params, query.limit))
        return [_row(r) for r in rows]

    async def assigned_to(self, ticket_id: int) -> int | None:
        """The staff user the ticket is assigned to, or None."""
        row = await self.reads.fetchone(
            "SELECT assigned_staff_id FROM tickets WHERE id = ?", (ticket_id,)
        )
        return row[0] if row else None

    async def assign(
        self, ticket_id: int, staff_id: int | None, *, by: int, reference: str, now: datetime
    ) -> None:
        """Assign the ticket to ``staff_id`` (None: unassign), audited as ``by``'s act."""
        async with self.db.transaction():
            await self.db.execute(
                "UPDATE tickets SET assigned_staff_id = ? WHERE id = ?", (staff_id, ticket_id)
            )
            event = "staff_ticket_unassigned" if staff_id is None else "staff_ticket_assigned"
            detail = reference if staff_id is None else f"{reference} to staff {staff_id}"
            await self.db.run(insert_staff_audit, event, now, by, detail)

    async def add_note(
        self, ticket_id: int, staff_id: int, body: str, *, reference: str, now: datetime
    ) -> int:
        """An internal note; return its id."""
        async with self.db.transaction():
            note_id = await self.db.execute(
                "INSERT INTO ticket_notes (ticket_id, staff_id, body, created_at)"
                " VALUES (?, ?, ?, ?)",
                (ticket_id, staff_id, body, iso(now)),
            )
            await self.db.run(insert_staff_audit, "staff_note_added", now, staff_id, reference)
        return note_id

    async def notes(self, ticket_id: int) -> list[Note]:
        """A ticket's notes, oldest first."""
        rows = await self.reads.fetchall(
            "SELECT * FROM ticket_notes WHERE ticket_id = ? ORDER BY id", (ticket_id,)
        )
        return [
            Note(r["id"], r["ticket_id"], r["staff_id"], r["body"], parse_iso(r["created_at"]))
            for r in rows
        ]

    async def version(self, ticket_id: int) -> int:
        """The thread's version: its newest message's id (0 for none)."""
        row = await self.reads.fetchone(
            "SELECT MAX(id) FROM ticket_messages WHERE ticket_id = ?", (ticket_id,)
        )
        return int(row[0] or 0) if row else 0

    async def seen(self, ticket_id: int, staff_id: int, now: datetime) -> None:
        """``staff_id`` is looking at the ticket now."""
        await self.db.execute_alone(
            "INSERT INTO ticket_viewers (ticket_id, staff_id, seen_at) VALUES (?, ?, ?)"
            " ON CONFLICT (ticket_id, staff_id) DO UPDATE SET seen_at = excluded.seen_at",
            (ticket_id, staff_id, iso(now)),
        )

    async def viewers(self, ticket_id: int, since: datetime) -> dict[int, datetime]:
        """Who looked at the ticket since ``since``: staff id → when."""
        rows = await self.reads.fetchall(
            "SELECT staff_id, seen_at FROM ticket_viewers WHERE ticket_id = ? AND seen_at >= ?",
            (ticket_id, iso(since)),
        )
        return {r["staff_id"]: parse_iso(r["seen_at"]) for r in rows}

    async def snippets(self, language: str | None = None) -> list[Snippet]:
        """The ready answers admins wrote (not deleted), by title."""
        where, params = ("AND language = ?", (language,)) if language else ("", ())
        rows = await self.reads.fetchall(
            "SELECT id, title, language, body FROM reply_snippets WHERE deleted_at IS NULL"
            f" {where} ORDER BY title, id",
            params,
        )
        return [Snippet(r["id"], r["title"], r["language"], r["body"]) for r in rows]

    async def snippet(self, snippet_id: int) -> Snippet | None:
        """One ready answer (not deleted)."""
        row = await self.reads.fetchone(
            "SELECT id, title, language, body FROM reply_snippets"
            " WHERE id = ? AND deleted_at IS NULL",
            (snippet_id,),
        )
        return Snippet(row["id"], row["title"], row["language"], row["body"]) if row else None

    async def add_snippet(
        self, title: str, language: str, body: str, *, staff_id: int, now: datetime
    ) -> int:
        """A new ready answer; return its id."""
        async with self.db.transaction():
            snippet_id = await self.db.execute(
                "INSERT INTO reply_snippets (title, language, body, staff_id, created_at)"
                " VALUES (?, ?, ?, ?, ?)",
                (title, language, body, staff_id, iso(now)),
            )
            detail = f"snippet {snippet_id}"
            await self.db.run(insert_staff_audit, "staff_snippet_added", now, staff_id, detail)
        return snippet_id

    async def delete_snippet(self, snippet_id: int, *, staff_id: int, now: datetime) -> None:
        """Retire a ready answer."""
        async with self.db.transaction():
            await self.db.execute(
                "UPDATE reply_snippets SET deleted_at = ? WHERE id = ? AND deleted_at IS NULL",
                (iso(now), snippet_id),
            )
            detail = f"snippet {snippet_id}"
            await self.db.run(insert_staff_audit, "staff_snippet_deleted", now, staff_id, detail)


def _conditions(query: InboxQuery, *, fts: bool) -> tuple[list[str], list[object]]:
    """The WHERE terms and parameters of an inbox query. ``fts``: search through SQLite's FTS5
    trigram table (migration 0010); without it (PostgreSQL) the search is a LIKE, which the
    pg_trgm index of the same migration serves (the engine makes it case-insensitive)."""
    where: list[str] = []
    params: list[object] = []
    if query.status == "active":
        where.append("t.status != 'closed'")
    elif query.status in INBOX_STATUSES:
        where.append("t.status = ?")
        params.append(query.status)
    if query.channel:
        where.append("t.channel = ?")
        params.append(query.channel)
    if query.assigned == "me":
        where.append("t.assigned_staff_id = ?")
        params.append(query.staff_id)
    elif query.assigned == "unassigned":
        where.append("t.assigned_staff_id IS NULL")
    if query.created_before is not None:  # overdue: received by then, no staff reply yet (0011)
        where.append("t.created_at < ? AND t.first_response_at IS NULL")
        params.append(iso(query.created_before))
    search = " ".join(query.search.split())
    if search:
        reference = _REFERENCE.match(search)
        if reference:
            where.append("t.reference = ?")
            params.append(f"AC-{reference.group(1)}")
        elif len(search) >= TRIGRAM and fts:
            where.append(
                "t.id IN (SELECT rowid FROM tickets_search WHERE tickets_search MATCH ?"
                " UNION SELECT id FROM tickets WHERE customer_id ="
                " (SELECT id FROM customers WHERE code = ?))"
            )
            params += ['"' + search.replace('"', '""') + '"', normalise_key(search)]
        else:  # PostgreSQL (a LIKE its trigram index serves), or 1-2 characters: a scan
            pattern = "%" + re.sub(r"([\\%_])", r"\\\1", search) + "%"
            where.append(
                "(t.subject LIKE ? ESCAPE '\\' OR t.contact LIKE ? ESCAPE '\\'"
                " OR t.customer_id = (SELECT id FROM customers WHERE code = ?))"
            )
            params += [pattern, pattern, normalise_key(search)]
    if query.after is not None:
        where.append("(t.updated_at, t.id) < (?, ?)")
        params += [iso(query.after[0]), query.after[1]]
    return where, params


def _row(r: sqlite3.Row) -> InboxRow:
    return InboxRow(
        id=r["id"],
        reference=r["reference"],
        channel=r["channel"],
        contact=r["contact"],
        subject=r["subject"],
        status=r["status"],
        created_at=parse_iso(r["created_at"]),
        updated_at=parse_iso(r["updated_at"]),
        customer_id=r["customer_id"],
        customer_code=r["customer_code"],
        assigned_staff_id=r["assigned_staff_id"],
        waiting=bool(r["waiting"]),
    )
