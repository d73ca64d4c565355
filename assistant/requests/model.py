"""What a customer's request asks for, as plain frozen values (no I/O, no store rows).

``parse_request(text, contracts, today)`` in ``assistant.requests.parse`` returns one of
``DocumentRequest``, ``ContractRequest``, ``CommunicationRequest`` or None. Amounts are cents,
months 1–12; a field left None means "not said".
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

DocumentKind = Literal["invoice", "credit_note"]


@dataclass(frozen=True)
class ContractFacts:
    """What the parser may know of one of the customer's contracts (never another's)."""

    id: int
    label: str  # contract/module as printed on the invoice, e.g. "123456/001"
    description: str  # e.g. "Fiat Ducato 2.3 MJT furgone"
    status: Literal["active", "terminated"]


@dataclass(frozen=True)
class DocumentRequest:
    """Invoices / credit notes: the newest matching one, or all of a period."""

    kind: DocumentKind | None = None  # None: invoices and credit notes alike
    year: int | None = None
    month: int | None = None  # with year None: the most recent such month with documents
    contract_ids: tuple[int, ...] = ()  # the contracts the words named (may be several)
    amount_cents: int | None = None
    latest: bool = False  # "l'ultima fattura": only the newest match
    whole_year: bool = False  # "tutte le fatture del 2023 (in un file)": the year's ZIP offered
    # a contract was named that is not among the customer's (another's number, a vehicle they do
    # not lease): answer "not found", never all the documents
    contract_not_found: bool = False


@dataclass(frozen=True)
class ContractRequest:
    """A question about the contracts themselves."""

    what: Literal["list", "started", "ended", "fee"]
    status: Literal["active", "terminated"] | None = None  # for "list": which ones
    contract_ids: tuple[int, ...] = ()  # the contracts the words named (empty: all of them)
    contract_not_found: bool = False  # as in DocumentRequest: a contract named but not theirs


@dataclass(frozen=True)
class CommunicationRequest:
    """The bank's communications."""

    what: Literal["latest", "unread"]


Request = DocumentRequest | ContractRequest | CommunicationRequest


@dataclass(frozen=True)
class Understanding:
    """The parser's verdict: the request, and how sure it is that this is a request at all.

    ``confident`` False means the line could also be a FAQ question (e.g. "come scarico la
    fattura di marzo?"): the caller asks the customer which one was meant when the FAQ
    matcher also has an answer.
    """

    request: Request
    confident: bool = True
