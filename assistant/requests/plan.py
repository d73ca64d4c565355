"""How the chat answers a request: pure rules over the parser's and the FAQ matcher's verdicts.

``choose`` decides between the request and the FAQ (they decide together: a line both could
mean gets a question back); ``periods`` turns a document request into the date ranges the store
searches; ``button_data`` / ``request_from_button`` carry a request in a button of the "which
one?" question (stateless, like every button: the data names everything, and the flow checks
ownership again when it is pressed); ``named_identifiers`` finds the contract and document numbers
typed inside a sentence, which the flow looks up so that another customer's gets the same "not
found" as a typed number. Nothing here does I/O.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable
from datetime import date

from assistant.policy import FIRST_INVOICE_YEAR
from assistant.requests.model import (
    CommunicationRequest,
    ContractRequest,
    DocumentRequest,
    Request,
    Understanding,
)

BUTTON_PREFIX = "rq:"
MAX_BUTTON_BYTES = 64  # Telegram's callback_data limit, the strictest channel's
_KIND_CODES = {"invoice": "i", "credit_note": "c", None: "x"}
_STATUS_CODES = {"active": "a", "terminated": "t", None: "x"}
_CONTRACT_WHAT = ("list", "started", "ended", "fee")
_COMMUNICATION_WHAT = ("latest", "unread")
# "1234567/01" (contract/module) or "2024/000123" (a document): digits on the left of the "/"
_SLASHED = re.compile(r"(?<![\w/])([A-Za-z0-9][A-Za-z0-9.\-]{0,19})/([A-Za-z0-9]{1,10})(?![\w/])")
# "contratto 1234567", "contract no. LS0001234": a number needs a digit and five characters
_AFTER_CONTRACT = re.compile(
    r"\b(?:contratto|contract)\s+(?:n\.?\s*|nr\.?\s*|no\.?\s*|numero\s+|number\s+|#\s*)?"
    r"([A-Za-z0-9][A-Za-z0-9.\-]{4,19})\b",
    re.IGNORECASE,
)
_MONTH_YEAR = re.compile(r"^(0?[1-9]|1[0-2])$")


class Choice(enum.Enum):
    """What to do with a line of free text."""

    REQUEST = "request"  # answer the request (or, logged out, keep it for after the login)
    ASK = "ask"  # the request and a FAQ answer could both be meant: ask which one
    FAQ = "faq"  # not a request: the FAQ matcher's reply, as before


def choose(understanding: Understanding | None, *, faq_answers: bool) -> Choice:
    """A confident request wins; an unsure one asks only when the FAQ has an answer too."""
    if understanding is None:
        return Choice.FAQ
    if understanding.confident or not faq_answers:
        return Choice.REQUEST
    return Choice.ASK


def periods(request: DocumentRequest, today: date) -> list[tuple[date, date]]:
    """The ``[start, end)`` ranges a document request covers, newest first; none: any time.

    A month without a year is every such month from this year back to 2008 (the caller keeps
    the most recent one that has documents)."""
    if request.year is not None and request.month is not None:
        return [_month_span(request.year, request.month)]
    if request.year is not None:
        return [(date(request.year, 1, 1), date(request.year + 1, 1, 1))]
    if request.month is not None:
        years = range(today.year, FIRST_INVOICE_YEAR - 1, -1)
        return [_month_span(y, request.month) for y in years if date(y, request.month, 1) <= today]
    return []


def _month_span(year: int, month: int) -> tuple[date, date]:
    end = date(year + 1, 1, 1) if month == 12 else date(year, month + 1, 1)
    return date(year, month, 1), end


def button_data(request: Request) -> str | None:
    """The request as a button's data, or None when it does not fit in one."""
    if isinstance(request, DocumentRequest):
        flags = ("l" if request.latest else "") + ("y" if request.whole_year else "")
        flags += "n" if request.contract_not_found else ""
        fields = [
            "d",
            _KIND_CODES[request.kind],
            str(request.year or 0),
            str(request.month or 0),
            str(request.amount_cents) if request.amount_cents is not None else "",
            flags,
            _ids(request.contract_ids),
        ]
    elif isinstance(request, ContractRequest):
        flags = "n" if request.contract_not_found else ""
        fields = [
            "c",
            request.what,
            _STATUS_CODES[request.status],
            _ids(request.contract_ids),
            flags,
        ]
    else:
        fields = ["m", request.what]
    data = BUTTON_PREFIX + ":".join(fields)
    return data if len(data.encode()) <= MAX_BUTTON_BYTES else None


def request_from_button(data: str) -> Request | None:
    """The request a ``button_data`` names, or None for data that is not one (forged, old)."""
    fields = data.removeprefix(BUTTON_PREFIX).split(":")
    try:
        if fields[0] == "d" and len(fields) == 7:
            kinds = {code: kind for kind, code in _KIND_CODES.items()}
            year, month = int(fields[2]) or None, int(fields[3]) or None
            if fields[1] not in kinds or not set(fields[5]) <= {"l", "y", "n"}:
                return None
            if (month is not None and not 1 <= month <= 12) or (year or 0) > 9998:
                return None
            return DocumentRequest(
                kind=kinds[fields[1]],  # type: ignore[arg-type]
                year=year,
                month=month,
                contract_ids=_parse_ids(fields[6]),
                amount_cents=int(fields[4]) if fields[4] else None,
                latest="l" in fields[5],
                whole_year="y" in fields[5],
                contract_not_found="n" in fields[5],
            )
        if fields[0] == "c" and len(fields) == 5 and fields[1] in _CONTRACT_WHAT:
            statuses = {code: status for status, code in _STATUS_CODES.items()}
            if fields[4] not in ("", "n"):
                return None
            return ContractRequest(
                what=fields[1],  # type: ignore[arg-type]
                status=statuses[fields[2]],  # type: ignore[arg-type]
                contract_ids=_parse_ids(fields[3]),
                contract_not_found=fields[4] == "n",
            )
        if fields[0] == "m" and len(fields) == 2 and fields[1] in _COMMUNICATION_WHAT:
            return CommunicationRequest(what=fields[1])  # type: ignore[arg-type]
    except (KeyError, ValueError):
        return None
    return None


def _ids(ids: Iterable[int]) -> str:
    return ".".join(str(i) for i in ids)


def _parse_ids(text: str) -> tuple[int, ...]:
    if not text:
        return ()
    parts = text.split(".")
    if not all(p.isdigit() and len(p) < 12 for p in parts):
        raise ValueError("contract ids")
    return tuple(int(p) for p in parts)


def named_identifiers(text: str) -> list[tuple[str, str | None]]:
    """Contract or document numbers typed in a sentence, as (left, right of the "/" or None).

    "03/2024" and "3/24" are a month, not a number, and are left to the parser."""
    found: list[tuple[str, str | None]] = []
    for match in _SLASHED.finditer(text):
        left, right = match[1], match[2]
        if not any(ch.isdigit() for ch in left + right):
            continue
        if _MONTH_YEAR.match(left) and right.isdigit() and len(right) in (2, 4):
            continue
        found.append((left, right))
    for match in _AFTER_CONTRACT.finditer(text):
        number = match[1]
        if any(ch.isdigit() for ch in number) and not any(number == f[0] for f in found):
            found.append((number, None))
    return found
