"""``Services``: everything the console's handlers use, built by ``main.py`` and handed over."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol, cast

from starlette.requests import Request

from assistant.clock import Clock
from assistant.settings import Settings
from assistant.texts import Texts
from assistant.tickets import TicketService
from store.store import Store


class ServiceLevel(Protocol):
    """The first-response service level (business hours; slice 12b provides it)."""

    def due_at(self, created_at: datetime) -> datetime:
        """When the first staff answer to a ticket opened at ``created_at`` is due."""
        ...

    def overdue_cutoff(self, now: datetime) -> datetime:
        """Tickets opened before this moment and still unanswered are overdue ``now``."""
        ...

    def business_durations(self, spans: Sequence[tuple[float, float]]) -> list[float]:
        """Business seconds of each (start, end) in POSIX seconds (the dashboard's median)."""
        ...


class UpdateReceiver(Protocol):
    """Where ``POST /telegram/webhook`` hands a pushed update (``bot.webhook.WebhookUpdates``)."""

    @property
    def accepting(self) -> bool:
        """False while the service drains (the route answers 503)."""
        ...

    async def handle(self, payload: Mapping[str, Any]) -> bool:
        """Handle the update to its end; False: not taken (draining). ``ValueError``: not an
        update."""
        ...


@dataclass(frozen=True)
class Probe:
    """One part ``/readyz`` checks: its name (shown) and whether it answers now."""

    name: str
    check: Callable[[], Awaitable[bool]]


@dataclass(frozen=True, kw_only=True)
class Services:
    """What ``create_app`` serves with; one per process."""

    store: Store
    settings: Settings
    clock: Clock
    texts: Texts  # the customers' templates (FAQ answers in it/en)
    tickets: TicketService  # the same service as ``main.py tickets reply``
    service_level: ServiceLevel | None = None  # None: no "overdue" filter, no due times
    telegram_updates: UpdateReceiver | None = None  # webhook mode: POST /telegram/webhook
    probes: tuple[Probe, ...] = ()  # /readyz: checked beside the database (the Bot API, ...)


def services(request: Request) -> Services:
    """The app's services, from a request."""
    return cast(Services, request.app.state.services)
