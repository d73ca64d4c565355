"""What to do with one incoming mail: pure rules over its triage, its FAQ match and the facts.

The mail is triaged once where it is parsed (``mailbox.inbound.triage``), its requests and the
sentences around them matched beside it; the ledger looks up what the store knows
(``MailFacts``), calls ``decide`` and applies the ``Decision``. Nothing here does I/O, and
nothing here reads the mail again.

A wrong automatic answer to a bank customer is worse than a ticket: ``faq_answer`` answers a
mail only when every request in it gets the same FAQ outright and nothing else in it asks for
something else (``Triage.needs_person``, a sentence the matcher takes for another FAQ).
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Protocol

from mailbox.inbound.triage import Triage
from store.tickets import Ticket

logger = logging.getLogger(__name__)

# FAQ answers never sent to a mail: they say "write to this address", and the customer did.
NOT_BY_MAIL = frozenset({"assistenza-tecnica"})


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

    @property
    def suggestions(self) -> tuple[str, ...]: ...  # the choices of "clarify"


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
    asks_for_document: bool = False  # a document request: the bot sends it when asked so

    @property
    def outcome(self) -> str:
        """The outcome recorded with the mail."""
        return self.action.value


def decide(
    triage: Triage,
    matches: Sequence[FaqMatchLike],
    facts: MailFacts,
    *,
    auto_reply_limit: int,
) -> Decision:
    """Apply the support mailbox's rules, in order, to one triaged mail.

    ``matches`` are the FAQ matcher's verdicts on ``triage.question.texts``, in order (empty
    when it was not asked).
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
    answer = faq_answer(triage, matches)
    if answer is not None:
        faq_id, language = answer
        decision = Decision(Action.FAQ, reply="faq", language=language, faq_id=faq_id, reason="faq")
        return _guard(decision, triage, facts, auto_reply_limit)
    if matches:
        language = "en" if matches[0].language == "en" else language
    decision = Decision(
        Action.NEW_TICKET,
        reply="acknowledgement",
        language=language,
        reason=f"new ({triage.needs_person})" if triage.needs_person else "new",
        asks_for_account_data=triage.asks_for_account_data,
        asks_for_document=triage.asks_for_document,
    )
    return _guard(decision, triage, facts, auto_reply_limit)


def faq_answer(triage: Triage, matches: Sequence[FaqMatchLike]) -> tuple[str, str] | None:
    """The one FAQ that answers the whole mail outright, and the language to answer in.

    Each request is judged whole (as written, and its first sentence), clause by clause where
    it asks several things, and by more of its parts (``Request``). With X the first FAQ
    answered outright anywhere: every request must get X outright somewhere, or at least
    "Did you mean…?" with X first (``leans_to``), and so must each of its clauses; no verdict
    on a request may point elsewhere (``points_elsewhere``; its clauses and parts strictly:
    they may not even lean to another FAQ first); no sentence of context may be answered by
    another FAQ. Never when the mail needs a person (``needs_person``), or for a FAQ a mail
    never gets (``NOT_BY_MAIL``). Requests taken for greetings or thanks are passed over.
    """
    question = triage.question
    if triage.needs_person or len(matches) != len(question.texts):
        return None
    per_request, context = question.split(matches)
    judged = [
        (request, verdicts)
        for request, verdicts in zip(question.requests, per_request, strict=True)
        if not all(m.kind in ("greeting", "thanks") for m in verdicts)
    ]
    answers = [m for _, verdicts in judged for m in verdicts if m.kind == "answer"]
    faq_id = answers[0].faq_id if answers else None
    if faq_id is None or faq_id in NOT_BY_MAIL:
        return None
    for request, verdicts in judged:
        wholes, clauses = len(request.wholes), len(request.wholes) + len(request.clauses)
        if any(points_elsewhere(m, faq_id) for m in verdicts[:wholes]):
            return None
        if any(points_elsewhere(m, faq_id, strictly=True) for m in verdicts[wholes:]):
            return None
        if not all(leans_to(m, faq_id) for m in verdicts[wholes:clauses]):
            return None  # one of the things it asks is not about X
        if not any(leans_to(m, faq_id) for m in verdicts):
            return None  # nothing in it leans to X: it asks something else
    if any(m.kind == "answer" and m.faq_id != faq_id for m in context):
        return None
    return faq_id, "en" if answers[0].language == "en" else "it"


def leans_to(verdict: FaqMatchLike, faq_id: str) -> bool:
    """Answered with ``faq_id``, or "Did you mean…?" with it as the first choice."""
    if verdict.kind == "answer":
        return verdict.faq_id == faq_id
    return verdict.kind == "clarify" and verdict.suggestions[:1] == (faq_id,)


def points_elsewhere(verdict: FaqMatchLike, faq_id: str, *, strictly: bool = False) -> bool:
    """Whether a verdict names another FAQ than ``faq_id``: answered by another, or "Did you
    mean…?" without it among the choices (``strictly``: without it as the first choice).
    Not understood, greetings and thanks name none."""
    if verdict.kind == "answer":
        return verdict.faq_id != faq_id
    if verdict.kind != "clarify":
        return False
    return verdict.suggestions[:1] != (faq_id,) if strictly else faq_id not in verdict.suggestions


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


__all__ = [
    "NOT_BY_MAIL",
    "Action",
    "Decision",
    "FaqMatchLike",
    "MailFacts",
    "decide",
    "faq_answer",
    "joined_ticket",
    "leans_to",
    "points_elsewhere",
]
