"""Lists shown a page at a time: as many items as one message of the channel holds, with
◀ / ▶ buttons. How much a message holds is the channel's business (``MessageLimit``, given to
the ``Assistant`` by the composition root; Telegram's is in ``bot/telegram_text.py``)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol

from assistant.dialogs.context import Context
from assistant.dialogs.messages import Button


class MessageLimit(Protocol):
    """What one message of a channel holds."""

    def fits(self, text: str) -> bool:
        """Whether ``text`` fits in one message."""
        ...

    def shorten(self, text: str) -> str:
        """``text`` cut to fit in one message, ending with an ellipsis when cut."""
        ...


def fit_page(ctx: Context, render: Callable[[int], str], count: int) -> tuple[str, int]:
    """The text with as many of the first ``count`` items as fit in one message, and that number.

    ``render(n)`` renders the page with its first ``n`` items. At least one item is kept; its
    text is cut as a last resort.
    """
    limit = ctx.assistant.message_limit
    shown = count
    text = render(shown)
    while shown > 1 and not limit.fits(text):
        shown -= 1
        text = render(shown)
    return limit.shorten(text), shown


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
