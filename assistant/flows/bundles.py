"""A whole year in one file: "📦 Tutti i documenti del 2023 (ZIP)".

Buttons (stateless, checked again on every press like the other document buttons):
    zip:<year>                  the year's published documents of all the customer's contracts
    zip:<year>:<contract_id>    the same, of one contract (another customer's: the refusal of
                                ``assistant/ownership.py``, audited)

The /fatture list of a year with several documents offers the button (``show_documents`` in
``assistant/flows/invoices.py``); the requests in the customer's own words ("tutte le fatture del
2024") call ``send_year_bundle``. The ZIP (``assistant/document_bundles.py``) names each PDF by
its document number, oldest first, and is cut into parts within the document limit (never over
Telegram's 50 MB); each part is an owner-only temporary file the core removes once delivered.
Telegram's file_id of an uploaded part is kept under the part's ``cache_key`` (by
``file_id_keeper`` in ``invoices.py``), which changes whenever one of the year's documents does.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence

from assistant.dialogs.conversation import Attachment, Button, Context, Reply, button
from assistant.document_bundles import (
    BundleEntry,
    BundlePart,
    discard,
    part_max_bytes,
    pdf_filename,
    safe_file_stem,
    unique_names,
    write_parts,
)
from assistant.ownership import customer_id, int_parts, owned_contract, refuse, shown_to
from assistant.policy import FIRST_INVOICE_YEAR
from store.records import Contract, Document

logger = logging.getLogger(__name__)

LAST_YEAR = 9999  # a year in a button is four digits at most


def bundle_button(ctx: Context, year: int, contract_id: int | None = None) -> Button:
    """The button that sends all the year's documents (of one contract, when given) as a ZIP."""
    data = f"zip:{year}:{contract_id}" if contract_id else f"zip:{year}"
    return Button(ctx.render("bundles/button", year=year), data)


@button("zip:", login_required=True)
async def bundle_pressed(ctx: Context) -> None:
    """Send the year's ZIP named by the button."""
    data = ctx.incoming.callback or ""
    fields = data.count(":")
    parts = int_parts(data, fields) if fields in (1, 2) else None
    if parts is None:
        await refuse(ctx, "button", data)
        return
    await send_year_bundle(ctx, parts[0], parts[1] if fields == 2 else None)


async def send_year_bundle(ctx: Context, year: int, contract_id: int | None = None) -> None:
    """One ZIP (or a few parts) of the year's PDFs of the logged-in customer, or of one of
    their contracts; nothing when the contract is not theirs (refused and audited)."""
    contract = None
    if contract_id is not None:
        contract = await owned_contract(ctx, contract_id)
        if contract is None:
            return
    documents = await _year_documents(ctx, year, contract)
    if not documents:
        ctx.say("bundles/none", year=year, contract=contract, first_year=FIRST_INVOICE_YEAR)
        return
    entries = _entries(ctx, documents)
    if entries is None:
        ctx.say("bundles/pdf_missing")
        return
    limit = part_max_bytes(ctx.settings.document_max_bytes)
    written = await asyncio.to_thread(write_parts, entries, ctx.settings.data_dir, limit)
    count = len(written)
    parts = [
        BundlePart(chunk, index, count, _filename(ctx, year, contract, index, count))
        for index, (chunk, _) in enumerate(written, 1)
    ]
    paths = [path for _, path in written]
    intro = ctx.render(
        "bundles/sending", year=year, contract=contract, count=len(entries), parts=len(parts)
    )
    replies = []
    try:
        for part, path in zip(parts, paths, strict=True):
            attachment = Attachment(
                filename=part.filename,
                path=path,
                caption=ctx.render("bundles/caption", year=year, part=part),
                file_id=await ctx.store.chats.telegram_file_id(part.cache_key),
                cache_key=part.cache_key,
                temporary=True,  # the core removes it once delivered, or not
            )
            replies.append(Reply(intro if part.index == 1 else "", document=attachment))
    except BaseException:
        discard(paths)
        raise
    for reply in replies:
        ctx.send(reply)


async def _year_documents(ctx: Context, year: int, contract: Contract | None) -> list[Document]:
    """The year's documents the customer may have, oldest first (2008 onwards only)."""
    if not FIRST_INVOICE_YEAR <= year <= LAST_YEAR:
        return []
    documents_of = ctx.store.documents
    customer = customer_id(ctx)
    if contract is not None:
        count = await documents_of.count_for_contract_year(contract.id, year)
        found = await documents_of.for_contract_year(contract.id, year, limit=count)
    else:
        count = await documents_of.count_for_customer_year(customer, year)
        found = await documents_of.for_customer_year(customer, year, limit=count)
    contracts: dict[int, Contract | None] = {}
    for contract_of in {d.contract_id for d in found}:
        contracts[contract_of] = await ctx.store.contracts.get(contract_of)
    owned = [
        d for d in found if (c := contracts[d.contract_id]) is not None and shown_to(d, c, customer)
    ]
    return sorted(owned, key=lambda d: (d.issue_date, d.number, d.id))


def _entries(ctx: Context, documents: Sequence[Document]) -> list[BundleEntry] | None:
    """The ZIP's entries, named by document number; None when a PDF is missing."""
    names = unique_names(pdf_filename(d.number) for d in documents)
    entries = []
    for document, name in zip(documents, names, strict=True):
        path = ctx.settings.data_dir / document.pdf_path if document.pdf_path else None
        try:
            size = path.stat().st_size if path is not None and path.is_file() else None
        except OSError:
            size = None
        if path is None or size is None:
            logger.error("document %d: PDF file missing, no ZIP made", document.id)
            return None
        digest = document.pdf_sha256 or f"{document.pdf_path}:{size}"
        entries.append(BundleEntry(name, path, size, digest))
    return entries


def _filename(ctx: Context, year: int, contract: Contract | None, index: int, count: int) -> str:
    """``documenti-2023.zip``, ``documenti-2023-parte-1-di-3.zip`` (in the chat's language)."""
    label = safe_file_stem(contract.label, "") if contract is not None else ""
    stem = ctx.render("bundles/filename", year=year, contract=label, part=index, parts=count)
    return f"{safe_file_stem(stem.strip(), f'documenti-{year}')}.zip"
