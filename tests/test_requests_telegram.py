"""Requests in the customer's own words on Telegram: the real Application, the fake Bot API."""

from __future__ import annotations

import io
import zipfile
from datetime import date

from assistant.settings import Settings
from store.store import Store
from tests.fixtures.area_data import AreaData
from tests.fixtures.telegram import TelegramHarness
from tests.test_pending_action import PASSWORD, account_with_password

CHAT = 5151


async def published(store: Store, settings: Settings, document_id: int) -> bytes:
    """The bytes of the PDF as published in the data folder."""
    document = await store.documents.get(document_id)
    assert document is not None and document.pdf_path is not None
    return (settings.data_dir / document.pdf_path).read_bytes()


async def test_the_last_invoice_arrives_byte_for_byte(
    telegram: TelegramHarness, area: AreaData, store: Store, settings: Settings
) -> None:
    customer = await area.customer()
    await area.link_chat(await area.account(customer), str(CHAT))
    contract = await area.contract(customer)
    await area.document(contract, number="2024/000010", issue_date=date(2024, 4, 30))
    latest = await area.document(contract, number="2024/000011", issue_date=date(2024, 5, 31))
    await area.document(
        contract, kind="credit_note", number="2024/NC0001", issue_date=date(2024, 6, 10)
    )

    answer = await telegram.send(CHAT, "mandami l'ultima fattura")

    (upload,) = answer.documents
    assert upload.params["document_filename"] == "2024-000011.pdf"
    assert upload.files["document"] == await published(store, settings, latest)


async def test_the_whole_year_arrives_as_a_zip_of_the_published_files(
    telegram: TelegramHarness, area: AreaData, store: Store, settings: Settings
) -> None:
    customer = await area.customer()
    await area.link_chat(await area.account(customer), str(CHAT))
    contract = await area.contract(customer)
    ids = [
        await area.document(contract, number=f"2024/00002{m}", issue_date=date(2024, m, 28))
        for m in (1, 2, 3)
    ]

    answer = await telegram.send(CHAT, "tutte le fatture del 2024")

    (upload,) = answer.documents
    with zipfile.ZipFile(io.BytesIO(upload.files["document"])) as bundle:
        inside = {name: bundle.read(name) for name in bundle.namelist()}
    assert sorted(inside.values()) == sorted([await published(store, settings, i) for i in ids])


async def test_a_request_made_logged_out_runs_after_the_login(
    telegram: TelegramHarness, area: AreaData, store: Store, settings: Settings
) -> None:
    customer = await area.customer()
    username = await account_with_password(area, store, customer)
    contract = await area.contract(customer)
    document = await area.document(contract, number="2024/000042", issue_date=date(2024, 7, 31))

    asked = await telegram.send(CHAT, "mandami l'ultima fattura")
    assert "devi prima accedere" in asked.text and not asked.documents

    await telegram.send(CHAT, "/accedi")
    await telegram.send(CHAT, username)
    answer = await telegram.send(CHAT, PASSWORD)

    assert "Accesso eseguito" in answer.text
    (upload,) = answer.documents
    assert upload.files["document"] == await published(store, settings, document)
