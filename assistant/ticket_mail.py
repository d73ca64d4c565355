"""A ticket's e-mail thread: the answer to send (``MailReply``), how it is kept in the ticket,
its ``Re:`` subject with the reference and its threading headers, and the reference read back
from a customer's subject. Pure: the ticket service and the mailbox ledger use it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from store.tickets import REFERENCE_PREFIX, Ticket, TicketAnswer

MAX_REFERENCES = 20
MAX_SUBJECT_CHARS = 200
REFERENCE = re.compile(r"\[\s*AC-?\s*(\d{6})\s*\]", re.IGNORECASE)
_REPLY_PREFIX = re.compile(
    r"^\s*((re|r|aw|sv|rif|fwd?|i|tr|wg)\s*(\[\d+\])?\s*:\s*)+", re.IGNORECASE
)
AUTOMATIC_HEADERS = {"Auto-Submitted": "auto-replied", "X-Auto-Response-Suppress": "All"}
HUMAN_HEADERS = {"Auto-Submitted": ""}  # a person wrote it: no Auto-Submitted at all


@dataclass(frozen=True)
class MailReply:
    """An e-mail answer on a ticket's thread."""

    kind: str  # acknowledgement | faq | too_large | staff_reply
    recipient: str
    body: str
    in_reply_to: str | None
    references: tuple[str, ...]
    automatic: bool  # Auto-Submitted: auto-replied, and counted by the loop guard


def answer_of(
    ticket: Ticket, reply: MailReply, now: datetime, recorded_body: str | None = None
) -> TicketAnswer:
    """How an e-mail answer is kept in its ticket (the loop guard counts automatic ones)."""
    return TicketAnswer(
        ticket_id=ticket.id,
        author="assistant" if reply.automatic else "staff",
        kind=reply.kind,
        body=reply.body if recorded_body is None else recorded_body,
        auto_reply_to=reply.recipient if reply.automatic else None,
        touches_ticket=ticket.updated_at != now,  # a ticket opened this moment is up to date
    )


def ticket_reference(subject: str) -> str | None:
    """``AC-123456`` when the subject quotes a reference in brackets, else None."""
    match = REFERENCE.search(subject)
    return f"{REFERENCE_PREFIX}{match.group(1)}" if match else None


def reply_subject(subject: str, reference: str, default: str) -> str:
    """``Re: <subject> [AC-123456]``: one ``Re:``, the reference once, never empty."""
    base = _REPLY_PREFIX.sub("", REFERENCE.sub(" ", subject))
    base = " ".join(base.split())[:MAX_SUBJECT_CHARS] or default
    return f"Re: {base} [{reference}]"


def references_header(message_ids: Sequence[str]) -> str:
    """The References value: the thread's first id and its latest ones (RFC 5322 3.6.4)."""
    unique = list(dict.fromkeys(message_ids))
    if len(unique) > MAX_REFERENCES:
        unique = [unique[0], *unique[-(MAX_REFERENCES - 1) :]]
    return " ".join(unique)


def reply_headers(reply: MailReply) -> dict[str, str]:
    """An answer's headers: Auto-Submitted when automatic (none at all when a person wrote it),
    In-Reply-To and References on the thread."""
    headers = dict(AUTOMATIC_HEADERS if reply.automatic else HUMAN_HEADERS)
    if reply.in_reply_to:
        headers["In-Reply-To"] = reply.in_reply_to
    if reply.references:
        headers["References"] = references_header(reply.references)
    return headers
