"""Frozen dataclasses the repositories return. Never rows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime


@dataclass(frozen=True)
class Customer:
    id: int
    code: str
    kind: str  # person | company
    name: str
    fiscal_code: str
    paper_invoices: bool


@dataclass(frozen=True)
class Contract:
    id: int
    contract_number: str
    module_number: str
    customer_id: int
    status: str  # active | terminated
    description: str
    start_date: date
    end_date: date | None
    periodic_fee_cents: int

    @property
    def label(self) -> str:
        """As printed on the invoice: ``contract/module``."""
        return f"{self.contract_number}/{self.module_number}"


@dataclass(frozen=True)
class Document:
    id: int
    number: str
    contract_id: int
    kind: str  # invoice | credit_note
    issue_date: date
    amount_cents: int
    pdf_path: str | None
    pdf_sha256: str | None
    published_at: datetime | None
    telegram_file_id: str | None

    @property
    def signed_cents(self) -> int:
        """The amount with its accounting sign: negative for a credit note."""
        return -self.amount_cents if self.kind == "credit_note" else self.amount_cents


@dataclass(frozen=True)
class OutboxMail:
    id: int
    message_id: str
    dedup_key: str | None
    kind: str
    recipient: str
    subject: str
    body_text: str  # with its secret in place while the row holds one (store/outbox.py)
    body_html: str | None
    headers: dict[str, str]
    status: str  # pending | sent | failed
    attempts: int
    next_attempt_at: datetime
    last_error: str | None
    created_at: datetime
    sent_at: datetime | None
    secret: str = "none"  # none | held (until delivery) | dropped (deleted: cannot be re-sent)
