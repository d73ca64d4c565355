"""Telegram's limits on text, in the units Telegram counts (UTF-16 code units: an emoji may
count 2; a button's data in UTF-8 bytes), and the one splitter of long messages. The core never
counts characters itself: it asks the ``MessageLimit`` the composition root gave it
(``TelegramMessageLimit``)."""

from __future__ import annotations

from dataclasses import dataclass

TEXT_LIMIT = 4096  # one message's text
CAPTION_LIMIT = 1024  # one document's caption
CALLBACK_DATA_LIMIT = 64  # one inline button's callback_data, in UTF-8 bytes
ELLIPSIS = "…"


def telegram_length(text: str) -> int:
    """The length Telegram counts: UTF-16 code units."""
    return len(text.encode("utf-16-le")) // 2


def callback_data_fits(data: str) -> bool:
    """Whether ``data`` is short enough for a button's callback_data."""
    return len(data.encode()) <= CALLBACK_DATA_LIMIT


def head(text: str, limit: int) -> str:
    """The longest beginning of ``text`` that is at most ``limit`` UTF-16 units."""
    units = 0
    for index, char in enumerate(text):
        units += 2 if ord(char) > 0xFFFF else 1
        if units > limit:
            return text[:index]
    return text


def cut(text: str, limit: int = TEXT_LIMIT) -> str:
    """The text shortened to ``limit`` units, ending with an ellipsis when cut."""
    if telegram_length(text) <= limit:
        return text
    return head(text, limit - len(ELLIPSIS)) + ELLIPSIS


def split_text(text: str, limit: int = TEXT_LIMIT) -> list[str]:
    """Pieces of at most ``limit`` units, cut at the last line end that fits where there is
    one (blank lines at a cut are dropped: Telegram would trim them, and refuses empty text)."""
    pieces: list[str] = []
    while telegram_length(text) > limit:
        piece = head(text, limit)
        line_end = piece.rfind("\n")
        if line_end > 0:
            piece = piece[:line_end]
        pieces.append(piece)
        text = text[len(piece) :].lstrip("\n")
    if text or not pieces:
        pieces.append(text)
    return pieces


@dataclass(frozen=True)
class TelegramMessageLimit:
    """The core's ``MessageLimit`` for Telegram (the console shows the same pages)."""

    limit: int = TEXT_LIMIT

    def fits(self, text: str) -> bool:
        """Whether ``text`` fits in one message."""
        return telegram_length(text) <= self.limit

    def shorten(self, text: str) -> str:
        """``text`` cut to fit in one message, ending with an ellipsis when cut."""
        return cut(text, self.limit)
