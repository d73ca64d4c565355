"""Requests in the customer's own words, in the chat: the same answers and checks as the buttons."""

from __future__ import annotations

from datetime import date

import pytest

from assistant.clock import ManualClock
from assistant.dialogs.core import Assistant
from assistant.faq import FaqMatcher
from assistant.requests.model import DocumentRequest
from assistant.requests.plan import button_data
from assistant.settings import Settings
from store.store import Store
from tests.fixtures.area_data import AreaData
from tests.fixtures.dialogs import Chat, button, make_assistant, text
from tests.test_pending_action import account_with_password, documents, log_in


class Customer:
    """A logged-in customer with a van and a lathe, and a year of invoices."""

    def __init__(self, chat: Chat, ids: dict[str, int]) -> None:
        self.chat = chat
        self.ids = ids


async def customer_with_documents(
    area: AreaData, store: Store, assistant: Assistant, chat_id: str = "100"
) -> Customer:
    customer = await area.customer()
    van = await area.contract(
        customer, description="Furgone Fiat Ducato 2.3 Multijet", fee_cents=123456,
        start=date(2021, 3, 3),
    )  # fmt: skip
    lathe = await area.contract(
        customer, status="terminated", description="Tornio CNC Mazak",
        start=date(2018, 6, 1), end=date(2024, 3, 3), fee_cents=86750,
    )  # fmt: skip
    ids = {"customer": customer, "van": van, "lathe": lathe}
    for name, contract, day in (
        ("van_2023_03", van, date(2023, 3, 31)),
        ("van_2024_01", van, date(2024, 1, 31)),
        ("van_2024_02", van, date(2024, 2, 29)),
        ("lathe_2024_02", lathe, date(2024, 2, 29)),
        ("van_2024_04", van, date(2024, 4, 30)),
    ):
        ids[name] = await area.document(contract, issue_date=day, number=f"{day:%Y}/{name}")
    ids["credit_note"] = await area.document(
        van, kind="credit_note", issue_date=date(2024, 5, 15), number="2024/NC0001"
    )
    username = await account_with_password(area, store, customer)
    chat = Chat(assistant, chat_id)
    assert "Accesso eseguito" in text(await log_in(chat, username))
    return Customer(chat, ids)


async def test_the_last_invoice_is_sent_at_once(
    assistant: Assistant, area: AreaData, store: Store
) -> None:
    me = await customer_with_documents(area, store, assistant)

    out = await me.chat.say("mandami l'ultima fattura")

    assert documents(out) == ["2024-van_2024_04.pdf"]
    assert "Ecco la fattura n. 2024/van_2024_04" in text(out)


async def test_several_documents_are_a_short_list_newest_first(
    assistant: Assistant, area: AreaData, store: Store
) -> None:
    me = await customer_with_documents(area, store, assistant)

    out = await me.chat.say("le fatture di febbraio 2024")

    assert not documents(out)
    data = [b.data for r in out.replies for row in r.buttons for b in row]
    assert set(data[:2]) == {f"doc:{me.ids['van_2024_02']}", f"doc:{me.ids['lathe_2024_02']}"}
    assert "Per restringere la ricerca scrivi anche il contratto" in text(out)
    pressed = await me.chat.press(data[0])
    assert len(documents(pressed)) == 1


async def test_a_years_list_offers_the_zip_and_the_whole_year_sends_it(
    assistant: Assistant, area: AreaData, store: Store
) -> None:
    me = await customer_with_documents(area, store, assistant)

    out = await me.chat.say("le fatture del 2024")
    assert not documents(out)
    assert button(out, "Tutti i documenti del 2024 (ZIP)") == "zip:2024"

    out = await me.chat.say("tutte le fatture del 2024")
    (zipped,) = documents(out)
    assert zipped.endswith(".zip")


async def test_contract_list_and_unread_communications(
    assistant: Assistant, area: AreaData, store: Store, clock: ManualClock
) -> None:
    me = await customer_with_documents(area, store, assistant)

    out = await me.chat.say("quali contratti ho attivi?")
    assert "I tuoi contratti a reddito: 1" in text(out)
    assert "A reddito dal 3 marzo 2021" in text(out) and "Tornio" not in text(out)

    out = await me.chat.say("comunicazioni non lette")
    assert "Non hai comunicazioni da leggere" in text(out)


async def test_none_says_so_with_the_nearest_document(
    assistant: Assistant, area: AreaData, store: Store
) -> None:
    me = await customer_with_documents(area, store, assistant)

    out = await me.chat.say("la fattura di marzo 2024")

    assert not documents(out)
    assert "A marzo 2024 non c'è nessuna fattura" in text(out)
    assert "29 febbraio 2024" in text(out)
    assert button(out, "2024/").startswith("doc:")

    out = await me.chat.say("le fatture del 2005")
    assert "Nel 2005 non ci sono documenti" in text(out) and "dal 2008" in text(out)


async def test_contracts_in_natural_italian(
    assistant: Assistant, area: AreaData, store: Store
) -> None:
    me = await customer_with_documents(area, store, assistant)

    out = await me.chat.say("quanto pago di canone per il Ducato?")
    assert "1.234,56 €" in text(out) and "Tornio" not in text(out)

    out = await me.chat.say("quando è finito il contratto del tornio?")
    assert "È finito il 3 marzo 2024" in text(out)


async def test_the_latest_communication_is_opened(
    assistant: Assistant, area: AreaData, store: Store, clock: ManualClock
) -> None:
    me = await customer_with_documents(area, store, assistant)
    await store.communications.create_for(
        [me.ids["customer"]],
        subject="Nuovi orari delle filiali",
        body="Dal 1° febbraio...",
        now=clock.now(),
    )

    out = await me.chat.say("l'ultima comunicazione")

    assert "Nuovi orari delle filiali" in text(out)
    (item,) = await store.communications.for_customer(me.ids["customer"])
    assert not item.unread


async def test_another_customers_contract_or_document_is_not_found_and_audited(
    assistant: Assistant, area: AreaData, store: Store
) -> None:
    me = await customer_with_documents(area, store, assistant)
    other = await area.customer("Giulia Bianchi")
    theirs = await area.contract(other, number="LS7654321")
    await area.document(theirs, number="2024/999999")

    out = await me.chat.say("mandami la fattura del contratto LS7654321/1")
    assert "Non trovo il contratto n. LS7654321/1 tra i tuoi" in text(out)
    assert not documents(out)

    out = await me.chat.say("mandami la fattura 2024/999999")
    assert "Non trovo il documento n. 2024/999999 tra i tuoi" in text(out)
    assert not documents(out)

    forged = button_data(DocumentRequest(contract_ids=(theirs,)))
    assert forged is not None
    out = await me.chat.press(forged)
    assert "non è disponibile nel tuo profilo" in text(out) and not documents(out)
    assert len(await store.audit.list("forged_button")) == 3


async def test_a_request_made_logged_out_runs_after_the_login(
    assistant: Assistant, area: AreaData, store: Store
) -> None:
    customer = await area.customer()
    contract = await area.contract(customer)
    await area.document(contract, number="2024/000321", issue_date=date(2024, 6, 30))
    username = await account_with_password(area, store, customer)
    chat = Chat(assistant, "200")

    out = await chat.say("mandami l'ultima fattura")
    assert "devi prima accedere" in text(out) and "riprendo da qui" in text(out)
    assert not documents(out)

    out = await log_in(chat, username)
    assert "Accesso eseguito" in text(out)
    assert documents(out) == ["2024-000321.pdf"]


@pytest.fixture(scope="module")
def matcher() -> FaqMatcher:
    """The real FAQ matcher, loaded once for the module."""
    return FaqMatcher.load()


async def test_a_line_both_could_mean_gets_the_question_which_one(
    store: Store, settings: Settings, clock: ManualClock, area: AreaData, matcher: FaqMatcher
) -> None:
    assistant = make_assistant(store, settings, clock, faq=matcher)
    me = await customer_with_documents(area, store, assistant)
    line = "quando esce la fattura di marzo?"
    assert matcher.match(line).kind == "answer"

    out = await me.chat.say(line)

    assert "Vuoi la fattura di marzo" in text(out), text(out)
    assert not documents(out)
    faq, mine = button(out, "❓"), button(out, "🔎")
    assert faq.startswith("faq:") and mine.startswith("rq:")
    assert text(await me.chat.press(faq))
    out = await me.chat.press(mine)
    assert documents(out) == ["2023-van_2023_03.pdf"]  # the most recent March with documents


async def test_faq_questions_keep_their_answers(
    store: Store, settings: Settings, clock: ManualClock, area: AreaData, matcher: FaqMatcher
) -> None:
    assistant = make_assistant(store, settings, clock, faq=matcher)
    me = await customer_with_documents(area, store, assistant)

    out = await me.chat.say("ho perso la password")

    assert not documents(out) and "rq:" not in str(out)
    assert text(out)


async def test_in_english_every_answer_reads_in_english(
    store: Store, settings: Settings, clock: ManualClock, area: AreaData, matcher: FaqMatcher
) -> None:
    assistant = make_assistant(store, settings, clock, faq=matcher)
    me = await customer_with_documents(area, store, assistant)
    account = await store.accounts.by_username(f"user{me.ids['customer']}")
    assert account is not None
    await store.accounts.set_language(account.id, "en", clock.now())

    out = await me.chat.say("send me the last invoice")
    assert documents(out) == ["2024-van_2024_04.pdf"] and "Here is invoice" in text(out)
    out = await me.chat.say("invoices of February 2024")
    assert "I found 2 documents, newest first" in text(out)
    out = await me.chat.say("the invoice of March 2024")
    assert "There is no invoice in March 2024" in text(out)
    assert "The latest before that is invoice no. 2024/" in text(out)
    assert "of 29 February 2024" in text(out)
    out = await me.chat.say("which contracts do I have?")
    assert "Active since 3 March 2021" in text(out) and "fee €1,234.56" in text(out)
    out = await me.chat.say("quanto pago di canone per il Ducato?")
    assert "The periodic fee is €1,234.56" in text(out)


async def test_the_choice_made_logged_out_runs_after_the_login(
    store: Store, settings: Settings, clock: ManualClock, area: AreaData, matcher: FaqMatcher
) -> None:
    assistant = make_assistant(store, settings, clock, faq=matcher)
    customer = await area.customer()
    contract = await area.contract(customer)
    await area.document(contract, number="2025/000003", issue_date=date(2025, 3, 31))
    username = await account_with_password(area, store, customer)
    chat = Chat(assistant, "300")

    out = await chat.say("quando esce la fattura di marzo?")
    assert "Vuoi la fattura di marzo" in text(out)
    out = await chat.press(button(out, "🔎"))
    assert "devi prima accedere" in text(out) and not documents(out)

    out = await log_in(chat, username)
    assert documents(out) == ["2025-000003.pdf"]
