"""/contratti: the customer's contracts, active ("a reddito") and terminated ("estinti") apart.

Buttons (stateless: everything needed is in the data, checked again on every press):
    ctr:l:<a|t>:<offset>   a page of the active / terminated contracts
    ctr:o:<contract_id>    one contract: details, and its documents by year (inv:l:...)
"""

from __future__ import annotations

import logging

from assistant.dialogs.conversation import Button, Context, Reply, button, command
from assistant.dialogs.pages import fit_page, in_rows, nav_row
from assistant.ownership import customer_id, int_parts, owned_contract, refuse
from assistant.policy import FIRST_INVOICE_YEAR

logger = logging.getLogger(__name__)

PAGE_SIZE = 10
DESCRIPTION_CHARS = 300  # of each contract in the list (the details show it whole)
STATUS_BY_CODE = {"a": "active", "t": "terminated"}
CODE_BY_STATUS = {status: code for code, status in STATUS_BY_CODE.items()}


@command("contratti", login_required=True)
async def show_contracts(ctx: Context) -> None:
    """The first page of the active contracts (the terminated ones when none is active)."""
    counts = await ctx.store.contracts.counts_by_status(customer_id(ctx))
    active, terminated = counts.get("active", 0), counts.get("terminated", 0)
    if not active and not terminated:
        ctx.say("contracts/none")
        return
    await show_page(ctx, "active" if active else "terminated", 0, counts)


@button("ctr:", login_required=True)
async def contracts_button(ctx: Context) -> None:
    """A page of the list, or one contract."""
    data = ctx.incoming.callback or ""
    kind = data.split(":")[1] if data.count(":") >= 2 else ""
    if kind == "l" and data.count(":") == 3 and data.split(":")[2] in STATUS_BY_CODE:
        parts = int_parts(data, 1)
        if parts is not None:
            await show_page(ctx, STATUS_BY_CODE[data.split(":")[2]], parts[0])
            return
    elif kind == "o":
        parts = int_parts(data, 1)
        if parts is not None:
            await show_contract(ctx, parts[0])
            return
    await refuse(ctx, "button", data)


async def show_page(
    ctx: Context, status: str, offset: int, counts: dict[str, int] | None = None
) -> None:
    """One page of the contracts of one status, never longer than a Telegram message
    (``counts``: the customer's contracts by status, when the caller has them already)."""
    customer = customer_id(ctx)
    other_status = "terminated" if status == "active" else "active"
    if counts is None:
        counts = await ctx.store.contracts.counts_by_status(customer)
    total, other = counts.get(status, 0), counts.get(other_status, 0)
    offset = min(offset, max(total - 1, 0))
    contracts = await ctx.store.contracts.for_customer(
        customer, status, offset=offset, limit=PAGE_SIZE
    )

    def render(count: int) -> str:
        return ctx.render(
            "contracts/list",
            status=status,
            contracts=contracts[:count],
            offset=offset,
            total=total,
            description_chars=DESCRIPTION_CHARS,
        )

    text, shown = fit_page(ctx, render, len(contracts))
    code = CODE_BY_STATUS[status]
    rows = in_rows([Button(c.label, f"ctr:o:{c.id}") for c in contracts[:shown]], 2)
    nav = nav_row(
        ctx,
        f"ctr:l:{code}:{max(offset - PAGE_SIZE, 0)}" if offset > 0 else None,
        f"ctr:l:{code}:{offset + shown}" if offset + shown < total else None,
    )
    if nav:
        rows.append(nav)
    if other:
        key = "show_terminated" if other_status == "terminated" else "show_active"
        label = ctx.render("contracts/labels", key=key, count=other)
        rows.append([Button(label, f"ctr:l:{CODE_BY_STATUS[other_status]}:0")])
    ctx.send(Reply(text, tuple(tuple(row) for row in rows)))


async def show_contract(ctx: Context, contract_id: int) -> None:
    """One contract's details and a button per year that has documents."""
    contract = await owned_contract(ctx, contract_id)
    if contract is None:
        return
    found = await ctx.store.documents.years_for_contract(contract.id)
    years = sorted((y for y in found if y >= FIRST_INVOICE_YEAR), reverse=True)
    rows = in_rows([Button(str(y), f"inv:l:{contract.id}:{y}:0") for y in years], 4)
    back = ctx.render("contracts/labels", key="back_to_contracts")
    rows.append([Button(back, f"ctr:l:{CODE_BY_STATUS[contract.status]}:0")])
    ctx.say("contracts/detail", contract=contract, years=years, buttons=rows)
