"""Reaching a silent candidate by phone: their mobile only, at a good moment on a business day."""

from __future__ import annotations

from inbox_watch.config import Policy
from inbox_watch.engine.clock import BusinessClock
from inbox_watch.engine.contact import is_landline, mobile_from_text, suggest_call
from tests.builders import at

clock = BusinessClock(Policy())


def test_no_suggestion_for_a_landline_or_no_number() -> None:
    assert is_landline("020 7946 0000") and not is_landline("07700 900001")
    assert suggest_call("020 7946 0000", at("2026-11-23 10:00"), clock) is None
    assert suggest_call("", at("2026-11-23 10:00"), clock) is None
    assert mobile_from_text("Jane\nMobile: 07700 900123\nOffice: 020 7946 0000") == "07700 900123"


def test_the_next_window_on_a_working_day() -> None:
    suggestion = suggest_call("07700 900001", at("2026-11-23 10:00"), clock)
    assert suggestion is not None and suggestion.at == at("2026-11-23 12:30")
    after_work_friday = suggest_call("07700 900001", at("2026-11-27 18:00"), clock)
    assert after_work_friday is not None and after_work_friday.at == at("2026-11-30 08:15")


def test_public_holidays_are_skipped() -> None:
    # Thursday 24 Dec 2026, evening: Christmas Day, the weekend and Boxing Day (observed on
    # Monday 28) are days off; the next commute is Tuesday 29 December.
    suggestion = suggest_call("07700 900001", at("2026-12-24 18:00"), clock)
    assert suggestion is not None and suggestion.at == at("2026-12-29 08:15")
    assert suggestion.describe(clock) == "call 07700 900001 Tue 08:15 (before work, on their commute)"


def test_the_configured_workdays_are_followed() -> None:
    # A Sunday-to-Thursday week: Friday evening's next moment is Sunday morning.
    sunday_week = BusinessClock(Policy(workdays=(6, 0, 1, 2, 3), holidays=""))
    found = suggest_call("07700 900001", at("2026-11-27 18:00"), sunday_week)
    assert found is not None and found.at == at("2026-11-29 08:15")
