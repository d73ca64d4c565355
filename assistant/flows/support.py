"""/assistenza: open a support ticket linked to this chat, or write again in one.

* /assistenza asks for the message and opens a ticket. When the chat already has a ticket that
  is not closed, it first offers the choice: add to that one, or open a new request.
* A staff reply arrives with a "Rispondi" button (``tkt:r:<ticket id>``, sent by
  ``TicketService.staff_reply``): it asks for one message and adds it to the same ticket, which
  opens again. No login is needed (tickets can be opened logged out), but the ticket must have
  come from this very chat; any other button is refused and audited as ``forged_button``.
"""

from __future__ import annotations

import enum
import logging

from assistant.dialogs.conversation import Button, Context, Flow, button, command, flow
from assistant.ownership import int_parts
from assistant.tickets import REPLY_BUTTON

logger = logging.getLogger(__name__)

MIN_CHARS = 3  # of a new request
ADD = "sup:add"  # the choice offered when the chat has an open ticket
NEW = "sup:new"


class Step(enum.Enum):
    CHOOSE = "choose"  # the chat has an open ticket: add to it, or a new request?
    MESSAGE = "message"  # waiting for the customer's message (new, or for data["reference"])


@flow
class Support(Flow[Step]):
    name = "sup"
    State = Step
    title = "support_flow"

    async def begin(self, ctx: Context) -> None:
        """A follow-up asks for the message; a new request first looks for an open ticket."""
        if not ctx.data.get("reference"):
            ticket = await ctx.store.tickets.latest_open_for(
                ctx.incoming.channel, ctx.incoming.chat_id
            )
            if ticket is not None:
                ctx.data = {"offer": ticket.reference, "subject": ticket.subject}
                ctx.goto(Step.CHOOSE)
                await self.ask(ctx, Step.CHOOSE)
                return
        ctx.goto(Step.MESSAGE)
        await self.ask(ctx, Step.MESSAGE)

    async def ask(self, ctx: Context, state: Step) -> None:
        """The choice, or what to write."""
        if state is Step.CHOOSE:
            reference = ctx.data["offer"]
            add = Button(ctx.render("support/add_to", reference=reference), ADD)
            buttons = [[add], [ctx.button("ticket_new", NEW)]]
            ctx.say(
                "support/choose", reference=reference, subject=ctx.data["subject"], buttons=buttons
            )
        elif ctx.data.get("reference"):
            ctx.say("support/ask_follow_up", reference=ctx.data["reference"])
        else:
            ctx.say("support/ask")

    async def on_input(self, ctx: Context, state: Step) -> None:
        """The choice, or the message: open a ticket or add to one."""
        if state is Step.CHOOSE:
            await self._choose(ctx)
            return
        if ctx.incoming.kind == "button":  # a choice pressed twice
            await self.ask(ctx, state)
            return
        reference: str | None = ctx.data.get("reference")
        text = ctx.text.strip()
        if len(text) < (1 if reference else MIN_CHARS):  # a follow-up may be just "sì"
            ctx.say("support/too_short")
            return
        service = ctx.assistant.tickets
        channel, chat_id = ctx.incoming.channel, ctx.incoming.chat_id
        async with ctx.store.db.transaction():
            if reference:
                await service.add_from_chat(reference, channel, chat_id, text, ctx.now)
                template = "support/added"
            else:
                customer_id = ctx.account.customer_id if ctx.account else None
                reference = await service.open_from_chat(
                    channel, chat_id, customer_id, text, ctx.lang, ctx.now
                )
                template = "support/opened"
            ctx.end_flow()
            await ctx.save()
        ctx.say(template, reference=reference)

    async def _choose(self, ctx: Context) -> None:
        """Add to the open ticket, or a new request; typed text asks to choose first."""
        if ctx.incoming.callback == ADD:
            ctx.data = {"reference": ctx.data["offer"]}
        elif ctx.incoming.callback == NEW:
            ctx.data = {}
        else:
            ctx.say("support/choose_first")
            await self.ask(ctx, Step.CHOOSE)
            return
        ctx.goto(Step.MESSAGE)
        await self.ask(ctx, Step.MESSAGE)


@command("assistenza")
async def support(ctx: Context) -> None:
    """Start a support request."""
    await ctx.start_flow("sup")


@button(REPLY_BUTTON)
async def reply_to_ticket(ctx: Context) -> None:
    """The "Rispondi" button of a staff reply: write again in that ticket, from its own chat."""
    parts = int_parts(ctx.incoming.callback or "", 1)
    ticket = await ctx.store.tickets.get(parts[0]) if parts else None
    own = (ctx.incoming.channel, ctx.incoming.chat_id)
    if ticket is None or (ticket.channel, ticket.contact) != own:
        ctx.say("support/not_yours")
        await ctx.audit("forged_button", detail=f"ticket {parts[0] if parts else '?'}")
        logger.warning("chat %s pressed a reply button of another chat", ctx.incoming.chat_id)
        return
    current = ctx.current_flow()
    if current is not None and current[0].name != Support.name:
        await current[0].on_cancel(ctx, current[1])
        ctx.say("flow/interrupted", flow=ctx.label(current[0].title or current[0].name))
    await ctx.start_flow(Support.name, reference=ticket.reference)
