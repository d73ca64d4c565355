"""/start, /menu, /guida, /contatti, the FAQ menu entry, and placeholders for issue-5 commands.

The guide is re-sent by Telegram's file_id of the same built file (per language and content);
the hook that keeps it goes to the registry:
``load_flows(document_sent=[guide_file_id_keeper(store)])``.
"""

from __future__ import annotations

import importlib
import logging
from pathlib import Path

from assistant.dialogs.conversation import (
    Attachment,
    Button,
    Context,
    DocumentSentHook,
    button,
    command,
)
from store.store import Store

logger = logging.getLogger(__name__)

GUIDE_FILENAMES = {"it": "Guida-Area-Clienti.pdf", "en": "Customer-Area-Guide.pdf"}


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
    name = GUIDE_FILENAMES.get(ctx.lang, GUIDE_FILENAMES["en"])
    attachment = Attachment(
        filename=name,
        path=path,
        caption=ctx.render("menu/guide_caption"),
        file_id=await ctx.store.chats.telegram_file_id(guide_key(path)),
    )
    ctx.say("menu/guide", document=attachment)


def guide_key(path: Path) -> str:
    """The key of one built guide: its folder names the language and the content's digest."""
    return f"guide:{path.parent.name}"


def guide_file_id_keeper(store: Store) -> DocumentSentHook:
    """The ``document_sent`` hook that remembers Telegram's file_id of an uploaded guide."""

    async def keep_guide_file_id(attachment: Attachment, file_id: str) -> None:
        is_guide = (
            attachment.document_id is None and attachment.filename in GUIDE_FILENAMES.values()
        )
        if is_guide and attachment.path is not None and file_id != attachment.file_id:
            await store.chats.keep_telegram_file_id(guide_key(attachment.path), file_id)

    return keep_guide_file_id


async def _coming_soon(ctx: Context) -> None:
    ctx.say("menu/coming_soon")


# Placeholders until the issue-5 modules register the real ones (a real handler always wins).
command("contratti", login_required=True, placeholder=True)(_coming_soon)
command("fatture", login_required=True, placeholder=True)(_coming_soon)
command("comunicazioni", login_required=True, placeholder=True)(_coming_soon)
