"""``Services``: everything the console's handlers use, built by ``main.py`` and handed over."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol, cast

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


@dataclass(frozen=True, kw_only=True)
class Services:
    """What ``create_app`` serves with; one per process."""

    store: Store
    settings: Settings
    clock: Clock
    texts: Texts  # the customers' templates (FAQ answers in it/en)
    tickets: TicketService  # the same service as ``main.py tickets reply``
    service_level: ServiceLevel | None = None  # None: no "overdue" filter, no due times


def services(request: Request) -> Services:
    """The app's services, from a request."""
    return cast(Services, request.app.state.services)
