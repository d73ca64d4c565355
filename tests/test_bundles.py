"""A whole year in one file: the ZIP of a year's PDFs, in the core, on Telegram, in the console."""

from __future__ import annotations

import asyncio
import dataclasses
import io
import os
import time
import zipfile
from datetime import date
from pathlib import Path

import pytest

from assistant.clock import Clock
from assistant.dialogs.core import Assistant
from assistant.dialogs.messages import Incoming, Outcome
from assistant.document_bundles import (
    BUNDLES_DIR,
    ZIP_END_BYTES,
    BundleEntry,
    discard,
    entry_bound,
    unique_names,
    write_parts,
)
from assistant.flows.invoices import file_id_keeper
from assistant.settings import Settings
from bot.console import DOWNLOADS_DIR, ConsoleFrontEnd
from store.chats import ChatState
from store.store import Store
from tests.fixtures.area_data import AreaData
from tests.fixtures.dialogs import button, labels, make_assistant, text
from tests.fixtures.telegram import TelegramHarness
from tests.test_contracts import logged_in_chat

CHAT = 4343


async def year_of_documents(
    area: AreaData, contract: int, year: int = 2023, count: int = 3, prefix: str = ""
) -> list[int]:
    """``count`` published documents of ``contract`` in ``year``, one a month."""
    return [
        await area.document(
            contract,
            number=f"{year}/{prefix}{month:06d}",
            issue_date=date(year, month, 28),
            notice=False,
        )
        for month in range(1, count + 1)
    ]


async def published(store: Store, settings: Settings, document_id: int) -> tuple[str, bytes]:
    """(number, PDF bytes as published) of a document."""
    document = await store.documents.get(document_id)
    assert document is not None and document.pdf_path is not None
    return document.number, (settings.data_dir / document.pdf_path).read_bytes()


def zip_contents(data: bytes) -> dict[str, bytes]:
    """Every entry of a ZIP, by name, in the ZIP's order."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def left_in(settings: Settings) -> list[Path]:
    """The bundle files still on disk."""
    return left_in_folder(settings.data_dir / BUNDLES_DIR)


def left_in_folder(folder: Path) -> list[Path]:
    """The files in ``folder``, if it exists."""
    return sorted(folder.iterdir()) if folder.exists() else []


class Delivered:
    """A front-end's ``deliver`` that keeps the bytes of every document, as an upload would."""

    def __init__(self, *, fail: bool = False) -> None:
        self.files: list[tuple[str, bytes]] = []
        self.captions: list[str] = []
        self.fail = fail

    async def __call__(self, outcome: Outcome) -> None:
        for reply in outcome.replies:
            document = reply.document
            if document is not None and document.path is not None:
                self.files.append((document.filename, document.path.read_bytes()))
                self.captions.append(document.caption)
        if self.fail:
            raise ConnectionError("the upload broke off")


async def press(assistant: Assistant, data: str, deliver: Delivered) -> Outcome:
    """Press a button in the logged-in chat "100", rendering through ``deliver``."""
    incoming = Incoming.from_button("telegram", "100", data, language_code="it")
    return await assistant.handle(incoming, deliver=deliver)


async def test_the_zip_holds_the_years_pdfs_byte_for_byte_named_by_number(
    assistant: Assistant, area: AreaData, store: Store, settings: Settings
) -> None:
    customer = await area.customer()
    contract = await area.contract(customer)
    ids = await year_of_documents(area, contract)
    await area.document(contract, number="2024/000001", issue_date=date(2024, 1, 31))
    await logged_in_chat(assistant, area, customer)
    delivered = Delivered()

    out = await press(assistant, "zip:2023", delivered)

    ((filename, data),) = delivered.files
    assert filename == "documenti-2023.zip"
    expected = dict([await published(store, settings, i) for i in ids])
    assert zip_contents(data) == {
        f"{number.replace('/', '-')}.pdf": pdf for number, pdf in expected.items()
    }
    assert list(zip_contents(data)) == ["2023-000001.pdf", "2023-000002.pdf", "2023-000003.pdf"]
    assert "Ecco i 3 documenti del 2023 in un unico file ZIP" in text(out)
    assert delivered.captions == ["Documenti del 2023 · 3 PDF"]
    assert left_in(settings) == []  # sent, then removed


async def test_beyond_the_limit_the_year_comes_in_parts_each_within_it(
    area: AreaData, store: Store, settings: Settings, clock: Clock
) -> None:
    customer = await area.customer()
    contract = await area.contract(customer)
    ids = await year_of_documents(area, contract, count=7)
    sizes = [len((await published(store, settings, i))[1]) for i in ids]
    limit = 2 * max(sizes) + 600  # two or three PDFs a part
    low = make_assistant(store, dataclasses.replace(settings, document_max_bytes=limit), clock)
    await logged_in_chat(low, area, customer)
    delivered = Delivered()

    out = await press(low, "zip:2023", delivered)

    count = len(delivered.files)
    assert count >= 3
    names = [name for name, _ in delivered.files]
    assert names == [f"documenti-2023-parte-{n}-di-{count}.zip" for n in range(1, count + 1)]
    assert all(len(data) <= limit for _, data in delivered.files)
    together: dict[str, bytes] = {}
    for _, data in delivered.files:
        assert not set(zip_contents(data)) & set(together)  # each PDF once
        together.update(zip_contents(data))
    assert together == {
        f"{number.replace('/', '-')}.pdf": pdf
        for number, pdf in [await published(store, settings, i) for i in ids]
    }
    assert f"in {count} file ZIP" in text(out)
    assert delivered.captions[0].startswith(f"Documenti del 2023 · parte 1 di {count} · ")
    assert left_in(settings) == []


async def test_the_temporary_file_is_gone_after_a_failed_send(
    assistant: Assistant, area: AreaData, settings: Settings
) -> None:
    customer = await area.customer()
    await year_of_documents(area, await area.contract(customer))
    await logged_in_chat(assistant, area, customer)
    delivered = Delivered(fail=True)

    with pytest.raises(ConnectionError):
        await press(assistant, "zip:2023", delivered)

    assert len(delivered.files) == 1  # it was there while sending ...
    assert left_in(settings) == []  # ... and is gone although the send failed


async def test_another_customers_contract_is_not_found_and_audited(
    assistant: Assistant, area: AreaData, store: Store, settings: Settings
) -> None:
    customer = await area.customer()
    mine = await area.contract(customer)
    await year_of_documents(area, mine)
    stranger = await area.customer("Altro")
    theirs = await area.contract(stranger)
    await year_of_documents(area, theirs, prefix="9")
    chat = await logged_in_chat(assistant, area, customer)
    their_document = await area.document(theirs)

    refused = await chat.press(f"zip:2023:{theirs}")
    forged_document = await chat.press(f"doc:{their_document}")

    assert text(refused) == text(forged_document)  # the same "not available" answer
    assert all(reply.document is None for reply in refused.replies)
    assert left_in(settings) == []
    events = await store.audit.list("forged_button")
    assert [e.detail for e in events if e.detail.startswith("contract")] == [f"contract {theirs}"]


async def test_malformed_buttons_and_empty_years_send_nothing(
    assistant: Assistant, area: AreaData
) -> None:
    customer = await area.customer()
    contract = await area.contract(customer)
    await year_of_documents(area, contract)
    chat = await logged_in_chat(assistant, area, customer)

    malformed = await chat.press("zip:2023:abc")
    empty = await chat.press(f"zip:2021:{contract}")
    too_old = await chat.press("zip:2005")

    assert "non è disponibile" in text(malformed)
    assert "Nel 2021 non ci sono documenti pubblicati per il contratto" in text(empty)
    assert "Per il 2005 non ci sono documenti: l'Area Clienti ha le fatture dal 2008" in text(
        too_old
    )
    assert all(r.document is None for out in (malformed, empty, too_old) for r in out.replies)


async def test_the_invoices_list_offers_the_zip_only_for_a_year_with_several_documents(
    assistant: Assistant, area: AreaData
) -> None:
    customer = await area.customer()
    contract = await area.contract(customer)
    await area.document(contract, number="2022/000001", issue_date=date(2022, 6, 30))
    await year_of_documents(area, contract, count=12)
    chat = await logged_in_chat(assistant, area, customer)

    out = await chat.say("/fatture")
    single = await chat.press(button(out, "2022"))
    several = await chat.press(button(out, "2023"))
    second_page = await chat.press(button(several, "Successivi"))

    assert not any("ZIP" in label for label in labels(single))
    assert [label for label in labels(several) if "ZIP" in label] == [
        "📦 Tutti i documenti del 2023 (ZIP)"
    ]
    assert button(several, "ZIP") == f"zip:2023:{contract}"
    assert button(second_page, "ZIP") == f"zip:2023:{contract}"  # the whole year, every page
    all_contracts = await chat.press("inv:l:0:2023:0")
    assert button(all_contracts, "ZIP") == "zip:2023"


async def test_the_button_speaks_english_too(assistant: Assistant, area: AreaData) -> None:
    customer = await area.customer()
    await year_of_documents(area, await area.contract(customer))
    chat = await logged_in_chat(assistant, area, customer, language="en")

    out = await chat.press("inv:l:0:2023:0")

    assert "📦 All 2023 documents (ZIP)" in labels(out)


def test_no_part_exceeds_the_limit_even_when_nothing_compresses(tmp_path: Path) -> None:
    entries = []
    for n in range(6):
        pdf = tmp_path / f"{n}.pdf"
        pdf.write_bytes(os.urandom(5000))  # incompressible: deflate's worst case
        entries.append(BundleEntry(f"2023-{n:06d}.pdf", pdf, 5000, str(n)))
    limit = 2 * entry_bound(entries[0]) + ZIP_END_BYTES

    parts = write_parts(entries, tmp_path, limit)

    assert [len(chunk) for chunk, _ in parts] == [2, 2, 2]
    assert all(path.stat().st_size <= limit for _, path in parts)
    assert [e for chunk, _ in parts for e in chunk] == entries
    assert all(path.stat().st_mode & 0o777 == 0o600 for _, path in parts)
    discard(path for _, path in parts)
    assert left_in_folder(tmp_path / BUNDLES_DIR) == []


def test_a_pdf_too_large_for_any_part_gets_one_of_its_own(tmp_path: Path) -> None:
    pdf = tmp_path / "big.pdf"
    pdf.write_bytes(b"%PDF" + bytes(3000))
    entries = [BundleEntry(f"{n}.pdf", pdf, 3004, "x") for n in range(2)]

    parts = write_parts(entries, tmp_path, 100)

    assert [len(chunk) for chunk, _ in parts] == [1, 1]


def test_a_part_left_by_a_dead_process_is_swept_by_the_next_bundle(tmp_path: Path) -> None:
    folder = tmp_path / BUNDLES_DIR
    folder.mkdir(parents=True)
    stale, fresh = folder / "bundle-old.zip", folder / "bundle-sending.zip"
    stale.write_bytes(b"PK")
    fresh.write_bytes(b"PK")
    os.utime(stale, (time.time() - 2 * 3600,) * 2)
    pdf = tmp_path / "1.pdf"
    pdf.write_bytes(b"%PDF-1.4")

    parts = write_parts([BundleEntry("1.pdf", pdf, 8, "x")], tmp_path, 10_000)

    assert not stale.exists() and fresh.exists()  # another turn may still be sending that one
    discard(path for _, path in parts)


def test_names_are_kept_apart() -> None:
    assert unique_names(["2023-1.pdf", "2023-1.pdf", "2023-1.PDF"]) == [
        "2023-1.pdf",
        "2023-1-2.pdf",
        "2023-1-3.PDF",
    ]


# --- Telegram (the real Application against the fake Bot API) --------------------------------


@pytest.fixture
async def keeping_file_ids(telegram: TelegramHarness) -> None:
    """The composition root's hook that stores Telegram's file_id after an upload."""
    await telegram.use_hooks(file_id_keeper)


async def test_on_telegram_the_zip_button_sends_the_zip_then_its_file_id(
    telegram: TelegramHarness,
    keeping_file_ids: None,
    area: AreaData,
    store: Store,
    settings: Settings,
) -> None:
    customer = await area.customer()
    await area.link_chat(await area.account(customer), str(CHAT))
    contract = await area.contract(customer)
    ids = await year_of_documents(area, contract)
    listed = await telegram.press(CHAT, "inv:l:0:2023:0")

    first = await telegram.press(CHAT, listed.button_data("ZIP"))

    (upload,) = first.documents
    assert upload.params["document_filename"] == "documenti-2023.zip"
    assert zip_contents(upload.files["document"]) == {
        f"{number.replace('/', '-')}.pdf": pdf
        for number, pdf in [await published(store, settings, i) for i in ids]
    }
    assert "Ecco i 3 documenti del 2023" in first.text
    assert left_in(settings) == []
    file_id = upload.result["document"]["file_id"]

    again = await telegram.press(CHAT, "zip:2023")

    (resend,) = again.documents
    assert resend.params["document"] == file_id and not resend.files
    assert left_in(settings) == []

    await area.document(contract, number="2023/000010", issue_date=date(2023, 10, 31))
    changed = await telegram.press(CHAT, "zip:2023")

    (new_upload,) = changed.documents  # the year changed: a new ZIP, uploaded
    assert "2023-000010.pdf" in zip_contents(new_upload.files["document"])


# --- the console -------------------------------------------------------------------------------


async def test_the_console_gets_the_zip_as_a_file_path(
    assistant: Assistant, area: AreaData, store: Store, settings: Settings, clock: Clock
) -> None:
    customer = await area.customer()
    ids = await year_of_documents(area, await area.contract(customer, number="LS77"))
    account = await area.account(customer)
    console_chat = ChatState(
        "console",
        "console",
        language="it",
        account_id=account,
        logged_in=True,
        last_seen_at=clock.now(),
    )
    await store.chats.save(console_chat, clock.now())
    output = io.StringIO()
    console = ConsoleFrontEnd(assistant, reader=asyncio.StreamReader(), output=output)

    await console.handle_line("/fatture")
    await console.handle_line(choice(output.getvalue(), "2023"))
    await console.handle_line(choice(output.getvalue(), "ZIP"))

    kept = settings.data_dir / DOWNLOADS_DIR / "documenti-2023-LS77-1.zip"  # contract LS77/1
    assert f"📎 documenti-2023-LS77-1.zip: {kept}" in output.getvalue()
    assert set(zip_contents(kept.read_bytes()).values()) == {
        pdf for _, pdf in [await published(store, settings, i) for i in ids]
    }
    assert kept.stat().st_mode & 0o077 == 0  # owner-only
    assert left_in(settings) == []


def choice(shown: str, label_part: str) -> str:
    """The number to type for the first choice of the console's last answer like ``label_part``."""
    last_answer = shown.split("> ")[-2]
    for line in last_answer.splitlines():
        number, _, label = line.strip().partition(") ")
        if line.startswith("  ") and number.isdigit() and label_part in label:
            return number
    raise AssertionError(f"no choice like {label_part!r} in {last_answer}")
