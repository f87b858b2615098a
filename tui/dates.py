"""The snooze dialog's dates as a recruiter types them: "2026-12-10", "10/12" (in the
policy's day order: day first except where month first is the custom), "fri", "next monday",
"+3d", "+2w", "tomorrow". dateutil does the calendar dates; the relative forms are here."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta

from dateutil import parser as dateutil_parser

from inbox_watch.config import Policy

# Where dates are written month first (10/12 is 12 October); everywhere else, day first.
MONTH_FIRST = frozenset({"US", "PH", "FM", "MH", "PW", "GU", "AS", "MP", "PR", "VI", "UM"})
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_RELATIVE = re.compile(r"^\+\s*(\d{1,3})\s*([dw]?)$")


def day_first(policy: Policy) -> bool:
    return policy.phone_region not in MONTH_FIRST


def _weekday(word: str) -> int | None:
    word = word.rstrip(".")
    if len(word) < 2:
        return None
    for index, name in enumerate(WEEKDAYS):
        if name.startswith(word) and (len(word) >= 3 or word in ("mo", "tu", "we", "th", "fr", "sa", "su")):
            return index
    return None


def parse_when(text: str, today: date, *, dayfirst: bool = True) -> date | None:
    """The date ``text`` means, seen from ``today``; None when it is not a date."""
    words = " ".join(text.strip().lower().split())
    if not words:
        return None
    if words == "today":
        return today
    if words == "tomorrow":
        return today + timedelta(days=1)
    relative = _RELATIVE.match(words)
    if relative:
        count = int(relative.group(1))
        return today + timedelta(days=count * (7 if relative.group(2) == "w" else 1))
    nxt = words.startswith("next ")
    day = _weekday(words[5:] if nxt else words)
    if day is not None:
        if nxt:  # "next monday": that day in next week (weeks start on Monday)
            return today - timedelta(days=today.weekday()) + timedelta(days=7 + day)
        ahead = (day - today.weekday()) % 7 or 7  # "fri": the coming Friday, never today
        return today + timedelta(days=ahead)
    if re.fullmatch(r"\d{4}-\d{1,2}-\d{1,2}", words):
        dayfirst = False  # ISO dates are year-month-day everywhere
    try:
        parsed = dateutil_parser.parse(words, dayfirst=dayfirst, default=datetime(today.year, today.month, today.day))
    except (ValueError, OverflowError):
        return None
    result = parsed.date()
    if result < today and not re.search(r"\d{4}", words):
        try:  # "10/3" in December: next March, not last
            result = result.replace(year=result.year + 1)
        except ValueError:
            return None
    return result
