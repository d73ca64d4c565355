"""``Context``: what a handler sees and does while one ``Incoming`` is handled."""

from __future__ import annotations

import dataclasses
import enum
import logging
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from assistant.dialogs.messages import Attachment, Button, Incoming, Reply
from assistant.settings import Settings
from store.accounts import Account
from store.chats import ChatState
from store.store import Store

if TYPE_CHECKING:
    from assistant.dialogs.core import Assistant
    from assistant.dialogs.registry import Flow

logger = logging.getLogger(__name__)

PENDING_FOR = timedelta(minutes=15)  # a request made without a session is run after a login ...
MAX_PENDING_ARGS = 64  # ... within this time; a command's arguments are kept up to this length


class Context:
    """One update in one chat: services, the chat's state, and the replies being collected."""

    def __init__(
        self,
        assistant: Assistant,
        incoming: Incoming,
        chat: ChatState,
        account: Account | None,
        now: datetime,
        *,
        session_expired: bool = False,
    ) -> None:
        self.assistant = assistant
        self.incoming = incoming
        self.chat = chat
        self.account = account  # the logged-in account, None when logged out
        self.now = now  # one moment for the whole update
        self.session_expired = session_expired  # the session ended by idle time just now
        self.data: dict[str, Any] = dict(chat.data)  # the flow's answers, saved after the update
        self.replies: list[Reply] = []
        self.delete_ids: list[int] = []
        self.callback_answer: str | None = None

    # --- services ---------------------------------------------------------------------------

    @property
    def store(self) -> Store:
        """The ``Store``: one repository per capability, and ``db.transaction()``."""
        return self.assistant.store

    @property
    def settings(self) -> Settings:
        """The ``Settings``."""
        return self.assistant.settings

    @property
    def lang(self) -> str:
        """The language to answer in: the account's choice, else the chat's."""
        if self.account is not None and self.account.language:
            return self.account.language
        return self.chat.language or self.assistant.settings.default_language

    @property
    def text(self) -> str:
        """The typed text (empty for buttons and media)."""
        return self.incoming.text or ""

    # --- answering --------------------------------------------------------------------------

    def render(self, template: str, **values: Any) -> str:
        """Render ``templates/<lang>/<template>.j2``."""
        return str(self.assistant.texts.render(self.lang, template, **values))

    def label(self, key: str) -> str:
        """A button label from ``templates/<lang>/labels.j2``."""
        return self.render("labels", key=key)

    def button(self, key: str, data: str) -> Button:
        """A button labelled ``labels[key]``."""
        return Button(self.label(key), data)

    def say(
        self,
        template: str,
        *,
        buttons: tuple[tuple[Button, ...], ...] | list[list[Button]] = (),
        document: Attachment | None = None,
        **values: Any,
    ) -> None:
        """Queue a reply rendered from a template."""
        self.send(Reply(self.render(template, **values), _rows(buttons), document))

    def send(self, reply: Reply) -> None:
        """Queue a ready reply."""
        self.replies.append(reply)

    def delete_incoming(self) -> None:
        """The customer's message held a secret: delete it from the chat before answering."""
        message_id = self.incoming.message_id
        kind_ok = self.incoming.kind in ("text", "command")
        if message_id is not None and kind_ok and message_id not in self.delete_ids:
            self.delete_ids.append(message_id)

    def toast(self, text: str) -> None:
        """The short notice shown when a button is pressed."""
        self.callback_answer = text

    # --- flows ------------------------------------------------------------------------------

    @property
    def flow_name(self) -> str | None:
        """The flow in progress, or None."""
        return self.chat.flow

    @property
    def step(self) -> str | None:
        """The persisted state value of the flow in progress."""
        return self.chat.step

    async def start_flow(self, name: str, **data: Any) -> None:
        """Start flow ``name`` (replacing any other) and let it ask its first question."""
        flow = self.assistant.registry.flows[name]
        self.chat = dataclasses.replace(self.chat, flow=name, step=None)
        self.data = dict(data)
        await flow.begin(self)

    def goto(self, state: enum.Enum) -> None:
        """Move the flow in progress to ``state``."""
        self.chat = dataclasses.replace(self.chat, step=str(state.value))

    def end_flow(self) -> None:
        """The flow is over: forget its state and answers."""
        self.chat = dataclasses.replace(self.chat, flow=None, step=None)
        self.data = {}

    def current_flow(self) -> tuple[Flow[Any], enum.Enum] | None:
        """The flow in progress and its state, or None (also for a state no longer known)."""
        if self.chat.flow is None:
            return None
        flow = self.assistant.registry.flows.get(self.chat.flow)
        if flow is None or self.chat.step is None:
            return None
        try:
            return flow, flow.State(self.chat.step)
        except ValueError:
            return None

    async def run_command(self, name: str) -> None:
        """Run the handler of /name as if typed (session checks included)."""
        await self.assistant.run_command(self, name)

    # --- a request waiting for the login -----------------------------------------------------

    def remember_request(self) -> bool:
        """The button or command just refused for want of a session: keep it for after login.

        Only the button's data or the command's name and arguments are kept (never a secret:
        login-required commands take none), with the time, in the chat's row."""
        incoming = self.incoming
        if incoming.kind == "button" and incoming.callback:
            pending = {"kind": "button", "data": incoming.callback}
        elif incoming.kind == "command" and incoming.command:
            args = incoming.args[:MAX_PENDING_ARGS]
            pending = {"kind": "command", "command": incoming.command, "args": args}
        elif incoming.kind == "text" and incoming.text and len(incoming.text) <= MAX_PENDING_ARGS:
            # only text that asked for the customer's data (a typed number, a request)
            pending = {"kind": "text", "text": incoming.text}
        else:
            return False
        self.chat = dataclasses.replace(self.chat, pending_action=pending, pending_at=self.now)
        return True

    def forget_request(self) -> None:
        """Drop the request waiting for the login (/annulla, /esci, or once it ran)."""
        if self.chat.pending_action is not None or self.chat.pending_at is not None:
            self.chat = dataclasses.replace(self.chat, pending_action=None, pending_at=None)

    def take_request(self) -> Incoming | None:
        """The request waiting for the login, as an update of this chat, if still fresh; the
        chat forgets it either way (it runs at most once)."""
        pending, asked_at = self.chat.pending_action, self.chat.pending_at
        self.forget_request()
        if not pending or asked_at is None or self.now - asked_at > PENDING_FOR:
            return None
        channel, chat_id = self.incoming.channel, self.incoming.chat_id
        language_code = self.incoming.language_code
        if pending.get("kind") == "text" and pending.get("text"):
            return Incoming.from_text(
                channel, chat_id, pending["text"], language_code=language_code
            )
        if pending.get("kind") == "button" and pending.get("data"):
            return Incoming.from_button(
                channel, chat_id, pending["data"], language_code=language_code
            )
        if pending.get("kind") == "command" and pending.get("command"):
            args = pending.get("args", "")
            return Incoming(
                channel=channel,
                chat_id=chat_id,
                kind="command",
                text=f"/{pending['command']} {args}".rstrip(),
                command=pending["command"],
                args=args,
                language_code=language_code,
            )
        return None

    # --- session ----------------------------------------------------------------------------

    async def login(self, account: Account) -> None:
        """Open a session for ``account`` in this chat and link the chat to it."""
        language = account.language or self.chat.language
        self.chat = dataclasses.replace(
            self.chat,
            account_id=account.id,
            logged_in=True,
            language=language,
            last_seen_at=self.now,
            notices_stopped_at=None,
        )
        self.account = account
        await self.audit("login_ok", account=account)

    async def logout(self, event: str = "logout") -> None:
        """Close the session (the chat stays linked for notices)."""
        account = self.account
        self.chat = dataclasses.replace(self.chat, logged_in=False)
        self.account = None
        if account is not None:
            await self.audit(event, account=account)

    def set_language(self, language: str) -> None:
        """Answer in ``language`` from now on."""
        self.chat = dataclasses.replace(self.chat, language=language)
        if self.account is not None:
            self.account = dataclasses.replace(self.account, language=language)

    async def save(self) -> None:
        """Persist the chat state now (call inside the transaction of a change it completes)."""
        self.chat = dataclasses.replace(self.chat, data=dict(self.data))
        await self.assistant.store.chats.save(self.chat, self.now)

    async def audit(
        self,
        event: str,
        *,
        account: Account | None = None,
        customer_id: int | None = None,
        detail: str = "",
    ) -> None:
        """Append a security event (ids only: never a secret or personal data)."""
        account = account or self.account
        await self.assistant.store.audit.record(
            event,
            self.now,
            customer_id=customer_id or (account.customer_id if account else None),
            account_id=account.id if account else None,
            channel=self.incoming.channel,
            chat_id=self.incoming.chat_id,
            detail=detail,
        )


def _rows(
    buttons: tuple[tuple[Button, ...], ...] | list[list[Button]],
) -> tuple[tuple[Button, ...], ...]:
    return tuple(tuple(row) for row in buttons)
