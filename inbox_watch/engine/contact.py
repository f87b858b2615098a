"""When and how to reach a silent candidate by phone: their mobile (never an office landline),
at a time outside their working hours (commute, lunch, after work)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from inbox_watch.engine.clock import BusinessClock

# Good moments to catch someone who works office hours, in the candidate's (policy) time zone.
CALL_WINDOWS = (
    (time(8, 15), "before work, on their commute"),
    (time(12, 30), "at lunchtime"),
    (time(17, 45), "after work"),
)

_LANDLINE_UK = re.compile(r"^(?:\+?44\s*\(?0?\)?\s*|0)[123]")
_MOBILE_UK = re.compile(r"^(?:\+?44\s*\(?0?\)?\s*|0)7")
_PHONE_IN_TEXT = re.compile(r"(?:mobile|mob|cell|m)\s*[:.]?\s*(\+?[\d][\d\s().-]{8,16}\d)", re.I)


@dataclass(frozen=True, slots=True)
class CallSuggestion:
    phone: str
    at: datetime
    why: str

    def describe(self, clock: BusinessClock) -> str:
        return f"call {self.phone} {clock.local(self.at):%a %H:%M} ({self.why})"


def is_landline(phone: str) -> bool:
    """True for numbers that are clearly office landlines (UK geographic numbers)."""
    digits = re.sub(r"[\s().-]", "", phone)
    return bool(_LANDLINE_UK.match(digits)) and not _MOBILE_UK.match(digits)


def mobile_from_text(text: str) -> str:
    """A mobile number written in a signature ("Mobile: 07700 900123"), or ""."""
    for match in _PHONE_IN_TEXT.finditer(text):
        number = " ".join(match.group(1).split())
        if not is_landline(number):
            return number
    return ""


def suggest_call(phone: str, now: datetime, clock: BusinessClock) -> CallSuggestion | None:
    """The next good moment to call ``phone`` on a business day (a configured workday that is
    no public holiday); None when there is no usable mobile number."""
    if not phone or is_landline(phone):
        return None
    local = clock.local(now)
    for days in range(0, 15):  # the Christmas and New Year break fits in a fortnight
        day = local.date() + timedelta(days=days)
        if not clock.is_business_day(day):
            continue
        for at, why in CALL_WINDOWS:
            moment = datetime.combine(day, at, tzinfo=clock.tz)
            if moment > local + timedelta(minutes=5):
                return CallSuggestion(phone, moment, why)
    return None
