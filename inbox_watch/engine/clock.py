"""Business time: the recruiter's working hours on workdays, in the policy time zone,
skipping public holidays. Daylight-saving changes are handled by working in wall-clock
time per day and measuring in absolute time."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from inbox_watch.config import Policy, holiday_region

_SECONDS_PER_HOUR = 3600.0


@lru_cache(maxsize=64)
def _holiday_calendar(region: str, first_year: int, last_year: int) -> frozenset[date]:
    """``region`` is the policy's ``holidays``: a country code, optionally with a subdivision
    ("GB-ENG"); without one the package gives only the country-wide days."""
    if not region:
        return frozenset()
    import holidays

    country, _, subdivision = region.partition("-")
    years = range(first_year, last_year + 1)
    try:
        found = holidays.country_holidays(country, subdiv=subdivision or None, years=years)
    except NotImplementedError:
        try:  # the subdivision written in another case ("gb-eng")
            country, canonical = holiday_region(region)
            found = holidays.country_holidays(country, subdiv=canonical, years=years)
        except (LookupError, NotImplementedError):
            return frozenset()
    return frozenset(found.keys())


def holiday_dates(region: str, year: int) -> frozenset[date]:
    """The public holidays of one year (the ``holidays`` package), for callers that keep them."""
    return _holiday_calendar(region, year, year)


class BusinessClock:
    """Measures silence in business hours under one policy. Cheap to build; cache-friendly."""

    def __init__(self, policy: Policy, known_holidays: Mapping[int, frozenset[date]] | None = None) -> None:
        """``known_holidays`` (year -> dates) saves loading the ``holidays`` package for the
        years it covers; other years are computed."""
        self.policy = policy
        self.tz = ZoneInfo(policy.timezone)
        self._windows: dict[date, tuple[float, float] | None] = {}
        self._holiday_years: tuple[int, int] = (0, -1)
        self._holidays: frozenset[date] = frozenset()
        self._known = known_holidays or {}

    def is_holiday(self, day: date) -> bool:
        known = self._known.get(day.year)
        if known is not None:
            return day in known
        first, last = self._holiday_years
        if not first <= day.year <= last:
            first = min(day.year, first) if first else day.year - 1
            last = max(day.year, last) if last >= first else day.year + 1
            self._holiday_years = (first, last)
            self._holidays = _holiday_calendar(self.policy.holidays, first, last)
        return day in self._holidays

    def is_business_day(self, day: date) -> bool:
        return day.weekday() in self.policy.workdays and not self.is_holiday(day)

    def window(self, day: date) -> tuple[float, float] | None:
        """The working window of ``day`` as UTC timestamps, or None on a day off."""
        try:
            return self._windows[day]
        except KeyError:
            pass
        result: tuple[float, float] | None = None
        if self.is_business_day(day):
            start = datetime.combine(day, self.policy.day_start, tzinfo=self.tz).timestamp()
            end = datetime.combine(day, self.policy.day_end, tzinfo=self.tz).timestamp()
            result = (start, end)
        self._windows[day] = result
        return result

    def local(self, moment: datetime) -> datetime:
        return moment.astimezone(self.tz)

    def business_hours_between(self, start: datetime, end: datetime) -> float:
        """Working hours between two instants (0 when ``end`` is not after ``start``)."""
        if end <= start:
            return 0.0
        t0, t1 = start.timestamp(), end.timestamp()
        day = self.local(start).date()
        last = self.local(end).date()
        total = 0.0
        while day <= last:
            window = self.window(day)
            if window is not None:
                lo, hi = max(window[0], t0), min(window[1], t1)
                if hi > lo:
                    total += hi - lo
            day += timedelta(days=1)
        return total / _SECONDS_PER_HOUR

    def add_business_hours(self, start: datetime, hours: float) -> datetime:
        """The instant at which ``hours`` of working time have passed since ``start``."""
        remaining = hours * _SECONDS_PER_HOUR
        t = start.timestamp()
        day = self.local(start).date()
        for _ in range(3660):
            window = self.window(day)
            if window is not None:
                lo = max(window[0], t)
                if window[1] > lo:
                    available = window[1] - lo
                    if available >= remaining:
                        return datetime.fromtimestamp(lo + remaining, UTC)
                    remaining -= available
            day += timedelta(days=1)
        return datetime.fromtimestamp(t, UTC) + timedelta(days=3660)

    def format_hours(self, hours: float) -> str:
        """Business time for people: "45m", "3h", "2d 3h" (a day = one working day)."""
        per_day = self.policy.business_hours_per_day or 8.0
        minutes = int(round(hours * 60))
        if minutes < 60:
            return f"{minutes}m"
        days, rest = divmod(minutes, int(round(per_day * 60)))
        h = rest // 60
        if days:
            return f"{days}d {h}h" if h else f"{days}d"
        return f"{h}h"

    def sub_business_hours(self, end: datetime, hours: float) -> datetime:
        """The instant ``hours`` of working time before ``end``."""
        remaining = hours * _SECONDS_PER_HOUR
        t = end.timestamp()
        day = self.local(end).date()
        for _ in range(3660):
            window = self.window(day)
            if window is not None:
                hi = min(window[1], t)
                if hi > window[0]:
                    available = hi - window[0]
                    if available >= remaining:
                        return datetime.fromtimestamp(hi - remaining, UTC)
                    remaining -= available
            day -= timedelta(days=1)
        return datetime.fromtimestamp(t, UTC) - timedelta(days=3660)
