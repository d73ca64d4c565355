"""/comunicazioni: the bank's communications to the customer, newest first, unread marked.

Buttons (ownership checked on every press):
    com:l:<offset>   a page of the list
    com:o:<id>       read one (marks it read); also the button of the Telegram notice
"""

from __future__ import annotations

import logging

from assistant.dialogs.conversation import Button, Context, Reply, button, command
from assistant.dialogs.pages import fit_page, nav_row
from assistant.ownership import customer_id, int_parts, refuse

logger = logging.getLogger(__name__)

PAGE_SIZE = 10


@command("comunicazioni", login_required=True)
async def show_communications(ctx: Context) -> None:
    """The first page of the customer's communications."""
    await show_page(ctx, 0)


@button("com:", login_required=True)
async def communications_button(ctx: Context) -> None:
    """A page of the list, or one communication."""
    data = ctx.incoming.callback or ""
    parts = int_parts(data, 1) if data.count(":") == 2 else None
    if parts is not None and data.startswith("com:l:"):
        await show_page(ctx, parts[0])
    elif parts is not None and data.startswith("com:o:"):
        await open_communication(ctx, parts[0])
    else:
        await refuse(ctx, "button", data)


async def show_page(ctx: Context, offset: int) -> None:
    """One page of communications, newest first, the unread ones marked."""
    customer = customer_id(ctx)
    total, unread = await ctx.store.communications.count_for_customer(customer)
    if total == 0:
        ctx.say("communications/none")
        return
    offset = min(offset, total - 1)
    items = await ctx.store.communications.for_customer(customer, offset=offset, limit=PAGE_SIZE)

    def render(count: int) -> str:
        return ctx.render(
            "communications/list",
            items=items[:count],
            total=total,
            unread=unread,
            offset=offset,
            more=offset + count < total,
        )

    text, shown = fit_page(ctx, render, len(items))
    rows = [
        [Button(ctx.render("communications/button", item=item), f"com:o:{item.id}")]
        for item in items[:shown]
    ]
    nav = nav_row(
        ctx,
        f"com:l:{max(offset - PAGE_SIZE, 0)}" if offset > 0 else None,
        f"com:l:{offset + shown}" if offset + shown < total else None,
    )
    if nav:
        rows.append(nav)
    ctx.send(Reply(text, tuple(tuple(row) for row in rows)))


async def open_communication(ctx: Context, communication_id: int) -> None:
    """The whole communication (the channel splits a long one, the button on its last part);
    it is read from now on."""
    item = await ctx.store.communications.get(communication_id)
    if item is None or item.customer_id != customer_id(ctx):
        await refuse(ctx, "communication", communication_id)
        return
    if item.unread:
        await ctx.store.communications.mark_read(item.id, ctx.now)
    back = Button(ctx.render("contracts/labels", key="back_to_messages"), "com:l:0")
    ctx.send(Reply(ctx.render("communications/message", item=item), ((back,),)))
