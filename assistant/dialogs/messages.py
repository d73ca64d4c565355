"""The channel-neutral values that cross the edge: what a customer sent, what we answer."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

Channel = Literal["telegram", "console"]
Kind = Literal["text", "command", "button", "other"]

# Canonical (Italian) command names and their English aliases, in menu order.
COMMANDS: dict[str, str] = {
    "start": "start",
    "menu": "menu",
    "registrazione": "register",
    "accedi": "login",
    "recupero": "recover",
    "contratti": "contracts",
    "fatture": "invoices",
    "comunicazioni": "messages",
    "profilo": "profile",
    "assistenza": "support",
    "guida": "guide",
    "contatti": "contacts",
    "esci": "logout",
    "annulla": "cancel",
}
ALIASES: dict[str, str] = {english: italian for italian, english in COMMANDS.items()}

_COMMAND = re.compile(r"^/([A-Za-z0-9_]{1,64})(?:@[A-Za-z0-9_]+)?(?:\s+(.*))?$", re.DOTALL)


def canonical_command(name: str) -> str:
    """The Italian name of a command typed in either language (``invoices`` → ``fatture``)."""
    lowered = name.lower()
    return ALIASES.get(lowered, lowered)


@dataclass(frozen=True)
class Incoming:
    """One thing a customer did in a chat: typed text or a command, pressed a button, sent media."""

    channel: Channel
    chat_id: str
    kind: Kind
    message_id: int | None = None
    text: str | None = None
    command: str | None = None  # canonical Italian name, e.g. "fatture" for /invoices
    args: str = ""
    callback: str | None = None  # the pressed button's data
    language_code: str | None = None  # the client's language (Telegram's language_code)
    user_display: str | None = None

    @classmethod
    def from_text(
        cls,
        channel: Channel,
        chat_id: str,
        text: str,
        *,
        message_id: int | None = None,
        language_code: str | None = None,
        user_display: str | None = None,
    ) -> Incoming:
        """A typed message; ``/name[@bot] args`` becomes a command with its canonical name."""
        match = _COMMAND.match(text.strip())
        if match:
            return cls(
                channel=channel,
                chat_id=chat_id,
                kind="command",
                message_id=message_id,
                text=text,
                command=canonical_command(match.group(1)),
                args=(match.group(2) or "").strip(),
                language_code=language_code,
                user_display=user_display,
            )
        return cls(
            channel=channel,
            chat_id=chat_id,
            kind="text",
            message_id=message_id,
            text=text,
            language_code=language_code,
            user_display=user_display,
        )

    @classmethod
    def from_button(
        cls,
        channel: Channel,
        chat_id: str,
        data: str,
        *,
        message_id: int | None = None,
        language_code: str | None = None,
        user_display: str | None = None,
    ) -> Incoming:
        """A pressed button; ``message_id`` is the message that carried the button."""
        return cls(
            channel=channel,
            chat_id=chat_id,
            kind="button",
            message_id=message_id,
            callback=data,
            language_code=language_code,
            user_display=user_display,
        )

    @classmethod
    def other(
        cls,
        channel: Channel,
        chat_id: str,
        *,
        message_id: int | None = None,
        language_code: str | None = None,
        user_display: str | None = None,
    ) -> Incoming:
        """Anything that is not text: a photo, a sticker, a voice note, a file."""
        return cls(
            channel=channel,
            chat_id=chat_id,
            kind="other",
            message_id=message_id,
            language_code=language_code,
            user_display=user_display,
        )


@dataclass(frozen=True)
class Button:
    """An inline button: the label the customer reads, the data we get back when pressed.

    The data is a short token, a route prefix and ids (``"inv:l:12:2024:0"``): channels limit
    its size (Telegram's: ``CALLBACK_DATA_LIMIT`` in ``bot/telegram_text.py``, checked when the
    keyboard is rendered)."""

    label: str
    data: str


@dataclass(frozen=True)
class Attachment:
    """A file to send: by Telegram ``file_id`` when known, else uploaded from ``path``."""

    filename: str
    path: Path | None = None
    caption: str = ""
    document_id: int | None = None  # our documents.id, to remember Telegram's file_id
    file_id: str | None = None
    cache_key: str | None = None  # not a document: the key its Telegram file_id is kept under
    temporary: bool = False  # made for this answer alone: removed once delivered, or not


@dataclass(frozen=True)
class Reply:
    """One message to the customer: text, optional rows of buttons, optional document.

    With a document, a non-empty ``text`` is sent first as its own message, then the document
    with ``document.caption``; the buttons go on the last message sent."""

    text: str
    buttons: tuple[tuple[Button, ...], ...] = ()
    document: Attachment | None = None


@dataclass(frozen=True)
class Outcome:
    """Everything to do in the chat after one ``Incoming``, in this order.

    First delete ``delete_message_ids`` (messages that held a password or a code), then answer
    the button press with ``callback_answer`` (a short toast; None = a silent answer), then send
    ``replies``.
    """

    replies: tuple[Reply, ...] = ()
    delete_message_ids: tuple[int, ...] = ()
    callback_answer: str | None = None

    @property
    def texts(self) -> list[str]:
        """The replies' texts (handy in tests and in the console)."""
        return [reply.text for reply in self.replies]


def discard_temporary_files(replies: Iterable[Reply]) -> None:
    """Remove the files made for these replies alone (``Attachment.temporary``), sent or not."""
    for reply in replies:
        document = reply.document
        if document is not None and document.temporary and document.path is not None:
            with contextlib.suppress(FileNotFoundError):
                document.path.unlink()
