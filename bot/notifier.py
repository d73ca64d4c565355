"""A Telegram notifier outside the running bot: staff replies sent from the command line.

``main.py`` opens it for ``tickets reply``; without a token there is no chat to reach.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from telegram import Bot

from assistant.settings import Settings
from bot.telegram_render import TelegramNotifier


@contextlib.asynccontextmanager
async def standalone_notifier(settings: Settings) -> AsyncIterator[TelegramNotifier | None]:
    """The Bot API as a notifier while the block runs, or None when no token is set."""
    if not settings.telegram_bot_token:
        yield None
        return
    bot = Bot(
        settings.telegram_bot_token,
        base_url=settings.telegram_api_url + "/bot",
        base_file_url=settings.telegram_api_url + "/file/bot",
    )
    async with bot:
        yield TelegramNotifier(bot)
