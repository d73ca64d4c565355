"""What to do with one incoming mail: pure rules over its triage, its FAQ match and the facts.

The mail is triaged once where it is parsed (``mailbox.inbound.triage``), its question matched
beside it; the ledger looks up what the store knows (``MailFacts``), calls ``decide`` and
applies the ``Decision``. Nothing here does I/O, and nothing here reads the mail again.
"""

from __future__ import annotations

import enum
import logging
from dataclasses import dataclass, replace
from typing import Protocol

from mailbox.inbound.triage import Triage
from store.tickets import Ticket

logger = logging.getLogger(__name__)


class Action(enum.Enum):
    """What happens to a mail; the value is the outcome recorded for staff."""

    DUPLICATE = "duplicate"  # the same message was processed before: nothing more
    AUTOMATIC = "automatic"  # auto-reply, list, report...: recorded, never answered
    BOUNCE = "bounce"  # a delivery failure of a mail we sent: mark that address failing
    TOO_LARGE = "too_large"  # over the size limit: polite reply, a ticket for staff
    JOIN = "reply"  # a reply to an existing ticket: joins it, no acknowledgement
    FAQ = "faq"  # answered outright by the FAQ; a ticket marked answered automatically
    NEW_TICKET = "ticket"  # anything else: a new ticket and an acknowledgement


class FaqMatchLike(Protocol):
    """The part of the FAQ matcher's answer this module reads."""

    @property
    def kind(self) -> str: ...  # answer | clarify | greeting | thanks | not_understood

    @property
    def faq_id(self) -> str | None: ...

    @property
    def language(self) -> str: ...


@dataclass(frozen=True)
class MailFacts:
    """What the store knows about a mail, looked up by the ledger before deciding."""

    duplicate: bool = False  # this Message-ID (or these bytes) was processed before
    ticket_by_reference: Ticket | None = None  # the ticket named by [AC-...] in the subject
    ticket_by_thread: Ticket | None = None  # the ticket holding a message it replies to
    bounced_recipient: str | None = None  # to whom we sent the mail a bounce names
    bounced_message_id: str | None = None
    auto_replies_today: int = 0  # automatic replies to its reply address in the last 24 h


@dataclass(frozen=True)
class Decision:
    """The outcome for one mail."""

    action: Action
    ticket: Ticket | None = None  # the existing ticket it joins (JOIN, TOO_LARGE)
    reply: str | None = None  # template of the automatic answer: acknowledgement|faq|too_large
    language: str = "it"
    faq_id: str | None = None
    reason: str = ""  # which rule fired, for logs and staff; no personal data
    loop_guarded: bool = False  # an answer was due but the loop guard held it back
    asks_for_account_data: bool = False  # mentions invoices/contracts: point to the bot

    @property
    def outcome(self) -> str:
        """The outcome recorded with the mail."""
        return self.action.value


def decide(
    triage: Triage,
    match: FaqMatchLike | None,
    facts: MailFacts,
    *,
    auto_reply_limit: int,
) -> Decision:
    """Apply the support mailbox's rules, in order, to one triaged mail.

    ``match`` is the FAQ matcher's verdict on ``triage.question`` (None when it was not asked).
    """
    if facts.duplicate:
        return Decision(Action.DUPLICATE, reason="seen before")
    if triage.automatic:
        if facts.bounced_recipient and triage.failure_report:
            return Decision(Action.BOUNCE, reason=f"bounce ({triage.automatic})")
        return Decision(Action.AUTOMATIC, reason=triage.automatic)
    ticket = joined_ticket(triage, facts)
    language = triage.language
    if triage.too_large:
        decision = Decision(Action.TOO_LARGE, ticket=ticket, reply="too_large", language=language)
        return _guard(decision, triage, facts, auto_reply_limit)
    if ticket is not None:
        return Decision(Action.JOIN, ticket=ticket, language=ticket.language, reason="thread")
    if match is not None:
        if match.kind == "answer" and match.faq_id:
            language = "en" if match.language == "en" else "it"
            decision = Decision(
                Action.FAQ, reply="faq", language=language, faq_id=match.faq_id, reason="faq"
            )
            return _guard(decision, triage, facts, auto_reply_limit)
        language = "en" if match.language == "en" else language
    decision = Decision(
        Action.NEW_TICKET,
        reply="acknowledgement",
        language=language,
        reason="new",
        asks_for_account_data=triage.asks_for_account_data,
    )
    return _guard(decision, triage, facts, auto_reply_limit)


def _guard(decision: Decision, triage: Triage, facts: MailFacts, limit: int) -> Decision:
    """Hold the automatic answer back when there is nowhere to send it or the loop guard says so."""
    if not triage.reply_to:
        return replace(decision, reply=None, reason=f"{decision.reason}; no reply address")
    if facts.auto_replies_today >= limit:
        return replace(decision, reply=None, loop_guarded=True, reason="loop guard")
    return decision


def joined_ticket(triage: Triage, facts: MailFacts) -> Ticket | None:
    """The ticket a reply belongs to: by thread, or by reference from the ticket's own address."""
    if facts.ticket_by_thread is not None:
        return facts.ticket_by_thread
    ticket = facts.ticket_by_reference
    if (
        ticket is not None
        and ticket.channel == "email"
        and ticket.contact in (triage.sender, triage.reply_to)
    ):
        return ticket
    return None


__all__ = ["Action", "Decision", "FaqMatchLike", "MailFacts", "decide", "joined_ticket"]
