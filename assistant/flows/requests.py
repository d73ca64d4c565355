"""Requests in the customer's own words: "mandami l'ultima fattura", "quanto pago per il Ducato?".

Free text outside a flow comes here first, from ``faq_chat.free_text`` with the FAQ matcher's
verdict on the same line: the parser (``assistant.requests.parse``, given the customer's own
contracts only) and that verdict decide together (``plan.choose``). A request is answered with
the same code and the same ownership checks as the buttons: a document through
``invoices.send_document`` after ``ownership.with_owned_contract``, a communication through
``communications.open_communication``. Logged out, the request waits for the login
(``Assistant.ask_login``) and runs right after it.

Buttons (stateless; ownership checked again on every press):
    rq:<request>   the request of a "which one?" question (``plan.button_data`` encodes it)
"""

from __future__ import annotations

import logging
from datetime import date
from typing import TYPE_CHECKING

from assistant.dialogs.conversation import Button, Context, Reply, button
from assistant.dialogs.pages import in_rows
from assistant.flows.bundles import bundle_button, send_year_bundle
from assistant.flows.communications import open_communication
from assistant.flows.communications import show_page as show_communications
from assistant.flows.invoices import send_by_number, send_document
from assistant.ownership import customer_id, refuse, with_owned_contract
from assistant.policy import FIRST_INVOICE_YEAR
from assistant.requests.model import (
    CommunicationRequest,
    ContractFacts,
    ContractRequest,
    DocumentRequest,
    Request,
)
from assistant.requests.parse import parse_request
from assistant.requests.plan import (
    BUTTON_PREFIX,
    Choice,
    button_data,
    choose,
    named_identifiers,
    periods,
    request_from_button,
)
from store.records import Contract, Document

if TYPE_CHECKING:
    from assistant.faq import FaqMatch

logger = logging.getLogger(__name__)

LIST_SIZE = 8  # documents or contracts listed for one request; the rest by narrowing it
CONTRACTS_KNOWN = 500  # of a customer's contracts, given to the parser to recognise by words
UNREAD_LOOKED_AT = 50  # communications read to find the unread one


async def take_text(ctx: Context, faq: FaqMatch | None) -> bool:
    """Answer the line when it asks for the customer's own data; False leaves it to the FAQ.

    ``faq`` is the FAQ matcher's verdict on the same line (None without a matcher)."""
    contracts = await _contracts(ctx) if ctx.account is not None else []
    if contracts and await _named_elsewhere(ctx, contracts):
        return True
    understanding = parse_request(ctx.text, _facts(contracts), ctx.now.date())
    faq_id = faq.faq_id if faq is not None and faq.kind == "answer" else None
    choice = choose(understanding, faq_answers=faq_id is not None)
    if understanding is None or choice is Choice.FAQ:
        return False
    request = understanding.request
    logger.info("request %s (%s) in chat %s", type(request).__name__, choice.value,
                ctx.incoming.chat_id)  # fmt: skip
    data = button_data(request)
    if choice is Choice.ASK and faq_id is not None and data is not None:
        _ask_which(ctx, request, data, faq_id)
    elif ctx.account is None:
        ctx.assistant.ask_login(ctx)
    else:
        await answer(ctx, request, {c.id: c for c in contracts})
    return True


@button(BUTTON_PREFIX, login_required=True)
async def request_button(ctx: Context) -> None:
    """The request the customer chose in a "which one?" question."""
    data = ctx.incoming.callback or ""
    request = request_from_button(data)
    if request is None:
        await refuse(ctx, "button", data)
        return
    await answer(ctx, request, {c.id: c for c in await _contracts(ctx)})


async def answer(ctx: Context, request: Request, contracts: dict[int, Contract]) -> None:
    """Answer one request of the logged-in customer, whose contracts are ``contracts``."""
    named = getattr(request, "contract_ids", ())
    if any(i not in contracts for i in named):  # only a forged button names another's
        await refuse(ctx, "contract", ".".join(str(i) for i in named))
        return
    if getattr(request, "contract_not_found", False):  # words naming no contract of theirs
        ctx.say("requests/contract_not_found", number=None)
        return
    if isinstance(request, DocumentRequest):
        await _documents(ctx, request)
    elif isinstance(request, ContractRequest):
        await _contract_answer(ctx, request, contracts)
    else:
        await _communications(ctx, request)


async def _contracts(ctx: Context) -> list[Contract]:
    return await ctx.store.contracts.for_customer(customer_id(ctx), None, limit=CONTRACTS_KNOWN)


def _facts(contracts: list[Contract]) -> list[ContractFacts]:
    """What the parser may know of the customer's own contracts (never another's)."""
    return [
        ContractFacts(
            c.id, c.label, c.description, "active" if c.status == "active" else "terminated"
        )
        for c in contracts
    ]


async def _named_elsewhere(ctx: Context, contracts: list[Contract]) -> bool:
    """A document number or another customer's contract typed in the sentence: the document is
    sent when it is the customer's; anything else gets the answer of a typed number of another
    customer, audited the same way. True when the line was answered so."""
    for left, right in named_identifiers(ctx.text):
        if any(c.contract_number == left.upper() and right in (None, c.module_number.upper())
               for c in contracts):  # fmt: skip
            continue
        if right is not None and await ctx.store.documents.by_number(f"{left}/{right}"):
            await send_by_number(ctx, f"{left}/{right}")
            return True
        found = await ctx.store.contracts.with_number(left)
        if right is not None:
            found = [c for c in found if c.module_number.upper() == right.upper()]
        if found:
            shown = f"{left}/{right}" if right else left
            ctx.say("requests/contract_not_found", number=shown[:40])
            await ctx.audit("forged_button", detail=f"typed contract {found[0].id}")
            return True
    return False


def _ask_which(ctx: Context, request: Request, data: str, faq_id: str) -> None:
    """ "Vuoi la fattura di marzo, o sapere quando escono le fatture?", with both buttons."""
    from assistant.faq import faq_title

    title = faq_title(ctx.assistant.texts, faq_id, ctx.lang)
    mine = Button(ctx.render("requests/request_button", request=request), data)
    ctx.say(
        "requests/which_one",
        request=request,
        title=title,
        buttons=[[mine], [Button(f"❓ {title}"[:60], f"faq:{faq_id}")]],
    )


async def _documents(ctx: Context, request: DocumentRequest) -> None:
    """One match: the PDF at once. Several: a short list, newest first. None: the nearest."""
    if request.year is not None and request.year < FIRST_INVOICE_YEAR:
        ctx.say("requests/before_first_year", year=request.year, first_year=FIRST_INVOICE_YEAR)
        return
    spans = periods(request, ctx.now.date())
    found = await ctx.store.documents.for_customer_matching(
        customer_id(ctx),
        kind=request.kind,
        periods=spans,
        contract_ids=request.contract_ids,
        amount_cents=request.amount_cents,
        limit=LIST_SIZE + 1,
    )
    if found and request.month is not None and request.year is None:
        found = [d for d in found if d.issue_date.year == found[0].issue_date.year]
    if request.latest:
        found = found[:1]
    whole_year = request.whole_year and request.year is not None and request.month is None
    if found and whole_year and request.year is not None:  # "le fatture del 2023 in un file"
        single = request.contract_ids[0] if len(request.contract_ids) == 1 else None
        await send_year_bundle(ctx, request.year, single)
    elif not found:
        await _nearest(ctx, request, spans)
    elif len(found) == 1:
        owned = await with_owned_contract(ctx, found[0])
        if owned is None:  # the query joins on the customer: never, but checked as buttons are
            await refuse(ctx, "document", found[0].id)
            return
        await send_document(ctx, *owned)
    else:
        await _document_list(ctx, request, found)


async def _document_list(ctx: Context, request: DocumentRequest, found: list[Document]) -> None:
    """At most ``LIST_SIZE`` document buttons, the way to narrow, and a year's ZIP."""
    shown = found[:LIST_SIZE]
    labels = {}
    for contract_id in {d.contract_id for d in shown}:
        contract = await ctx.store.contracts.get(contract_id)
        labels[contract_id] = contract.label if contract else "?"
    rows = in_rows(
        [Button(ctx.render("invoices/document_button", document=d), f"doc:{d.id}") for d in shown],
        2,
    )
    if request.year is not None and request.month is None:
        single = request.contract_ids[0] if len(request.contract_ids) == 1 else None
        rows.append([bundle_button(ctx, request.year, single)])
    ctx.send(
        Reply(
            ctx.render(
                "requests/documents",
                request=request,
                documents=shown,
                more=len(found) > LIST_SIZE,
                contract_labels=labels,
            ),
            tuple(tuple(row) for row in rows),
        )
    )


async def _nearest(ctx: Context, request: DocumentRequest, spans: list[tuple[date, date]]) -> None:
    """Nothing matches: say so plainly, with the nearest document of that kind there is."""
    store, customer = ctx.store.documents, customer_id(ctx)
    nearest: list[Document] = []
    first = min((start for start, _ in spans), default=None)
    last = max((end for _, end in spans), default=None)
    if first is not None and last is not None:
        nearest = await store.for_customer_matching(
            customer, kind=request.kind, contract_ids=request.contract_ids,
            periods=[(date(FIRST_INVOICE_YEAR, 1, 1), first)], limit=1,
        )  # fmt: skip
        nearest = nearest or await store.for_customer_matching(
            customer, kind=request.kind, contract_ids=request.contract_ids,
            periods=[(last, date.max)], oldest_first=True, limit=1,
        )  # fmt: skip
    elif request.amount_cents is not None:
        nearest = await store.for_customer_matching(
            customer, kind=request.kind, contract_ids=request.contract_ids, limit=1
        )
    rows = [[Button(ctx.render("invoices/document_button", document=d), f"doc:{d.id}")]
            for d in nearest]  # fmt: skip
    ctx.say(
        "requests/no_documents",
        request=request,
        nearest=nearest[0] if nearest else None,
        after=bool(last is not None and nearest and nearest[0].issue_date >= last),
        first_year=FIRST_INVOICE_YEAR,
        buttons=rows,
    )


async def _contract_answer(
    ctx: Context, request: ContractRequest, contracts: dict[int, Contract]
) -> None:
    """Which contracts are active or terminated, when one started or ended, its fee."""
    chosen = [contracts[i] for i in request.contract_ids] or list(contracts.values())
    if request.status is not None:
        chosen = [c for c in chosen if c.status == request.status]
    rows = [[Button(f"📄 {c.label}", f"ctr:o:{c.id}")] for c in chosen[:LIST_SIZE]]
    ctx.say(
        "requests/contracts",
        request=request,
        contracts=chosen[:LIST_SIZE],
        total=len(chosen),
        any_contract=bool(contracts),
        buttons=rows,
    )


async def _communications(ctx: Context, request: CommunicationRequest) -> None:
    """The latest communication opened, or the unread ones (opened when there is one)."""
    customer = customer_id(ctx)
    if request.what == "latest":
        latest = await ctx.store.communications.for_customer(customer, limit=1)
        if not latest:
            ctx.say("communications/none")
            return
        await open_communication(ctx, latest[0].id)
        return
    _, unread = await ctx.store.communications.count_for_customer(customer)
    if unread == 0:
        ctx.say("requests/no_unread")
    elif unread == 1:
        items = await ctx.store.communications.for_customer(customer, limit=UNREAD_LOOKED_AT)
        found = [item for item in items if item.unread]
        if found:
            await open_communication(ctx, found[0].id)
        else:
            await show_communications(ctx, 0)
    else:
        await show_communications(ctx, 0)
