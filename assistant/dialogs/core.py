"""``Assistant``: the dispatcher. One ``Incoming`` in, one ``Outcome`` out, for any channel."""

from __future__ import annotations

import dataclasses
import enum
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from assistant.clock import Clock
from assistant.dialogs.context import Context
from assistant.dialogs.locks import ChatLocks
from assistant.dialogs.messages import (
    COMMANDS,
    Attachment,
    Button,
    Incoming,
    Outcome,
    Reply,
    canonical_command,
    discard_temporary_files,
)
from assistant.dialogs.pages import MessageLimit
from assistant.dialogs.registry import Flow, Registry, Route, load_flows
from assistant.settings import Settings
from assistant.texts import LANGUAGES, Texts
from assistant.tickets import TicketService
from store.chats import ChatState
from store.errors import StoreBusy
from store.store import Store

if TYPE_CHECKING:
    from assistant.faq import FaqMatcher

logger = logging.getLogger(__name__)

MAX_TEXT_CHARS = 2000  # longer messages are politely refused (nobody types a 10 kB answer)
FLOOD_LIMIT = 60  # updates per chat ...
FLOOD_WINDOW_SECONDS = 60.0  # ... in this many seconds; more get one "slow down" answer
PRUNE_EVERY = 500  # updates between two clean-ups of old rate-limit attempts
ATTEMPTS_KEPT = timedelta(days=2)  # longer than any rate-limit window
Deliver = Callable[[Outcome], Awaitable[None]]
Current = tuple[Flow[Any], enum.Enum] | None  # the flow in progress and its state


class Assistant:
    """The core both front-ends call: ``await assistant.handle(incoming)``."""

    def __init__(
        self,
        *,
        store: Store,
        texts: Texts,
        settings: Settings,
        clock: Clock,
        tickets: TicketService,
        message_limit: MessageLimit,
        faq: FaqMatcher | None = None,
        registry: Registry | None = None,
        mail_queued: Callable[[], None] | None = None,
    ) -> None:
        self.store = store
        self.texts = texts
        self.settings = settings
        self.clock = clock
        self.tickets = tickets  # /assistenza opens tickets and adds to them
        self.message_limit = message_limit  # what one message of the channel holds (pages)
        self.faq = faq  # None: free text gets a polite fallback
        self.registry = registry or load_flows()
        self._mail_queued = mail_queued  # e.g. OutboxSender.wake: send the new mail now
        self._locks = ChatLocks()
        self._recent: dict[str, deque[float]] = {}
        self._updates = 0

    async def handle(self, incoming: Incoming, *, deliver: Deliver | None = None) -> Outcome:
        """Handle one update. With ``deliver``, the outcome is rendered inside the chat's turn,
        so the answers of one chat never interleave, and its temporary files (a ZIP made for
        this answer) are removed afterwards, delivered or not; without it, the caller renders
        the outcome and removes them (``discard_temporary_files``)."""
        async with self._locks.hold(f"{incoming.channel}:{incoming.chat_id}"):
            outcome = await self._handle_safely(incoming)
            if deliver is not None:
                try:
                    await deliver(outcome)
                finally:
                    discard_temporary_files(outcome.replies)
            return outcome

    async def document_delivered(self, attachment: Attachment, file_id: str) -> None:
        """A front-end uploaded ``attachment`` and got Telegram's ``file_id``: remember it."""
        await self.registry.document_delivered(attachment, file_id)

    def mail_queued(self) -> None:
        """A dialog queued an e-mail: wake the sender (when the composition root gave one)."""
        if self._mail_queued is not None:
            self._mail_queued()

    def command_list(self, lang: str) -> list[tuple[str, str]]:
        """(command, description) pairs for the client's menu (setMyCommands) in ``lang``."""
        names = COMMANDS if lang == "en" else {name: name for name in COMMANDS}
        return [(names[name], self.texts.render(lang, "commands", key=name)) for name in COMMANDS]

    def language_for(self, language_code: str | None) -> str:
        """Our language for a client's language code (``en-GB`` → ``en``), else the default."""
        code = (language_code or "").split("-")[0].lower()
        return code if code in LANGUAGES else self.settings.default_language

    async def run_command(self, ctx: Context, name: str) -> None:
        """Run /name for ``ctx`` (used by menu buttons and by flows that chain a command)."""
        route = self.registry.commands.get(canonical_command(name))
        if route is None:
            ctx.say("errors/unknown_command")
            return
        await self._run(ctx, route)

    # --- internals --------------------------------------------------------------------------

    async def _handle_safely(self, incoming: Incoming) -> Outcome:
        ctx: Context | None = None
        try:
            ctx = await self._context(incoming)
            if self._flooding(incoming):
                ctx.say("errors/slow_down")
            else:
                logged_out = ctx.account is None
                await self._route(ctx)
                if logged_out and ctx.account is not None:
                    await self._resume_request(ctx)
            await ctx.save()
            self._updates += 1
            if self._updates % PRUNE_EVERY == 0:
                await self.store.attempts.prune(ctx.now - ATTEMPTS_KEPT)
            return Outcome(tuple(ctx.replies), tuple(ctx.delete_ids), ctx.callback_answer)
        except StoreBusy:  # another process held the write lock past the busy timeout
            logger.warning(
                "update %s in %s chat %s: the database is busy; the chat stays where it was",
                incoming.kind,
                incoming.channel,
                incoming.chat_id,
            )
            return self._failed(incoming, ctx, "errors/busy")
        except Exception as exc:
            logger.exception(
                "update %s in %s chat %s failed (%s)",
                incoming.kind,
                incoming.channel,
                incoming.chat_id,
                type(exc).__name__,
            )
            return self._failed(incoming, ctx, "errors/unexpected")

    def _failed(self, incoming: Incoming, ctx: Context | None, template: str) -> Outcome:
        """The answer to a turn that failed. The chat's state is saved only at a turn's end,
        so its flow stays where it was before the turn (a secret typed is still deleted)."""
        lang = ctx.lang if ctx else self.language_for(incoming.language_code)
        deletes = tuple(ctx.delete_ids) if ctx else ()
        discard_temporary_files(ctx.replies if ctx else ())  # answers that will not be sent
        return Outcome((Reply(self.texts.render(lang, template)),), deletes, None)

    async def _context(self, incoming: Incoming) -> Context:
        now = self.clock.now()
        chat = await self.store.chats.get(incoming.channel, incoming.chat_id)
        if chat is None:
            language = self.language_for(incoming.language_code)
            chat = ChatState(incoming.channel, incoming.chat_id, language=language)
        account = None
        if chat.logged_in and chat.account_id is not None:
            account = await self.store.accounts.get(chat.account_id)
        idle = timedelta(minutes=self.settings.session_idle_minutes)
        expired = bool(
            chat.logged_in and (chat.last_seen_at is None or now - chat.last_seen_at > idle)
        )
        chat = dataclasses.replace(chat, last_seen_at=now)
        ctx = Context(self, incoming, chat, account, now, session_expired=expired)
        if chat.logged_in and (account is None or account.blocked or expired):
            await ctx.logout("session_expired" if expired else "session_ended")
        return ctx

    def _flooding(self, incoming: Incoming) -> bool:
        key = f"{incoming.channel}:{incoming.chat_id}"
        recent = self._recent.setdefault(key, deque())
        moment = time.monotonic()
        while recent and moment - recent[0] > FLOOD_WINDOW_SECONDS:
            recent.popleft()
        recent.append(moment)
        if len(self._recent) > 10_000:  # forget idle chats now and then
            self._recent = {k: v for k, v in self._recent.items() if v and v[-1] > moment - 60}
        return len(recent) > FLOOD_LIMIT

    async def _route(self, ctx: Context) -> None:
        incoming = ctx.incoming
        current = ctx.current_flow()
        if ctx.flow_name is not None and current is None:
            ctx.end_flow()  # a state this version no longer knows
        if current is not None and current[0].login_required and not ctx.account:
            ctx.end_flow()
            current = None
            if incoming.kind != "command":
                ctx.say(
                    "session/expired" if ctx.session_expired else "session/login_needed",
                    buttons=self._login_buttons(ctx),
                )
                return
        secret = current is not None and current[0].holds_secret(current[1])
        if secret and incoming.kind in ("text", "command"):
            ctx.delete_incoming()
        if incoming.kind == "text" and len(ctx.text) > MAX_TEXT_CHARS:
            ctx.say("errors/too_long", limit=MAX_TEXT_CHARS)
            if current is not None:
                await current[0].ask(ctx, current[1])
        elif incoming.kind == "command":
            await self._command(ctx, incoming.command or "", current)
        elif incoming.kind == "button":
            await self._button(ctx, incoming.callback or "", current)
        elif incoming.kind == "text":
            if current is not None:
                await current[0].on_input(ctx, current[1])
            elif (route := self.registry.find_text_route(ctx.text)) is not None:
                await self._run(ctx, route)
            else:
                ctx.say("errors/not_understood")
        else:
            ctx.say("errors/text_only")
            if current is not None:
                await current[0].ask(ctx, current[1])

    async def _command(self, ctx: Context, name: str, current: Current) -> None:
        if name == "annulla":
            ctx.forget_request()
            if current is not None:
                await current[0].on_cancel(ctx, current[1])
                ctx.end_flow()
                ctx.say("flow/cancelled")
            else:
                ctx.say("flow/nothing_to_cancel")
            await self.run_command(ctx, "menu")
            return
        route = self.registry.commands.get(name)
        if route is None:
            ctx.say("errors/unknown_command")
            if current is not None:
                await current[0].ask(ctx, current[1])
            return
        if current is not None:
            await current[0].on_cancel(ctx, current[1])
            ctx.end_flow()
            ctx.say("flow/interrupted", flow=ctx.label(current[0].title or current[0].name))
        await self._run(ctx, route)

    async def _button(self, ctx: Context, data: str, current: Current) -> None:
        if current is not None and data.startswith(f"{current[0].name}:"):
            await current[0].on_input(ctx, current[1])
            return
        if data.startswith("cmd:"):
            await self._command(ctx, canonical_command(data[4:]), current)
            return
        route = self.registry.find_button(data)
        if route is not None:
            await self._run(ctx, route)
            return
        if current is None and ctx.session_expired:
            ctx.say("session/expired", buttons=self._login_buttons(ctx))
            return
        ctx.say("errors/stale_button")
        if current is not None:
            await current[0].ask(ctx, current[1])

    def ask_login(self, ctx: Context) -> None:
        """What needs a session was asked without one: say so with the login buttons, and
        remember the request to run it right after the login (``_resume_request``)."""
        template = "session/expired" if ctx.session_expired else "session/login_needed"
        resumes = ctx.remember_request()
        ctx.say(template, buttons=self._login_buttons(ctx), resumes=resumes)

    async def _run(self, ctx: Context, route: Route) -> None:
        if route.login_required and ctx.account is None:
            self.ask_login(ctx)
            return
        await route.handler(ctx)

    async def _resume_request(self, ctx: Context) -> None:
        """A login just opened the session: run, once and through the normal routing (so every
        ownership check applies), the button or command refused earlier for want of it."""
        request = ctx.take_request()
        if request is None:
            return
        logger.info(
            "running the request made before the login in %s chat %s",
            request.channel,
            ctx.chat.chat_id,
        )
        asked, ctx.incoming = ctx.incoming, request
        try:
            await self._route(ctx)
        except Exception as exc:  # the login itself must still be saved
            logger.exception("request resumed after the login failed (%s)", type(exc).__name__)
            ctx.say("errors/unexpected")
        finally:
            ctx.incoming = asked

    @staticmethod
    def _login_buttons(ctx: Context) -> list[list[Button]]:
        return [[ctx.button("login", "cmd:accedi"), ctx.button("recover", "cmd:recupero")]]
