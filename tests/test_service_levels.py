"""Business hours, Italian holidays and the first-response due time: pure, no store, no clock."""

from __future__ import annotations

import random
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from assistant.service_levels import (
    ServiceLevel,
    business_time_between,
    first_response_due,
    is_overdue,
    overdue_cutoff,
    parse_business_hours,
)

ROME = ZoneInfo("Europe/Rome")
HOURS = parse_business_hours("mon-fri 09:00-18:00")
SLA = 8


def rome(*args: int) -> datetime:
    return datetime(*args, tzinfo=ROME)  # type: ignore[misc]


@pytest.mark.parametrize(
    ("received", "due"),
    [
        # Friday 17:30 before Easter Monday 2026 (6 April): half an hour, then Tuesday
        (rome(2026, 4, 3, 17, 30), rome(2026, 4, 7, 16, 30)),
        # Friday 17:30 before 2 June 2025, a Monday (Festa della Repubblica)
        (rome(2025, 5, 30, 17, 30), rome(2025, 6, 3, 16, 30)),
        # at night: the clock starts at 09:00
        (rome(2026, 1, 14, 2, 0), rome(2026, 1, 14, 17, 0)),
        # at 18:00 sharp: the day is over
        (rome(2026, 1, 14, 18, 0), rome(2026, 1, 15, 17, 0)),
        # on Saturday: Monday
        (rome(2026, 1, 17, 11, 0), rome(2026, 1, 19, 17, 0)),
        # on Christmas (Thursday), then Santo Stefano and a weekend: Monday 29
        (rome(2025, 12, 25, 10, 0), rome(2025, 12, 29, 17, 0)),
        # in the middle of a day: into the next
        (rome(2026, 1, 14, 14, 0), rome(2026, 1, 15, 13, 0)),
    ],
)
def test_the_due_time_counts_business_hours_only(received: datetime, due: datetime) -> None:
    assert first_response_due(received, HOURS, SLA) == due
    assert first_response_due(received, HOURS, SLA).tzinfo is UTC


def test_summer_time_keeps_the_opening_hours_in_local_time() -> None:
    # Friday 27 March 2026 17:00 CET; the clocks go forward on Sunday 29: Monday 16:00 CEST
    due = first_response_due(rome(2026, 3, 27, 17, 0), HOURS, SLA)
    assert due == rome(2026, 3, 30, 16, 0) and due.utcoffset() == timedelta(0)
    assert due == datetime(2026, 3, 30, 14, 0, tzinfo=UTC)
    # and back on Sunday 25 October 2026: Monday 16:00 CET is 15:00 UTC
    assert first_response_due(rome(2026, 10, 23, 17, 0), HOURS, SLA) == datetime(
        2026, 10, 26, 15, 0, tzinfo=UTC
    )


def test_round_the_clock_hours_count_real_time_across_the_changes() -> None:
    always = parse_business_hours("mon-sun 00:00-24:00")
    # 23:00 CET on 28 March 2026 + 3 hours = 03:00 CEST (02:00 never happened)
    assert first_response_due(rome(2026, 3, 28, 23, 0), always, 3) == rome(2026, 3, 29, 3, 0)
    # the day the clocks go forward lasts 23 hours, the day they go back 25
    assert business_time_between(rome(2026, 3, 29), rome(2026, 3, 30), always) == timedelta(
        hours=23
    )
    assert business_time_between(rome(2026, 10, 25), rome(2026, 10, 26), always) == timedelta(
        hours=25
    )
    # Easter Monday is closed even round the clock
    assert business_time_between(rome(2026, 4, 6), rome(2026, 4, 7), always) == timedelta(0)


def test_the_patron_saint_of_a_province_closes_too() -> None:
    # Friday 4 December 2026 17:30; Monday 7 is Sant'Ambrogio in Milan, Tuesday 8 Immacolata
    national, milan = HOURS, parse_business_hours("mon-fri 09:00-18:00", province="MI")
    assert first_response_due(rome(2026, 12, 4, 17, 30), national, SLA) == rome(2026, 12, 7, 16, 30)
    assert first_response_due(rome(2026, 12, 4, 17, 30), milan, SLA) == rome(2026, 12, 9, 16, 30)


def test_several_groups_and_a_lunch_break() -> None:
    hours = parse_business_hours("mon-thu 09:00-13:00, 14:00-18:00; fri 09:00-13:00")
    assert hours.week[0] == hours.week[3] and len(hours.week[0]) == 2
    assert len(hours.week[4]) == 1 and hours.week[5] == hours.week[6] == ()
    # Thursday 12:00: 1 h before lunch, 4 h after, Friday 3 h → Friday 12:00
    assert first_response_due(rome(2026, 1, 15, 12, 0), hours, 8) == rome(2026, 1, 16, 12, 0)
    # inside the lunch break the clock waits for 14:00
    assert first_response_due(rome(2026, 1, 14, 13, 30), hours, 1) == rome(2026, 1, 14, 15, 0)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "mon-fri",
        "monday 09:00-18:00",
        "fri-mon 09:00-18:00",
        "mon-fri 9-18",
        "mon-fri 18:00-09:00",
        "mon-fri 09:00-25:00",
        "mon-fri 09:00-12:00,11:00-13:00",
    ],
)
def test_a_bad_setting_is_refused_with_a_sentence(text: str) -> None:
    with pytest.raises(ValueError):
        parse_business_hours(text)


def test_an_unknown_province_is_refused() -> None:
    with pytest.raises(ValueError, match="province"):
        parse_business_hours("mon-fri 09:00-18:00", province="XX")


def test_overdue_is_one_comparison_with_the_cutoff() -> None:
    now = rome(2026, 4, 7, 10, 0)  # Tuesday after Easter Monday
    cutoff = overdue_cutoff(now, HOURS, SLA)
    # 1 h on Tuesday, Easter Monday closed, 7 h back from Friday 18:00: Friday 11:00
    assert cutoff == rome(2026, 4, 3, 11, 0)
    assert is_overdue(cutoff, now, HOURS, SLA)
    assert not is_overdue(cutoff + timedelta(seconds=1), now, HOURS, SLA)
    generator = random.Random(12)
    start = rome(2026, 3, 1)
    for _ in range(500):
        received = start + timedelta(minutes=generator.randrange(60 * 24 * 60))
        moment = received + timedelta(minutes=generator.randrange(60 * 24 * 10))
        limit = overdue_cutoff(moment, HOURS, SLA)
        assert is_overdue(received, moment, HOURS, SLA) == (received <= limit)


def test_business_time_between_two_moments() -> None:
    assert business_time_between(
        rome(2026, 4, 3, 17, 30), rome(2026, 4, 7, 16, 30), HOURS
    ) == timedelta(hours=8)
    assert business_time_between(rome(2026, 1, 17), rome(2026, 1, 18, 23), HOURS) == timedelta(0)
    assert business_time_between(rome(2026, 1, 15), rome(2026, 1, 14), HOURS) == timedelta(0)


def test_the_settings_read_the_business_hours_and_the_service_level() -> None:
    from assistant.errors import SettingsError
    from assistant.settings import Settings

    default = Settings.from_environ({})
    assert default.staff_business_hours == HOURS and default.sla_first_response_hours == 8
    custom = Settings.from_environ(
        {
            "STAFF_BUSINESS_HOURS": "mon-thu 08:30-17:30; fri 08:30-14:00",
            "STAFF_HOLIDAY_PROVINCE": "mi",
            "SLA_FIRST_RESPONSE_HOURS": "4",
        }
    )
    assert custom.staff_business_hours.province == "MI"
    assert custom.staff_business_hours.week[4] == ((time(8, 30), time(14, 0)),)
    assert custom.sla_first_response_hours == 4
    for name, value in (
        ("STAFF_BUSINESS_HOURS", "lun-ven 9-18"),
        ("STAFF_HOLIDAY_PROVINCE", "Gotham"),
        ("SLA_FIRST_RESPONSE_HOURS", "0"),
    ):
        with pytest.raises(SettingsError, match=name):
            Settings.from_environ({name: value})


def test_the_business_clock_agrees_with_the_plain_count() -> None:
    level = ServiceLevel(parse_business_hours("mon-fri 09:00-13:00,14:00-18:00", "RM"), SLA)
    generator = random.Random(5)
    start = rome(2026, 3, 20).timestamp()  # over the change to summer time and Easter
    spans = []
    for _ in range(400):
        a = start + generator.uniform(0, 40 * 86400)
        spans.append((a, a + generator.uniform(-3600, 9 * 86400)))
    fast = level.business_durations(spans)
    for (a, b), seconds in zip(spans, fast, strict=True):
        plain = business_time_between(
            datetime.fromtimestamp(a, UTC), datetime.fromtimestamp(b, UTC), level.hours
        )
        assert seconds == pytest.approx(plain.total_seconds(), abs=1e-3)
    assert level.business_durations([]) == []
