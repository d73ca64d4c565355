"""Untrusting parsing of raw mail: any charset, broken MIME, missing headers never raise.

The text of headers and parts is read by ``mailbox.inbound.mime``; delivery reports by
``mailbox.inbound.reports``; PEC envelopes and receipts by ``mailbox.inbound.pec`` (of a PEC
envelope, the customer's mail inside is what is parsed, and answers go to the envelope's
Reply-To); attachments by ``mailbox.inbound.attachments``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import message_from_bytes
from email.message import Message
from email.policy import compat32
from email.utils import parsedate_to_datetime

from mailbox.inbound.attachments import Attachment, customer_message, read_attachments
from mailbox.inbound.mime import (
    MAX_TEXT_CHARS,
    body_text,
    clean_text,
    first_address,
    first_message_id,
    header_fields,
    header_text,
    message_ids,
    safe,
    strip_quoted,
    walk,
)
from mailbox.inbound.pec import PecCertificate, PecEnvelope, open_envelope
from mailbox.inbound.reports import SYSTEM_SENDERS, Bounce, bounce_details, may_report_delivery

logger = logging.getLogger(__name__)

MAX_SUBJECT_CHARS = 300
AUTOMATION_HEADERS = (
    "auto-submitted",
    "precedence",
    "x-autoreply",
    "x-autorespond",
    "x-auto-response-suppress",
    "list-id",
    "list-unsubscribe",
    "return-path",
    "x-failed-recipients",
)


@dataclass(frozen=True)
class ParsedMail:
    """What the worker needs from one message, decoded and cleaned; nothing here is trusted."""

    message_id: str | None
    in_reply_to: tuple[str, ...]
    references: tuple[str, ...]
    subject: str
    sender: str  # the From address, lower case, or ""
    sender_name: str
    reply_to: str  # where an answer goes: Reply-To, else From (lower case, or "")
    date: datetime | None
    content_type: str
    report_type: str  # of a multipart/report, e.g. delivery-status
    text: str  # the readable body: text/plain, else the text of the HTML
    new_text: str  # ``text`` without the quoted reply and the signature
    size: int
    header_only: bool  # the body was not downloaded (over the size limit)
    headers: dict[str, str] = field(default_factory=dict)  # AUTOMATION_HEADERS present
    bounced_message_ids: tuple[str, ...] = ()  # Message-IDs named inside a delivery report
    bounced_recipients: tuple[str, ...] = ()  # Final-Recipient / X-Failed-Recipients
    bounce_actions: tuple[str, ...] = ()  # DSN Action values: failed, delayed, ...
    bounce_status: str = ""  # the first DSN Status, e.g. 5.1.1
    defects: int = 0
    pec: PecCertificate | None = None  # a PEC envelope (opened: the fields above are the
    # customer's mail inside, ``reply_to`` the envelope's) or a PEC receipt; None otherwise
    attachments: tuple[Attachment, ...] = ()  # of the customer's mail, described

    @property
    def references_chain(self) -> tuple[str, ...]:
        """References then In-Reply-To, without repeats: the thread this mail answers."""
        return tuple(dict.fromkeys((*self.references, *self.in_reply_to)))


def parse_mail(raw: bytes, *, size: int | None = None, header_only: bool = False) -> ParsedMail:
    """Parse raw bytes; never raises: the worst input gives a mail with empty fields."""
    try:
        return _parse(raw, size=len(raw) if size is None else size, header_only=header_only)
    except Exception as exc:  # the email package has odd corners; a mail must still be handled
        logger.warning("unparseable mail (%s); keeping it as plain text", type(exc).__name__)
        text = clean_text(raw.decode("latin-1"))[:MAX_TEXT_CHARS]
        return ParsedMail(
            message_id=None,
            in_reply_to=(),
            references=(),
            subject="",
            sender="",
            sender_name="",
            reply_to="",
            date=None,
            content_type="text/plain",
            report_type="",
            text=text,
            new_text=strip_quoted(text),
            size=len(raw) if size is None else size,
            header_only=header_only,
            defects=1,
        )


def _parse(raw: bytes, *, size: int, header_only: bool) -> ParsedMail:
    msg = message_from_bytes(raw, policy=compat32)
    fields = header_fields(msg)
    envelope = open_envelope(msg, fields, header_only=header_only)
    content = customer_message(msg, envelope)
    inner = content if content is not None and content is not msg else None  # out of an envelope
    head = header_fields(inner) if inner is not None else fields

    def first(header: str) -> object:
        values = head.get(header)
        return values[0] if values else None

    name, sender = first_address(head.get("from", []))
    _, reply_to = first_address(head.get("reply-to", []))
    body = msg if content is None else content
    text = "" if header_only else body_text(body)
    headers = {h: header_text(first(h))[:200].lower() for h in AUTOMATION_HEADERS if h in head}
    content_type = safe(body.get_content_type, "text/plain")
    subject = header_text(first("subject"))
    if envelope is not None and not envelope.certificate.is_receipt:
        if inner is None:  # only the envelope: never the provider's robot as the sender
            name, sender, subject = "", envelope.sender, envelope.subject
        reply_to = envelope.sender or reply_to  # PEC: the answer goes to the sending box
    bounce = _bounce(body, envelope, content_type, sender, headers, header_only)
    certified = envelope.certificate.message_id if envelope and inner is not None else None
    return ParsedMail(
        message_id=first_message_id(first("message-id")) or certified,
        in_reply_to=message_ids(first("in-reply-to")),
        references=message_ids(first("references")),
        subject=" ".join(subject.split())[:MAX_SUBJECT_CHARS],
        sender=sender,
        sender_name=name,
        reply_to=reply_to or sender,
        date=_date(first("date")),
        content_type=content_type,
        report_type=(
            str(safe(lambda: body.get_param("report-type"), "") or "").lower()[:50]
            if content_type == "multipart/report"
            else ""
        ),
        text=text,
        new_text=strip_quoted(text),
        size=size,
        header_only=header_only,
        headers=headers,
        defects=sum(len(part.defects) for part in walk(msg)),
        pec=envelope.certificate if envelope is not None else None,
        attachments=() if header_only else read_attachments(content),
        bounced_message_ids=bounce.message_ids,
        bounced_recipients=bounce.recipients,
        bounce_actions=bounce.actions,
        bounce_status=bounce.status,
    )


def _bounce(
    body: Message,
    envelope: PecEnvelope | None,
    content_type: str,
    sender: str,
    headers: dict[str, str],
    header_only: bool,
) -> Bounce:
    """What a delivery failure report tells: a DSN or bounce, or a PEC ``errore-consegna``
    (any other PEC receipt reports no failure, whatever message it quotes)."""
    if envelope is not None and envelope.certificate.is_receipt:
        certificate = envelope.certificate
        if not certificate.delivery_failed or not certificate.refers_to:
            return Bounce()
        return Bounce(
            message_ids=(certificate.refers_to,),
            recipients=certificate.delivered_to,
            actions=("failed",),
            status=certificate.failure_status,
        )
    if header_only or not may_report_delivery(content_type, sender, headers, body):
        return Bounce()
    return bounce_details(body)


def _date(value: object) -> datetime | None:
    if value is None:
        return None
    try:
        moment = parsedate_to_datetime(header_text(value))
    except Exception:
        return None
    if moment is None:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


__all__ = ["MAX_TEXT_CHARS", "SYSTEM_SENDERS", "ParsedMail", "parse_mail"]
