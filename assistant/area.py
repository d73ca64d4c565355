"""What the contracts, invoices and communications flows share: ownership checks and pages
that fit in one Telegram message.

Every button and typed request names a record by id; the record is shown only when it belongs
to the logged-in customer. Anything else (another customer's record, an id that does not exist,
malformed button data) gets the same refusal, sends nothing, and is written to the audit log as
``forged_button`` with the ids only.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any

from assistant.dialogs.context import Context
from assistant.dialogs.messages import Button
from store.records import Contract, Document

logger = logging.getLogger(__name__)

TELEGRAM_TEXT_LIMIT = 4096  # characters of one message, counted in UTF-16 code units
FIRST_YEAR = 2008  # the guide: invoices from 2008 onwards


def telegram_length(text: str) -> int:
    """The length Telegram counts: UTF-16 code units (an emoji may count 2)."""
    return len(text.encode("utf-16-le")) // 2


def fit_page(
    render: Callable[[int], str], count: int, limit: int = TELEGRAM_TEXT_LIMIT
) -> tuple[str, int]:
    """The text with as many of the first ``count`` items as fit in ``limit``, and that number.

    ``render(n)`` renders the page with its first ``n`` items. At least one item is kept; its
    text is cut as a last resort.
    """
    shown = count
    text = render(shown)
    while shown > 1 and telegram_length(text) > limit:
        shown -= 1
        text = render(shown)
    if telegram_length(text) > limit:
        text = cut(text, limit)
    return text, shown


def cut(text: str, limit: int = TELEGRAM_TEXT_LIMIT) -> str:
    """The text shortened to ``limit`` (UTF-16 units), ending with an ellipsis when cut."""
    if telegram_length(text) <= limit:
        return text
    result = text[: limit - 1]
    while telegram_length(result) > limit - 1:
        result = result[:-1]
    return result + "…"


def split_text(text: str, limit: int = TELEGRAM_TEXT_LIMIT) -> list[str]:
    """Split a long text into messages of at most ``limit``, at line breaks when possible."""
    parts: list[str] = []
    current = ""
    for line in text.split("\n"):
        candidate = f"{current}\n{line}" if current else line
        if telegram_length(candidate) <= limit:
            current = candidate
            continue
        if current:
            parts.append(current)
        while telegram_length(line) > limit:
            piece = cut(line, limit + 1)[:-1]  # exactly ``limit`` units, no ellipsis
            parts.append(piece)
            line = line[len(piece) :]
        current = line
    if current or not parts:
        parts.append(current)
    return parts


def in_rows(buttons: Sequence[Button], per_row: int) -> list[list[Button]]:
    """Buttons laid out ``per_row`` to a row."""
    return [list(buttons[i : i + per_row]) for i in range(0, len(buttons), per_row)]


def nav_row(ctx: Context, previous: str | None, following: str | None) -> list[Button]:
    """The ◀ / ▶ buttons of a paginated list (empty when there is one page)."""
    row = []
    if previous is not None:
        row.append(Button(ctx.render("contracts/labels", key="previous"), previous))
    if following is not None:
        row.append(Button(ctx.render("contracts/labels", key="next"), following))
    return row


def customer_id(ctx: Context) -> int:
    """The logged-in customer (handlers are registered with ``login_required=True``)."""
    assert ctx.account is not None, "login_required handlers only"
    return int(ctx.account.customer_id)


def int_parts(data: str, count: int) -> list[int] | None:
    """The last ``count`` ``:``-separated fields of button data as ints, or None if malformed."""
    fields = data.split(":")[-count:]
    if len(fields) != count or not all(f.isdigit() and len(f) < 12 for f in fields):
        return None
    return [int(f) for f in fields]


async def refuse(ctx: Context, what: str, ident: Any) -> None:
    """Refuse a request for a record that is not the customer's: answer, audit, send nothing."""
    ctx.say("contracts/not_available")
    await ctx.audit("forged_button", detail=f"{what} {str(ident)[:40]}")
    logger.warning("chat %s asked for %s %s, not its own", ctx.incoming.chat_id, what, ident)


async def owned_contract(ctx: Context, contract_id: int | None) -> Contract | None:
    """The contract when it is the logged-in customer's, else None (refused and audited)."""
    contract = await ctx.store.contracts.get(contract_id) if contract_id is not None else None
    if contract is None or contract.customer_id != customer_id(ctx):
        await refuse(ctx, "contract", contract_id)
        return None
    return contract


async def owned_document(
    ctx: Context, document_id: int | None, *, what: str = "document"
) -> tuple[Document, Contract] | None:
    """The published document and its contract when they are the customer's, else None."""
    document = await ctx.store.documents.get(document_id) if document_id is not None else None
    owned = await with_owned_contract(ctx, document)
    if owned is None:
        await refuse(ctx, what, document_id)
    return owned


async def with_owned_contract(
    ctx: Context, document: Document | None
) -> tuple[Document, Contract] | None:
    """The document and its contract when it is published and the customer's, else None."""
    contract = await ctx.store.contracts.get(document.contract_id) if document else None
    if (
        document is None
        or contract is None
        or contract.customer_id != customer_id(ctx)
        or document.published_at is None
    ):
        return None
    return document, contract
