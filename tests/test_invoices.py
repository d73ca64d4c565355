"""/fatture in the core: contract, year, list newest first; typed numbers; ownership."""

from __future__ import annotations

from datetime import date

from assistant.dialogs.core import Assistant
from assistant.flows.invoices import pdf_filename, typed_document_number
from store.store import Store
from tests.fixtures.area_data import AreaData
from tests.fixtures.dialogs import Chat, button, labels, text
from tests.test_contracts import logged_in_chat


async def test_contract_then_year_then_the_documents_newest_first(
    assistant: Assistant, area: AreaData
) -> None:
    customer = await area.customer()
    first = await area.contract(customer, number="LS1", description="Furgone")
    await area.contract(customer, number="LS2", description="Carrello")
    await area.document(first, number="2023/000009", issue_date=date(2023, 12, 31))
    await area.document(first, number="2024/000010", issue_date=date(2024, 1, 31))
    await area.document(
        first,
        number="2024/000011",
        issue_date=date(2024, 2, 15),
        kind="credit_note",
        amount_cents=30000,
    )
    await area.document(first, number="2024/000012", issue_date=date(2024, 2, 29))
    chat = await logged_in_chat(assistant, area, customer)

    out = await chat.say("/fatture")
    assert "Di quale contratto" in text(out)
    assert labels(out)[0] == "📚 Tutti i contratti"
    out = await chat.press(button(out, "LS1/1"))
    assert labels(out)[:2] == ["2024", "2023"]
    out = await chat.press(button(out, "2024"))

    shown = text(out)
    assert shown.index("2024/000012") < shown.index("2024/000011") < shown.index("2024/000010")
    assert "2023/000009" not in shown
    assert "🔻 NOTA DI CREDITO n. 2024/000011" in shown and "-300,00 €" in shown
    assert "🧾 Fattura n. 2024/000012" in shown and "29/02/2024" in shown
    assert "🔻 NC 2024/000011" in labels(out)


async def test_all_contracts_and_pages_of_ten(assistant: Assistant, area: AreaData) -> None:
    customer = await area.customer()
    contracts = [await area.contract(customer, number=f"LS{n}") for n in range(3)]
    for month in range(1, 13):
        for contract in contracts[:2]:
            await area.document(contract, issue_date=date(2022, month, 28), notice=False)
    chat = await logged_in_chat(assistant, area, customer)

    out = await chat.press("inv:l:0:2022:0")
    seen = text(out).count("Fattura n.")
    while any("Successivi" in label for label in labels(out)):
        out = await chat.press(button(out, "Successivi"))
        seen += text(out).count("Fattura n.")
        assert "contratto LS" in text(out)  # all contracts: each line names its contract

    assert seen == 24


async def test_a_single_contract_goes_straight_to_the_years(
    assistant: Assistant, area: AreaData
) -> None:
    customer = await area.customer()
    await area.document(await area.contract(customer), issue_date=date(2019, 5, 31))
    chat = await logged_in_chat(assistant, area, customer)

    out = await chat.say("/invoices")

    assert "di quale anno" in text(out) and labels(out)[0] == "2019"


async def test_a_typed_document_number_sends_that_document(
    assistant: Assistant, area: AreaData
) -> None:
    customer = await area.customer()
    document = await area.document(await area.contract(customer), number="2024/000123")
    chat = await logged_in_chat(assistant, area, customer)

    out = await chat.say("fattura 2024/000123")

    (reply,) = out.replies
    assert reply.document is not None and reply.document.document_id == document
    assert reply.document.filename == "2024-000123.pdf"
    assert "fiscalmente valido" in reply.document.caption
    assert "stampato" in reply.document.caption


async def test_someone_elses_number_is_not_found_and_audited(
    assistant: Assistant, area: AreaData, store: Store
) -> None:
    customer = await area.customer()
    await area.contract(customer)
    stranger = await area.customer("Altro")
    theirs = await area.document(await area.contract(stranger), number="2024/000999")
    chat = await logged_in_chat(assistant, area, customer)

    mine_missing = await chat.say("fattura 2024/000555")
    not_mine = await chat.say("/fatture 2024/000999")

    assert text(mine_missing).replace("555", "") == text(not_mine).replace("999", "")
    assert all(r.document is None for r in not_mine.replies)
    (event,) = await store.audit.list("forged_button")
    assert event.detail == f"typed document {theirs}"


async def test_forged_document_buttons_send_nothing_and_are_audited(
    assistant: Assistant, area: AreaData, store: Store
) -> None:
    customer = await area.customer()
    await area.document(await area.contract(customer))
    stranger = await area.customer("Altro")
    stranger_contract = await area.contract(stranger)
    theirs = await area.document(stranger_contract)
    chat = await logged_in_chat(assistant, area, customer)

    forged = (
        f"doc:{theirs}",
        "doc:424242",
        "doc:1:2",
        "doc:-1",
        f"inv:l:{stranger_contract}:2024:0",
        f"inv:y:{stranger_contract}",
    )
    for data in forged:
        out = await chat.press(data)
        assert "non è disponibile" in text(out)
        assert all(r.document is None for r in out.replies)
        assert "Fattura" not in text(out)

    assert len(await store.audit.list("forged_button")) == len(forged)


async def test_typed_number_without_login_asks_to_log_in(
    assistant: Assistant, area: AreaData
) -> None:
    customer = await area.customer()
    await area.document(await area.contract(customer), number="2024/000123")

    out = await Chat(assistant, "555").say("fattura 2024/000123")

    assert "accedere" in text(out) and all(r.document is None for r in out.replies)


def test_typed_numbers_are_recognised() -> None:
    assert typed_document_number("fattura 2024/000123") == "2024/000123"
    assert typed_document_number("Fattura n. 2024/000123") == "2024/000123"
    assert typed_document_number("nota di credito 2024/77") == "2024/77"
    assert typed_document_number("invoice no. 2024/000123") == "2024/000123"
    assert typed_document_number("2024/000123") == "2024/000123"
    assert typed_document_number("ricevo ancora la fattura cartacea?") is None
    assert typed_document_number("12345") is None
    assert pdf_filename("2024/000123") == "2024-000123.pdf"
    assert pdf_filename("../../etc/passwd") == "etc-passwd.pdf"


async def test_a_company_pages_through_its_contracts_to_choose_one(
    assistant: Assistant, area: AreaData
) -> None:
    customer = await area.customer("Flotta Srl", kind="company")
    for n in range(20):
        await area.contract(customer, number=f"LF{n:03d}")
    chat = await logged_in_chat(assistant, area, customer)

    out = await chat.say("/fatture")
    seen = [label for label in labels(out) if "LF" in label]
    while any("Successivi" in label for label in labels(out)):
        out = await chat.press(button(out, "Successivi"))
        seen += [label for label in labels(out) if "LF" in label]

    assert len(seen) == 20 and len(set(seen)) == 20
