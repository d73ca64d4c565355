"""Turning the core's ``Reply``/``Outcome`` into Bot API calls, and Telegram errors into ours.

Telegram's limits on what we send: a button's data (``CALLBACK_DATA_LIMIT``, checked here when
the keyboard is built), text and captions (``bot/telegram_text.py``), and the pace of messages
we start (``TELEGRAM_PACING``, declared by ``TelegramNotifier`` to the notice sender).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, Message
from telegram.error import BadRequest, Forbidden, TelegramError

from assistant.dialogs.messages import Attachment, Reply
from assistant.errors import DeliveryError, PermanentDeliveryError
from assistant.notice_delivery import Pacing
from bot.telegram_text import (
    CALLBACK_DATA_LIMIT,
    CAPTION_LIMIT,
    callback_data_fits,
    head,
    split_text,
)

logger = logging.getLogger(__name__)

DocumentSent = Callable[[Attachment, str], Awaitable[None]]

# Messages we start (notices): Telegram takes about 30 a second from a bot and one a second
# in one chat; 25 leaves the bot's own answers some room.
TELEGRAM_PACING = Pacing(per_second=25, chat_interval_seconds=1.0)


def keyboard(reply: Reply) -> InlineKeyboardMarkup | None:
    """The reply's buttons as an inline keyboard, or None; ``ValueError`` for a button whose
    data Telegram would refuse (more than ``CALLBACK_DATA_LIMIT`` bytes)."""
    if not reply.buttons:
        return None
    for row in reply.buttons:
        for b in row:
            if not callback_data_fits(b.data):
                raise ValueError(f"button data longer than {CALLBACK_DATA_LIMIT} bytes: {b.data!r}")
    return InlineKeyboardMarkup(
        [
            [InlineKeyboardButton(b.label, callback_data=b.data) for b in row]
            for row in reply.buttons
        ]
    )


async def send_reply(
    bot: Bot, chat_id: str | int, reply: Reply, document_sent: DocumentSent | None = None
) -> Message | None:
    """Send one reply (text, then document); the buttons go on the last message."""
    markup = keyboard(reply)
    last: Message | None = None
    pieces = split_text(reply.text) if reply.text else []
    for index, piece in enumerate(pieces):
        is_last = index == len(pieces) - 1 and reply.document is None
        last = await bot.send_message(chat_id, piece, reply_markup=markup if is_last else None)
    if reply.document is not None:
        last = await send_document(bot, chat_id, reply.document, markup, document_sent)
    return last


async def send_document(
    bot: Bot,
    chat_id: str | int,
    attachment: Attachment,
    markup: InlineKeyboardMarkup | None,
    document_sent: DocumentSent | None,
) -> Message:
    """By ``file_id`` when known; uploaded from ``path`` when there is none or it is refused."""
    caption = head(attachment.caption, CAPTION_LIMIT) or None
    if attachment.file_id:
        try:
            return await bot.send_document(
                chat_id, attachment.file_id, caption=caption, reply_markup=markup
            )
        except BadRequest as error:
            if attachment.path is None:
                raise
            logger.info(
                "file_id refused (%s); uploading document %s", error, attachment.document_id
            )
    if attachment.path is None:
        raise ValueError("an attachment needs a file_id or a path")
    with attachment.path.open("rb") as handle:
        message = await bot.send_document(
            chat_id,
            handle,
            filename=attachment.filename,
            caption=caption,
            reply_markup=markup,
        )
    if document_sent is not None and message.document is not None:
        await document_sent(attachment, message.document.file_id)
    return message


async def delete_messages(bot: Bot, chat_id: str | int, message_ids: tuple[int, ...]) -> None:
    """Delete messages that held a secret; one that is already gone is not an error."""
    for message_id in message_ids:
        try:
            await bot.delete_message(chat_id, message_id)
        except TelegramError as error:
            logger.warning("could not delete message %s in chat %s: %s", message_id, chat_id, error)


def delivery_error(error: TelegramError) -> DeliveryError:
    """Our error for a Telegram one: Forbidden (bot blocked) and chat-not-found are permanent."""
    if isinstance(error, Forbidden):
        return PermanentDeliveryError(f"telegram refused: {error.message}")
    if isinstance(error, BadRequest) and "chat not found" in error.message.lower():
        return PermanentDeliveryError(f"telegram: {error.message}")
    return DeliveryError(f"telegram: {type(error).__name__}: {error.message}")


class TelegramNotifier:
    """Sends to a chat outside an update (notices, staff replies). Raises
    ``PermanentDeliveryError`` when the customer blocked the bot, ``DeliveryError`` otherwise."""

    pacing = TELEGRAM_PACING  # the notice sender's pace (``Notifier`` protocol)

    def __init__(self, bot: Bot, document_sent: DocumentSent | None = None) -> None:
        self.bot = bot
        self.document_sent = document_sent

    async def send(self, chat_id: str, reply: Reply) -> int | None:
        """Deliver ``reply``; return the id of the last message sent."""
        try:
            message = await send_reply(self.bot, chat_id, reply, self.document_sent)
        except TelegramError as error:
            raise delivery_error(error) from error
        return message.message_id if message is not None else None

    async def send_text(self, chat_id: str, text: str) -> None:
        """Deliver a plain text (the tickets' ``ChatNotifier`` protocol)."""
        await self.send(chat_id, Reply(text))


def describe(error: BaseException | None) -> str:
    """A log-safe one-liner for an error (type and Telegram's message, no update content)."""
    if isinstance(error, TelegramError):
        return f"{type(error).__name__}: {error.message}"
    return type(error).__name__
