"""Business time: workdays, working hours, the time zone, bank holidays and DST."""

from __future__ import annotations

from datetime import timedelta

from inbox_watch.config import Policy
from inbox_watch.engine.clock import BusinessClock
from tests.builders import at

clock = BusinessClock(Policy())


def test_hours_within_one_working_day() -> None:
    assert clock.business_hours_between(at("2026-11-23 10:00"), at("2026-11-23 12:30")) == 2.5


def test_evenings_do_not_count() -> None:
    assert clock.business_hours_between(at("2026-11-23 17:00"), at("2026-11-24 09:30")) == 1.0


def test_weekend_is_skipped() -> None:
    # Friday 16:30 to Monday 10:00: one hour on Friday, one on Monday.
    assert clock.business_hours_between(at("2026-11-27 16:30"), at("2026-11-30 10:00")) == 2.0


def test_bank_holiday_is_skipped() -> None:
    # Christmas Day and Boxing Day (substitute Monday 28 Dec 2026) are GB bank holidays.
    hours = clock.business_hours_between(at("2026-12-24 16:00"), at("2026-12-29 10:00"))
    assert hours == 2.5
    assert not clock.is_business_day(at("2026-12-28 10:00").date())


def test_no_holidays_when_country_is_empty() -> None:
    plain = BusinessClock(Policy(holidays=""))
    assert plain.is_business_day(at("2026-12-25 10:00").date())


def test_dst_change_keeps_wall_clock_hours() -> None:
    # Clocks go back on Sunday 25 Oct 2026; Friday 17:00 to Monday 10:00 is 1.5 hours either way.
    assert clock.business_hours_between(at("2026-10-23 16:30"), at("2026-10-26 10:00")) == 2.0
    # And spring forward (29 Mar 2026): a whole Monday is still 8.5 hours.
    assert clock.business_hours_between(at("2026-03-27 17:30"), at("2026-03-30 17:30")) == 8.5


def test_other_time_zone_and_workdays() -> None:
    policy = Policy(timezone="America/New_York", workdays=(6, 0, 1, 2, 3), holidays="US")
    ny = BusinessClock(policy)
    # 14:00-16:00 UTC on a Friday is a day off there.
    friday = at("2026-11-20 14:00").astimezone(ny.tz)
    assert ny.business_hours_between(friday, friday + timedelta(hours=2)) == 0.0


def test_add_and_subtract_are_inverse() -> None:
    start = at("2026-11-26 15:00")
    later = clock.add_business_hours(start, 12)
    assert clock.business_hours_between(start, later) == 12.0
    assert clock.sub_business_hours(later, 12) == start


def test_format_for_people() -> None:
    assert clock.format_hours(0.5) == "30m"
    assert clock.format_hours(3) == "3h"
    assert clock.format_hours(8.5 * 2 + 3) == "2d 3h"


def test_known_holidays_are_used_for_their_years_only() -> None:
    from datetime import date

    made_up = date(2026, 11, 25)  # a Wednesday that is no holiday
    known = BusinessClock(Policy(), {2026: frozenset({made_up})})
    assert not known.is_business_day(made_up)
    assert known.is_business_day(date(2026, 12, 25))  # 2026 is taken as given...
    assert not known.is_business_day(date(2027, 12, 27))  # ...other years come from the package


def test_workspace_keeps_holidays_beside_the_store(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from datetime import UTC, date, datetime

    from inbox_watch.config import Config
    from inbox_watch.service import Workspace

    workspace = Workspace.open(Config(path=None, store_path=tmp_path / "store.json"))
    found = workspace.known_holidays(datetime(2026, 6, 1, tzinfo=UTC))
    assert date(2026, 12, 25) in found[2026] and date(2027, 1, 1) in found[2027]
    assert (tmp_path / "holidays.json").exists()
    again = workspace.known_holidays(datetime(2026, 6, 1, tzinfo=UTC))
    assert again == found


def test_the_default_calendar_is_englands() -> None:
    # England's Easter Monday and August bank holiday are not UK-wide: the package gives them
    # only for the subdivision, and the default is GB-ENG.
    from datetime import date

    assert Policy().holidays == "GB-ENG"
    assert not clock.is_business_day(date(2026, 4, 6))  # Easter Monday
    assert not clock.is_business_day(date(2026, 8, 31))  # Summer bank holiday
    assert clock.is_business_day(date(2026, 8, 3))
    uk_wide = BusinessClock(Policy(holidays="GB"))
    assert uk_wide.is_business_day(date(2026, 4, 6)) and not uk_wide.is_business_day(date(2026, 12, 25))


def test_a_subdivision_has_its_own_days() -> None:
    from datetime import date

    scotland = BusinessClock(Policy(holidays="GB-SCT"))
    assert not scotland.is_business_day(date(2026, 8, 3))  # Scotland's summer bank holiday
    assert scotland.is_business_day(date(2026, 8, 31)) and scotland.is_business_day(date(2026, 4, 6))
    assert not BusinessClock(Policy(holidays="GB-eng")).is_business_day(date(2026, 4, 6))  # any case


def test_silence_over_easter_skips_easter_monday() -> None:
    # Thursday 2 April 10:00 to Tuesday 7 April 10:00: Good Friday and Easter Monday are off.
    assert clock.business_hours_between(at("2026-04-02 10:00"), at("2026-04-07 10:00")) == 8.5


def test_the_holidays_file_keeps_each_subdivision_apart(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from datetime import UTC, date, datetime

    import orjson

    from inbox_watch.config import Config
    from inbox_watch.service import Workspace

    june = datetime(2026, 6, 1, tzinfo=UTC)
    uk_wide = Workspace.open(Config(path=None, store_path=tmp_path / "store.json", policy=Policy(holidays="GB")))
    assert date(2026, 4, 6) not in uk_wide.known_holidays(june)[2026]
    england = Workspace.open(Config(path=None, store_path=tmp_path / "store.json", policy=Policy(holidays="GB-ENG")))
    assert date(2026, 4, 6) in england.known_holidays(june)[2026]
    assert set(orjson.loads((tmp_path / "holidays.json").read_bytes())) == {"GB", "GB-ENG"}
