"""/start, /menu, /guida, /contatti, the FAQ menu entry, and placeholders for issue-5 commands."""

from __future__ import annotations

import importlib
import logging

from assistant.conversation import Attachment, Button, Context, button, command

logger = logging.getLogger(__name__)


def main_menu(ctx: Context) -> list[list[Button]]:
    """The main menu's buttons: for a logged-in customer, or for anyone."""
    if ctx.account is not None:
        return [
            [ctx.button("contracts", "cmd:contratti"), ctx.button("invoices", "cmd:fatture")],
            [ctx.button("messages", "cmd:comunicazioni"), ctx.button("profile", "cmd:profilo")],
            [ctx.button("support", "cmd:assistenza"), ctx.button("logout", "cmd:esci")],
        ]
    return [
        [ctx.button("register", "cmd:registrazione"), ctx.button("login", "cmd:accedi")],
        [ctx.button("recover", "cmd:recupero"), ctx.button("faq", "menu:faq")],
        [ctx.button("guide", "cmd:guida"), ctx.button("contacts", "cmd:contatti")],
    ]


@command("start")
async def start(ctx: Context) -> None:
    """Welcome, one line on privacy, the main menu."""
    ctx.say("menu/welcome", logged_in=ctx.account is not None, buttons=main_menu(ctx))


@command("menu")
async def menu(ctx: Context) -> None:
    """The main menu."""
    ctx.say("menu/menu", logged_in=ctx.account is not None, buttons=main_menu(ctx))


@button("menu:faq")
async def faq_menu(ctx: Context) -> None:
    """How to ask a question."""
    ctx.say("menu/faq")


@command("contatti")
async def contacts(ctx: Context) -> None:
    """Who to contact."""
    ctx.say("menu/contacts", support_address=ctx.settings.support_address)


@command("guida")
async def guide(ctx: Context) -> None:
    """The operating guide as a PDF."""
    try:
        guide_module = importlib.import_module("assistant.guide")
        path = guide_module.guide_pdf_path(ctx.assistant.texts, ctx.settings, ctx.lang)
    except (ImportError, AttributeError, OSError):
        logger.warning("guide PDF not available")
        ctx.say("menu/guide_unavailable")
        return
    name = "Guida-Area-Clienti.pdf" if ctx.lang == "it" else "Customer-Area-Guide.pdf"
    attachment = Attachment(filename=name, path=path, caption=ctx.render("menu/guide_caption"))
    ctx.say("menu/guide", document=attachment)


async def _coming_soon(ctx: Context) -> None:
    ctx.say("menu/coming_soon")


# Placeholders until the issue-5 modules register the real ones (a real handler always wins).
command("contratti", login_required=True, placeholder=True)(_coming_soon)
command("fatture", login_required=True, placeholder=True)(_coming_soon)
command("comunicazioni", login_required=True, placeholder=True)(_coming_soon)
