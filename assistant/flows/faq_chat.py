"""Free text outside a flow: a request about the customer's own data (``requests``), else the
FAQ matcher; its choices come back as ``faq:<id>``."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from assistant.dialogs.conversation import Button, Context, Reply, button, text_handler
from assistant.errors import NotFound
from assistant.flows.requests import take_text
from assistant.texts import LANGUAGES

if TYPE_CHECKING:
    from assistant.faq import FaqReply

logger = logging.getLogger(__name__)


def _send(ctx: Context, reply: FaqReply) -> None:
    buttons = tuple((Button(str(title)[:60], f"faq:{faq_id}"),) for faq_id, title in reply.choices)
    ctx.send(Reply(str(reply.text), buttons))


@text_handler
async def free_text(ctx: Context) -> None:
    """A request about the customer's own data (``requests.take_text``, which sees the FAQ's
    verdict too), else answer from the FAQ, ask "Intendevi…?", or say it was not understood."""
    matcher = ctx.assistant.faq
    match = matcher.match(ctx.text) if matcher is not None else None
    if await take_text(ctx, match):
        return
    if match is None:
        ctx.say("errors/not_understood")
        return
    from assistant.faq import faq_reply

    lang = match.language if match.language in LANGUAGES else ctx.lang
    _send(ctx, faq_reply(ctx.assistant.texts, ctx.settings, match, lang))
    if match.kind == "answer" and match.faq_id is not None:  # settled without a person
        await ctx.store.faq_answers.record(ctx.incoming.channel, match.faq_id, ctx.now)
    logger.info("faq %s (%s) in chat %s", match.kind, match.faq_id, ctx.incoming.chat_id)


@button("faq:")
async def faq_choice(ctx: Context) -> None:
    """The answer of the FAQ the customer chose."""
    from assistant.faq import faq_answer

    faq_id = (ctx.incoming.callback or "").removeprefix("faq:")
    try:
        answer = faq_answer(ctx.assistant.texts, ctx.settings, faq_id, ctx.lang)
    except NotFound:
        ctx.say("errors/stale_button")
        return
    ctx.send(Reply(answer))
    await ctx.store.faq_answers.record(ctx.incoming.channel, faq_id, ctx.now)
