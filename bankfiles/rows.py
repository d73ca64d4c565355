"""The bank's CSV files: their columns and the check of one row. Pure: no I/O, no store.

Each ``parse_*`` function turns the fields of one row into a typed row ready for the store, or
raises ``BadRow`` with a short reason code and a sentence for the staff report. Codes, numbers
and fiscal codes are normalised here (``store.values.normalise_key``: no spaces, upper case;
``compact_fiscal_code``) and the store compares the normalised forms.

Identifiers have the chat's definitions (``assistant.identifiers``): a contract number is what
a customer can type at registration (1-20 letters, digits, ``.`` or ``-``), a module number 1-10
letters or digits, a customer code or document number 1-40 letters, digits, ``.``, ``_``, ``/``
or ``-``. A control or invisible character (U+200B, U+FEFF, a bidirectional override...) in an
identifier is a bad row, never silently dropped or kept.

Fiscal codes (python-stdnum):
- a person has a 16-character codice fiscale (omocodia included); 11 digits are refused;
- a company has an 11-digit number (partita IVA or numeric codice fiscale; an ``IT`` prefix is
  dropped), or a 16-character codice fiscale for a sole proprietorship.

Amounts are euros with a ``.`` decimal and at most two decimals, stored as cents. Documents
are stored with a positive amount: a credit note may be written ``-120.00`` or ``120.00`` in the
manifest and is stored as 12000 with kind ``credit_note`` (``Document.signed_cents`` gives -12000);
an invoice must be positive, and no document is zero. Dates are ``YYYY-MM-DD`` (1900-2099). A
terminated contract needs an end date, which is not before its start. Text fields must be valid
UTF-8, without control characters, at most ``MAX_TEXT`` characters.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from collections.abc import Callable
from datetime import date
from typing import NamedTuple

from assistant import identifiers
from store.values import compact_fiscal_code, normalise_key

logger = logging.getLogger(__name__)

CUSTOMER_COLUMNS = ("customer_code", "kind", "name", "fiscal_code")
CONTRACT_COLUMNS = (
    "contract_number",
    "module_number",
    "customer_code",
    "status",
    "description",
    "start_date",
    "end_date",
    "periodic_fee",
)
MANIFEST_COLUMNS = (
    "document_number",
    "contract_number",
    "document_type",
    "issue_date",
    "amount",
    "file",
)
CUSTOMER_KINDS = ("person", "company")
CONTRACT_STATUSES = ("active", "terminated")
DOCUMENT_KINDS = ("invoice", "credit_note")
MAX_TEXT = 300  # longest name or description accepted
MAX_AMOUNT_DIGITS = 11  # up to 99,999,999,999.99 euros

_FISCAL_CODE_PROBLEMS = {  # identifiers.fiscal_code_problem's reasons, for the staff report
    "wrong_length": "wrong length",
    "format": "wrong format",
    "checksum": "wrong check character",
    "component": "impossible birth date or office code",
}


class BadRow(Exception):
    """One row of a bank file is rejected; ``reason`` is a short code, ``detail`` a sentence."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail


class CustomerRow(NamedTuple):
    code: str
    kind: str
    name: str
    fiscal_code: str


class ContractRow(NamedTuple):
    contract_number: str
    module_number: str
    customer_code: str
    status: str
    description: str
    start_date: str  # ISO date
    end_date: str | None
    fee_cents: int


class DocumentRow(NamedTuple):
    number: str
    contract_number: str
    module_number: str | None  # None: the manifest gave a bare contract number
    kind: str
    issue_date: str  # ISO date
    amount_cents: int  # positive, also for credit notes
    file: str


def fiscal_code_problem(kind: str, code: str) -> str | None:
    """Why ``code`` (compact) is not a valid fiscal code for a ``kind`` customer, or None."""
    problem = identifiers.fiscal_code_problem(code, person=kind == "person")
    if problem is None:
        return None
    if problem == "person_length":
        return "a person's codice fiscale has 16 characters"
    if problem == "length":
        return "a company's number has 11 digits (or 16 characters for a sole proprietorship)"
    what = "partita IVA" if len(code) == 11 else "codice fiscale"
    return f"invalid {what}: {_FISCAL_CODE_PROBLEMS.get(problem, 'not valid')}"


def parse_customer(fields: list[str]) -> CustomerRow:
    """One row of the customers file."""
    if len(fields) != 4:
        raise _column_count(fields, CUSTOMER_COLUMNS)
    kind = _KINDS.get(fields[1]) or _choice(fields[1], "kind", CUSTOMER_KINDS)
    fiscal_code = compact_fiscal_code(_visible(_text(fields[3], "fiscal_code"), "fiscal_code"))
    problem = fiscal_code_problem(kind, fiscal_code)
    if problem:
        raise BadRow("fiscal_code", problem)
    name = _text(fields[2], "name", collapse=True)
    return CustomerRow(_key(fields[0], "customer_code"), kind, name, fiscal_code)


def parse_contract(fields: list[str]) -> ContractRow:
    """One row of the contracts file."""
    if len(fields) != 8:
        raise _column_count(fields, CONTRACT_COLUMNS)
    status = _STATUSES.get(fields[3]) or _choice(fields[3], "status", CONTRACT_STATUSES)
    start = parse_date(fields[5], "start_date")
    end = None
    if fields[6].strip():
        end = parse_date(fields[6], "end_date")
        if end < start:
            raise BadRow("end_before_start", "end_date is before start_date")
    elif status == "terminated":
        raise BadRow("end_date", "end_date is required for a terminated contract")
    return ContractRow(
        _key(fields[0], "contract_number"),
        _key(fields[1], "module_number"),
        _key(fields[2], "customer_code"),
        status,
        _text(fields[4], "description", collapse=True),
        start,
        end,
        parse_amount(fields[7], "periodic_fee"),
    )


def parse_document(fields: list[str], *, need_file: bool = True) -> DocumentRow:
    """One row of a publication manifest (``need_file=False``: metadata only, file ignored)."""
    if len(fields) != 6:
        raise _column_count(fields, MANIFEST_COLUMNS)
    reference = normalise_key(_visible(fields[1].strip(), "contract_number"))
    contract, slash, module = reference.partition("/")
    if slash and not (contract and module):
        raise BadRow("missing", "contract_number must be CONTRACT/MODULE or a contract number")
    _check(contract, "contract_number")
    if slash:
        _check(module, "module_number")
    kind = _DOCUMENT_KINDS.get(fields[2]) or _choice(fields[2], "document_type", DOCUMENT_KINDS)
    amount = parse_amount(fields[4], "amount", negative=kind == "credit_note")
    if amount == 0:
        raise BadRow("amount", "amount is zero")
    return DocumentRow(
        _key(fields[0], "document_number"),
        contract,
        module if slash else None,
        kind,
        parse_date(fields[3], "issue_date"),
        abs(amount),
        _text(fields[5], "file") if need_file else fields[5].strip(),
    )


def parse_date(text: str, column: str) -> str:
    """An ISO date ``YYYY-MM-DD`` from 1900 to 2099 (returned as is, checked)."""
    value = text.strip()
    if len(value) == 10 and value[4] == "-" == value[7] and value[:2] in ("19", "20"):
        try:
            date.fromisoformat(value)
            return value
        except ValueError:
            pass
    raise BadRow("date", f"{column} is not a date YYYY-MM-DD: {value[:20]!r}")


def parse_amount(text: str, column: str, *, negative: bool = False) -> int:
    """Euros with a ``.`` decimal point and at most two decimals, as cents."""
    whole, dot, fraction = text.partition(".")
    if (  # the usual 1234.56 first
        len(fraction) == 2
        and whole.isdigit()
        and fraction.isdigit()
        and whole.isascii()
        and fraction.isascii()
        and len(whole) <= MAX_AMOUNT_DIGITS
    ):
        return int(whole) * 100 + int(fraction)
    value = text.strip()
    sign = 1
    if negative and value.startswith("-"):
        sign, value = -1, value[1:]
    whole, dot, fraction = value.partition(".")
    if not (
        whole.isascii()
        and whole.isdigit()
        and len(whole) <= MAX_AMOUNT_DIGITS
        and (not dot or (fraction.isascii() and fraction.isdigit() and len(fraction) <= 2))
    ):
        shown = text.strip()[:20]
        raise BadRow("amount", f"{column} is not an amount like 1234.56: {shown!r}")
    return sign * (int(whole) * 100 + (int(fraction.ljust(2, "0")) if fraction else 0))


def _column_count(fields: list[str], columns: tuple[str, ...]) -> BadRow:
    return BadRow("columns", f"expected {len(columns)} columns, found {len(fields)}")


def _key(value: str, column: str) -> str:
    """An identifier column in its compact form, checked against its one definition."""
    text = value.strip()
    if not (text.isascii() and text.isprintable()):
        _visible(text, column)  # before normalise_key drops the ones that are "whitespace"
    return _check(normalise_key(text), column)


def _check(key: str, column: str) -> str:
    valid, shape = _IDENTIFIERS[column]
    if not valid(key):
        if not key:
            raise BadRow("missing", f"{column} is empty")
        if "\ufffd" in key:
            raise BadRow("encoding", f"{column} is not valid UTF-8")
        raise BadRow(column, f"{column} must be {shape}: {key[:40]!r}")
    return key


def _visible(text: str, column: str) -> str:
    """``text`` unless it holds a control or invisible character (``BadRow``)."""
    hidden = identifiers.hidden_character(text)
    if hidden is None:
        return text
    control = unicodedata.category(hidden) == "Cc"
    what = "a control" if control else "an invisible"
    raise BadRow(
        "control" if control else "invisible",
        f"{column} contains {what} character (U+{ord(hidden):04X})",
    )


def _text(value: str, column: str, *, collapse: bool = False) -> str:
    """A non-empty text field, trimmed (``collapse``: runs of spaces and newlines as one space)."""
    text = " ".join(value.split()) if collapse else value.strip()
    if not text:
        raise BadRow("missing", f"{column} is empty")
    if len(text) > MAX_TEXT:
        raise BadRow("too_long", f"{column} is longer than {MAX_TEXT} characters")
    if "\ufffd" in text:
        raise BadRow("encoding", f"{column} is not valid UTF-8")
    if not text.isprintable() and _CONTROL.search(text):
        raise BadRow("control", f"{column} contains a control character")
    return text


def _choice(value: str, column: str, choices: tuple[str, ...]) -> str:
    text = value.strip().lower()
    if text not in choices:
        shown = value.strip()[:20]
        raise BadRow(column, f"{column} must be {' or '.join(choices)}, not {shown!r}")
    return text


_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")
_CODE_SHAPE = "1 to 40 letters, digits, '.', '_', '/' or '-'"
_IDENTIFIERS: dict[str, tuple[Callable[[str], bool], str]] = {
    "customer_code": (identifiers.is_code, _CODE_SHAPE),
    "document_number": (identifiers.is_code, _CODE_SHAPE),
    "contract_number": (
        identifiers.is_contract_number,
        "1 to 20 letters, digits, '.' or '-', as customers type it",
    ),
    "module_number": (identifiers.is_module_number, "1 to 10 letters or digits"),
}
_KINDS = {kind: kind for kind in CUSTOMER_KINDS}
_STATUSES = {status: status for status in CONTRACT_STATUSES}
_DOCUMENT_KINDS = {kind: kind for kind in DOCUMENT_KINDS}
