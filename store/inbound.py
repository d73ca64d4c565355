"""What the support mailbox has processed, addresses that bounce, and the loop guard's log.

The mailbox worker writes its records through ``record_batch`` (a whole fetched batch in one
transaction, on the database thread: ``store.mail_batch``); this repository reads them and
serves everyone else.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Concatenate, ParamSpec, TypeVar

from store.db import Database
from store.inbound_details import (
    CERTIFICATE_COLUMNS,
    CERTIFICATE_JOIN,
    MailAttachment,
    NewCertificate,
    PecRecord,
    attachment_from_row,
    certificate_from_row,
)
from store.inbound_rows import (
    AddressFailure,
    InboundMail,
    MailIdentity,
    MailLookup,
    NewTicket,
    failure_from_row,
    inbound_from_row,
    upsert_failure,
)
from store.mail_batch import MailBatchWriter
from store.values import iso

P = ParamSpec("P")
T = TypeVar("T")


class InboundRepo:
    """The identity of every processed message, bounce marks and automatic-reply counts."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def record_batch(
        self,
        record: Callable[Concatenate[MailBatchWriter, P], T],
        *args: P.args,
        **kwargs: P.kwargs,
    ) -> T:
        """Run ``record(writer, *args)`` in one transaction, on the database thread, in one hop.

        ``writer`` is a ``MailBatchWriter``; what ``record`` returns is returned.
        """

        def in_thread(conn: sqlite3.Connection) -> T:
            return record(MailBatchWriter(conn), *args, **kwargs)

        async with self.db.transaction():
            return await self.db.run(in_thread)

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

    async def raw(self, inbound_id: int) -> bytes | None:
        """The bytes of a processed message as downloaded, or None (rows before 0006: a file)."""
        row = await self.db.fetchone(
            "SELECT raw FROM inbound_raw WHERE inbound_id = ?", (inbound_id,)
        )
        return bytes(row[0]) if row else None

    async def recent(self, outcome: str | None = None, limit: int = 100) -> list[InboundMail]:
        """The newest records, optionally of one outcome (e.g. ``quarantined``)."""
        where, params = ("WHERE outcome = ?", [outcome]) if outcome else ("", [])
        rows = await self.db.fetchall(
            f"SELECT * FROM inbound_mails {where} ORDER BY id DESC LIMIT ?", (*params, limit)
        )
        return [inbound_from_row(row) for row in rows]

    # --- what was read inside the mails: PEC certificates, attachments ------------------------

    async def certificates(self, inbound_ids: Iterable[int]) -> dict[int, PecRecord]:
        """The PEC certificate of each of these mails that came by PEC, by mail id."""
        found: dict[int, PecRecord] = {}
        for chunk in _chunks(list(inbound_ids)):
            rows = await self.db.reads.fetchall(
                f"SELECT {CERTIFICATE_COLUMNS} FROM {CERTIFICATE_JOIN}"
                f" WHERE c.inbound_id IN ({','.join('?' * len(chunk))})",
                chunk,
            )
            found.update((int(row["inbound_id"]), certificate_from_row(row)) for row in rows)
        return found

    async def receipts_for(self, message_ids: Iterable[str]) -> list[PecRecord]:
        """The PEC receipts certifying the mails with these Message-IDs (ours), oldest first."""
        found: list[PecRecord] = []
        for chunk in _chunks(list(dict.fromkeys(message_ids))):
            rows = await self.db.reads.fetchall(
                f"SELECT {CERTIFICATE_COLUMNS} FROM {CERTIFICATE_JOIN}"
                f" WHERE c.refers_to IN ({','.join('?' * len(chunk))}) AND c.outbox_id IS NOT NULL",
                chunk,
            )
            found.extend(certificate_from_row(row) for row in rows)
        return sorted(found, key=lambda r: (r.certified_at or r.received_at, r.inbound_id))

    async def ticket_attachments(self, ticket_id: int) -> list[MailAttachment]:
        """The attachments of a ticket's mails, in the ticket's order: staff number them so."""
        rows = await self.db.reads.fetchall(
            "SELECT a.* FROM ticket_messages m"
            " JOIN inbound_attachments a ON a.inbound_id = m.inbound_id"
            " WHERE m.ticket_id = ? ORDER BY m.id, a.number",
            (ticket_id,),
        )
        return [attachment_from_row(row) for row in rows]

    # --- addresses that bounce ---------------------------------------------------------------

    async def mark_failing(self, address: str, message_id: str, status: str, now: datetime) -> None:
        """Record that mail to this address bounced (a newer bounce replaces an older mark)."""
        async with self.db.transaction():
            await self.db.run(upsert_failure, address, message_id, status, now)

    async def failing(self, address: str) -> AddressFailure | None:
        """The uncleared failure mark of an address, or None."""
        row = await self.db.fetchone(
            "SELECT * FROM address_failures WHERE address = ? AND cleared_at IS NULL",
            (address.lower(),),
        )
        return failure_from_row(row) if row else None

    async def failing_addresses(self, limit: int = 200) -> list[AddressFailure]:
        """Every address still marked failing, newest first."""
        rows = await self.db.reads.fetchall(
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


def _chunks(values: list[T], size: int = 500) -> list[list[T]]:
    """``values`` in slices a single ``IN (...)`` can hold."""
    return [values[start : start + size] for start in range(0, len(values), size)]


__all__ = [
    "AddressFailure",
    "InboundMail",
    "InboundRepo",
    "MailAttachment",
    "MailBatchWriter",
    "MailIdentity",
    "MailLookup",
    "NewCertificate",
    "NewTicket",
    "PecRecord",
]
