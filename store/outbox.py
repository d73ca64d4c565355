"""The outbox: every e-mail the product sends is a row here before it is a message on the wire."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from datetime import datetime
from email.utils import make_msgid

from store.db import Database
from store.records import OutboxMail
from store.values import iso, parse_iso


class OutboxRepo:
    """Queue, claim and settle outgoing e-mails."""

    def __init__(self, db: Database, message_id_domain: str = "localhost") -> None:
        self.db = db
        self.domain = message_id_domain

    def new_message_id(self) -> str:
        """A fresh ``<...@domain>`` Message-ID."""
        return make_msgid(domain=self.domain)

    async def enqueue(
        self,
        *,
        kind: str,
        recipient: str,
        subject: str,
        body_text: str,
        now: datetime,
        body_html: str | None = None,
        headers: dict[str, str] | None = None,
        dedup_key: str | None = None,
        message_id: str | None = None,
    ) -> str | None:
        """Queue one mail; return its Message-ID, or None when ``dedup_key`` was queued before.

        Call it inside the transaction that records the event causing the mail.
        """
        message_id = message_id or self.new_message_id()
        async with self.db.transaction():
            queued = await self.db.run(
                insert_outbox,
                QueuedMail(
                    message_id=message_id, dedup_key=dedup_key, kind=kind, recipient=recipient,
                    subject=subject, body_text=body_text, body_html=body_html,
                    headers=headers or {},
                ),
                now,
            )  # fmt: skip
        return message_id if queued else None

    async def due(self, now: datetime, limit: int = 100) -> list[OutboxMail]:
        """Pending mails whose next attempt is due, oldest first."""
        rows = await self.db.fetchall(
            "SELECT * FROM outbox WHERE status = 'pending' AND next_attempt_at <= ?"
            " ORDER BY next_attempt_at, id LIMIT ?",
            (iso(now), limit),
        )
        return [_mail(row) for row in rows]

    async def mark_sent(self, mail_id: int, now: datetime, *, error: str | None = None) -> None:
        """Record a delivery; ``error`` notes recipients refused among several accepted."""
        await self.db.execute_alone(
            "UPDATE outbox SET status = 'sent', sent_at = ?, attempts = attempts + 1,"
            " last_error = ? WHERE id = ?",
            (iso(now), error[:500] if error else None, mail_id),
        )

    async def mark_retry(self, mail_id: int, error: str, next_attempt_at: datetime) -> None:
        """Record a temporary failure and when to try again."""
        await self.db.execute_alone(
            "UPDATE outbox SET attempts = attempts + 1, last_error = ?, next_attempt_at = ?"
            " WHERE id = ?",
            (error[:500], iso(next_attempt_at), mail_id),
        )

    async def mark_failed(self, mail_id: int, error: str) -> None:
        """Record a permanent failure: staff see it, nothing retries it."""
        await self.db.execute_alone(
            "UPDATE outbox SET status = 'failed', attempts = attempts + 1, last_error = ?"
            " WHERE id = ?",
            (error[:500], mail_id),
        )

    async def requeue_failed(self, mail_ids: list[int], now: datetime) -> set[int]:
        """Put permanently failed mails back in the queue, due now; return those requeued."""
        requeued = set()
        async with self.db.transaction():
            for mail_id in mail_ids:
                changed = await self.db.execute_rowcount(
                    "UPDATE outbox SET status = 'pending', next_attempt_at = ?"
                    " WHERE id = ? AND status = 'failed'",
                    (iso(now), mail_id),
                )
                if changed:
                    requeued.add(mail_id)
        return requeued

    async def get(self, mail_id: int) -> OutboxMail | None:
        """One mail by id."""
        row = await self.db.fetchone("SELECT * FROM outbox WHERE id = ?", (mail_id,))
        return _mail(row) if row else None

    async def by_message_id(self, message_id: str) -> OutboxMail | None:
        """The mail we sent with this Message-ID (angle brackets included), or None."""
        row = await self.db.fetchone("SELECT * FROM outbox WHERE message_id = ?", (message_id,))
        return _mail(row) if row else None

    async def list(self, status: str | None = None, limit: int = 100) -> list[OutboxMail]:
        """The newest mails, optionally of one status."""
        if status is None:
            rows = await self.db.fetchall("SELECT * FROM outbox ORDER BY id DESC LIMIT ?", (limit,))
        else:
            rows = await self.db.fetchall(
                "SELECT * FROM outbox WHERE status = ? ORDER BY id DESC LIMIT ?", (status, limit)
            )
        return [_mail(row) for row in rows]


@dataclass(frozen=True)
class QueuedMail:
    """One mail to put in the outbox."""

    message_id: str
    dedup_key: str | None  # a second mail with the same key is not queued
    kind: str
    recipient: str
    subject: str
    body_text: str
    body_html: str | None
    headers: dict[str, str]


def insert_outbox(conn: sqlite3.Connection, mail: QueuedMail, now: datetime) -> bool:
    """Queue a mail on the database thread; False when its ``dedup_key`` was queued before."""
    cursor = conn.execute(
        "INSERT INTO outbox (message_id, dedup_key, kind, recipient, subject, body_text,"
        " body_html, headers, next_attempt_at, created_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (dedup_key) DO NOTHING",
        (
            mail.message_id, mail.dedup_key, mail.kind, mail.recipient, mail.subject,
            mail.body_text, mail.body_html, json.dumps(mail.headers), iso(now), iso(now),
        ),
    )  # fmt: skip
    return bool(cursor.rowcount)


def sent_recipient(conn: sqlite3.Connection, message_id: str) -> str | None:
    """To whom we sent the outbox mail with this Message-ID, on the database thread."""
    row = conn.execute("SELECT recipient FROM outbox WHERE message_id = ?", (message_id,))
    found = row.fetchone()
    return str(found[0]) if found else None


def _mail(row: sqlite3.Row) -> OutboxMail:
    return OutboxMail(
        id=row["id"],
        message_id=row["message_id"],
        dedup_key=row["dedup_key"],
        kind=row["kind"],
        recipient=row["recipient"],
        subject=row["subject"],
        body_text=row["body_text"],
        body_html=row["body_html"],
        headers=json.loads(row["headers"]),
        status=row["status"],
        attempts=row["attempts"],
        next_attempt_at=parse_iso(row["next_attempt_at"]),
        last_error=row["last_error"],
        created_at=parse_iso(row["created_at"]),
        sent_at=parse_iso(row["sent_at"]) if row["sent_at"] else None,
    )
