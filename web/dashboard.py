"""The dashboard: how the support service is doing, at a glance.

    GET /dashboard

Open tickets (waiting for a person), of those the overdue and the unassigned ones; over the
last 7 and 30 days, the share of questions settled without a person (the chat's FAQ answers
and the mail answered from the FAQ, against those plus the tickets that needed a person) and
the median time to the first reply by a person (in business hours and in calendar time); and
the tickets opened per day over 30 days as a small SVG chart drawn on the server (no script,
nothing the Content-Security-Policy would have to allow).

The store counts (``store.staff_figures``); what the counts mean is worked out here, in pure
functions over plain values (``windows``, ``daily_counts``, ``chart``).
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from starlette.requests import Request
from starlette.responses import Response

from store.staff_figures import TicketFigures
from web.context import services
from web.guard import Who
from web.render import render

ZONE = ZoneInfo("Europe/Rome")
WINDOWS = (7, 30)
CHART_DAYS = 30
CHART_HEIGHT = 120  # the bars' area, in SVG units
BAR_WIDTH, BAR_GAP = 16, 4


@dataclass(frozen=True)
class Window:
    """The figures of the last ``days`` days."""

    days: int
    settled: int  # questions settled without a person: FAQ in the chat and by mail
    person: int  # tickets that needed a person
    first_replies: int  # tickets whose first reply by a person came in the window
    median_business: timedelta | None
    median_calendar: timedelta | None

    @property
    def share(self) -> float | None:
        """The share settled without a person (None when there were no questions)."""
        total = self.settled + self.person
        return self.settled / total if total else None


@dataclass(frozen=True)
class Bar:
    day: date
    count: int
    x: int
    y: int
    height: int


@dataclass(frozen=True)
class Chart:
    bars: tuple[Bar, ...]
    top: int  # the count the full height stands for
    width: int
    height: int
    bar_width: int = BAR_WIDTH


async def dashboard(request: Request, who: Who) -> Response:
    """The dashboard."""
    svc = services(request)
    now = svc.clock.now()
    level = svc.service_level
    cutoff = level.overdue_cutoff(now) if level is not None else None
    figures = await svc.store.staff_views.ticket_figures(now, cutoff, WINDOWS)
    business = level.business_durations if level is not None else None
    return render(
        request,
        "dashboard.html",
        figures=figures,
        windows=windows(figures, now, business),
        chart=chart(daily_counts(figures.hourly, now, CHART_DAYS)),
        duration=duration,
    )


def windows(
    figures: TicketFigures,
    now: datetime,
    business_durations: Callable[[Sequence[tuple[float, float]]], list[float]] | None,
) -> list[Window]:
    """Each window's share settled without a person and median first reply."""
    spans = figures.first_replies
    business = business_durations(spans) if business_durations else [None] * len(spans)
    replies = [  # (replied at, business seconds, calendar seconds), each worked out once
        (end, hours, end - start) for (start, end), hours in zip(spans, business, strict=True)
    ]
    found = []
    for days in WINDOWS:
        since = (now - timedelta(days=days)).timestamp()
        inside = [(business, calendar) for at, business, calendar in replies if at >= since]
        settled = figures.faq_answers[days] + figures.auto_answered[days]
        found.append(
            Window(
                days=days,
                settled=settled,
                person=figures.tickets[days] - figures.auto_answered[days],
                first_replies=len(inside),
                median_business=(
                    _median([b for b, _ in inside if b is not None]) if business_durations else None
                ),
                median_calendar=_median([c for _, c in inside]),
            )
        )
    return found


def daily_counts(
    hourly: Sequence[tuple[str, int]], now: datetime, days: int
) -> list[tuple[date, int]]:
    """Tickets opened per local (Rome) day, the last ``days`` days up to today, from counts per
    UTC hour (``YYYY-MM-DDTHH``): an hour belongs to one local day, summer time or not."""
    today = now.astimezone(ZONE).date()
    counts = {today - timedelta(days=n): 0 for n in range(days)}
    for hour, count in hourly:
        moment = datetime.fromisoformat(f"{hour}:00+00:00")
        day = moment.astimezone(ZONE).date()
        if day in counts:
            counts[day] += count
    return sorted(counts.items())


def chart(daily: Sequence[tuple[date, int]]) -> Chart:
    """Bars for the SVG: one per day, scaled to the busiest (at least 1)."""
    top = max([1, *(count for _, count in daily)])
    bars = []
    for index, (day, count) in enumerate(daily):
        height = round(CHART_HEIGHT * count / top)
        bars.append(Bar(day, count, index * (BAR_WIDTH + BAR_GAP), CHART_HEIGHT - height, height))
    return Chart(tuple(bars), top, len(daily) * (BAR_WIDTH + BAR_GAP), CHART_HEIGHT)


def duration(value: timedelta | None) -> str:
    """2 h 05 min, 45 min, 3 g 4 h; a dash for None."""
    if value is None:
        return "—"
    minutes = round(value.total_seconds() / 60)
    days, minutes = divmod(minutes, 24 * 60)
    hours, minutes = divmod(minutes, 60)
    if days:
        return f"{days} g {hours} h"
    return f"{hours} h {minutes:02d} min" if hours else f"{minutes} min"


def _median(seconds: list[float]) -> timedelta | None:
    return timedelta(seconds=statistics.median(seconds)) if seconds else None
