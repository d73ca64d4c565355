"""/assistenza: ask for the message, then open a support ticket linked to this chat."""

from __future__ import annotations

import enum
import logging

from assistant.conversation import Context, Flow, command, flow

logger = logging.getLogger(__name__)

MIN_CHARS = 3


class Step(enum.Enum):
    MESSAGE = "message"  # waiting for the customer's request


@flow
class Support(Flow[Step]):
    name = "sup"
    State = Step
    title = "support_flow"

    async def begin(self, ctx: Context) -> None:
        """Ask for the message."""
        ctx.goto(Step.MESSAGE)
        await self.ask(ctx, Step.MESSAGE)

    async def ask(self, ctx: Context, state: Step) -> None:
        """What to write."""
        ctx.say("support/ask")

    async def on_input(self, ctx: Context, state: Step) -> None:
        """The request: open the ticket."""
        text = ctx.text.strip()
        if ctx.incoming.kind != "text" or len(text) < MIN_CHARS:
            ctx.say("support/too_short")
            return
        from assistant.tickets import TicketService

        service = TicketService(
            ctx.store, ctx.assistant.texts, ctx.settings, notifier=ctx.assistant.notifier
        )
        customer_id = ctx.account.customer_id if ctx.account else None
        async with ctx.store.db.transaction():
            reference = await service.open_from_chat(
                ctx.incoming.channel, ctx.incoming.chat_id, customer_id, text, ctx.lang, ctx.now
            )
            ctx.end_flow()
            await ctx.save()
        ctx.say("support/opened", reference=reference)


@command("assistenza")
async def support(ctx: Context) -> None:
    """Start a support request."""
    await ctx.start_flow("sup")
