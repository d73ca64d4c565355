"""What the support mailbox has processed, addresses that bounce, and the loop guard's log."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import cast

from assistant.clock import iso
from store.db import Database
from store.inbound_rows import (
    AddressFailure,
    InboundMail,
    MailIdentity,
    MailLookup,
    NewTicket,
    execute,
    failure_from_row,
    inbound_from_row,
    insert_answer,
    insert_inbound,
    insert_inbound_with_ticket,
    lookup_rows,
)
from store.tickets import Ticket


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
                insert_inbound, (*values, ticket_id, detail, iso(now))
            )
        return inbound_id

    async def record_with_ticket(
        self,
        identity: MailIdentity,
        *,
        outcome: str,
        detail: str,
        ticket: NewTicket,
        text: str,
        now: datetime,
    ) -> tuple[int, Ticket] | None:
        """Record a message, the ticket it opens and its first message, in one round trip.

        None when this UID was recorded before (nothing is written then).
        """
        async with self.db.transaction():
            found: tuple[int, Ticket] | None = await self.db.run(
                insert_inbound_with_ticket, identity, outcome, detail, ticket, text, now
            )
        return found

    async def record_answer(
        self,
        ticket_id: int,
        *,
        author: str,
        kind: str,
        body: str,
        message_id: str,
        now: datetime,
        auto_reply_to: str | None,
    ) -> None:
        """The answer we queued on a ticket, counted by the loop guard when it is automatic."""
        async with self.db.transaction():
            await self.db.run(
                insert_answer, ticket_id, author, kind, body, message_id, now, auto_reply_to
            )

    async def set_outcome(
        self, inbound_id: int, outcome: str, ticket_id: int | None, detail: str = ""
    ) -> None:
        """Complete a record once the message's effects are known (same transaction)."""
        async with self.db.transaction():
            await self.db.run(
                execute,
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
        return inbound_from_row(row) if row else None

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
        return inbound_from_row(row) if row else None

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
                lookup_rows,
                message_id,
                sha256,
                reference,
                tuple(thread_ids),
                reply_to,
                sender,
                since,
            ),
        )

    async def recent(self, outcome: str | None = None, limit: int = 100) -> list[InboundMail]:
        """The newest records, optionally of one outcome (e.g. ``quarantined``)."""
        where, params = ("WHERE outcome = ?", [outcome]) if outcome else ("", [])
        rows = await self.db.fetchall(
            f"SELECT * FROM inbound_mails {where} ORDER BY id DESC LIMIT ?", (*params, limit)
        )
        return [inbound_from_row(row) for row in rows]

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
        return failure_from_row(row) if row else None

    async def failing_addresses(self, limit: int = 200) -> list[AddressFailure]:
        """Every address still marked failing, newest first."""
        rows = await self.db.fetchall(
            "SELECT * FROM address_failures WHERE cleared_at IS NULL"
            " ORDER BY failed_at DESC LIMIT ?",
            (limit,),
        )
        return [failure_from_row(row) for row in rows]

    async def clear_failing(self, address: str, now: datetime) -> None:
        """Forget the failure mark (the customer corrected or confirmed the address)."""
        async with self.db.transaction():
            await self.db.execute(
                "UPDATE address_failures SET cleared_at = ? WHERE address = ?"
                " AND cleared_at IS NULL",
                (iso(now), address.lower()),
            )


__all__ = [
    "AddressFailure",
    "InboundMail",
    "InboundRepo",
    "MailIdentity",
    "MailLookup",
    "NewTicket",
]
