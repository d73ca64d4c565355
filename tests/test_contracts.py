"""/contratti: active and terminated apart, formats, pages within Telegram's limit, ownership."""

from __future__ import annotations

import re
from datetime import date

from assistant.clock import ManualClock
from assistant.dialogs.core import Assistant
from bot.telegram_text import TEXT_LIMIT as TELEGRAM_TEXT_LIMIT
from bot.telegram_text import telegram_length
from store.store import Store
from tests.fixtures.area_data import AreaData
from tests.fixtures.dialogs import Chat, button, labels, text


async def logged_in_chat(
    assistant: Assistant, area: AreaData, customer: int, chat_id: str = "100", **account: object
) -> Chat:
    """A Telegram chat where the customer is logged in."""
    account_id = await area.account(customer, **account)  # type: ignore[arg-type]
    await area.link_chat(account_id, chat_id)
    return Chat(assistant, chat_id)


async def test_active_and_terminated_contracts_are_shown_apart(
    assistant: Assistant, area: AreaData
) -> None:
    customer = await area.customer()
    await area.contract(
        customer,
        number="LS100",
        description="Furgone Fiat Ducato",
        start=date(2021, 3, 1),
        fee_cents=123456,
    )
    await area.contract(customer, number="LS101", description="Escavatore CAT 320")
    await area.contract(
        customer,
        number="LS050",
        status="terminated",
        description="Autovettura Panda",
        start=date(2015, 1, 1),
        end=date(2019, 12, 31),
    )
    chat = await logged_in_chat(assistant, area, customer)

    out = await chat.say("/contratti")

    shown = text(out)
    assert "Contratti a reddito: 2" in shown
    assert "LS100/1" in shown and "LS101/1" in shown and "LS050" not in shown
    assert "dal 01/03/2021" in shown and "1.234,56 €" in shown
    out = await chat.press(button(out, "estinti"))
    shown = text(out)
    assert "Contratti estinti: 1" in shown and "la cui fatturazione è terminata" in shown
    assert "LS050/1" in shown and "al 31/12/2019" in shown and "LS100" not in shown


async def test_english_customer_reads_english_formats(assistant: Assistant, area: AreaData) -> None:
    customer = await area.customer()
    await area.contract(customer, start=date(2021, 3, 1), fee_cents=123456)
    chat = await logged_in_chat(assistant, area, customer, language="en")

    shown = text(await chat.say("/contracts"))

    assert "Active contracts: 1" in shown
    assert "from 01 Mar 2021" in shown and "€1,234.56" in shown


async def test_hundreds_of_contracts_page_within_the_telegram_limit(
    assistant: Assistant, area: AreaData
) -> None:
    customer = await area.customer("Grande Flotta Spa", kind="company")
    long_description = ("Autocarro con gru 🚚 allestimento speciale, " * 12).strip()
    numbers = set()
    for index in range(230):
        number = f"LSX{index:05d}"
        numbers.add(f"{number}/1")
        await area.contract(customer, number=number, description=long_description)
    chat = await logged_in_chat(assistant, area, customer)

    out = await chat.say("/contratti")
    seen: list[str] = []
    longest = 0
    while True:
        (reply,) = out.replies
        assert telegram_length(reply.text) <= TELEGRAM_TEXT_LIMIT
        longest = max(longest, telegram_length(reply.text))
        page = re.findall(r"Contratto (LSX\d{5}/1)", reply.text)
        assert page and [b.label for row in reply.buttons for b in row][: len(page)] == page
        seen += page
        if not any("Successivi" in label for label in labels(out)):
            break
        out = await chat.press(button(out, "Successivi"))

    assert len(seen) == len(numbers) and set(seen) == numbers  # each exactly once
    assert longest > TELEGRAM_TEXT_LIMIT - 600  # the pages really are filled up to the limit


async def test_a_contract_opens_to_its_details_and_years(
    assistant: Assistant, area: AreaData
) -> None:
    customer = await area.customer()
    contract = await area.contract(customer, number="LS200", description="Pala gommata")
    for day in (date(2007, 5, 31), date(2019, 1, 31), date(2024, 6, 30), date(2024, 7, 31)):
        await area.document(contract, issue_date=day, notice=False)
    chat = await logged_in_chat(assistant, area, customer)

    out = await chat.press(f"ctr:o:{contract}")

    shown = text(out)
    assert "Contratto LS200/1" in shown and "Pala gommata" in shown and "A reddito" in shown
    assert "Canone periodico: 1.234,56 €" in shown
    assert labels(out)[:2] == ["2024", "2019"]  # newest first, 2007 left out (before 2008)
    out = await chat.press(button(out, "2024"))
    assert "Documenti del 2024" in text(out) and text(out).count("Fattura n.") == 2


async def test_another_customers_contract_is_refused_and_audited(
    assistant: Assistant, area: AreaData, store: Store
) -> None:
    customer = await area.customer()
    await area.contract(customer)
    stranger = await area.customer("Altro Cliente")
    theirs = await area.contract(stranger, description="Yacht di lusso")
    chat = await logged_in_chat(assistant, area, customer)

    for data in (f"ctr:o:{theirs}", "ctr:o:999999", "ctr:o:abc"):
        out = await chat.press(data)
        assert "non è disponibile" in text(out) and "Yacht" not in text(out)

    events = await store.audit.list("forged_button")
    assert len(events) == 3 and all(e.chat_id == "100" for e in events)
    assert events[-1].detail == f"contract {theirs}"


async def test_buttons_of_an_ended_session_ask_to_log_in_again(
    assistant: Assistant, area: AreaData, clock: ManualClock
) -> None:
    customer = await area.customer()
    contract = await area.contract(customer, description="Furgone")
    chat = await logged_in_chat(assistant, area, customer)
    clock.advance(minutes=31)

    out = await chat.press(f"ctr:o:{contract}")

    assert "accedi" in text(out).lower() and "Furgone" not in text(out)
