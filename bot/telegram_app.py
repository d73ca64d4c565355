"""The Telegram front-end: a python-telegram-bot Application around the channel-neutral core.

    application = build_application(settings)          # the bot, before the services need it
    notifier = TelegramNotifier(application.bot, registry.document_delivered)  # notices, staff
    front = TelegramFrontEnd(assistant, settings, application=application)
    await front.run()                                   # polls (or takes pushes) until cancelled
    front.webhook                                       # webhook mode: what the route calls

``TELEGRAM_MODE=polling`` (default) polls ``getUpdates``. ``webhook``: the Application has no
updater; ``run`` registers ``TELEGRAM_WEBHOOK_URL`` with its secret (``setWebhook``) and the
staff console's ASGI app hands each pushed update to ``front.webhook`` (``bot.webhook``).
At stop the webhook stays registered: another replica keeps serving it.

Updates are processed concurrently (``concurrent_updates``). Each is handled inside its chat's
turn (``store.updates.chat_turn``: in order within the process, and across replicas through the
database's advisory lock) and only once per ``update_id`` (a delivery Telegram repeats is
dropped); ``Assistant.handle`` holds the per-chat lock around handling *and* rendering, so one
chat's updates are answered in order while different chats proceed side by side.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from telegram import BotCommand, CallbackQuery, Chat, Update
from telegram.error import NetworkError, TelegramError
from telegram.ext import (
    AIORateLimiter,
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from assistant.dialogs.core import Assistant
from assistant.dialogs.messages import Incoming, Outcome, Reply
from assistant.settings import Settings
from bot.telegram_render import (
    TelegramNotifier,
    delete_messages,
    describe,
    send_reply,
)
from bot.webhook import ALLOWED_UPDATES, WebhookUpdates
from store.errors import StoreError

logger = logging.getLogger(__name__)

POLL_TIMEOUT_SECONDS = 10  # getUpdates long-poll
STARTUP_RETRY_MAX_SECONDS = 60.0  # backoff cap while the Bot API is unreachable at start
RATE_LIMIT_RETRIES = 3  # AIORateLimiter retries after Telegram's RetryAfter
DRAIN_SECONDS = 5.0  # at stop, updates in hand get this long (the web server's grace, too)
# PTB's DEBUG lines echo every update and API call (the text customers type, passwords
# included): with ``-v`` they would reach the log. The whole ``telegram`` tree stays at INFO.
CHATTY_LOGGERS = ("telegram",)
TelegramApplication = Application[Any, Any, Any, Any, Any, Any]  # PTB's context types: unused


def quiet_chatty_loggers() -> None:
    """Keep PTB's payload-echoing loggers at INFO or above, whatever the root level."""
    for name in CHATTY_LOGGERS:
        chatty = logging.getLogger(name)
        if chatty.level < logging.INFO:
            chatty.setLevel(logging.INFO)


def build_application(settings: Settings, token: str | None = None) -> TelegramApplication:
    """The real PTB Application for TELEGRAM_BOT_TOKEN against TELEGRAM_API_URL."""
    token = token or settings.telegram_bot_token
    if not token:
        raise ValueError("TELEGRAM_BOT_TOKEN is not set")
    builder = (
        ApplicationBuilder()
        .token(token)
        .base_url(settings.telegram_api_url + "/bot")
        .base_file_url(settings.telegram_api_url + "/file/bot")
        .rate_limiter(  # Telegram's 30/s, or more for a bot with paid broadcasts
            AIORateLimiter(
                overall_max_rate=max(30, settings.telegram_notices_per_second),
                max_retries=RATE_LIMIT_RETRIES,
            )
        )
        .concurrent_updates(True)
    )
    if settings.telegram_mode == "webhook":
        return builder.updater(None).build()  # updates arrive at POST /telegram/webhook
    return builder.get_updates_read_timeout(POLL_TIMEOUT_SECONDS + 10).build()


class TelegramFrontEnd:
    """Converts Updates to ``Incoming``, calls the core, renders the ``Outcome``."""

    def __init__(
        self,
        assistant: Assistant,
        settings: Settings,
        *,
        token: str | None = None,
        application: TelegramApplication | None = None,
        poll_timeout: int = POLL_TIMEOUT_SECONDS,
        startup_retry_first: float = 2.0,
    ) -> None:
        self.assistant = assistant
        self.startup_retry_first = startup_retry_first
        self.settings = settings
        self.poll_timeout = poll_timeout
        quiet_chatty_loggers()
        self.application = application or build_application(settings, token)
        private = filters.UpdateType.MESSAGE & filters.ChatType.PRIVATE
        self.application.add_handler(MessageHandler(private, self._on_message))
        self.application.add_handler(CallbackQueryHandler(self._on_button))
        self.application.add_error_handler(self._on_error)
        self._handled: set[int] = set()
        self._handled_changed = asyncio.Condition()
        self.webhook = WebhookUpdates(self.application) if self.webhook_mode else None

    @property
    def webhook_mode(self) -> bool:
        """Updates are pushed to the webhook (the Application has no updater)."""
        return self.application.updater is None

    def notifier(self) -> TelegramNotifier:
        """A notifier on this application's (rate-limited) bot."""
        return TelegramNotifier(self.application.bot, self.assistant.document_delivered)

    async def run(self) -> None:
        """Poll (or, in webhook mode, take pushed updates) and answer until cancelled; then stop
        cleanly: pending updates stay unconfirmed on the server and come again (polled by the
        next start, or pushed to another replica); in webhook mode those in hand are finished
        first (``drain``)."""
        application = self.application
        try:
            await self._reach_bot_api()
            await application.start()
            if application.updater is None:
                logger.info("telegram bot taking updates at its webhook")
            else:
                await application.updater.start_polling(
                    timeout=self.poll_timeout, allowed_updates=list(ALLOWED_UPDATES)
                )
                logger.info("telegram bot polling %s", self.settings.telegram_api_url)
            await asyncio.Event().wait()
        finally:
            if self.webhook is not None:
                await self.webhook.drain(DRAIN_SECONDS)
            if application.updater is not None and application.updater.running:
                await application.updater.stop()
            if application.running:
                await application.stop()
            await application.shutdown()
            logger.info("telegram bot stopped")

    async def _reach_bot_api(self) -> None:
        """Initialise and set the command menu; while the Bot API is unreachable, try again
        with backoff (a bad token is not retried: InvalidToken is no NetworkError)."""
        delay = self.startup_retry_first
        while True:
            try:
                await self.application.initialize()
                await self.set_commands()
                if self.webhook_mode:
                    await self.set_webhook()
                return
            except NetworkError as exc:
                logger.warning("Bot API unreachable (%s); trying again in %.0f s", exc, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, STARTUP_RETRY_MAX_SECONDS)

    async def set_commands(self) -> None:
        """The command menu in Italian (default) and English (``language_code="en"``)."""
        bot = self.application.bot
        for lang, code in (("it", None), ("en", "en")):
            commands = [BotCommand(name, text) for name, text in self.assistant.command_list(lang)]
            await bot.set_my_commands(commands, language_code=code)

    async def set_webhook(self) -> None:
        """Register TELEGRAM_WEBHOOK_URL with its secret (every replica sets the same)."""
        url, secret = self.settings.telegram_webhook_url, self.settings.telegram_webhook_secret
        if not url or not secret:
            raise ValueError("webhook mode needs TELEGRAM_WEBHOOK_URL and TELEGRAM_WEBHOOK_SECRET")
        await self.application.bot.set_webhook(
            url, secret_token=secret, allowed_updates=list(ALLOWED_UPDATES)
        )
        logger.info("telegram webhook set: %s", url)

    async def wait_handled(self, update_id: int, timeout: float = 10.0) -> None:
        """Wait until the update was handled and answered (tests and benchmarks use this)."""
        async with asyncio.timeout(timeout), self._handled_changed:
            await self._handled_changed.wait_for(lambda: update_id in self._handled)

    # --- handlers ---------------------------------------------------------------------------

    async def _on_message(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """A message: text (commands included) or anything else."""
        message = update.message
        if message is None:
            return
        user = message.from_user
        details: dict[str, Any] = {
            "message_id": message.message_id,
            "language_code": user.language_code if user else None,
            "user_display": user.first_name if user else None,
        }
        chat_id = str(message.chat_id)
        if message.text is not None:
            incoming = Incoming.from_text("telegram", chat_id, message.text, **details)
        else:
            incoming = Incoming.other("telegram", chat_id, **details)
        await self._handle(update, incoming, None)

    async def _on_button(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """A pressed inline button."""
        query = update.callback_query
        chat = update.effective_chat
        if query is None or chat is None or chat.type != Chat.PRIVATE:
            return  # a session belongs to one person: groups and channels are ignored
        incoming = Incoming.from_button(
            "telegram",
            str(chat.id),
            query.data or "",
            message_id=query.message.message_id if query.message else None,
            language_code=query.from_user.language_code,
            user_display=query.from_user.first_name,
        )
        await self._handle(update, incoming, query)

    async def _handle(
        self, update: Update, incoming: Incoming, query: CallbackQuery | None
    ) -> None:
        async def deliver(outcome: Outcome) -> None:
            await self._render(incoming.chat_id, outcome, query)

        updates = self.assistant.store.updates
        try:
            async with updates.chat_turn(incoming.chat_id, update.update_id):
                if await updates.handled_before(update.update_id):
                    logger.info("update %s handled already: a repeated delivery", update.update_id)
                    return
                await self.assistant.handle(incoming, deliver=deliver)
                await self._record_handled(update.update_id)
        finally:
            async with self._handled_changed:
                self._handled.add(update.update_id)
                if len(self._handled) > 10_000:
                    self._handled = set(sorted(self._handled)[-1_000:])
                self._handled_changed.notify_all()

    async def _record_handled(self, update_id: int) -> None:
        """Remember the update as answered; a failure here costs at most one repeat."""
        try:
            await self.assistant.store.updates.record_handled(update_id, self.assistant.clock.now())
        except StoreError as error:
            logger.warning("update %s answered but not recorded: %s", update_id, error)

    async def _render(self, chat_id: str, outcome: Outcome, query: CallbackQuery | None) -> None:
        """Delete secrets first, answer the button, then send the replies in order."""
        bot = self.application.bot
        await delete_messages(bot, chat_id, outcome.delete_message_ids)
        if query is not None:
            try:
                await query.answer(outcome.callback_answer)
            except TelegramError as error:  # an old button: the answer window is over
                logger.info("callback answer failed: %s", describe(error))
        for reply in outcome.replies:
            await send_reply(bot, chat_id, reply, self.assistant.document_delivered)

    async def _on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Log the error (redacted, no update content), then tell the customer."""
        error = context.error
        logger.error(
            "telegram update failed: %s",
            describe(error),
            exc_info=(type(error), error, error.__traceback__) if error else None,
        )
        if not isinstance(update, Update) or update.effective_chat is None:
            return
        user = update.effective_user
        lang = self.assistant.language_for(user.language_code if user else None)
        text = self.assistant.texts.render(lang, "errors/unexpected")
        try:
            await send_reply(self.application.bot, update.effective_chat.id, Reply(text))
        except TelegramError as send_error:
            logger.warning("could not report the error to the chat: %s", describe(send_error))
