"""What to do with one incoming mail: pure rules over the parsed mail and the store's facts.

The worker looks the facts up (``MailFacts``), calls ``decide`` and applies the ``Decision``.
Nothing here does I/O; every rule of the support mailbox lives in this file.
"""

from __future__ import annotations

import enum
import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Protocol

from mailbox.inbound.parse import ParsedMail
from mailbox.inbound.reports import SYSTEM_SENDERS
from store.tickets import Ticket

logger = logging.getLogger(__name__)

FAQ_QUESTION_CHARS = 1000
NOT_FAILED_ACTIONS = frozenset({"delayed", "delivered", "relayed", "expanded"})
ACCOUNT_DATA = re.compile(
    r"\b(fattur\w*|not[ae] di credito|contratt\w*|canon[ei]|rat[ae]|saldo|importo|riscatto"
    r"|pagament\w*|bollettin\w*|estratto conto|scadenz\w*|invoices?|credit notes?|contracts?"
    r"|instal+ments?|balance|amount|payments?|statement|due date)\b",
    re.IGNORECASE,
)
_GREETING = re.compile(
    r"^(buon ?giorno|buona ?sera|salve|ciao|gentil[ei].{0,40}|spett\w*.{0,40}|egregi\w*.{0,40}"
    r"|hello|hi|dear.{0,40}|good (morning|afternoon|evening))[\s,.!:]*$",
    re.IGNORECASE,
)
_CLOSING = re.compile(
    r"^(cordiali saluti|distinti saluti|saluti|cordialmente|grazie( mille)?|grazie e saluti"
    r"|in attesa.{0,60}|best regards|kind regards|regards|thanks?( you)?|many thanks|cheers"
    r"|sincerely|best)[\s,.!]*$",
    re.IGNORECASE,
)
_ENGLISH = frozenset(
    [
        "the",
        "and",
        "you",
        "your",
        "is",
        "are",
        "have",
        "has",
        "what",
        "how",
        "when",
        "where",
        "why",
        "can",
        "could",
        "would",
        "please",
        "i",
        "my",
        "me",
        "to",
        "of",
        "it",
        "not",
        "do",
        "does",
        "did",
        "received",
        "receive",
        "invoice",
        "account",
        "password",
        "thanks",
        "hello",
        "dear",
        "regards",
    ]
)
_ITALIAN = frozenset(
    [
        "il",
        "lo",
        "la",
        "le",
        "gli",
        "di",
        "che",
        "non",
        "per",
        "con",
        "una",
        "un",
        "sono",
        "ho",
        "hai",
        "è",
        "e",
        "mi",
        "come",
        "quando",
        "dove",
        "perché",
        "posso",
        "vorrei",
        "grazie",
        "buongiorno",
        "salve",
        "della",
        "delle",
        "fattura",
        "ricevuto",
        "cordiali",
        "saluti",
    ]
)


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
    """What the store knows about a mail, looked up by the worker before deciding."""

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
    mail: ParsedMail,
    facts: MailFacts,
    *,
    faq: Callable[[str], FaqMatchLike] | None,
    own_addresses: Sequence[str],
    auto_reply_limit: int,
) -> Decision:
    """Apply the support mailbox's rules, in order, to one mail."""
    if facts.duplicate:
        return Decision(Action.DUPLICATE, reason="seen before")
    automatic = automatic_reason(mail, own_addresses)
    if automatic:
        if facts.bounced_recipient and is_failure_report(mail):
            return Decision(Action.BOUNCE, reason=f"bounce ({automatic})")
        return Decision(Action.AUTOMATIC, reason=automatic)
    ticket = joined_ticket(mail, facts)
    language = detect_language(f"{mail.subject}\n{mail.new_text}")
    if mail.header_only:
        decision = Decision(Action.TOO_LARGE, ticket=ticket, reply="too_large", language=language)
        return _guard(decision, mail, facts, auto_reply_limit)
    if ticket is not None:
        return Decision(Action.JOIN, ticket=ticket, language=ticket.language, reason="thread")
    question = question_text(mail)
    if faq is not None and question:
        match = faq(question)
        if match.kind == "answer" and match.faq_id:
            language = "en" if match.language == "en" else "it"
            decision = Decision(
                Action.FAQ, reply="faq", language=language, faq_id=match.faq_id, reason="faq"
            )
            return _guard(decision, mail, facts, auto_reply_limit)
        language = "en" if match.language == "en" else language
    decision = Decision(
        Action.NEW_TICKET,
        reply="acknowledgement",
        language=language,
        reason="new",
        asks_for_account_data=bool(ACCOUNT_DATA.search(f"{mail.subject}\n{mail.new_text}")),
    )
    return _guard(decision, mail, facts, auto_reply_limit)


def _guard(decision: Decision, mail: ParsedMail, facts: MailFacts, limit: int) -> Decision:
    """Hold the automatic answer back when there is nowhere to send it or the loop guard says so."""
    if not mail.reply_to:
        return replace(decision, reply=None, reason=f"{decision.reason}; no reply address")
    if facts.auto_replies_today >= limit:
        return replace(decision, reply=None, loop_guarded=True, reason="loop guard")
    return decision


def automatic_reason(mail: ParsedMail, own_addresses: Sequence[str]) -> str | None:
    """Why this mail was sent by a machine (and must never be answered), or None."""
    headers = mail.headers
    auto_submitted = headers.get("auto-submitted", "")
    if auto_submitted and not auto_submitted.startswith("no"):
        return "auto-submitted"
    if headers.get("precedence", "").split(";")[0].strip() in ("bulk", "junk", "list"):
        return "precedence"
    if "x-autoreply" in headers or "x-autorespond" in headers:
        return "x-autoreply"
    if "x-auto-response-suppress" in headers:
        return "x-auto-response-suppress"
    if "list-id" in headers:
        return "mailing list"
    if mail.content_type == "multipart/report":
        return "delivery report"
    if headers.get("return-path", "").strip() == "<>" or "x-failed-recipients" in headers:
        return "null sender"
    own = {address.lower() for address in own_addresses}
    for address in (mail.sender, mail.reply_to):
        if address and (address in own or SYSTEM_SENDERS.match(address)):
            return "own address" if address in own else "system sender"
    return None


def is_failure_report(mail: ParsedMail) -> bool:
    """A report saying delivery failed (not merely delayed or relayed)."""
    actions = set(mail.bounce_actions)
    if actions and actions <= NOT_FAILED_ACTIONS:
        return False
    return not mail.bounce_status.startswith("4") or "failed" in actions


def joined_ticket(mail: ParsedMail, facts: MailFacts) -> Ticket | None:
    """The ticket a reply belongs to: by thread, or by reference from the ticket's own address."""
    if facts.ticket_by_thread is not None:
        return facts.ticket_by_thread
    ticket = facts.ticket_by_reference
    if (
        ticket is not None
        and ticket.channel == "email"
        and ticket.contact
        in (
            mail.sender,
            mail.reply_to,
        )
    ):
        return ticket
    return None


def question_text(mail: ParsedMail) -> str:
    """The question a mail asks: its new text without greeting and closing, else the subject."""
    lines = [line.strip() for line in mail.new_text.split("\n") if line.strip()]
    while lines and _GREETING.match(lines[0]):
        lines.pop(0)
    for index, line in enumerate(lines):
        if _CLOSING.match(line):
            lines = lines[:index]
            break
    text = " ".join(lines)[:FAQ_QUESTION_CHARS].strip()
    return text or mail.subject[:FAQ_QUESTION_CHARS].strip()


def detect_language(text: str) -> str:
    """``en`` when the text reads as English, else ``it`` (the default of the service)."""
    words = re.findall(r"[a-zàèéìòù]+", text.lower())[:400]
    english = sum(word in _ENGLISH for word in words)
    italian = sum(word in _ITALIAN for word in words)
    return "en" if english > italian else "it"
