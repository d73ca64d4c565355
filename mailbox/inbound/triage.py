"""What a mail says by itself, before the store is asked: triaged once, where it is parsed.

``triage`` is pure and runs beside the parser (in the FAQ child process when there is one), so
its ``Triage`` is plain, picklable data. ``decide`` applies it together with the store's facts.
The guide's rule "never answer automatic mail" is ``automatic_reason``, and only there.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from mailbox.inbound.parse import ParsedMail
from mailbox.inbound.reports import SYSTEM_SENDERS

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


@dataclass(frozen=True)
class Triage:
    """What the mail alone tells; computed once per mail, plain data (it crosses processes)."""

    automatic: str | None  # why a machine sent it, so it is never answered; None for a person
    failure_report: bool  # a delivery report saying delivery failed (not merely delayed)
    too_large: bool  # over the size limit: only its header was read
    question: str  # what the FAQ matcher judges; "" when the mail may not reach the FAQ
    language: str  # it | en, read from its subject and new text
    asks_for_account_data: bool  # mentions invoices, contracts...: the answer points to the bot
    sender: str  # the From address, lower case, or ""
    reply_to: str  # where an automatic answer would go, or "" (nowhere)


def triage(mail: ParsedMail, own_addresses: Sequence[str]) -> Triage:
    """Everything the rules need from the mail itself, read once."""
    automatic = automatic_reason(mail, own_addresses)
    text = f"{mail.subject}\n{mail.new_text}"
    return Triage(
        automatic=automatic,
        failure_report=automatic is not None and is_failure_report(mail),
        too_large=mail.header_only,
        question="" if automatic or mail.header_only else question_text(mail),
        language=detect_language(text),
        asks_for_account_data=bool(ACCOUNT_DATA.search(text)),
        sender=mail.sender,
        reply_to=mail.reply_to,
    )


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


__all__ = [
    "ACCOUNT_DATA",
    "Triage",
    "automatic_reason",
    "detect_language",
    "is_failure_report",
    "question_text",
    "triage",
]
