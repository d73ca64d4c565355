"""The notice fan-out: who gets an e-mail, grouping, and resuming after a kill."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest

from assistant.clock import ManualClock
from assistant.notices import NoticeFanout
from assistant.settings import Settings
from assistant.texts import Texts
from store.store import Store
from tests.fixtures.area_data import AreaData
from tests.fixtures.commands import run_announce


@pytest.fixture
def texts(settings: Settings) -> Texts:
    return Texts(settings.templates_dir)


def fanout(store: Store, texts: Texts, settings: Settings, clock: ManualClock) -> NoticeFanout:
    return NoticeFanout(store, texts, settings, clock, batch_customers=2)


async def test_documents_published_together_make_one_email(
    store: Store, texts: Texts, settings: Settings, clock: ManualClock, area: AreaData
) -> None:
    customer = await area.customer("Bianchi Srl", kind="company")
    await area.account(customer, email="amministrazione@pec.bianchi.it")
    first = await area.contract(customer)
    second = await area.contract(customer, description="Carrello elevatore Linde")
    await area.document(first, number="2024/000101", issue_date=date(2024, 1, 31))
    await area.document(first, number="2024/000102", issue_date=date(2024, 2, 29))
    await area.document(second, number="2024/000103", kind="credit_note", amount_cents=25000)

    assert await fanout(store, texts, settings, clock).process_pending() == 3

    mails = await store.outbox.list()
    assert len(mails) == 1
    mail = mails[0]
    assert mail.recipient == "amministrazione@pec.bianchi.it"
    assert "3 nuovi documenti" in mail.subject
    for number in ("2024/000101", "2024/000102", "2024/000103"):
        assert number in mail.body_text
    assert "Nota di credito n. 2024/000103" in mail.body_text
    assert "-250,00 €" in mail.body_text
    assert "31/01/2024" in mail.body_text
    assert "fiscalmente valido" in mail.body_text and "stampato" in mail.body_text
    assert mail.body_html is not None and "2024/000103" in mail.body_html
    assert await store.notices.count_pending() == 0


async def test_only_customers_with_an_active_account_hear_from_us(
    store: Store, texts: Texts, settings: Settings, clock: ManualClock, area: AreaData
) -> None:
    unregistered = await area.customer("Paper Only")
    pending = await area.customer("Still Pending")
    await area.account(pending, active=False)
    registered = await area.customer("Online")
    await area.account(registered, email="online@example.it")
    for customer in (unregistered, pending, registered):
        await area.document(await area.contract(customer))

    assert await fanout(store, texts, settings, clock).process_pending() == 3

    assert [m.recipient for m in await store.outbox.list()] == ["online@example.it"]
    assert await store.notices.count_pending() == 0  # the others keep their paper invoices


async def test_english_customer_gets_the_notice_in_english(
    store: Store, texts: Texts, settings: Settings, clock: ManualClock, area: AreaData
) -> None:
    customer = await area.customer("John Smith")
    await area.account(customer, language="en")
    await area.document(await area.contract(customer), number="2024/000777", amount_cents=123456)

    await fanout(store, texts, settings, clock).process_pending()

    (mail,) = await store.outbox.list()
    assert mail.subject.startswith("Customer Area: a new document")
    assert "Invoice no. 2024/000777" in mail.body_text and "€1,234.56" in mail.body_text
    assert "fiscally valid" in mail.body_text


async def test_a_second_pass_queues_nothing_more(
    store: Store, texts: Texts, settings: Settings, clock: ManualClock, area: AreaData
) -> None:
    customer = await area.customer()
    await area.account(customer)
    await area.document(await area.contract(customer))
    runner = fanout(store, texts, settings, clock)
    assert await runner.process_pending() == 1
    assert await runner.process_pending() == 0
    assert await NoticeFanout(store, texts, settings, clock).process_pending() == 0
    assert len(await store.outbox.list()) == 1


class CrashingTexts(Texts):
    """Texts that fail after ``renders`` renders: a process killed in the middle of a batch."""

    def __init__(self, templates_dir: Path, renders: int) -> None:
        super().__init__(templates_dir)
        self.left = renders

    def render(self, lang: str, name: str, **context: Any) -> str:
        self.left -= 1
        if self.left < 0:
            raise KeyboardInterrupt("killed")
        return super().render(lang, name, **context)


async def test_a_kill_in_the_middle_loses_nothing_and_repeats_nothing(
    settings: Settings, clock: ManualClock, area: AreaData, store: Store, texts: Texts
) -> None:
    customers = []
    for index in range(5):
        customer = await area.customer(f"Cliente {index}")
        await area.account(customer, email=f"c{index}@example.it")
        contract = await area.contract(customer)
        await area.document(contract)
        await area.document(contract)
        customers.append(customer)
    # Two customers per batch, two templates each: the kill comes in the second batch.
    crashing = NoticeFanout(
        store,
        CrashingTexts(settings.templates_dir, renders=6),
        settings,
        clock,
        batch_customers=2,
    )
    with pytest.raises(KeyboardInterrupt):
        await crashing.process_pending()
    assert len(await store.outbox.list()) == 2  # the first batch is complete and committed
    await store.close()

    reopened = await Store.open(settings.db_target)
    try:
        assert await fanout(reopened, texts, settings, clock).process_pending() == 6
        recipients = sorted(m.recipient for m in await reopened.outbox.list())
        assert recipients == [f"c{index}@example.it" for index in range(5)]
        assert await reopened.notices.count_pending() == 0
    finally:
        await reopened.close()


async def test_announce_to_all_creates_one_communication_per_registered_customer(
    store: Store,
    texts: Texts,
    settings: Settings,
    clock: ManualClock,
    area: AreaData,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    registered = await area.customer("Registered")
    await area.account(registered, email="reg@example.it")
    await area.customer("Not registered")
    body = tmp_path / "body.txt"
    body.write_text("Dal 1° marzo cambia l'IBAN per i pagamenti.\nCordiali saluti.\n")

    status = await run_announce(settings, to="all", subject="Nuovo IBAN", body_file=body)

    assert status == 0
    assert "1 communication" in capsys.readouterr().out
    assert await fanout(store, texts, settings, clock).process_pending() == 1
    (mail,) = await store.outbox.list()
    assert mail.recipient == "reg@example.it"
    assert mail.subject == "Area Clienti: Nuovo IBAN"
    assert "cambia l'IBAN" in mail.body_text
    (communication,) = await store.communications.for_customer(registered)
    assert communication.subject == "Nuovo IBAN" and communication.unread


async def test_announce_rejects_an_unknown_customer_and_an_empty_body(
    settings: Settings, store: Store, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    body = tmp_path / "body.txt"
    body.write_text("Testo")
    assert await run_announce(settings, to="NOPE", subject="S", body_file=body) == 1
    assert "unknown customer code" in capsys.readouterr().err
    empty = tmp_path / "empty.txt"
    empty.write_text("  \n")
    assert await run_announce(settings, to="all", subject="S", body_file=empty) == 2
