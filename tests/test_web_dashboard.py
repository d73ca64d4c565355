"""The dashboard's arithmetic, pure: local days from UTC hours, the chart, shares and medians."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from assistant.service_levels import ServiceLevel, parse_business_hours
from store.staff_figures import TicketFigures
from web.dashboard import chart, daily_counts, duration, windows

NOW = datetime(2026, 3, 30, 12, 0, tzinfo=UTC)  # Monday after the change to summer time


def test_utc_hours_fall_into_rome_days_summer_time_or_not() -> None:
    hourly = [
        ("2026-03-28T22", 1),  # 23:00 on Saturday 28 in Rome (CET)
        ("2026-03-28T23", 2),  # midnight: Sunday 29
        ("2026-03-29T21", 4),  # 23:00 on Sunday 29 (CEST)
        ("2026-03-29T22", 8),  # midnight: Monday 30
        ("2026-02-01T10", 16),  # outside the last 30 days
    ]
    days = dict(daily_counts(hourly, NOW, 30))
    assert len(days) == 30 and max(days) == date(2026, 3, 30) and min(days) == date(2026, 3, 1)
    assert (days[date(2026, 3, 28)], days[date(2026, 3, 29)], days[date(2026, 3, 30)]) == (1, 6, 8)
    assert sum(days.values()) == 15


def test_the_chart_scales_to_the_busiest_day() -> None:
    drawn = chart([(date(2026, 3, 1), 0), (date(2026, 3, 2), 5), (date(2026, 3, 3), 10)])
    assert drawn.top == 10 and [b.height for b in drawn.bars] == [0, 60, 120]
    assert [b.y + b.height for b in drawn.bars] == [120, 120, 120]  # bars stand on the axis
    assert chart([(date(2026, 3, 1), 0)]).top == 1  # an empty month does not divide by zero


def test_shares_and_medians_of_each_window() -> None:
    hour = 3600.0
    monday_9 = datetime(2026, 3, 30, 7, 0, tzinfo=UTC).timestamp()  # 09:00 in Rome
    friday_17 = datetime(2026, 3, 27, 16, 0, tzinfo=UTC).timestamp()  # 17:00 in Rome (CET)
    figures = TicketFigures(
        open=3, overdue=1, unassigned=2,
        faq_answers={7: 6, 30: 10}, auto_answered={7: 2, 30: 4}, tickets={7: 10, 30: 20},
        hourly=(),
        first_replies=(
            (monday_9, monday_9 + 2 * hour),  # 2 business hours
            (friday_17, monday_9 + hour),  # Friday 1 h + Monday 1 h = 2, over a weekend
            (monday_9 - 20 * 86400, monday_9 - 19 * 86400),  # only in the 30 days
        ),
    )  # fmt: skip
    level = ServiceLevel(parse_business_hours("mon-fri 09:00-18:00"), 8)
    week, month = windows(figures, NOW, level.business_durations)
    assert (week.settled, week.person, week.share) == (8, 8, 0.5)
    assert (month.settled, month.person) == (14, 16)
    assert week.first_replies == 2 and month.first_replies == 3
    assert week.median_business == timedelta(hours=2)
    calendar = timedelta(days=2, hours=16)  # Friday 17:00 to Monday 10:00, an hour lost in March
    assert week.median_calendar == (timedelta(hours=2) + calendar) / 2
    assert windows(figures, NOW, None)[0].median_business is None


def test_durations_read_in_italian() -> None:
    assert duration(None) == "—"
    assert duration(timedelta(minutes=45)) == "45 min"
    assert duration(timedelta(hours=2, minutes=5)) == "2 h 05 min"
    assert duration(timedelta(days=3, hours=4, minutes=10)) == "3 g 4 h"
