"""What the support mailbox reads inside a mail, kept with its record: its PEC certificate and the
description of its attachments (their bytes stay in ``inbound_raw``).

Written by the mail batch's writer (``store.mail_batch``) inside the mail's savepoint; read by
``InboundRepo`` for the staff's views. Never called from outside the store.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from store.values import parse_iso


@dataclass(frozen=True)
class NewCertificate:
    """A PEC certificate as the mailbox read it (``daticert.xml`` and the provider's headers)."""

    kind: str  # posta-certificata | errore (envelopes); accettazione, avvenuta-consegna, ...
    sender: str
    delivered_to: tuple[str, ...]
    provider: str
    certified_at: datetime | None
    identifier: str
    message_id: str | None  # the certified mail's Message-ID
    refers_to: str | None  # the mail a receipt certifies: linked to the outbox when it is ours
    error: str


@dataclass(frozen=True)
class PecRecord:
    """A kept PEC certificate, with the outbox mail it certifies when we sent that mail."""

    inbound_id: int
    kind: str
    sender: str
    delivered_to: tuple[str, ...]
    provider: str
    certified_at: datetime | None
    identifier: str
    message_id: str | None
    refers_to: str | None
    outbox_id: int | None  # our mail that the receipt certifies
    error: str
    received_at: datetime  # when the mailbox processed it


@dataclass(frozen=True)
class MailAttachment:
    """One attachment of a kept mail, described; its bytes are in the mail's raw bytes."""

    inbound_id: int
    number: int  # 1, 2, ... in the mail's order
    filename: str  # safe to print and to create
    content_type: str
    size: int
    sha256: str
    refused: str = ""  # "" accepted; too_large | too_many: over the limits, not written out


def insert_details(
    conn: sqlite3.Connection,
    inbound_id: int,
    certificate: NewCertificate | None,
    attachments: Sequence[MailAttachment],
) -> None:
    """Keep a mail's certificate (linked to our outbox mail it names) and its attachments."""
    if certificate is not None:
        c = certificate
        conn.execute(
            "INSERT INTO pec_certificates (inbound_id, kind, sender, delivered_to, provider,"
            " certified_at, identifier, message_id, refers_to, outbox_id, error)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?,"
            " (SELECT id FROM outbox WHERE message_id = ?), ?)",
            (
                inbound_id, c.kind, c.sender, ",".join(c.delivered_to), c.provider,
                c.certified_at.isoformat() if c.certified_at else None,  # the provider's offset
                c.identifier, c.message_id,
                c.refers_to, c.refers_to, c.error,
            ),
        )  # fmt: skip
    if attachments:
        conn.executemany(
            "INSERT INTO inbound_attachments (inbound_id, number, filename, content_type, size,"
            " sha256, refused) VALUES (?, ?, ?, ?, ?, ?, ?)",
            [
                (inbound_id, a.number, a.filename, a.content_type, a.size, a.sha256, a.refused)
                for a in attachments
            ],
        )


CERTIFICATE_COLUMNS = "c.*, m.processed_at AS received_at"
CERTIFICATE_JOIN = "pec_certificates c JOIN inbound_mails m ON m.id = c.inbound_id"


def certificate_from_row(row: sqlite3.Row) -> PecRecord:
    return PecRecord(
        inbound_id=row["inbound_id"],
        kind=row["kind"],
        sender=row["sender"],
        delivered_to=tuple(a for a in row["delivered_to"].split(",") if a),
        provider=row["provider"],
        certified_at=parse_iso(row["certified_at"]) if row["certified_at"] else None,
        identifier=row["identifier"],
        message_id=row["message_id"],
        refers_to=row["refers_to"],
        outbox_id=row["outbox_id"],
        error=row["error"],
        received_at=parse_iso(row["received_at"]),
    )


def attachment_from_row(row: sqlite3.Row) -> MailAttachment:
    return MailAttachment(
        inbound_id=row["inbound_id"],
        number=row["number"],
        filename=row["filename"],
        content_type=row["content_type"],
        size=row["size"],
        sha256=row["sha256"],
        refused=row["refused"],
    )
