"""What a mail says by itself, before the store is asked: triaged once, where it is parsed.

``triage`` is pure and runs beside the parser (in the FAQ child process when there is one), so
its ``Triage`` is plain, picklable data. ``decide`` applies it together with the store's facts.
The guide's rule "never answer automatic mail" is ``automatic_reason``, and only there.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from assistant.requests.model import DocumentRequest
from assistant.requests.parse import parse_request
from mailbox.inbound.parse import ParsedMail
from mailbox.inbound.question import NO_QUESTION, Question, find_question
from mailbox.inbound.reports import SYSTEM_SENDERS

NOT_FAILED_ACTIONS = frozenset({"delayed", "delivered", "relayed", "expanded"})
ACCOUNT_DATA = re.compile(
    r"\b(fattur\w*|not[ae] di credito|contratt\w*|canon[ei]|rat[ae]|saldo|importo|riscatto"
    r"|pagament\w*|bollettin\w*|estratto conto|scadenz\w*|invoices?|credit notes?|contracts?"
    r"|instal+ments?|balance|amount|payments?|statement|due date)\b",
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


@dataclass(frozen=True)
class Triage:
    """What the mail alone tells; computed once per mail, plain data (it crosses processes)."""

    automatic: str | None  # why a machine sent it, so it is never answered; None for a person
    failure_report: bool  # a delivery report saying delivery failed (not merely delayed)
    too_large: bool  # over the size limit: only its header was read
    question: Question  # what the customer asks; NO_QUESTION when it may not reach the FAQ
    needs_person: str | None  # why only a person may answer it (a topic, a document), or None
    language: str  # it | en, read from its subject and the customer's own words
    asks_for_account_data: bool  # mentions invoices, contracts...: the answer points to the bot
    sender: str  # the From address, lower case, or ""
    reply_to: str  # where an automatic answer would go, or "" (nowhere)
    asks_for_document: bool = False  # "mandatemi la fattura di marzo": the answer says the bot can


def triage(mail: ParsedMail, own_addresses: Sequence[str]) -> Triage:
    """Everything the rules need from the mail itself, read once."""
    automatic = automatic_reason(mail, own_addresses)
    person = not automatic and not mail.header_only
    question = find_question(mail.text, mail.subject) if person else NO_QUESTION
    text = f"{mail.subject}\n{question.text or mail.new_text}"
    document = person and asks_for_document(mail.subject, question.texts, mail.date)
    return Triage(
        automatic=automatic,
        failure_report=automatic is not None and is_failure_report(mail),
        too_large=mail.header_only,
        question=question,
        needs_person=question.staff_topic or documents_attached(mail),
        language=detect_language(text),
        asks_for_account_data=document or bool(ACCOUNT_DATA.search(text)),
        sender=mail.sender,
        reply_to=mail.reply_to,
        asks_for_document=document,
    )


def asks_for_document(subject: str, texts: Sequence[str], sent: datetime | None) -> bool:
    """Whether the chat's request parser, knowing no contracts (a From can be forged), reads a
    document request in the subject or one of the mail's requests. The mail's own date is its
    "today" (the day it is read, for a mail without one)."""
    today = sent.date() if sent is not None else date.today()
    for line in (subject, *texts):
        found = parse_request(line, (), today) if line.strip() else None
        if found is not None and isinstance(found.request, DocumentRequest):
            return True
    return False


def automatic_reason(mail: ParsedMail, own_addresses: Sequence[str]) -> str | None:
    """Why this mail was sent by a machine (and must never be answered), or None.

    A PEC receipt (acceptance, delivery, failure...: ``X-Ricevuta``) is automatic even without
    ``Auto-Submitted``; a PEC envelope is judged by the customer's mail inside it.
    """
    if mail.pec is not None and mail.pec.is_receipt:
        return "pec receipt"
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
    if "list-id" in headers or "list-unsubscribe" in headers:  # a newsletter, even without List-Id
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
    if mail.pec is not None and mail.pec.is_receipt:
        return mail.pec.delivery_failed  # accettazione, avvenuta-consegna...: no failure
    if mail.report_type == "disposition-notification":
        return False  # a read receipt: the mail was delivered (and opened)
    actions = set(mail.bounce_actions)
    if actions and actions <= NOT_FAILED_ACTIONS:
        return False
    return not mail.bounce_status.startswith("4") or "failed" in actions


def documents_attached(mail: ParsedMail) -> str | None:
    """ "documents attached" when the mail carries a file other than a picture (a signed form,
    a contested invoice): a person reads those; pictures are often logos and signatures."""
    if any(not a.content_type.startswith("image/") for a in mail.attachments):
        return "documents attached"
    return None


def detect_language(text: str) -> str:
    """``en`` when the text reads as English, else ``it`` (the default of the service)."""
    words = re.findall(r"[a-zàèéìòù]+", text.lower())[:400]
    english = sum(word in _ENGLISH for word in words)
    italian = sum(word in _ITALIAN for word in words)
    return "en" if english > italian else "it"


__all__ = [
    "ACCOUNT_DATA",
    "Triage",
    "automatic_reason",
    "detect_language",
    "documents_attached",
    "is_failure_report",
    "triage",
]
