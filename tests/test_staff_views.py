"""The staff console's reads and customer actions, against a real SQLite file (migration 0011)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from assistant.clock import ManualClock, iso
from assistant.settings import Settings
from store.import_runs import BadRowRecord, ImportRun
from store.store import Store
from tests.fixtures.area_data import AreaData
from tests.fixtures.dialogs import Chat, make_assistant

NOW = datetime(2026, 1, 15, 9, 0, tzinfo=UTC)


async def _ticket(
    store: Store, when: datetime, *, status: str = "open", customer_id: int | None = None
) -> int:
    ticket = await store.tickets.create(
        channel="email", contact="cliente@example.it", customer_id=customer_id,
        subject="Domanda", language="it", status=status, now=when,
    )  # fmt: skip
    await store.tickets.add_message(
        ticket.id, direction="in", author="customer", body="testo", now=when
    )
    return ticket.id


async def test_the_customer_page_gathers_the_whole_customer(
    store: Store, area: AreaData, clock: ManualClock
) -> None:
    customer = await area.customer("Anna Bianchi")
    active = await area.contract(customer, number="LS0000001")
    ended = await area.contract(
        customer, status="terminated", end=date(2023, 12, 31), number="LS0000002"
    )
    for day in (date(2024, 1, 31), date(2024, 2, 29), date(2024, 3, 31)):
        await area.document(active, issue_date=day)
    await area.document(ended, kind="credit_note", issue_date=date(2023, 6, 30))
    account = await area.account(customer, email="Anna@Example.it")
    await area.link_chat(account, "4242")
    await store.inbound.mark_failing("anna@example.it", "<m1@test>", "5.1.1", clock.now())
    ticket = await _ticket(store, clock.now(), customer_id=customer)
    other = await area.customer("Altro Cliente")
    await _ticket(store, clock.now(), customer_id=other)

    view = await store.staff_views.customer(customer)

    assert view is not None and view.customer.name == "Anna Bianchi"
    assert [c.status for c in view.contracts] == ["active", "terminated"]
    assert view.documents_total == 4 and len(view.documents) == 4
    assert [d.issue_date for d in view.documents][:2] == [date(2024, 3, 31), date(2024, 2, 29)]
    assert view.documents[-1].signed_cents < 0 and view.documents[-1].contract_label.endswith("/1")
    assert view.account is not None and view.account.status == "active"
    assert not hasattr(view.account, "password_hash")
    [address] = view.addresses
    assert address.role == "registered" and address.failure_status == "5.1.1"
    assert address.failing_since == clock.now()
    assert [(c.channel, c.chat_id, c.logged_in) for c in view.chats] == [("telegram", "4242", True)]
    assert [t.id for t in view.tickets] == [ticket]
    assert await store.staff_views.customer(999_999) is None


async def test_a_customer_without_an_account(store: Store, area: AreaData) -> None:
    customer = await area.customer()
    view = await store.staff_views.customer(customer)
    assert view is not None and view.account is None and view.addresses == view.chats == ()


async def test_customers_are_found_by_their_identifiers_or_name(
    store: Store, area: AreaData
) -> None:
    customer = await area.customer("Giulia Verdi")
    await area.contract(customer, number="LS7654321")
    await area.account(customer, email="giulia@example.it")
    view = await store.staff_views.customer(customer)
    assert view is not None
    code, fiscal = view.customer.code, view.customer.fiscal_code
    for text in (code, code.lower(), fiscal, "LS7654321", "ls7654321/1", f"user{customer}",
                 "GIULIA@example.it", "verdi", "  Giulia  "):  # fmt: skip
        found = await store.staff_views.find_customers(text)
        assert [hit.id for hit in found] == [customer], text
    assert await store.staff_views.find_customers("nessuno") == []
    assert await store.staff_views.find_customers("%") == []
    assert await store.staff_views.find_customers("") == []


async def test_the_first_staff_reply_is_kept_by_the_database(store: Store) -> None:
    ticket = await _ticket(store, NOW)
    await store.tickets.add_message(
        ticket, direction="out", author="assistant", kind="acknowledgement", body="ok", now=NOW
    )
    assert (await _first_response(store, ticket)) is None
    for minutes in (30, 90):
        await store.tickets.add_message(
            ticket, direction="out", author="staff", kind="staff_reply", body="risposta",
            now=NOW + timedelta(minutes=minutes),
        )  # fmt: skip
    assert (await _first_response(store, ticket)) == iso(NOW + timedelta(minutes=30))


async def _first_response(store: Store, ticket_id: int) -> str | None:
    row = await store.db.fetchone(
        "SELECT first_response_at FROM tickets WHERE id = ?", (ticket_id,)
    )
    assert row is not None
    return row[0]


async def test_the_dashboard_counts(store: Store) -> None:
    staff_id = await store.staff.create("agente", "agent", "not-a-hash", NOW, by=None)
    old = await _ticket(store, NOW - timedelta(days=3))  # open, no reply: overdue
    recent = await _ticket(store, NOW - timedelta(hours=1))  # open, not yet due
    await store.inbox.assign(recent, staff_id, by=staff_id, reference="AC-1", now=NOW)
    answered = await _ticket(store, NOW - timedelta(days=2))
    await store.tickets.add_message(
        answered, direction="out", author="staff", kind="staff_reply", body="r",
        now=NOW - timedelta(days=1),
    )  # fmt: skip
    await store.tickets.set_status(answered, "answered", NOW - timedelta(days=1))
    await _ticket(store, NOW - timedelta(days=10), status="auto_answered")
    await _ticket(store, NOW - timedelta(days=40))  # outside both windows, open and overdue
    for days_ago in (1, 2, 20):
        await store.faq_answers.record("telegram", "password", NOW - timedelta(days=days_ago))

    figures = await store.staff_views.ticket_figures(NOW, NOW - timedelta(days=1), (7, 30))

    assert (figures.open, figures.overdue, figures.unassigned) == (3, 2, 2)
    assert figures.faq_answers == {7: 2, 30: 3}
    assert figures.auto_answered == {7: 0, 30: 1}
    assert figures.tickets == {7: 3, 30: 4}
    assert sum(n for _, n in figures.hourly) == 4
    assert figures.hourly[0][0] == iso(NOW - timedelta(days=10))[:13]
    [(received, replied)] = figures.first_replies  # POSIX seconds
    assert received == pytest.approx((NOW - timedelta(days=2)).timestamp(), abs=0.01)
    assert replied == pytest.approx((NOW - timedelta(days=1)).timestamp(), abs=0.01)
    assert old != recent


async def test_the_operations_page(store: Store, area: AreaData, clock: ManualClock) -> None:
    await store.outbox.enqueue(
        kind="temp_password", recipient="a@example.it", subject="Credenziali",
        body_text="Password temporanea: segreta", now=clock.now(),
    )  # fmt: skip
    [mail] = await store.outbox.list()
    await _fail(store, mail.id, "550 no such user")
    customer = await area.customer()
    await area.document(await area.contract(customer))
    run = ImportRun(
        kind="customers", file_name="clienti.csv", at=clock.now(), rows=3, bad=2, new=0,
        changed=0, notices=0, written=False, unusable=None,
    )  # fmt: skip
    bad = [BadRowRecord(3, "fiscal_code", "bad code"), BadRowRecord(2, "missing", "name empty")]
    run_id = await store.import_runs.record(run, bad)

    operations = await store.staff_views.operations()

    [failed] = operations.failed_mails
    assert (failed.id, failed.kind, failed.last_error) == (
        mail.id,
        "temp_password",
        "550 no such user",
    )
    assert not hasattr(failed, "body_text")
    assert operations.failed_total == 1 and operations.pending_mails == 0
    assert operations.notices_total == 1 and operations.notices[0].what.startswith("2024/")
    [(kept, rows)] = operations.imports
    assert kept.id == run_id and kept.file_name == "clienti.csv" and not kept.written
    assert [r.line for r in rows] == [2, 3]
    assert await store.outbox.requeue_failed([mail.id], clock.now()) == {mail.id}


async def test_unlinking_a_chat_is_audited_with_the_staff_user(
    store: Store, area: AreaData, clock: ManualClock
) -> None:
    customer, other = await area.customer(), await area.customer()
    account, other_account = await area.account(customer), await area.account(other)
    await area.link_chat(account, "100")
    await area.link_chat(other_account, "200")

    assert not await store.customer_care.unlink_chat(
        customer, "telegram", "200", staff_id=7, now=clock.now()
    )  # another customer's chat: untouched
    assert await store.customer_care.unlink_chat(
        customer, "telegram", "100", staff_id=7, now=clock.now()
    )
    chat = await store.chats.get("telegram", "100")
    assert chat is not None and chat.account_id is None and not chat.logged_in
    still = await store.chats.get("telegram", "200")
    assert still is not None and still.account_id == other_account

    await store.customer_care.set_paper_invoices(customer, False, staff_id=7, now=clock.now())
    record = await store.customers.get(customer)
    assert record is not None and not record.paper_invoices
    rows = await store.db.fetchall(
        "SELECT event, staff_id, customer_id FROM audit_log WHERE staff_id IS NOT NULL ORDER BY id"
    )
    assert [tuple(r) for r in rows] == [
        ("staff_chat_unlinked", 7, customer),
        ("staff_paper_invoices_off", 7, customer),
    ]


async def _fail(store: Store, mail_id: int, error: str) -> None:
    """The outbox row as a sender leaves a permanent failure (status, attempts, error)."""
    await store.db.execute_alone(
        "UPDATE outbox SET status = 'failed', attempts = 1, last_error = ? WHERE id = ?",
        (error, mail_id),
    )


async def test_a_faq_answer_in_the_chat_is_counted_without_the_chat(
    store: Store, settings: Settings, clock: ManualClock
) -> None:
    chat = Chat(make_assistant(store, settings, clock))
    await chat.press("faq:credenziali-smarrite")
    await chat.press("faq:nonexistent")  # a stale button: no answer, not counted
    rows = await store.db.fetchall("SELECT * FROM faq_answers")
    assert [(r["channel"], r["faq_id"]) for r in rows] == [("telegram", "credenziali-smarrite")]
    assert set(rows[0].keys()) == {"id", "at", "channel", "faq_id"}  # no chat id, no text


async def test_an_import_keeps_its_report_for_the_operations_page(
    store: Store, clock: ManualClock, tmp_path: Path
) -> None:
    from staff.imports import run_import

    path = tmp_path / "clienti.csv"
    path.write_text(
        "customer_code,kind,name,fiscal_code\n"
        "C1,person,Mario Rossi,RSSMRA85T10A562S\n"
        "C2,person,Anna Bianchi,NONVALIDO\n",
        encoding="utf-8",
    )
    assert await run_import(store, "customers", path, skip_invalid=False, clock=clock) == 1
    [run] = await store.import_runs.latest()
    assert (run.kind, run.file_name, run.rows, run.bad, run.written) == (
        "customers", "clienti.csv", 2, 1, False,
    )  # fmt: skip
    [bad] = await store.import_runs.bad_rows(run.id)
    assert bad.line == 3 and bad.reason == "fiscal_code"


async def test_the_inbox_overdue_filter_skips_tickets_a_person_answered(store: Store) -> None:
    from store.inbox import InboxQuery

    waiting = await _ticket(store, NOW - timedelta(days=3))
    answered = await _ticket(store, NOW - timedelta(days=3))
    await store.tickets.add_message(
        answered, direction="out", author="staff", kind="staff_reply", body="r",
        now=NOW - timedelta(days=2),
    )  # fmt: skip
    ticket = await store.tickets.get(answered)
    assert ticket is not None
    await store.tickets.add_customer_message(ticket, "di nuovo", NOW - timedelta(days=1))  # reopens
    query = InboxQuery(status="open", created_before=NOW - timedelta(days=1))
    assert [row.id for row in await store.inbox.page(query)] == [waiting]
    figures = await store.staff_views.ticket_figures(NOW, NOW - timedelta(days=1))
    assert (figures.open, figures.overdue) == (2, 1)
