"""Time, injectable: the core asks a ``Clock`` instead of calling ``datetime.now``."""

from __future__ import annotations

import functools
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    """Something that tells the current time (timezone-aware, UTC)."""

    def now(self) -> datetime:
        """The current time."""
        ...


class SystemClock:
    """The real clock."""

    def now(self) -> datetime:
        """The current time in UTC."""
        return datetime.now(UTC)


class ManualClock:
    """A clock tests move by hand."""

    def __init__(self, start: datetime | None = None) -> None:
        self._now = start or datetime(2026, 1, 15, 9, 0, tzinfo=UTC)

    def now(self) -> datetime:
        """The time the test set."""
        return self._now

    def advance(self, **delta: float) -> None:
        """Move forward, e.g. ``advance(minutes=61)``."""
        self._now += timedelta(**delta)


@functools.lru_cache(maxsize=64)  # a batch of writes shares one moment: convert it once
def iso(moment: datetime) -> str:
    """The store's text form of a moment: ISO 8601 in UTC."""
    return moment.astimezone(UTC).isoformat()


def parse_iso(text: str) -> datetime:
    """The inverse of ``iso``."""
    value = datetime.fromisoformat(text)
    return value if value.tzinfo else value.replace(tzinfo=UTC)
