"""Webhook mode: the updates Telegram pushes to ``POST /telegram/webhook``, and the Bot API probe.

    updates = WebhookUpdates(application)      # main.py hands it to the staff console's app
    await updates.handle(payload)              # the route's JSON body; returns once answered
    await updates.drain(5)                     # SIGTERM: refuse new ones, finish those in hand

The route (``web/telegram_hook.py``, which may not import ``telegram``) checks the secret header
and the JSON, then calls ``handle``: the update goes through the Application's handlers
(``TelegramFrontEnd``: the chat's turn, once per ``update_id``) and the 200 goes back only when
it was answered. So Telegram retries what a dying replica did not finish, and ``drain`` has a
clear meaning: while draining the route answers 503 (Telegram tries again, a load balancer
sends it to another replica) and the updates in hand are finished.

``BotApiProbe`` answers ``/readyz``: the Bot API answered ``getMe`` recently, or does now.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping
from typing import Any

from telegram import Bot, Update
from telegram.error import TelegramError
from telegram.ext import Application

logger = logging.getLogger(__name__)

ALLOWED_UPDATES = ("message", "callback_query")  # what the handlers handle; setWebhook and polls
PROBE_FRESH_SECONDS = 30.0  # a getMe answered this recently still counts
PROBE_TIMEOUT_SECONDS = 3.0  # a probe waits no longer for the Bot API


class WebhookUpdates:
    """Pushed updates handled one request each; counts those in hand so a drain can wait."""

    def __init__(self, application: Application[Any, Any, Any, Any, Any, Any]) -> None:
        self.application = application
        self._accepting = True
        self._in_hand = 0
        self._idle = asyncio.Event()
        self._idle.set()

    @property
    def accepting(self) -> bool:
        """Taking updates: the Application runs (started, not yet stopped) and ``drain`` has
        not begun. A replica still starting answers 503 too: Telegram tries again."""
        return self._accepting and self.application.running

    @property
    def in_hand(self) -> int:
        """Updates being handled now."""
        return self._in_hand

    async def ready(self) -> bool:
        """For ``/readyz``: taking updates."""
        return self.accepting

    async def handle(self, payload: Mapping[str, Any]) -> bool:
        """Handle one pushed update to its end; False when draining (not taken: the route
        answers 503). ``ValueError``: not an update."""
        if not self.accepting:
            return False
        try:
            update = Update.de_json(dict(payload), self.application.bot)
        except (AttributeError, KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"not a Telegram update: {type(exc).__name__}") from None
        self._in_hand += 1
        self._idle.clear()
        try:
            await self.application.process_update(update)
        finally:
            self._in_hand -= 1
            if not self._in_hand:
                self._idle.set()
        return True

    async def drain(self, timeout: float) -> None:
        """Take no more updates; wait up to ``timeout`` seconds for those in hand."""
        if self._accepting:
            self._accepting = False
            logger.info("telegram webhook draining: %d update(s) in hand", self._in_hand)
        try:
            await asyncio.wait_for(self._idle.wait(), timeout)
        except TimeoutError:
            logger.warning("telegram webhook: %d update(s) unfinished at stop", self._in_hand)


class BotApiProbe:
    """Whether the Bot API answers ``getMe``; a recent answer is reused, so load-balancer
    probes every few seconds from every replica do not each reach Telegram."""

    def __init__(
        self,
        bot: Bot,
        *,
        fresh: float = PROBE_FRESH_SECONDS,
        timeout: float = PROBE_TIMEOUT_SECONDS,
    ) -> None:
        self.bot = bot
        self.fresh = fresh
        self.timeout = timeout
        self._answered_at: float | None = None

    async def reachable(self) -> bool:
        """``getMe`` answered within ``fresh`` seconds, or within ``timeout`` now."""
        now = time.monotonic()
        if self._answered_at is not None and now - self._answered_at < self.fresh:
            return True
        try:
            async with asyncio.timeout(self.timeout):
                await self.bot.get_me(read_timeout=self.timeout, connect_timeout=self.timeout)
        except (TelegramError, TimeoutError) as exc:
            logger.warning("Bot API probe failed: %s", type(exc).__name__)
            return False
        self._answered_at = time.monotonic()
        return True
