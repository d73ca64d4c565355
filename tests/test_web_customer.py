"""The customer page, operations and the dashboard in a real browser (Chromium), end to end.

An agent finds a customer, sends the recovery e-mail (the outbox writes it as an ``.eml`` file:
the new temporary password is in it, and in no page the browser was sent), downloads a PDF
(only that customer's published ones), unlinks a chat and turns paper invoices off; retries a
failed e-mail, downloads a quarantined mail; the dashboard counts what the store holds.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from email import policy
from email.parser import BytesParser

import pytest
from playwright.sync_api import Page, Response

from assistant import credentials
from assistant.service_levels import ServiceLevel
from assistant.settings import Settings
from mailbox.outbound.sender import OutboxSender
from store.import_runs import BadRowRecord, ImportRun
from store.store import Store
from tests.fixtures.area_data import AreaData
from tests.fixtures.web import WebConsole, log_in


@pytest.fixture
def console(settings: Settings) -> Iterator[WebConsole]:
    """The console with the default service level (Mon-Fri 09-18, 8 business hours)."""
    level = ServiceLevel(settings.staff_business_hours, settings.sla_first_response_hours)
    started = WebConsole(settings, service_level=level).start()
    yield started
    started.stop()


class Seen:
    """Every HTML page the browser received, to prove a secret was never in one."""

    def __init__(self, page: Page) -> None:
        self.pages: list[str] = []
        page.on("response", self._keep)

    def _keep(self, response: Response) -> None:
        if "text/html" in response.headers.get("content-type", ""):
            self.pages.append(response.text())


def _area(console: WebConsole) -> AreaData:
    return AreaData(console.call_store(), console.settings, console.clock)


def test_an_agent_sends_the_recovery_email_without_ever_seeing_the_password(
    console: WebConsole, page: Page
) -> None:
    area = _area(console)
    customer = console.run(area.customer("Carla Neri"))
    contract = console.run(area.contract(customer, number="LS0042424"))
    document = console.run(area.document(contract, issue_date=date(2025, 5, 31)))
    account = console.run(area.account(customer, email="carla.neri@example.it"))
    console.run(area.link_chat(account, "777"))
    console.call(lambda s: s.accounts.block_login(account, console.clock.now()))
    stranger = console.run(area.customer("Altro Cliente"))
    foreign = console.run(area.document(console.run(area.contract(stranger))))
    code = console.call(lambda s: _code(s, customer))
    seen = Seen(page)
    log_in(page, console, console.add_staff("anna", "agent"))

    page.click("nav >> text=Clienti")
    page.fill("input[name=q]", "LS0042424")
    page.click("form.filters button")
    assert page.url.endswith(f"/customers/{customer}")  # one hit: its page
    assert code in page.inner_text("h1") and "login bloccata" in page.inner_text("#account")
    assert "carla.neri@example.it" in page.inner_text("table.addresses")
    assert "LS0042424/1" in page.inner_text("table.contracts")
    assert "a reddito" in page.inner_text("table.contracts")

    page.click("text=Invia e-mail di recupero")
    assert "E-mail di recupero accodata" in page.inner_text("p.flash")
    assert "attivo" in page.inner_text("#account")  # the block is lifted
    assert "chiusa" in page.inner_text("table.chats")  # every session ended, the chat linked

    assert _send_outbox(console) == 1
    [eml] = sorted(console.settings.outbox_dir.glob("*.eml"))
    mail = BytesParser(policy=policy.default).parsebytes(eml.read_bytes())
    assert mail["To"] == "carla.neri@example.it"
    body = mail.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    password = re.search(r"Password temporanea: (\S+)", body)
    assert password is not None
    assert f"user{customer}" in body
    assert seen.pages and not any(password.group(1) in html for html in seen.pages)
    stored = console.call(lambda s: s.accounts.get(account))
    assert stored is not None and stored.blocked_at is None and stored.password_temporary
    assert console.run(credentials.verify_password(stored.password_hash, password.group(1)))
    assert _audit(console, "staff_recovery_sent") == [(_staff_id(console, "anna"), customer)]

    pdf = page.request.get(f"{console.url}/customers/{customer}/documents/{document}.pdf")
    assert pdf.status == 200 and pdf.headers["content-type"] == "application/pdf"
    assert pdf.body().startswith(b"%PDF")
    assert (
        page.request.get(f"{console.url}/customers/{customer}/documents/{foreign}.pdf").status
        == 404
    )
    assert (
        page.request.get(f"{console.url}/customers/{stranger}/documents/{document}.pdf").status
        == 404
    )

    page.click("table.chats >> text=Scollega")
    assert "Chat scollegata" in page.inner_text("p.flash")
    assert "Nessuna chat collegata" in page.inner_text("table.chats")
    page.click("form.inline >> text=Disattiva")
    assert "Fatture cartacee disattivate" in page.inner_text("p.flash")
    record = console.call(lambda s: s.customers.get(customer))
    assert record is not None and not record.paper_invoices
    assert [e for e, in _events(console)] == [
        "staff_recovery_sent", "staff_document_downloaded", "staff_chat_unlinked",
        "staff_paper_invoices_off",
    ]  # fmt: skip


def test_operations_retry_a_failed_mail_and_give_a_quarantined_one(
    console: WebConsole, page: Page
) -> None:
    mail_id = console.call(_failed_mail)
    inbound_id = console.call(_quarantined_mail)
    run = ImportRun(
        kind="contracts", file_name="contratti.csv", at=console.clock.now(), rows=10, bad=1,
        new=0, changed=0, notices=0, written=False, unusable=None,
    )  # fmt: skip
    console.call(lambda s: s.import_runs.record(run, [BadRowRecord(7, "unknown_customer", "C999")]))
    log_in(page, console, console.add_staff("bruno", "agent"))

    page.click("nav >> text=Operazioni")
    assert "550 mailbox unavailable" in page.inner_text("#outbox")
    assert "Password" not in page.inner_text("#outbox")  # the body is never shown
    assert "contratti.csv" in page.inner_text("#imports")
    assert "unknown_customer" in page.inner_text("#imports") and "nulla scritto" in page.inner_text(
        "#imports"
    )
    page.click("#outbox >> text=Riprova")
    assert "rimessa in coda" in page.inner_text("p.flash")
    mail = console.call(lambda s: s.outbox.get(mail_id))
    assert mail is not None and mail.status == "pending"

    raw = page.request.get(f"{console.url}/operations/quarantine/{inbound_id}.eml")
    assert raw.status == 200 and raw.body() == QUARANTINED
    assert "attachment" in raw.headers["content-disposition"]
    assert (
        page.request.get(f"{console.url}/operations/quarantine/{inbound_id + 1}.eml").status == 404
    )


def test_the_dashboard_counts_and_draws_the_tickets_per_day(
    console: WebConsole, page: Page
) -> None:
    now = console.clock.now()  # Thursday 15 January 2026, 10:00 in Rome
    console.call(lambda s: _ticket(s, now - timedelta(days=3)))  # overdue
    console.call(lambda s: _ticket(s, now - timedelta(hours=1)))  # due this afternoon
    console.call(lambda s: _ticket(s, now - timedelta(days=2), status="auto_answered"))
    console.call(lambda s: s.faq_answers.record("telegram", "recupero-credenziali", now))
    log_in(page, console, console.add_staff("carlo", "agent"))

    page.click("nav >> text=Cruscotto")
    assert page.inner_text("#open-count") == "2"
    assert page.inner_text("#overdue-count") == "1"
    assert page.inner_text("#unassigned-count") == "2"
    assert page.inner_text("td.share-7").startswith("50%")  # 2 settled of 4 questions
    bars = page.locator("svg rect.bar")
    assert bars.count() == 30
    counts = [int(bars.nth(i).get_attribute("data-count") or 0) for i in range(30)]
    assert sum(counts) == 3 and counts[-1] == 1  # today's ticket is the last bar
    page.click("text=in ritardo sulla prima risposta")
    assert page.locator("table.inbox tbody tr.overdue").count() == 1


QUARANTINED = b"From: x@example.it\r\nSubject: =?broken\r\n\r\n\xff\xfe"


async def _code(store: Store, customer_id: int) -> str:
    customer = await store.customers.get(customer_id)
    assert customer is not None
    return customer.code


async def _failed_mail(store: Store) -> int:
    await store.outbox.enqueue(
        kind="ticket_staff_reply", recipient="a@example.it", subject="Re: domanda",
        body_text="Password non c'entra", now=datetime.now(UTC),
    )  # fmt: skip
    [mail] = await store.outbox.list()
    await _fail(store, mail.id, "550 mailbox unavailable")
    return mail.id


async def _quarantined_mail(store: Store) -> int:
    async with store.transaction():
        inbound_id = await store.db.execute(
            "INSERT INTO inbound_mails (folder, uidvalidity, uid, sha256, size, raw_path,"
            " outcome, detail, processed_at) VALUES ('INBOX', 1, 5, 'x', ?, '', 'quarantined',"
            " 'unparsable', '2026-01-15T08:00:00+00:00')",
            (len(QUARANTINED),),
        )
        await store.db.execute(
            "INSERT INTO inbound_raw (inbound_id, raw) VALUES (?, ?)", (inbound_id, QUARANTINED)
        )
    return inbound_id


async def _ticket(store: Store, when: datetime, status: str = "open") -> None:
    ticket = await store.tickets.create(
        channel="email", contact="c@example.it", customer_id=None, subject="Domanda",
        language="it", status=status, now=when,
    )  # fmt: skip
    await store.tickets.add_message(
        ticket.id, direction="in", author="customer", body="testo", now=when
    )


def _send_outbox(console: WebConsole) -> int:
    sender = OutboxSender(console.call_store(), console.settings, console.clock)
    return console.run(sender.send_due())


def _events(console: WebConsole) -> list[tuple[str]]:
    rows = console.call(
        lambda s: s.db.fetchall(
            "SELECT event FROM audit_log WHERE event LIKE 'staff_%' AND customer_id IS NOT NULL"
            " ORDER BY id"
        )
    )
    return [(r[0],) for r in rows]


def _audit(console: WebConsole, event: str) -> list[tuple[int, int]]:
    rows = console.call(
        lambda s: s.db.fetchall(
            "SELECT staff_id, customer_id FROM audit_log WHERE event = ?", (event,)
        )
    )
    return [(r[0], r[1]) for r in rows]


def _staff_id(console: WebConsole, username: str) -> int:
    account = console.call(lambda s: s.staff.by_username(username))
    assert account is not None
    return account.id


async def _fail(store: Store, mail_id: int, error: str) -> None:
    """The outbox row as a sender leaves a permanent failure (status, attempts, error)."""
    await store.db.execute_alone(
        "UPDATE outbox SET status = 'failed', attempts = 1, last_error = ? WHERE id = ?",
        (error, mail_id),
    )
