"""/fatture: choose a contract (or all), then a year, then the documents; a tap sends the PDF.

Buttons (stateless: the data names everything; ownership is checked again on every press):
    inv:c:<offset>                          choose a contract (a page of them)
    inv:y:<contract_id|0>                   choose a year with documents (0: all contracts)
    inv:l:<contract_id|0>:<year>:<offset>   a page of that year's documents, newest first
    doc:<document_id>                       send the PDF (also the button of the notices)

Typed: "fattura 2024/000123" (or "nota di credito ...", "invoice ...", "/fatture 2024/000123")
sends that document when it is the customer's.

Telegram's file_id of an uploaded PDF is kept on the document and used the next time (the
front-end uploads again when Telegram refuses it). The hook that keeps it needs the store, so the
composition root gives it to the registry: ``load_flows(document_sent=[file_id_keeper(store)])``.
"""

from __future__ import annotations

import logging
import re

from assistant.dialogs.conversation import (
    Attachment,
    Button,
    Context,
    DocumentSentHook,
    Reply,
    button,
    command,
    text_route,
)
from assistant.dialogs.pages import fit_page, in_rows, nav_row
from assistant.document_bundles import pdf_filename
from assistant.flows.bundles import bundle_button
from assistant.ownership import (
    customer_id,
    int_parts,
    owned_contract,
    owned_document,
    refuse,
    with_owned_contract,
)
from assistant.policy import FIRST_INVOICE_YEAR
from store.records import Contract, Document
from store.store import Store

logger = logging.getLogger(__name__)

PAGE_SIZE = 10
CONTRACT_PAGE_SIZE = 8
_KEYWORDS = (
    r"fattura|fatt\.?|nota\s+di\s+credito|nota|documento|doc\.?|"
    r"invoice|credit\s+note|document"
)
TYPED_DOCUMENT = re.compile(
    rf"^\s*(?P<keyword>(?:{_KEYWORDS})\s*(?:n\.|nr\.?|no\.?|num\.?|numero|number|#|n°)?\s*)?"
    r"(?P<number>[A-Za-z0-9][A-Za-z0-9/._-]{0,40})\s*[.!?]?\s*$",
    re.IGNORECASE,
)


def typed_document_number(text: str) -> str | None:
    """The document number in "fattura 2024/000123" (a bare number needs a "/"), or None."""
    match = TYPED_DOCUMENT.match(text)
    if match is None or not any(ch.isdigit() for ch in match["number"]):
        return None
    if match["keyword"] is None and "/" not in match["number"]:
        return None
    return match["number"]


def file_id_keeper(store: Store) -> DocumentSentHook:
    """The ``document_sent`` hook that remembers Telegram's file_id of an uploaded PDF (on its
    document) or of a year's ZIP (under its ``cache_key``, see ``assistant/flows/bundles.py``)."""

    async def keep_file_id(attachment: Attachment, file_id: str) -> None:
        if file_id == attachment.file_id:
            return
        if attachment.document_id is not None:
            await store.documents.set_telegram_file_id(attachment.document_id, file_id)
        elif attachment.cache_key is not None:
            await store.chats.keep_telegram_file_id(attachment.cache_key, file_id)

    return keep_file_id


@command("fatture", login_required=True)
async def show_invoices(ctx: Context) -> None:
    """Choose a contract (skipped when there is one), or send the document named after it."""
    number = ctx.incoming.args.strip()
    if number:
        await send_by_number(ctx, number)
        return
    contracts, total = await _contracts_page(ctx, 0, 2)
    if total == 1:
        await show_years(ctx, contracts[0].id)
    elif total == 0:
        ctx.say("invoices/no_years", contract=None)
    else:
        await choose_contract(ctx, 0)


@button("inv:", login_required=True)
async def invoices_button(ctx: Context) -> None:
    """Contract page, year choice, or a page of documents."""
    data = ctx.incoming.callback or ""
    kind = data.split(":")[1] if data.count(":") >= 2 else ""
    if kind == "c" and (parts := int_parts(data, 1)) and data.count(":") == 2:
        await choose_contract(ctx, parts[0])
    elif kind == "y" and (parts := int_parts(data, 1)) and data.count(":") == 2:
        await show_years(ctx, parts[0])
    elif kind == "l" and (parts := int_parts(data, 3)) and data.count(":") == 4:
        contract_id, year, offset = parts
        await show_documents(ctx, contract_id, year, offset)
    else:
        await refuse(ctx, "button", data)


@button("doc:", login_required=True)
async def document_button(ctx: Context) -> None:
    """Send the PDF of one of the customer's documents."""
    data = ctx.incoming.callback or ""
    parts = int_parts(data, 1) if data.count(":") == 1 else None
    if parts is None:
        await refuse(ctx, "button", data)
        return
    found = await owned_document(ctx, parts[0])
    if found is not None:
        await send_document(ctx, *found)


async def _contracts_page(ctx: Context, offset: int, limit: int) -> tuple[list[Contract], int]:
    """Active then terminated contracts from ``offset``, and how many there are in all."""
    customer = customer_id(ctx)
    page = await ctx.store.contracts.for_customer(customer, None, offset=offset, limit=limit)
    return page, await ctx.store.contracts.count_for_customer(customer)


async def choose_contract(ctx: Context, offset: int) -> None:
    """A page of contracts to choose from, with "all contracts" first."""
    contracts, total = await _contracts_page(ctx, offset, CONTRACT_PAGE_SIZE)
    rows = [[Button(ctx.render("contracts/labels", key="all_contracts"), "inv:y:0")]]
    rows += [
        [Button(ctx.render("invoices/contract_button", contract=c), f"inv:y:{c.id}")]
        for c in contracts
    ]
    nav = nav_row(
        ctx,
        f"inv:c:{max(offset - CONTRACT_PAGE_SIZE, 0)}" if offset > 0 else None,
        f"inv:c:{offset + len(contracts)}" if offset + len(contracts) < total else None,
    )
    if nav:
        rows.append(nav)
    ctx.say(
        "invoices/choose_contract", total=total, offset=offset, shown=len(contracts), buttons=rows
    )


async def show_years(ctx: Context, contract_id: int) -> None:
    """The years that have documents (2008 onwards), newest first; 0 means all contracts."""
    contract = None
    if contract_id:
        contract = await owned_contract(ctx, contract_id)
        if contract is None:
            return
        found = await ctx.store.documents.years_for_contract(contract.id)
    else:
        found = await ctx.store.documents.years_for_customer(customer_id(ctx))
    years = sorted((y for y in found if y >= FIRST_INVOICE_YEAR), reverse=True)
    rows = in_rows([Button(str(y), f"inv:l:{contract_id}:{y}:0") for y in years], 4)
    rows.append([Button(ctx.render("contracts/labels", key="change_contract"), "inv:c:0")])
    template = "invoices/choose_year" if years else "invoices/no_years"
    ctx.say(template, contract=contract, buttons=rows)


async def show_documents(ctx: Context, contract_id: int, year: int, offset: int) -> None:
    """One page of the year's documents, newest first, credit notes marked."""
    contract = None
    if contract_id:
        contract = await owned_contract(ctx, contract_id)
        if contract is None:
            return
        documents = await ctx.store.documents.for_contract_year(
            contract.id, year, offset=offset, limit=PAGE_SIZE + 1
        )
    else:
        documents = await ctx.store.documents.for_customer_year(
            customer_id(ctx), year, offset=offset, limit=PAGE_SIZE + 1
        )
    if not documents:
        await show_years(ctx, contract_id)
        return
    more = len(documents) > PAGE_SIZE
    documents = documents[:PAGE_SIZE]
    labels: dict[int, str] = {}
    if contract is None:
        for contract_of in {d.contract_id for d in documents}:
            found = await ctx.store.contracts.get(contract_of)
            labels[contract_of] = found.label if found else "?"

    def render(count: int) -> str:
        return ctx.render(
            "invoices/list",
            year=year,
            contract=contract,
            documents=documents[:count],
            offset=offset,
            more=more or count < len(documents),
            contract_labels=labels,
        )

    text, shown = fit_page(ctx, render, len(documents))
    rows = in_rows(
        [
            Button(ctx.render("invoices/document_button", document=d), f"doc:{d.id}")
            for d in documents[:shown]
        ],
        2,
    )
    nav = nav_row(
        ctx,
        f"inv:l:{contract_id}:{year}:{max(offset - PAGE_SIZE, 0)}" if offset > 0 else None,
        f"inv:l:{contract_id}:{year}:{offset + shown}" if more or shown < len(documents) else None,
    )
    if nav:
        rows.append(nav)
    if offset > 0 or len(documents) > 1:  # the year has several documents: all in one file
        rows.append([bundle_button(ctx, year, contract_id)])
    rows.append([Button(ctx.render("contracts/labels", key="change_year"), f"inv:y:{contract_id}")])
    ctx.send(Reply(text, tuple(tuple(row) for row in rows)))


async def send_document(ctx: Context, document: Document, contract: Contract) -> None:
    """The PDF as a Telegram document: by file_id when known, named after its number."""
    path = ctx.settings.data_dir / document.pdf_path if document.pdf_path else None
    if path is None or not path.is_file():
        logger.error("document %d: PDF file missing", document.id)
        ctx.say("invoices/pdf_missing")
        return
    attachment = Attachment(
        filename=pdf_filename(document.number),
        path=path,
        caption=ctx.render("invoices/caption", document=document),
        document_id=document.id,
        file_id=document.telegram_file_id,
    )
    ctx.say("invoices/sending", item=document, contract=contract, document=attachment)


async def send_by_number(ctx: Context, number: str) -> None:
    """Send the document with this number when it is the customer's; else say not found."""
    document = await ctx.store.documents.by_number(number.strip())
    owned = await with_owned_contract(ctx, document)
    if owned is None:
        ctx.say("invoices/not_found", number=number[:40])  # the same whether it exists or not
        if document is not None:
            await ctx.audit("forged_button", detail=f"typed document {document.id}")
        return
    await send_document(ctx, *owned)


@text_route(lambda text: typed_document_number(text) is not None, login_required=True)
async def typed_document(ctx: Context) -> None:
    """ "fattura 2024/000123" sends that document (any other text goes to the FAQ)."""
    number = typed_document_number(ctx.text)
    assert number is not None  # the route claims only such texts
    await send_by_number(ctx, number)
