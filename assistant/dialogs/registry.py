"""Where commands, buttons and flows are registered, so the dispatcher never needs editing.

A later registration of the same command, button prefix or flow name wins, except that a
placeholder (``placeholder=True``) never replaces a real handler: the issue-5 modules can be
imported before or after the placeholders in ``assistant.flows.menu``.
"""

from __future__ import annotations

import enum
import importlib
import logging
import pkgutil
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypeVar

if TYPE_CHECKING:
    from assistant.dialogs.context import Context
    from assistant.dialogs.messages import Attachment

logger = logging.getLogger(__name__)

Handler = Callable[["Context"], Awaitable[None]]
DocumentSentHook = Callable[["Attachment", str], Awaitable[None]]
S = TypeVar("S", bound=enum.Enum)
H = TypeVar("H", bound=Handler)
F = TypeVar("F", bound="type[Flow[Any]]")


class Flow(Generic[S]):
    """A multi-step dialog: a state enum, and every transition in one module.

    The dispatcher calls ``begin`` when the flow starts (via ``ctx.start_flow``), ``on_input``
    for each message or button of the chat while the flow is active (buttons whose data starts
    with ``"<name>:"``), ``ask`` to repeat the current question (after a photo or an unknown
    command), and ``on_cancel`` on /annulla or when another command interrupts it. The flow's
    answers live in ``ctx.data`` (plain JSON), its state in ``ctx.step``; both are saved after
    every update.
    """

    name: ClassVar[str]  # persisted in chats.flow; also the prefix of the flow's buttons
    State: ClassVar[type[enum.Enum]]  # the states; values are persisted in chats.step
    title: ClassVar[str] = ""  # key in labels.j2 naming the flow ("interrupted" messages)
    login_required: ClassVar[bool] = False  # ended (and the customer told) when the session ends

    async def begin(self, ctx: Context) -> None:
        """Ask the first question and set the first state."""
        raise NotImplementedError

    async def on_input(self, ctx: Context, state: S) -> None:
        """Handle one text message or one of the flow's buttons in ``state``."""
        raise NotImplementedError

    async def ask(self, ctx: Context, state: S) -> None:
        """Repeat the question of ``state``."""
        raise NotImplementedError

    def holds_secret(self, state: S) -> bool:
        """True in steps where the customer types a password or a code: the dispatcher then
        deletes whatever they type (even a mistyped command) from the chat."""
        return False

    async def on_cancel(self, ctx: Context, state: S) -> None:
        """Undo anything the flow stored outside ``ctx.data`` (default: nothing)."""


@dataclass(frozen=True)
class Route:
    """A registered command or button handler."""

    key: str
    handler: Handler
    login_required: bool
    placeholder: bool


class Registry:
    """Commands by canonical name, buttons by data prefix, flows by name."""

    def __init__(self) -> None:
        self.commands: dict[str, Route] = {}
        self.buttons: dict[str, Route] = {}
        self.flows: dict[str, Flow[Any]] = {}
        self.free_text: Handler | None = None
        self.text_routes: list[tuple[Callable[[str], bool], Route]] = []
        self.document_sent_hooks: list[DocumentSentHook] = []

    def command(
        self, name: str, *, login_required: bool = False, placeholder: bool = False
    ) -> Callable[[H], H]:
        """Register ``async def handler(ctx)`` for /name (canonical Italian name)."""
        return self._register(self.commands, name, login_required, placeholder)

    def button(
        self, prefix: str, *, login_required: bool = False, placeholder: bool = False
    ) -> Callable[[H], H]:
        """Register a handler for buttons whose data starts with ``prefix`` (longest wins)."""
        return self._register(self.buttons, prefix, login_required, placeholder)

    def flow(self, cls: F) -> F:
        """Register a ``Flow`` subclass (class decorator); one instance serves every chat."""
        if cls.name in self.flows:
            logger.info("flow %s replaced by %s", cls.name, cls.__qualname__)
        self.flows[cls.name] = cls()
        return cls

    def text_handler(self, handler: H) -> H:
        """Register the handler of free text outside a flow that no text route claims (the FAQ)."""
        self.free_text = handler
        return handler

    def text_route(
        self, recognises: Callable[[str], bool], *, login_required: bool = False
    ) -> Callable[[H], H]:
        """Register a handler for free text outside a flow that ``recognises(text)`` claims.

        Routes are tried in registration order before the ``text_handler``.
        """

        def decorate(handler: H) -> H:
            route = Route(handler.__qualname__, handler, login_required, False)
            self.text_routes.append((recognises, route))
            return handler

        return decorate

    def find_text_route(self, text: str) -> Route | None:
        """The first text route claiming ``text``, else the free-text handler's route."""
        for recognises, route in self.text_routes:
            if recognises(text):
                return route
        if self.free_text is None:
            return None
        return Route("free_text", self.free_text, False, False)

    def document_sent(self, hook: DocumentSentHook) -> DocumentSentHook:
        """Register ``async def hook(attachment, file_id)`` called after an upload."""
        self.document_sent_hooks.append(hook)
        return hook

    def find_button(self, data: str) -> Route | None:
        """The handler whose prefix is the longest one ``data`` starts with."""
        best: Route | None = None
        for prefix, route in self.buttons.items():
            if data.startswith(prefix) and (best is None or len(prefix) > len(best.key)):
                best = route
        return best

    def _register(
        self, table: dict[str, Route], key: str, login_required: bool, placeholder: bool
    ) -> Callable[[H], H]:
        def decorate(handler: H) -> H:
            existing = table.get(key)
            if existing is not None and placeholder and not existing.placeholder:
                return handler  # a real handler is already there
            if existing is not None and not existing.placeholder:
                logger.info("%s re-registered by %s", key, handler.__qualname__)
            table[key] = Route(key, handler, login_required, placeholder)
            return handler

        return decorate


REGISTRY = Registry()
command = REGISTRY.command
button = REGISTRY.button
flow = REGISTRY.flow
text_handler = REGISTRY.text_handler
text_route = REGISTRY.text_route
document_sent = REGISTRY.document_sent

FLOWS_PACKAGE = "assistant.flows"


def load_flows(package: str = FLOWS_PACKAGE) -> Registry:
    """Import every module of ``assistant.flows`` (each registers itself); return the registry."""
    root = importlib.import_module(package)
    for info in sorted(pkgutil.iter_modules(root.__path__), key=lambda m: m.name):
        importlib.import_module(f"{package}.{info.name}")
    return REGISTRY
