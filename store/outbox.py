"""The outbox: every e-mail the product sends is a row here before it is a message on the wire.

Claims: a sender takes due rows with ``claim_due`` (one INSERT ... SELECT into ``outbox_claims``:
the rows become its own until ``claimed_until``), settles each (sent, retry, failed), then
``release``s its claims. Another sender never takes a pending row while a claim on it lasts, so
two senders on one table cannot send a mail twice; a killed sender's claims lapse and its rows
are taken over after the lease (PostgreSQL: the same statement, the primary key of
``outbox_claims`` deciding between two senders). Claims are rows of their own: claiming a batch
writes a few small pages, not every mail's.

Secrets: a mail that carries a temporary password or a verification code is queued with
``secret=``; its stored body holds ``SECRET_MARK`` where the secret goes, the secret itself sits
in its own column, and every read puts it back in place. Settling the mail as sent or failed
deletes it (``secret_dropped_at`` remembers that there was one: such a mail cannot be queued
again). The connection runs with ``secure_delete`` on (``store.db.PRAGMAS``), so the freed
bytes are zeroed in the page; ``checkpoint`` then empties the WAL, which still holds older
images of the page.
"""

from __future__ import annotations

import json
import os
import secrets
import socket
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from email.utils import make_msgid

from store.db import Database
from store.records import OutboxMail
from store.values import iso, parse_iso

SECRET_MARK = "[secret]"  # where a mail's secret goes in its stored body

_CLAIM = (
    "INSERT INTO outbox_claims (outbox_id, claimed_by, claimed_until)"
    " SELECT id, ?, ? FROM outbox o WHERE status = 'pending' AND next_attempt_at <= ?"
    " AND NOT EXISTS (SELECT 1 FROM outbox_claims c WHERE c.outbox_id = o.id"
    " AND c.claimed_until > ?) ORDER BY next_attempt_at, id LIMIT ?"
    " ON CONFLICT (outbox_id) DO UPDATE SET claimed_by = excluded.claimed_by,"
    " claimed_until = excluded.claimed_until WHERE outbox_claims.claimed_until <= ?"
)  # a lapsed claim is taken over; a live one (another sender was quicker) is left alone
_CLAIMED = (
    "SELECT o.* FROM outbox_claims c JOIN outbox o ON o.id = c.outbox_id"
    " WHERE c.claimed_by = ? AND o.status = 'pending' ORDER BY o.next_attempt_at, o.id"
)
_HELD_BY = "EXISTS (SELECT 1 FROM outbox_claims WHERE outbox_id = outbox.id AND claimed_by = ?)"
_DROP_SECRET = (
    "secret_dropped_at = CASE WHEN secret IS NULL THEN secret_dropped_at ELSE ? END, secret = NULL"
)


def new_claimer() -> str:
    """A name for one sender's claims: host, process and a random part (unique per sender)."""
    return f"{socket.gethostname()}/{os.getpid()}/{secrets.token_hex(4)}"


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
        secret: str | None = None,
    ) -> str | None:
        """Queue one mail; return its Message-ID, or None when ``dedup_key`` was queued before.

        ``secret``: what ``SECRET_MARK`` in ``body_text`` stands for (kept until the mail is
        delivered or refused for good). Call it inside the transaction of the event causing it.
        """
        message_id = message_id or self.new_message_id()
        async with self.db.transaction():
            queued = await self.db.run(
                insert_outbox,
                QueuedMail(
                    message_id=message_id, dedup_key=dedup_key, kind=kind, recipient=recipient,
                    subject=subject, body_text=body_text, body_html=body_html,
                    headers=headers or {}, secret=secret,
                ),
                now,
            )  # fmt: skip
        return message_id if queued else None

    async def claim_due(
        self, claimer: str, now: datetime, until: datetime, limit: int = 100
    ) -> list[OutboxMail]:
        """Claim up to ``limit`` due rows nobody holds, for ``claimer`` until ``until``; oldest
        first. No other sender takes them before they are released or ``until`` (the claimer's
        earlier claims, if any are left, go first)."""
        async with self.db.transaction():
            await self.db.execute("DELETE FROM outbox_claims WHERE claimed_by = ?", (claimer,))
            moment = iso(now)
            await self.db.execute(_CLAIM, (claimer, iso(until), moment, moment, limit, moment))
            rows = await self.db.fetchall(_CLAIMED, (claimer,))
        return [_mail(row) for row in rows]

    async def extend_claim(
        self, claimer: str, mail_ids: Sequence[int], until: datetime
    ) -> set[int]:
        """Hold these rows until ``until``; return those still held (the others were taken over
        after the claim lapsed, or settled)."""
        if not mail_ids:
            return set()
        async with self.db.transaction():
            rows = await self.db.fetchall(
                "UPDATE outbox_claims SET claimed_until = ?"
                f" WHERE outbox_id IN ({_marks(mail_ids)}) AND claimed_by = ? RETURNING outbox_id",
                (iso(until), *mail_ids, claimer),
            )
        return {int(row[0]) for row in rows}

    async def release(self, claimer: str) -> None:
        """Drop ``claimer``'s claims: its unsettled rows are due again, for any sender."""
        await self.db.execute_alone("DELETE FROM outbox_claims WHERE claimed_by = ?", (claimer,))

    async def mark_sent(self, mail_id: int, now: datetime, *, error: str | None = None) -> None:
        """Record a delivery and delete the secret; ``error`` notes recipients refused among
        several accepted."""
        await self.db.execute_alone(
            "UPDATE outbox SET status = 'sent', sent_at = ?, attempts = attempts + 1,"
            f" last_error = ?, {_DROP_SECRET} WHERE id = ?",
            (iso(now), error[:500] if error else None, iso(now), mail_id),
        )

    async def mark_retry(
        self, mail_id: int, error: str, next_attempt_at: datetime, *, claimer: str
    ) -> None:
        """Record a temporary failure and when to try again (the secret is kept for it)."""
        await self.db.execute_alone(
            "UPDATE outbox SET attempts = attempts + 1, last_error = ?, next_attempt_at = ?"
            f" WHERE id = ? AND {_HELD_BY}",
            (error[:500], iso(next_attempt_at), mail_id, claimer),
        )

    async def mark_failed(self, mail_id: int, error: str, now: datetime, *, claimer: str) -> None:
        """Record a permanent failure and delete the secret: staff see it, nothing retries it."""
        await self.db.execute_alone(
            "UPDATE outbox SET status = 'failed', attempts = attempts + 1, last_error = ?,"
            f" {_DROP_SECRET} WHERE id = ? AND {_HELD_BY}",
            (error[:500], iso(now), mail_id, claimer),
        )

    async def checkpoint(self) -> bool:
        """Copy the WAL into the database file and empty it (``wal_checkpoint(TRUNCATE)``),
        waiting for nobody: False when a reader or writer is in the way (try again later).

        After a secret was deleted, the WAL still holds the older images of its page.
        PostgreSQL: nothing to do here (True); the server recycles its own WAL, and autovacuum
        removes the row's older versions."""
        if self.db.dialect != "sqlite":
            return True
        return await self.db.run(_truncate_wal)

    async def requeue_failed(self, mail_ids: list[int], now: datetime) -> set[int]:
        """Put permanently failed mails back in the queue, due now; return those requeued.

        A mail whose secret was deleted at its failure is not requeued (it would go out without).
        """
        requeued = set()
        async with self.db.transaction():
            for mail_id in mail_ids:
                changed = await self.db.execute_rowcount(
                    "UPDATE outbox SET status = 'pending', next_attempt_at = ?"
                    " WHERE id = ? AND status = 'failed' AND secret_dropped_at IS NULL",
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
    body_text: str  # SECRET_MARK where ``secret`` goes
    body_html: str | None
    headers: dict[str, str]
    secret: str | None = None  # a temporary password or code: kept until delivery only


def insert_outbox(conn: sqlite3.Connection, mail: QueuedMail, now: datetime) -> bool:
    """Queue a mail on the database thread; False when its ``dedup_key`` was queued before."""
    if mail.secret is not None and SECRET_MARK not in mail.body_text:
        raise ValueError(f"a mail with a secret needs {SECRET_MARK} in its body")
    cursor = conn.execute(
        "INSERT INTO outbox (message_id, dedup_key, kind, recipient, subject, body_text,"
        " body_html, headers, next_attempt_at, created_at, secret)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (dedup_key) DO NOTHING",
        (
            mail.message_id, mail.dedup_key, mail.kind, mail.recipient, mail.subject,
            mail.body_text, mail.body_html, json.dumps(mail.headers), iso(now), iso(now),
            mail.secret,
        ),
    )  # fmt: skip
    return bool(cursor.rowcount)


def sent_recipient(conn: sqlite3.Connection, message_id: str) -> str | None:
    """To whom we sent the outbox mail with this Message-ID, on the database thread."""
    row = conn.execute("SELECT recipient FROM outbox WHERE message_id = ?", (message_id,))
    found = row.fetchone()
    return str(found[0]) if found else None


def _truncate_wal(conn: sqlite3.Connection) -> bool:
    """A TRUNCATE checkpoint that does not wait: True when the WAL is now empty."""
    timeout = int(conn.execute("PRAGMA busy_timeout").fetchone()[0])
    conn.execute("PRAGMA busy_timeout = 0").close()
    try:
        busy = conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0]
    except sqlite3.OperationalError:  # this connection is inside a transaction
        return False
    finally:
        conn.execute(f"PRAGMA busy_timeout = {timeout}").close()
    return not busy


def _mail(row: sqlite3.Row) -> OutboxMail:
    body, secret = row["body_text"], row["secret"]
    if secret is not None:
        body, state = body.replace(SECRET_MARK, secret), "held"
    else:
        state = "none" if row["secret_dropped_at"] is None else "dropped"
    return OutboxMail(
        id=row["id"],
        message_id=row["message_id"],
        dedup_key=row["dedup_key"],
        kind=row["kind"],
        recipient=row["recipient"],
        subject=row["subject"],
        body_text=body,
        body_html=row["body_html"],
        headers=json.loads(row["headers"]),
        status=row["status"],
        attempts=row["attempts"],
        next_attempt_at=parse_iso(row["next_attempt_at"]),
        last_error=row["last_error"],
        created_at=parse_iso(row["created_at"]),
        sent_at=parse_iso(row["sent_at"]) if row["sent_at"] else None,
        secret=state,
    )


def _marks(values: Sequence[object]) -> str:
    return ", ".join("?" * len(values))
