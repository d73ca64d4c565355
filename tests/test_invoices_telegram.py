"""/fatture end to end: the real Application against the fake Bot API sends the very PDF."""

from __future__ import annotations

from datetime import date

import pytest

from assistant.flows.invoices import file_id_keeper
from assistant.settings import Settings
from store.store import Store
from tests.fixtures.area_data import AreaData
from tests.fixtures.telegram import TelegramHarness

CHAT = 4242


@pytest.fixture
async def keeping_file_ids(telegram: TelegramHarness) -> None:
    """The composition root's hook that stores Telegram's file_id after an upload."""
    await telegram.use_hooks(file_id_keeper)


async def customer_with_document(area: AreaData, number: str = "2024/000123") -> tuple[int, int]:
    customer = await area.customer()
    account = await area.account(customer)
    await area.link_chat(account, str(CHAT))
    contract = await area.contract(customer)
    return customer, await area.document(contract, number=number, issue_date=date(2024, 5, 31))


async def test_the_pdf_arrives_byte_for_byte_then_by_file_id(
    telegram: TelegramHarness,
    keeping_file_ids: None,
    area: AreaData,
    store: Store,
    settings: Settings,
) -> None:
    _, document_id = await customer_with_document(area)
    document = await store.documents.get(document_id)
    assert document is not None and document.pdf_path is not None
    published = (settings.data_dir / document.pdf_path).read_bytes()

    first = await telegram.press(CHAT, f"doc:{document_id}")

    (upload,) = first.documents
    assert upload.files["document"] == published
    assert upload.params["document_filename"] == "2024-000123.pdf"
    assert "fiscalmente valido" in (upload.text or "") and "stampato" in (upload.text or "")
    file_id = upload.result["document"]["file_id"]
    stored = await store.documents.get(document_id)
    assert stored is not None and stored.telegram_file_id == file_id

    again = await telegram.press(CHAT, f"doc:{document_id}")

    (resend,) = again.documents
    assert resend.params["document"] == file_id and not resend.files


async def test_a_refused_file_id_falls_back_to_uploading(
    telegram: TelegramHarness,
    keeping_file_ids: None,
    area: AreaData,
    store: Store,
    settings: Settings,
) -> None:
    _, document_id = await customer_with_document(area)
    await store.documents.set_telegram_file_id(document_id, "expired-file-id")

    answer = await telegram.press(CHAT, f"doc:{document_id}")

    refused, upload = answer.documents
    assert refused.params["document"] == "expired-file-id" and refused.result is None
    document = await store.documents.get(document_id)
    assert document is not None and document.pdf_path is not None
    assert upload.files["document"] == (settings.data_dir / document.pdf_path).read_bytes()
    assert document.telegram_file_id == upload.result["document"]["file_id"]


async def test_typed_number_in_telegram_sends_the_document(
    telegram: TelegramHarness, area: AreaData
) -> None:
    await customer_with_document(area, number="2024/000777")

    answer = await telegram.send(CHAT, "Fattura n. 2024/000777")

    (upload,) = answer.documents
    assert upload.params["document_filename"] == "2024-000777.pdf"


async def test_a_forged_button_sends_nothing_and_is_audited(
    telegram: TelegramHarness, area: AreaData, store: Store
) -> None:
    await customer_with_document(area)
    stranger = await area.customer("Altro")
    theirs = await area.document(await area.contract(stranger), number="2024/000999")

    answer = await telegram.press(CHAT, f"doc:{theirs}")

    assert answer.documents == []
    assert "non è disponibile" in answer.text and "2024/000999" not in answer.text
    (event,) = await store.audit.list("forged_button")
    assert event.chat_id == str(CHAT) and event.detail == f"document {theirs}"
