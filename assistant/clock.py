"""Time, injectable: the core asks a ``Clock`` instead of calling ``datetime.now``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Protocol

from store.values import iso, parse_iso  # the store's text form of a moment, re-exported


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


__all__ = ["Clock", "ManualClock", "SystemClock", "iso", "parse_iso"]
