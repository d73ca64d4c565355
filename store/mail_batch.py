"""The support mailbox's unit of work: one fetched batch of mails, written in one transaction.

``InboundRepo.record_batch(record, ...)`` opens the transaction and calls
``record(writer, ...)`` on the database thread, in one hop, with a ``MailBatchWriter``: the
row operations a mail can cause, synchronous, plus ``savepoint()`` to undo one mail alone.
A database failure inside comes out as ``store.errors.StoreError``: the caller lets it go,
the transaction rolls back and the batch is recorded again later.
"""

from __future__ import annotations

import functools
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Concatenate, ParamSpec, TypeVar

from store.accounts import mark_email_failing_rows
from store.audit import insert_audit
from store.errors import store_error
from store.inbound_details import MailAttachment, NewCertificate, insert_details
from store.inbound_rows import (
    MailIdentity,
    MailLookup,
    NewTicket,
    insert_inbound,
    insert_inbound_with_ticket,
    lookup_rows,
    seen_before,
    set_outcome,
    upsert_failure,
)
from store.outbox import QueuedMail, sent_recipient
from store.tickets import Ticket, TicketAnswer, insert_customer_message, queue_answer

P = ParamSpec("P")
T = TypeVar("T")
SAVEPOINT = "mail"


def _store_errors(
    method: Callable[Concatenate[MailBatchWriter, P], T],
) -> Callable[Concatenate[MailBatchWriter, P], T]:
    """The driver's errors leave a writer's method as ``StoreError``."""

    @functools.wraps(method)
    def translated(self: MailBatchWriter, *args: P.args, **kwargs: P.kwargs) -> T:
        try:
            return method(self, *args, **kwargs)
        except sqlite3.Error as exc:
            raise store_error(exc) from exc

    return translated


class Savepoint:
    """One mail's writes so far, which ``rollback`` undoes (the savepoint stays open)."""

    def __init__(self, writer: MailBatchWriter) -> None:
        self._writer = writer

    def rollback(self) -> None:
        """Undo everything written since the savepoint began."""
        self._writer._execute(f"ROLLBACK TO {SAVEPOINT}")


class MailBatchWriter:
    """The rows a batch of mails writes, on the database thread, inside its transaction."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    @contextmanager
    def savepoint(self) -> Iterator[Savepoint]:
        """SAVEPOINT ... RELEASE around one mail. An exception leaves it unreleased: the
        batch's transaction rolls back as a whole."""
        self._execute(f"SAVEPOINT {SAVEPOINT}")
        yield Savepoint(self)
        self._execute(f"RELEASE {SAVEPOINT}")

    @_store_errors
    def _execute(self, sql: str) -> None:
        self._conn.execute(sql)

    # --- what the store knows about a mail -------------------------------------------------

    @_store_errors
    def seen_before(self, message_id: str | None, sha256: str) -> bool:
        """Whether the same message (same Message-ID, or same bytes without one) was processed."""
        return seen_before(self._conn, message_id, sha256)

    @_store_errors
    def sent_recipient(self, message_id: str) -> str | None:
        """The recipient of the outbox mail we sent with this Message-ID, or None."""
        return sent_recipient(self._conn, message_id)

    @_store_errors
    def lookup(
        self,
        message_id: str | None,
        sha256: str,
        reference: str | None,
        thread_ids: tuple[str, ...],
        reply_to: str,
        sender: str,
        since: datetime,
    ) -> MailLookup:
        """Duplicate, ticket by reference or thread, automatic replies since, sender's customer."""
        return lookup_rows(
            self._conn, message_id, sha256, reference, thread_ids, reply_to, sender, since
        )

    # --- what a mail causes ----------------------------------------------------------------

    @_store_errors
    def insert_inbound(
        self, identity: MailIdentity, outcome: str, detail: str, now: datetime
    ) -> int | None:
        """Record a processed message and its bytes; None when this UID was recorded before."""
        return insert_inbound(self._conn, identity, outcome, detail, now)

    @_store_errors
    def insert_inbound_with_ticket(
        self,
        identity: MailIdentity,
        outcome: str,
        detail: str,
        new: NewTicket,
        text: str,
        now: datetime,
    ) -> tuple[int, Ticket] | None:
        """Record a message, the ticket it opens and its first message; None when this UID was
        recorded before (roll back the mail's savepoint: the ticket row is written by then)."""
        return insert_inbound_with_ticket(self._conn, identity, outcome, detail, new, text, now)

    @_store_errors
    def insert_details(
        self,
        inbound_id: int,
        certificate: NewCertificate | None,
        attachments: tuple[MailAttachment, ...],
    ) -> None:
        """Keep what was read inside a recorded mail: its PEC certificate (a receipt linked to
        the outbox mail it certifies) and its attachments' descriptions."""
        insert_details(self._conn, inbound_id, certificate, attachments)

    @_store_errors
    def set_outcome(
        self, inbound_id: int, outcome: str, ticket_id: int | None, detail: str
    ) -> None:
        """Complete a record once the message's effects are known."""
        set_outcome(self._conn, inbound_id, outcome, ticket_id, detail)

    @_store_errors
    def insert_customer_message(
        self,
        ticket: Ticket,
        text: str,
        now: datetime,
        message_id: str | None = None,
        inbound_id: int | None = None,
    ) -> None:
        """The customer wrote again: keep it; an answered or closed ticket opens again."""
        insert_customer_message(self._conn, ticket, text, now, message_id, inbound_id)

    @_store_errors
    def queue_answer(self, mail: QueuedMail, answer: TicketAnswer, now: datetime) -> bool:
        """Queue an answer's mail and keep it in its ticket; False when its dedup key was queued."""
        return queue_answer(self._conn, mail, answer, now)

    @_store_errors
    def insert_audit(
        self,
        event: str,
        now: datetime,
        *,
        account_id: int | None = None,
        channel: str | None = None,
        detail: str = "",
    ) -> None:
        """Append one event to the audit log (no secret, no personal data in ``detail``)."""
        insert_audit(self._conn, event, now, account_id=account_id, channel=channel, detail=detail)

    @_store_errors
    def upsert_failure(self, address: str, message_id: str, status: str, now: datetime) -> None:
        """Mark an address failing (a newer bounce replaces an older mark)."""
        upsert_failure(self._conn, address, message_id, status, now)

    @_store_errors
    def mark_email_failing(self, address: str, now: datetime) -> list[int]:
        """Flag the accounts using a bouncing address; return their ids."""
        return mark_email_failing_rows(self._conn, address, now)
