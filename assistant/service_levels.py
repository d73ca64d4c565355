"""Service levels: when a ticket waiting for a person must have had its answer.

Pure functions over plain values (no store, no clock, no settings object); the settings hand
in ``BusinessHours`` and ``SLA_FIRST_RESPONSE_HOURS``, the console asks.

    business hours      parse_business_hours     ``STAFF_BUSINESS_HOURS``: "mon-fri 09:00-18:00"
    a closed day        BusinessHours.closed     weekends and Italian public holidays (``holidays``)
    the due time        first_response_due       received + N business hours
    overdue             is_overdue, overdue_cutoff   the cutoff turns "overdue" into one comparison
    elapsed             business_time_between    business time between two moments
                        ServiceLevel.business_durations   thousands at once (the dashboard)
    for the console     ServiceLevel             the above with the settings' values bound

The team works in one zone (Europe/Rome): an opening interval is local wall-clock time, so
09:00-18:00 stays 09:00-18:00 across the changes to and from summer time, and business time is
counted in real seconds (a 24-hour day over the March change lasts 23 hours). A business day
closes on the national holidays of Italy as the ``holidays`` library knows them (Easter Monday,
2 June, Christmas, ...) plus, with ``province`` set, the patron saint's day of that province
(``MI``: Sant'Ambrogio, 7 December).

The due time only moves forward with the receipt time: that is why a ticket received before
``overdue_cutoff(now)`` is overdue, which lets the store filter by one indexed comparison.
"""

from __future__ import annotations

import functools
import itertools
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

if TYPE_CHECKING:
    from holidays import HolidayBase

ZONE = ZoneInfo("Europe/Rome")
DEFAULT_BUSINESS_HOURS = "mon-fri 09:00-18:00"
DEFAULT_FIRST_RESPONSE_HOURS = 8
DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
MAX_DAYS = 3 * 366  # how far the walk looks for business time before giving up

_INTERVAL = re.compile(r"^(\d{1,2}):(\d{2})-(\d{1,2}):(\d{2})$")

Interval = tuple[float, float]  # POSIX seconds: [start, end)


@dataclass(frozen=True)
class BusinessHours:
    """When the support team works: opening intervals per weekday (Monday first), closed on
    Italian public holidays (and on the patron saint's day of ``province``, when set)."""

    week: tuple[tuple[tuple[time, time | None], ...], ...]  # end None: midnight (24:00)
    province: str | None = None
    _days: dict[date, tuple[Interval, ...]] = field(
        default_factory=dict, init=False, compare=False, repr=False
    )  # a cache: each day's intervals are worked out once

    def closed(self, day: date) -> bool:
        """Whether ``day`` is a public holiday (a weekend counts as closed via ``week``)."""
        return day in _italian_holidays(self.province)

    def intervals(self, day: date) -> tuple[Interval, ...]:
        """The opening intervals of a local day, in POSIX seconds (none on a holiday)."""
        found = self._days.get(day)
        if found is None:
            found = self._days[day] = _day_intervals(self, day)
        return found


def parse_business_hours(text: str, province: str | None = None) -> BusinessHours:
    """``mon-fri 09:00-18:00``; groups separated by ``;``, several intervals by ``,``.

    A group is days then intervals: ``mon-thu 09:00-13:00,14:00-18:00; fri 09:00-13:00``.
    Days are ``mon`` … ``sun``, a range ``mon-fri`` or a list ``mon,wed``; ``24:00`` ends at
    midnight. Raises ``ValueError`` with a sentence naming the problem.
    """
    week: list[list[tuple[time, time | None]]] = [[] for _ in DAY_NAMES]
    groups = [g.strip() for g in text.strip().lower().split(";") if g.strip()]
    if not groups:
        raise ValueError("no opening hours given, e.g. mon-fri 09:00-18:00")
    for group in groups:
        days, _, rest = group.partition(" ")
        if not rest.strip():
            raise ValueError(f"expected days and hours, e.g. mon-fri 09:00-18:00, got {group!r}")
        intervals = [_interval(item) for item in "".join(rest.split()).split(",")]
        for weekday in _weekdays(days):
            week[weekday].extend(intervals)
    for weekday, intervals in enumerate(week):
        intervals.sort(key=lambda pair: pair[0])
        for (_, end), (start, _) in itertools.pairwise(intervals):
            if end is None or end > start:
                raise ValueError(f"overlapping hours on {DAY_NAMES[weekday]}")
    if province is not None:
        province = italian_province(province)
    return BusinessHours(week=tuple(tuple(day) for day in week), province=province)


def italian_province(code: str) -> str:
    """A province code as ``holidays`` spells it (``mi`` → ``MI``), or ``ValueError``."""
    import holidays

    known = {name.lower(): name for name in holidays.IT.subdivisions}
    found = known.get(code.strip().lower())
    if found is None:
        raise ValueError(f"unknown Italian province code {code!r} (e.g. MI, RM, VR)")
    return found


def first_response_due(received_at: datetime, hours: BusinessHours, sla_hours: float) -> datetime:
    """The moment ``sla_hours`` of business time have passed since ``received_at`` (UTC)."""
    remaining = sla_hours * 3600
    cursor = received_at.timestamp()
    day = received_at.astimezone(ZONE).date()
    for _ in range(MAX_DAYS):
        for start, end in hours.intervals(day):
            if end <= cursor:
                continue
            start = max(start, cursor)
            if end - start >= remaining:
                return datetime.fromtimestamp(start + remaining, UTC)
            remaining -= end - start
        day += timedelta(days=1)
    raise ValueError(f"no {sla_hours} business hours within {MAX_DAYS} days")


def overdue_cutoff(now: datetime, hours: BusinessHours, sla_hours: float) -> datetime:
    """The latest receipt moment whose due time has come by ``now`` (UTC).

    A ticket waiting since ``t`` is overdue at ``now`` exactly when ``t <= overdue_cutoff(now)``:
    it is ``now`` less ``sla_hours`` of business time, walking backwards.
    """
    remaining = sla_hours * 3600
    cursor = now.timestamp()
    day = now.astimezone(ZONE).date()
    for _ in range(MAX_DAYS):
        for start, end in reversed(hours.intervals(day)):
            if start >= cursor:
                continue
            end = min(end, cursor)
            if end - start >= remaining:
                return datetime.fromtimestamp(end - remaining, UTC)
            remaining -= end - start
        day -= timedelta(days=1)
    raise ValueError(f"no {sla_hours} business hours within {MAX_DAYS} days")


def is_overdue(
    waiting_since: datetime, now: datetime, hours: BusinessHours, sla_hours: float
) -> bool:
    """Whether a ticket waiting for a person since ``waiting_since`` is past its due time."""
    return first_response_due(waiting_since, hours, sla_hours) <= now


def business_time_between(start: datetime, end: datetime, hours: BusinessHours) -> timedelta:
    """Business time from ``start`` to ``end`` (zero when ``end`` is not later)."""
    low, high = start.timestamp(), end.timestamp()
    if high <= low:
        return timedelta(0)
    total = 0.0
    day, last = start.astimezone(ZONE).date(), end.astimezone(ZONE).date()
    while day <= last:
        for a, b in hours.intervals(day):
            total += max(0.0, min(b, high) - max(a, low))
        day += timedelta(days=1)
    return timedelta(seconds=total)


# --- parsing --------------------------------------------------------------------------------


def _weekdays(text: str) -> list[int]:
    """``mon-fri`` → [0..4]; ``mon,wed`` → [0, 2]; ``sat`` → [5]."""
    found: list[int] = []
    for item in text.split(","):
        first, _, last = item.partition("-")
        if first not in DAY_NAMES or (last and last not in DAY_NAMES):
            raise ValueError(f"expected days like mon-fri or sat,sun, got {text!r}")
        low, high = DAY_NAMES.index(first), DAY_NAMES.index(last or first)
        if high < low:
            raise ValueError(f"a range of days goes forward (mon-fri), got {item!r}")
        found.extend(range(low, high + 1))
    return found


def _interval(text: str) -> tuple[time, time | None]:
    """``09:00-18:00`` → (09:00, 18:00); ``00:00-24:00`` ends at midnight (None)."""
    match = _INTERVAL.match(text)
    if not match:
        raise ValueError(f"expected hours like 09:00-18:00, got {text!r}")
    h1, m1, h2, m2 = (int(g) for g in match.groups())
    if h1 > 23 or m1 > 59 or m2 > 59 or h2 > 24 or (h2 == 24 and m2):
        raise ValueError(f"not a time of day in {text!r}")
    start, end = time(h1, m1), None if h2 == 24 else time(h2, m2)
    if end is not None and end <= start:
        raise ValueError(f"an interval ends after it starts, got {text!r}")
    return start, end


# --- cached calendar --------------------------------------------------------------------------


@functools.cache
def _italian_holidays(province: str | None) -> HolidayBase:
    """Italy's public holidays (national, and the province's patron saint), years added lazily.

    ``holidays`` is imported on first use (about 80 ms): processes that never ask pay nothing.
    """
    import holidays

    return holidays.country_holidays("IT", subdiv=province)


def _day_intervals(hours: BusinessHours, day: date) -> tuple[Interval, ...]:
    """A local day's opening intervals as POSIX seconds (wall-clock times, real durations)."""
    if hours.closed(day):
        return ()
    found = []
    for start, end in hours.week[day.weekday()]:
        low = datetime.combine(day, start, tzinfo=ZONE).timestamp()
        if end is None:
            high = datetime.combine(day + timedelta(days=1), time(0), tzinfo=ZONE).timestamp()
        else:
            high = datetime.combine(day, end, tzinfo=ZONE).timestamp()
        found.append((low, high))
    return tuple(found)


@dataclass(frozen=True)
class ServiceLevel:
    """The first-response service level the console applies (``web.context.ServiceLevel``)."""

    hours: BusinessHours
    first_response_hours: float

    def due_at(self, created_at: datetime) -> datetime:
        """When the first staff answer to a ticket received at ``created_at`` is due."""
        return first_response_due(created_at, self.hours, self.first_response_hours)

    def overdue_cutoff(self, now: datetime) -> datetime:
        """Tickets received by this moment and still without a staff answer are overdue."""
        return overdue_cutoff(now, self.hours, self.first_response_hours)

    def business_durations(self, spans: Sequence[tuple[float, float]]) -> list[float]:
        """Business seconds of each (start, end) span in POSIX seconds, thousands at once.

        ``assistant.business_clock`` (numpy, imported on first use) does the counting;
        ``business_time_between`` is the plain version of one span.
        """
        from assistant.business_clock import business_seconds

        return business_seconds(self.hours, spans)
