"""Commands, buttons and flows: marked where they are defined, collected by ``load_flows``.

The decorators (``@command``, ``@button``, ``@flow``, ``@text_handler``, ``@text_route``) only
mark a handler or a flow class with its route; they register nothing. ``load_flows()`` imports
every module of ``assistant.flows``, collects what is marked there and returns a fresh
``Registry`` (the composition root builds one, with its ``document_sent`` hooks; a test may
build its own). A later registration of the same command, button prefix or flow name wins,
except that a placeholder (``placeholder=True``) never replaces a real handler, whatever the
order of the modules.
"""

from __future__ import annotations

import enum
import importlib
import logging
import pkgutil
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from types import ModuleType
from typing import TYPE_CHECKING, Any, ClassVar, Generic, Literal, TypeVar, cast

if TYPE_CHECKING:
    from assistant.dialogs.context import Context
    from assistant.dialogs.messages import Attachment

logger = logging.getLogger(__name__)

Handler = Callable[["Context"], Awaitable[None]]
DocumentSentHook = Callable[["Attachment", str], Awaitable[None]]
S = TypeVar("S", bound=enum.Enum)
H = TypeVar("H", bound=Handler)
F = TypeVar("F", bound="type[Flow[Any]]")
FLOWS_PACKAGE = "assistant.flows"
MARKS = "__dialog_routes__"  # the attribute the decorators set on what they mark


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

    def __init__(self, *, document_sent: Iterable[DocumentSentHook] = ()) -> None:
        self.commands: dict[str, Route] = {}
        self.buttons: dict[str, Route] = {}
        self.flows: dict[str, Flow[Any]] = {}
        self.free_text: Handler | None = None
        self.text_routes: list[tuple[Callable[[str], bool], Route]] = []
        self.document_sent_hooks: tuple[DocumentSentHook, ...] = tuple(document_sent)

    def add_module(self, module: ModuleType) -> None:
        """Register what is marked in ``module`` and defined there (not merely imported)."""
        for value in list(vars(module).values()):
            if getattr(value, "__module__", None) == module.__name__:
                self.add(value)

    def add(self, target: object) -> None:
        """Register a marked handler or flow class by its marks (in the order they were set)."""
        for mark in marks_of(target):
            if mark.kind == "flow":
                self.flow(cast("type[Flow[Any]]", target))
                continue
            handler = cast(Handler, target)
            if mark.kind == "command":
                self.command(mark.key, login_required=mark.login_required,
                             placeholder=mark.placeholder)(handler)  # fmt: skip
            elif mark.kind == "button":
                self.button(mark.key, login_required=mark.login_required,
                            placeholder=mark.placeholder)(handler)  # fmt: skip
            elif mark.kind == "text_handler":
                self.text_handler(handler)
            elif mark.recognises is not None:
                self.text_route(mark.recognises, login_required=mark.login_required)(handler)

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

    async def document_delivered(self, attachment: Attachment, file_id: str) -> None:
        """A front-end uploaded ``attachment`` and got Telegram's ``file_id``: run every
        ``document_sent`` hook (one failing does not stop the others)."""
        for hook in self.document_sent_hooks:
            try:
                await hook(attachment, file_id)
            except Exception:
                logger.exception(
                    "document_sent hook failed for document %s", attachment.document_id
                )

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


@dataclass(frozen=True)
class Mark:
    """What a decorator noted on a handler or flow class, for the loader."""

    kind: Literal["command", "button", "flow", "text_handler", "text_route"]
    key: str = ""
    login_required: bool = False
    placeholder: bool = False
    recognises: Callable[[str], bool] | None = None


def _mark(target: object, mark: Mark) -> None:
    """Append ``mark`` to the marks of ``target`` (its own, never a base class's)."""
    setattr(target, MARKS, (*vars(target).get(MARKS, ()), mark))


def marks_of(target: object) -> tuple[Mark, ...]:
    """The marks set on ``target`` itself (a subclass of a marked flow has none of its own)."""
    found: tuple[Mark, ...] = getattr(target, "__dict__", {}).get(MARKS, ())
    return found


def command(
    name: str, *, login_required: bool = False, placeholder: bool = False
) -> Callable[[H], H]:
    """Mark ``async def handler(ctx)`` as the handler of /name (canonical Italian name)."""

    def decorate(handler: H) -> H:
        _mark(handler, Mark("command", name, login_required, placeholder))
        return handler

    return decorate


def button(
    prefix: str, *, login_required: bool = False, placeholder: bool = False
) -> Callable[[H], H]:
    """Mark a handler of the buttons whose data starts with ``prefix`` (longest wins)."""

    def decorate(handler: H) -> H:
        _mark(handler, Mark("button", prefix, login_required, placeholder))
        return handler

    return decorate


def flow(cls: F) -> F:
    """Mark a ``Flow`` subclass (class decorator); the registry makes one instance of it."""
    _mark(cls, Mark("flow", cls.name))
    return cls


def text_handler(handler: H) -> H:
    """Mark the handler of free text outside a flow that no text route claims (the FAQ)."""
    _mark(handler, Mark("text_handler"))
    return handler


def text_route(
    recognises: Callable[[str], bool], *, login_required: bool = False
) -> Callable[[H], H]:
    """Mark a handler of free text outside a flow that ``recognises(text)`` claims."""

    def decorate(handler: H) -> H:
        _mark(handler, Mark("text_route", login_required=login_required, recognises=recognises))
        return handler

    return decorate


def load_flows(
    package: str = FLOWS_PACKAGE, *, document_sent: Iterable[DocumentSentHook] = ()
) -> Registry:
    """A new ``Registry`` of everything marked in the modules of ``package`` (in the order of
    their names, each in the order of definition), with the ``document_sent`` hooks."""
    registry = Registry(document_sent=document_sent)
    root = importlib.import_module(package)
    for info in sorted(pkgutil.iter_modules(root.__path__), key=lambda m: m.name):
        registry.add_module(importlib.import_module(f"{package}.{info.name}"))
    return registry
