"""When and how to reach a silent candidate by phone: one judgment of their number (libphonenumber,
read in the policy's country), used by the ladder, the reasons, the dashboard and the report alike.

A call or a text is offered only to a number that can be a mobile: ``MOBILE``, or
``FIXED_LINE_OR_MOBILE`` (countries such as the US whose numbers do not say) with a note. A fixed
line, a number that is not valid, or none at all, gets no call: the ladder moves on. The suggested
moment is outside the candidate's working hours (commute, lunch, after work) in *their* time zone
(the roster's ``timezone``, else their number's region), on one of your business days, at an hour
you can make a call (07:00-21:00 your time); both clocks are shown when they differ.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from enum import StrEnum
from functools import lru_cache
from zoneinfo import ZoneInfo

import phonenumbers
from phonenumbers import PhoneNumberFormat, PhoneNumberType
from phonenumbers import timezone as number_zones

from inbox_watch.engine.clock import BusinessClock
from inbox_watch.models import Candidate

# Good moments to catch someone who works office hours, in the candidate's own time zone.
CALL_WINDOWS = (
    (time(8, 15), "before work, on their commute"),
    (time(12, 30), "at lunchtime"),
    (time(17, 45), "after work"),
)
# The hours of your own day in which a suggested call may fall (a +86 number from London is
# offered 17:45 Beijing time, 09:45 yours, never 08:15 Beijing, 00:15 yours).
YOUR_EARLIEST, YOUR_LATEST = time(7, 0), time(21, 0)

_PHONE_IN_TEXT = re.compile(r"(?:mobile|mob|cell|m)\s*[:.]?\s*(\+?[\d][\d\s().-]{8,16}\d)", re.I)
_SAME_OFFSET_DAYS = (datetime(2026, 1, 15, 12), datetime(2026, 7, 15, 12))  # winter and summer time


class PhoneKind(StrEnum):
    """What a number is, as libphonenumber tells it."""

    MOBILE = "mobile"
    MOBILE_OR_LANDLINE = "mobile or landline"  # FIXED_LINE_OR_MOBILE: the number does not say
    LANDLINE = "landline"
    OTHER = "other"  # toll-free, VoIP, pager, premium rate ...: not a person's mobile
    INVALID = "invalid"
    NONE = "none"


@dataclass(frozen=True, slots=True)
class Phone:
    """One judged phone number. ``display`` is national for a number of the policy's country and
    international otherwise; ``tel`` is its RFC 3966 link ("" when it is not valid); ``zone``
    is the candidate's IANA time zone ("" when neither the roster nor the number tells)."""

    written: str
    kind: PhoneKind
    display: str = ""
    tel: str = ""
    region: str = ""
    zone: str = ""
    code: int = 0  # the country calling code (44, 33, 1 ...)
    zone_unknown: bool = False  # the number's country spans clocks and the roster names none

    @property
    def callable(self) -> bool:
        """A call or a text may be offered: the number is, or may be, a mobile."""
        return self.kind in (PhoneKind.MOBILE, PhoneKind.MOBILE_OR_LANDLINE)

    @property
    def label(self) -> str:
        return {PhoneKind.MOBILE: "mobile", PhoneKind.LANDLINE: "landline"}.get(self.kind, "phone")

    @property
    def note(self) -> str:
        """What the recruiter should know about the number, in a few words ("" when nothing)."""
        notes = []
        if self.kind is PhoneKind.MOBILE_OR_LANDLINE:
            notes.append(f"+{self.code} numbers do not say whether they are mobiles: it may be a landline")
        if self.zone_unknown and self.callable:
            notes.append(
                f"their time zone is unknown ({self.region} has several): add a timezone column; times are yours"
            )
        if notes:
            return "; ".join(notes)
        if self.kind is PhoneKind.LANDLINE:
            return "a fixed line, not for a call or text: find their mobile"
        if self.kind is PhoneKind.OTHER:
            return "not a mobile (a service number): find their mobile"
        if self.kind is PhoneKind.INVALID:
            return "not a valid phone number: check the roster (a number from abroad needs its + code)"
        return ""


_KINDS = {
    PhoneNumberType.MOBILE: PhoneKind.MOBILE,
    PhoneNumberType.FIXED_LINE_OR_MOBILE: PhoneKind.MOBILE_OR_LANDLINE,
    PhoneNumberType.FIXED_LINE: PhoneKind.LANDLINE,
}


@lru_cache(maxsize=4096)
def judge_phone(written: str, region: str, zone: str = "", your_zone: str = "") -> Phone:
    """The number ``written`` (as on a roster: "07700 100134", "+33 6 12 34 56 78",
    "0044 20 7946 0123") read with ``region`` (ISO country) as the country of a number without
    its "+" code. ``zone`` is the candidate's own time zone when the roster gives one;
    ``your_zone`` (the policy's) settles a number whose country spans several zones."""
    written = " ".join(written.split())
    number, kind = _parsed(written, region)
    if number is None or kind in (PhoneKind.NONE, PhoneKind.INVALID):
        return Phone(written, kind, display=written, zone=zone)
    country = phonenumbers.region_code_for_number(number) or ""
    style = PhoneNumberFormat.NATIONAL if country == region else PhoneNumberFormat.INTERNATIONAL
    display = phonenumbers.format_number(number, style)
    tel = phonenumbers.format_number(number, PhoneNumberFormat.RFC3966)
    found = zone or _zone_of(number, your_zone)
    code = number.country_code or 0
    return Phone(written, kind, display, tel, country, found, code, zone_unknown=not found)


def phone_kind(written: str, region: str) -> PhoneKind:
    """Only what the number is (a mobile, a landline ...): the part of ``judge_phone`` a roster
    import needs for each of its rows, at a quarter of the cost (no formatting, no zone)."""
    return _parsed(" ".join(written.split()), region)[1]


def _parsed(written: str, region: str) -> tuple[phonenumbers.PhoneNumber | None, PhoneKind]:
    if not written:
        return None, PhoneKind.NONE
    try:
        number = phonenumbers.parse(written, region or None)
    except phonenumbers.NumberParseException:
        return None, PhoneKind.INVALID
    found = phonenumbers.number_type(number)  # UNKNOWN for a number that is not valid
    if found == PhoneNumberType.UNKNOWN:
        return number, PhoneKind.INVALID
    return number, _KINDS.get(found, PhoneKind.OTHER)


def _zone_of(number: phonenumbers.PhoneNumber, your_zone: str) -> str:
    """The number's time zone: the only one its prefix has, yours when it is among them, or
    the first when they all keep the same clock; "" when they differ (a US mobile, Australia)."""
    zones = [z for z in number_zones.time_zones_for_number(number) if z != "Etc/Unknown"]
    if not zones:
        return ""
    if your_zone in zones:
        return your_zone
    try:
        offsets = {tuple(d.replace(tzinfo=ZoneInfo(z)).utcoffset() for d in _SAME_OFFSET_DAYS) for z in zones}
    except (KeyError, ValueError, OSError):  # a zone this machine's tz database lacks
        return ""
    return zones[0] if len(offsets) == 1 else ""


def candidate_phone(candidate: Candidate, clock: BusinessClock) -> Phone:
    """The one judgment of ``candidate``'s number under ``clock``'s policy."""
    policy = clock.policy
    return judge_phone(candidate.phone, policy.phone_region, candidate.timezone, policy.timezone)


@dataclass(frozen=True, slots=True)
class CallSuggestion:
    phone: Phone
    at: datetime  # aware, in the candidate's zone
    why: str

    def when(self, clock: BusinessClock) -> str:
        """ "Tue 08:15", or "Tue 17:45 their time (Asia/Shanghai), 09:45 yours" when the
        candidate's clock differs from yours."""
        yours = clock.local(self.at)
        theirs = self.at
        if yours.utcoffset() == theirs.utcoffset():
            return f"{yours:%a %H:%M}"
        your_day = f"{yours:%a} " if yours.date() != theirs.date() else ""
        return f"{theirs:%a %H:%M} their time ({theirs.tzinfo}), {your_day}{yours:%H:%M} yours"

    def describe(self, clock: BusinessClock, verb: str = "call") -> str:
        return f"{verb} {self.phone.display} {self.when(clock)} ({self.why})"


def mobile_from_text(text: str, region: str = "GB") -> str:
    """A mobile number written in a signature ("Mobile: 07700 100123"), or "": a labelled
    number that libphonenumber, reading it in ``region``, takes for a (possible) mobile."""
    for match in _PHONE_IN_TEXT.finditer(text[-4000:]):
        number = " ".join(match.group(1).split())
        if judge_phone(number, region).callable:
            return number
    return ""


def suggest_call(phone: Phone, now: datetime, clock: BusinessClock) -> CallSuggestion | None:
    """The next good moment to call ``phone``: a call window of the candidate's own day (one of
    the policy's workdays), on one of your business days (a workday that is no public holiday),
    within your calling hours; None when the number cannot be a mobile."""
    if not phone.callable:
        return None
    theirs = clock.tz
    if phone.zone:
        try:
            theirs = ZoneInfo(phone.zone)
        except (KeyError, ValueError, OSError):
            theirs = clock.tz
    local = now.astimezone(theirs)
    for days in range(0, 16):  # the Christmas and New Year break fits in a fortnight
        day = local.date() + timedelta(days=days)
        if day.weekday() not in clock.policy.workdays:
            continue
        for at, why in CALL_WINDOWS:
            moment = datetime.combine(day, at, tzinfo=theirs)
            yours = clock.local(moment)
            if (
                moment > now + timedelta(minutes=5)
                and clock.is_business_day(yours.date())
                and YOUR_EARLIEST <= yours.time() <= YOUR_LATEST
            ):
                return CallSuggestion(phone, moment, why)
    return None


@dataclass(frozen=True, slots=True)
class PhoneReach:
    """How to reach a candidate by phone right now: the judged number and the next moment."""

    phone: Phone
    suggestion: CallSuggestion | None

    @property
    def callable(self) -> bool:
        return self.phone.callable

    def reason(self, clock: BusinessClock, verb: str = "call") -> str:
        """One line for the reasons: what to do, or why there is no call or text."""
        phone = self.phone
        if self.suggestion is not None:
            line = self.suggestion.describe(clock, verb)
            return f"{line}; {phone.note}" if phone.note else line
        if phone.kind is PhoneKind.NONE:
            return "no mobile number known"
        if phone.callable:
            return f"{verb} {phone.display}: no good moment in the next fortnight"
        if phone.kind is PhoneKind.INVALID:
            return f"the phone number {phone.written!r} is not valid: check the roster"
        what = "a landline" if phone.kind is PhoneKind.LANDLINE else "a service number"
        return f"only {what} is known ({phone.display}): find their mobile"

    def lines(self, clock: BusinessClock) -> list[str]:
        """The dashboard's "Reach them" phone lines; the last is the suggested call when
        ``suggestion`` is set."""
        phone = self.phone
        if phone.kind is PhoneKind.NONE:
            return ["no mobile number known"]
        if phone.kind is PhoneKind.INVALID:
            return [f"phone  {phone.written}: {phone.note}"]
        found = [f"{phone.label:<6} {phone.display}", f"       {phone.tel}"]
        if phone.note:
            found.append(f"       {phone.note}")
        if self.suggestion is not None:
            found.append(f"call {self.suggestion.when(clock)} ({self.suggestion.why})")
        return found


def reach_by_phone(candidate: Candidate, now: datetime, clock: BusinessClock) -> PhoneReach:
    """The phone judgment every front end shows for ``candidate`` at ``now``."""
    phone = candidate_phone(candidate, clock)
    return PhoneReach(phone, suggest_call(phone, now, clock))
