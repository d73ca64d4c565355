"""What the staff console shows of one customer, and how staff find one. Read-only.

``customer(id)`` gathers the whole page in one hop on the database thread: identity,
contracts, the newest documents, the account (never its password hash), its addresses and
whether our mail bounces from them, linked chats and tickets. Each part is one indexed lookup
by the customer's, the account's or an address's key, so the page costs the same at 100,000
customers. The operations page and the dashboard's counts are computed by
``store.staff_figures``, run from here.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import date, datetime

from store.contracts import LISTING_ORDER, contract_from_row
from store.customers import customer_from_row
from store.db import Database
from store.records import Contract, Customer
from store.staff_figures import Operations, TicketFigures, operations, ticket_figures
from store.values import compact_fiscal_code, normalise_key, parse_iso

DOCUMENTS_SHOWN = 50
TICKETS_SHOWN = 50
SEARCH_LIMIT = 20


@dataclass(frozen=True)
class CustomerAccount:
    """An account as staff see it: state and settings, no password hash."""

    id: int
    username: str
    email: str
    status: str  # pending | active
    password_temporary: bool
    password_expires_at: datetime | None
    failed_logins: int
    blocked_at: datetime | None
    language: str | None
    telegram_notices: bool
    registered_at: datetime
    activated_at: datetime | None


@dataclass(frozen=True)
class CustomerAddress:
    """An address of the account: the registered one, or one waiting for its code."""

    address: str
    role: str  # registered | pending_change
    failing_since: datetime | None  # our mail bounced (uncleared), else None
    failure_status: str  # the DSN status of the bounce, e.g. 5.1.1


@dataclass(frozen=True)
class LinkedChat:
    channel: str
    chat_id: str
    logged_in: bool
    last_seen_at: datetime | None
    notices_stopped_at: datetime | None  # Telegram refused: the bot was blocked


@dataclass(frozen=True)
class CustomerDocument:
    id: int
    number: str
    kind: str  # invoice | credit_note
    issue_date: date
    amount_cents: int
    contract_label: str
    published: bool
    has_pdf: bool

    @property
    def signed_cents(self) -> int:
        """The amount with its accounting sign: negative for a credit note."""
        return -self.amount_cents if self.kind == "credit_note" else self.amount_cents


@dataclass(frozen=True)
class CustomerTicket:
    id: int
    reference: str
    channel: str
    subject: str
    status: str
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class CustomerView:
    """Everything the customer page shows."""

    customer: Customer
    contracts: tuple[Contract, ...]
    documents: tuple[CustomerDocument, ...]  # the newest DOCUMENTS_SHOWN
    documents_total: int
    account: CustomerAccount | None
    addresses: tuple[CustomerAddress, ...]
    chats: tuple[LinkedChat, ...]
    tickets: tuple[CustomerTicket, ...]  # the latest TICKETS_SHOWN


@dataclass(frozen=True)
class CustomerHit:
    """One customer found by a search."""

    id: int
    code: str
    name: str
    kind: str


class StaffViewRepo:
    """The staff console's reads: a customer, the customer search, operations, dashboard."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def customer(self, customer_id: int) -> CustomerView | None:
        """The customer page's data, or None when there is no such customer."""
        return await self.db.run(_customer_view, customer_id)

    async def find_customers(self, text: str, limit: int = SEARCH_LIMIT) -> list[CustomerHit]:
        """Customers named exactly by a code, codice fiscale, contract number, username or
        registered address; failing those, whose name contains ``text``."""
        return await self.db.run(_find_customers, " ".join(text.split()), limit)

    async def quarantined_raw(self, inbound_id: int) -> bytes | None:
        """The bytes of a quarantined mail as downloaded (None: not a quarantined mail)."""
        row = await self.db.fetchone(
            "SELECT r.raw FROM inbound_mails m JOIN inbound_raw r ON r.inbound_id = m.id"
            " WHERE m.id = ? AND m.outcome = 'quarantined'",
            (inbound_id,),
        )
        return bytes(row[0]) if row else None

    async def operations(self) -> Operations:
        """Failed and pending mail, quarantine, notices in progress, the latest imports."""
        return await self.db.run(operations)

    async def ticket_figures(
        self, now: datetime, overdue_cutoff: datetime | None, windows: tuple[int, ...] = (7, 30)
    ) -> TicketFigures:
        """The dashboard's counts at ``now``; each window is a number of days back."""
        return await self.db.run(ticket_figures, now, overdue_cutoff, windows)


def _customer_view(conn: sqlite3.Connection, customer_id: int) -> CustomerView | None:
    row = conn.execute("SELECT * FROM customers WHERE id = ?", (customer_id,)).fetchone()
    if row is None:
        return None
    contracts = conn.execute(
        f"SELECT * FROM contracts WHERE customer_id = ? {LISTING_ORDER}", (customer_id,)
    ).fetchall()
    documents = conn.execute(
        "SELECT d.id, d.number, d.kind, d.issue_date, d.amount_cents, d.published_at,"
        " d.pdf_path, c.contract_number, c.module_number FROM documents d"
        " JOIN contracts c ON c.id = d.contract_id WHERE c.customer_id = ?"
        " ORDER BY d.issue_date DESC, d.id DESC LIMIT ?",
        (customer_id, DOCUMENTS_SHOWN),
    ).fetchall()
    total = conn.execute(
        "SELECT count(*) FROM documents d JOIN contracts c ON c.id = d.contract_id"
        " WHERE c.customer_id = ?",
        (customer_id,),
    ).fetchone()[0]
    account = conn.execute(
        "SELECT * FROM accounts WHERE customer_id = ?", (customer_id,)
    ).fetchone()
    tickets = conn.execute(
        "SELECT id, reference, channel, subject, status, created_at, updated_at FROM tickets"
        " WHERE customer_id = ? ORDER BY updated_at DESC, id DESC LIMIT ?",
        (customer_id, TICKETS_SHOWN),
    ).fetchall()
    return CustomerView(
        customer=customer_from_row(row),
        contracts=tuple(contract_from_row(c) for c in contracts),
        documents=tuple(_document(d) for d in documents),
        documents_total=int(total),
        account=_account(account) if account else None,
        addresses=_addresses(conn, account) if account else (),
        chats=_chats(conn, account["id"]) if account else (),
        tickets=tuple(
            CustomerTicket(
                t["id"], t["reference"], t["channel"], t["subject"], t["status"],
                parse_iso(t["created_at"]), parse_iso(t["updated_at"]),
            )
            for t in tickets
        ),
    )  # fmt: skip


def _addresses(conn: sqlite3.Connection, account: sqlite3.Row) -> tuple[CustomerAddress, ...]:
    """The registered address and a pending new one, each with its uncleared bounce."""
    wanted = [(account["email"], "registered")]
    change = conn.execute(
        "SELECT new_email FROM email_changes WHERE account_id = ?", (account["id"],)
    ).fetchone()
    if change is not None:
        wanted.append((change["new_email"], "pending_change"))
    found = []
    for address, role in wanted:
        failure = conn.execute(
            "SELECT failed_at, status FROM address_failures WHERE address = ?"
            " AND cleared_at IS NULL",
            (address.lower(),),
        ).fetchone()
        failing = parse_iso(failure["failed_at"]) if failure else None
        if failing is None and role == "registered" and account["email_failed_at"]:
            failing = parse_iso(account["email_failed_at"])
        found.append(CustomerAddress(address, role, failing, failure["status"] if failure else ""))
    return tuple(found)


def _chats(conn: sqlite3.Connection, account_id: int) -> tuple[LinkedChat, ...]:
    rows = conn.execute(
        "SELECT channel, chat_id, logged_in, last_seen_at, notices_stopped_at FROM chats"
        " WHERE account_id = ? ORDER BY channel, chat_id",
        (account_id,),
    ).fetchall()
    return tuple(
        LinkedChat(
            r["channel"], r["chat_id"], bool(r["logged_in"]), _moment(r["last_seen_at"]),
            _moment(r["notices_stopped_at"]),
        )
        for r in rows
    )  # fmt: skip


def _find_customers(conn: sqlite3.Connection, text: str, limit: int) -> list[CustomerHit]:
    if not text:
        return []
    key, fiscal = normalise_key(text), compact_fiscal_code(text)
    contract = key.split("/")[0]
    rows = conn.execute(
        "SELECT id, code, name, kind FROM customers WHERE code = ? OR fiscal_code = ?"
        " UNION SELECT cu.id, cu.code, cu.name, cu.kind FROM contracts c"
        " JOIN customers cu ON cu.id = c.customer_id WHERE c.contract_number = ?"
        " UNION SELECT cu.id, cu.code, cu.name, cu.kind FROM accounts a"
        " JOIN customers cu ON cu.id = a.customer_id"
        " WHERE a.username = ? OR a.email = ? COLLATE NOCASE"
        " ORDER BY 2 LIMIT ?",
        (key, fiscal, contract, text.lower(), text, limit),
    ).fetchall()
    if not rows and len(text) >= 3:
        pattern = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        rows = conn.execute(
            "SELECT id, code, name, kind FROM customers WHERE name LIKE ? ESCAPE '\\'"
            " ORDER BY name, id LIMIT ?",
            (pattern, limit),
        ).fetchall()
    return [CustomerHit(r[0], r[1], r[2], r[3]) for r in rows]


def _account(row: sqlite3.Row) -> CustomerAccount:
    return CustomerAccount(
        id=row["id"],
        username=row["username"],
        email=row["email"],
        status=row["status"],
        password_temporary=bool(row["password_temporary"]),
        password_expires_at=_moment(row["password_expires_at"]),
        failed_logins=row["failed_logins"],
        blocked_at=_moment(row["blocked_at"]),
        language=row["language"],
        telegram_notices=bool(row["telegram_notices"]),
        registered_at=parse_iso(row["registered_at"]),
        activated_at=_moment(row["activated_at"]),
    )


def _document(row: sqlite3.Row) -> CustomerDocument:
    return CustomerDocument(
        id=row["id"],
        number=row["number"],
        kind=row["kind"],
        issue_date=date.fromisoformat(row["issue_date"]),
        amount_cents=row["amount_cents"],
        contract_label=f"{row['contract_number']}/{row['module_number']}",
        published=row["published_at"] is not None,
        has_pdf=bool(row["pdf_path"]),
    )


def _moment(text: str | None) -> datetime | None:
    return parse_iso(text) if text else None
