"""Business time of thousands of spans at once: the dashboard's median first reply.

The speed machinery behind ``ServiceLevel.business_durations``; the plain version of one span
is ``service_levels.business_time_between``, and the two agree (tests/test_service_levels.py).

A clock over the days the spans cover: each local day's midnight and the business seconds
before it, and its opening intervals, as numpy arrays (worked out once per day). A moment's
business time since the first day is the seconds before its day (found by ``searchsorted``)
plus its day's intervals clipped at the moment; a span is the difference of its two ends.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, time, timedelta

import numpy as np
import numpy.typing as npt

from assistant.service_levels import ZONE, BusinessHours

Floats = npt.NDArray[np.float64]


def business_seconds(hours: BusinessHours, spans: Sequence[tuple[float, float]]) -> list[float]:
    """Business seconds of each (start, end) in POSIX seconds (zero when end is not later)."""
    if not spans:
        return []
    ends = np.asarray(spans, dtype=np.float64)
    clock = BusinessClock(hours, float(ends.min()), float(ends.max()))
    elapsed = clock.elapsed(ends[:, 1]) - clock.elapsed(ends[:, 0])
    return [float(x) for x in np.maximum(elapsed, 0.0)]


class BusinessClock:
    """Business seconds since the first local day of a range, for arrays of moments in it."""

    def __init__(self, hours: BusinessHours, first: float, last: float) -> None:
        days, day = [], datetime.fromtimestamp(first, ZONE).date()
        while day <= datetime.fromtimestamp(last, ZONE).date():
            days.append(day)
            day += timedelta(days=1)
        openings = [hours.intervals(d) for d in days]
        width = max(1, *(len(o) for o in openings))  # intervals per day, padded to the most
        midnight = [datetime.combine(d, time(0), tzinfo=ZONE).timestamp() for d in days]
        starts = np.array(
            [
                [a for a, _ in o] + [m] * (width - len(o))
                for o, m in zip(openings, midnight, strict=True)
            ]
        )
        ends = np.array(
            [
                [b for _, b in o] + [m] * (width - len(o))
                for o, m in zip(openings, midnight, strict=True)
            ]
        )
        self._midnights: Floats = np.array(midnight)
        self._starts: Floats = starts
        self._lengths: Floats = ends - starts
        totals = self._lengths.sum(axis=1)
        self._before: Floats = np.concatenate(([0.0], np.cumsum(totals)[:-1]))

    def elapsed(self, moments: Floats) -> Floats:
        """Business seconds from the first day's midnight to each moment."""
        day = np.searchsorted(self._midnights, moments, side="right") - 1
        day = np.clip(day, 0, len(self._midnights) - 1)
        within = np.clip(moments[:, None] - self._starts[day], 0.0, self._lengths[day])
        result: Floats = self._before[day] + within.sum(axis=1)
        return result
