"""Reaching a silent candidate by phone: one libphonenumber judgment of their number (mobile,
landline, either), read in the policy's country, with call times in the candidate's own clock."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from inbox_watch.config import Policy
from inbox_watch.engine.clock import BusinessClock
from inbox_watch.engine.contact import PhoneKind, judge_phone, mobile_from_text, reach_by_phone, suggest_call
from inbox_watch.models import Candidate
from tests.builders import at

clock = BusinessClock(Policy())


@pytest.mark.parametrize(
    ("written", "kind", "display"),
    [
        ("+33 1 23 45 67 89", PhoneKind.LANDLINE, "+33 1 23 45 67 89"),  # a Paris landline
        ("+49 30 1234567", PhoneKind.LANDLINE, "+49 30 1234567"),  # Berlin
        ("0044 20 7946 0123", PhoneKind.LANDLINE, "020 7946 0123"),  # London, written with 00
        ("020 7946 0000", PhoneKind.LANDLINE, "020 7946 0000"),
        ("07700 100001", PhoneKind.MOBILE, "07700 100001"),
        ("+44 (0)7700 100001", PhoneKind.MOBILE, "07700 100001"),
        ("+33 6 12 34 56 78", PhoneKind.MOBILE, "+33 6 12 34 56 78"),
        ("+86 138 0013 8000", PhoneKind.MOBILE, "+86 138 0013 8000"),
        ("+1 212 555 0123", PhoneKind.MOBILE_OR_LANDLINE, "+1 212-555-0123"),
        ("0800 123 4567", PhoneKind.OTHER, "0800 123 4567"),
        ("07700 1234", PhoneKind.INVALID, "07700 1234"),
        ("call me", PhoneKind.INVALID, "call me"),
        ("", PhoneKind.NONE, ""),
    ],
)
def test_every_number_is_judged_by_libphonenumber(written: str, kind: PhoneKind, display: str) -> None:
    found = judge_phone(written, "GB")
    assert (found.kind, found.display) == (kind, display)
    assert found.callable is (kind in (PhoneKind.MOBILE, PhoneKind.MOBILE_OR_LANDLINE))


def test_a_number_without_its_code_is_read_in_the_policys_country() -> None:
    paris = judge_phone("01 23 45 67 89", "FR")
    assert (paris.kind, paris.region, paris.tel) == (PhoneKind.LANDLINE, "FR", "tel:+33-1-23-45-67-89")
    assert judge_phone("06 12 34 56 78", "FR").kind is PhoneKind.MOBILE
    assert judge_phone("06 12 34 56 78", "").kind is PhoneKind.INVALID  # no country: the + code is needed
    # The country follows holidays unless [policy] country says otherwise.
    assert Policy(holidays="DE-BY").phone_region == "DE"
    assert Policy(holidays="", country="FR").phone_region == "FR"


def test_no_call_or_text_to_a_fixed_line() -> None:
    now = at("2026-11-23 10:00")
    for landline in ("+33 1 23 45 67 89", "+49 30 1234567", "0044 20 7946 0123", "0800 123 4567", ""):
        reach = reach_by_phone(Candidate("Ann", phone=landline), now, clock)
        assert reach.suggestion is None and not reach.callable
        assert not any(line.startswith("call") for line in reach.lines(clock))
    landline = reach_by_phone(Candidate("Ann", phone="+33 1 23 45 67 89"), now, clock)
    assert landline.reason(clock) == "only a landline is known (+33 1 23 45 67 89): find their mobile"


def test_mobile_or_landline_is_offered_with_a_note() -> None:
    reach = reach_by_phone(Candidate("Kim", phone="+1 212 555 0123"), at("2026-11-23 10:00"), clock)
    assert reach.suggestion is not None
    assert "may be a landline" in reach.reason(clock) and "may be a landline" in "\n".join(reach.lines(clock))


def test_a_call_is_suggested_in_the_candidates_own_time_zone_and_shown_in_both() -> None:
    # London 17:45 was offered before: 01:45 in Beijing. Now the moment is theirs (after work,
    # 17:45 Beijing) and falls within your day (09:45 London).
    reach = reach_by_phone(Candidate("Li", phone="+86 138 0013 8000"), at("2026-11-23 16:00"), clock)
    assert reach.suggestion is not None
    assert f"{reach.suggestion.at:%H:%M}" == "17:45" and reach.phone.zone == "Asia/Shanghai"
    assert reach.suggestion.at == datetime(2026, 11, 24, 9, 45, tzinfo=UTC)
    assert reach.reason(clock) == (
        "call +86 138 0013 8000 Tue 17:45 their time (Asia/Shanghai), 09:45 yours (after work)"
    )
    for hour in range(0, 24):  # whenever you look, never a time outside someone's waking day
        found = suggest_call(reach.phone, at(f"2026-11-23 {hour:02d}:00"), clock)
        assert found is not None
        assert found.at.astimezone(reach.suggestion.at.tzinfo).strftime("%H:%M") in ("08:15", "12:30", "17:45")
        assert 7 <= clock.local(found.at).hour < 21


def test_the_rosters_timezone_wins_over_the_numbers_country() -> None:
    # An Australian mobile: the country spans several clocks, so the roster's column decides.
    unknown = reach_by_phone(Candidate("Jo", phone="+61 412 345 678"), at("2026-11-23 10:00"), clock)
    assert "time zone is unknown" in unknown.reason(clock)
    perth = reach_by_phone(
        Candidate("Jo", phone="+61 412 345 678", timezone="Australia/Perth"), at("2026-11-23 10:00"), clock
    )
    assert perth.suggestion is not None and "their time (Australia/Perth)" in perth.reason(clock)
    # A UK mobile of someone living in Paris: Paris lunchtime, 11:30 London.
    abroad = reach_by_phone(
        Candidate("Ed", phone="07700 100001", timezone="Europe/Paris"), at("2026-11-23 10:00"), clock
    )
    assert abroad.reason(clock) == "call 07700 100001 Mon 12:30 their time (Europe/Paris), 11:30 yours (at lunchtime)"


def test_display_and_tel_link() -> None:
    reach = reach_by_phone(Candidate("Ann", phone="+44 7700 100001"), at("2026-11-23 10:00"), clock)
    assert reach.lines(clock)[:2] == ["mobile 07700 100001", "       tel:+44-7700-100001"]
    assert reach.lines(clock)[-1] == "call Mon 12:30 (at lunchtime)"


def test_a_mobile_from_a_signature() -> None:
    assert mobile_from_text("Jane\nMobile: 07700 100123\nOffice: 020 7946 0000") == "07700 100123"
    assert mobile_from_text("Jane\nM: 020 7946 0000") == ""  # a landline labelled M is not a mobile
    assert mobile_from_text("Pierre\nMob: +33 6 12 34 56 78") == "+33 6 12 34 56 78"


def test_the_next_window_on_a_working_day() -> None:
    mobile = judge_phone("07700 100001", "GB")
    suggestion = suggest_call(mobile, at("2026-11-23 10:00"), clock)
    assert suggestion is not None and suggestion.at == at("2026-11-23 12:30")
    after_work_friday = suggest_call(mobile, at("2026-11-27 18:00"), clock)
    assert after_work_friday is not None and after_work_friday.at == at("2026-11-30 08:15")


def test_public_holidays_are_skipped() -> None:
    # Thursday 24 Dec 2026, evening: Christmas Day, the weekend and Boxing Day (observed on
    # Monday 28) are days off; the next commute is Tuesday 29 December.
    suggestion = suggest_call(judge_phone("07700 100001", "GB"), at("2026-12-24 18:00"), clock)
    assert suggestion is not None and suggestion.at == at("2026-12-29 08:15")
    assert suggestion.describe(clock) == "call 07700 100001 Tue 08:15 (before work, on their commute)"


def test_the_configured_workdays_are_followed() -> None:
    # A Sunday-to-Thursday week: Friday evening's next moment is Sunday morning.
    sunday_week = BusinessClock(Policy(workdays=(6, 0, 1, 2, 3), holidays=""))
    found = suggest_call(judge_phone("07700 100001", "GB"), at("2026-11-27 18:00"), sunday_week)
    assert found is not None and found.at == at("2026-11-29 08:15")
