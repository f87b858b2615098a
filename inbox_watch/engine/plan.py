"""The day's plan from the ranking: chasers due, calls with their suggested times, employer
updates owed, and who crossed into silent since yesterday (``inbox-watch today``).

Pure: it takes the engine's states (now, and as of a day before) and a clock; ``to_ics`` turns
the calls into calendar events with a reminder at the suggested moment, so the recruiter's
phone rings with the candidate's number in the event.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from inbox_watch.engine.clock import BusinessClock
from inbox_watch.engine.contact import reach_by_phone
from inbox_watch.models import CandidateState, NextAction, Status

CALL_MINUTES = 10  # how long a call event lasts in the calendar


@dataclass(frozen=True, slots=True)
class PlannedCall:
    candidate: str
    verb: str  # "call" or "text"
    number: str  # as shown ("07700 900134")
    tel: str  # "tel:+447700900134"
    at: datetime  # the suggested moment, aware
    when: str  # "Thu 08:15", or both clocks when the candidate's differs from yours
    why: str  # "commute"
    rank: int


@dataclass(frozen=True, slots=True)
class PlanItem:
    candidate: str
    rank: int
    detail: str


@dataclass(frozen=True, slots=True)
class DayPlan:
    day: date
    generated_at: datetime
    chasers: tuple[PlanItem, ...] = ()
    calls: tuple[PlannedCall, ...] = ()
    no_number: tuple[PlanItem, ...] = ()  # a call is due, but no mobile is known
    employer_updates: tuple[PlanItem, ...] = ()
    consider_pulling: tuple[PlanItem, ...] = ()
    newly_silent: tuple[PlanItem, ...] = field(default=())

    @property
    def empty(self) -> bool:
        return (
            not (self.chasers or self.calls or self.no_number or self.employer_updates or self.consider_pulling)
            and not self.newly_silent
        )

    def to_dict(self) -> dict[str, Any]:
        def items(values: Sequence[PlanItem]) -> list[dict[str, Any]]:
            return [{"candidate": i.candidate, "rank": i.rank, "detail": i.detail} for i in values]

        return {
            "date": self.day.isoformat(),
            "generated_at": self.generated_at.isoformat(),
            "chasers": items(self.chasers),
            "calls": [
                {
                    "candidate": c.candidate,
                    "rank": c.rank,
                    "action": c.verb,
                    "number": c.number,
                    "tel": c.tel,
                    "at": c.at.isoformat(),
                    "why": c.why,
                }
                for c in self.calls
            ],
            "calls_without_a_number": items(self.no_number),
            "employer_updates": items(self.employer_updates),
            "consider_pulling": items(self.consider_pulling),
            "newly_silent": items(self.newly_silent),
        }

    def lines(self) -> list[str]:
        """The plan as text (the terminal, and the morning draft)."""
        out = [f"Today, {self.day:%a %d %b}: {self.summary()}"]
        if self.empty:
            return out
        sections: list[tuple[str, list[str]]] = [
            ("Chasers due", [f"  {i.candidate:<22} {i.detail}" for i in self.chasers]),
            (
                "Calls",
                [f"  {c.candidate:<22} {c.verb} {c.number} {c.when} ({c.why})" for c in self.calls]
                + [f"  {i.candidate:<22} {i.detail}" for i in self.no_number],
            ),
            ("Employer updates owed", [f"  {i.candidate:<22} {i.detail}" for i in self.employer_updates]),
            ("Consider pulling", [f"  {i.candidate:<22} {i.detail}" for i in self.consider_pulling]),
            ("Newly silent since yesterday", [f"  {i.candidate:<22} {i.detail}" for i in self.newly_silent]),
        ]
        for title, rows in sections:
            if rows:
                out += ["", title, *rows]
        return out

    def summary(self) -> str:
        parts = [
            _count(len(self.chasers), "chaser"),
            _count(len(self.calls) + len(self.no_number), "call"),
            _count(len(self.employer_updates), "employer update"),
            _count(len(self.consider_pulling), "candidate to consider pulling", "candidates to consider pulling"),
            f"{len(self.newly_silent)} newly silent",
        ]
        return ", ".join(p for p in parts if not p.startswith("0 ")) or "nothing due"


def _count(n: int, one: str, many: str = "") -> str:
    return f"{n} {one if n == 1 else (many or one + 's')}"


def day_plan(
    states: Sequence[CandidateState],
    yesterday: Sequence[CandidateState],
    now: datetime,
    clock: BusinessClock,
) -> DayPlan:
    """The plan for ``now``'s day, from the ranking now and as it was a day before."""
    chasers, calls, no_number, employer, pulling, silent = [], [], [], [], [], []
    was = {s.candidate.name: s.status for s in yesterday}
    for state in sorted(states, key=lambda s: s.rank or 10**9):
        name, action = state.candidate.name, state.next_action
        silence = clock.format_hours(state.silent_business_hours)
        if action is NextAction.SEND_CHASER:
            chasers.append(PlanItem(name, state.rank, f"silent {silence}, {_chasers(state.chasers_sent)}"))
        elif action in (NextAction.CALL, NextAction.TEXT):
            verb = "call" if action is NextAction.CALL else "text"
            reach = reach_by_phone(state.candidate, now, clock)
            suggestion = reach.suggestion
            if suggestion is None:
                no_number.append(PlanItem(name, state.rank, reach.reason(clock, verb)))
            else:
                calls.append(
                    PlannedCall(
                        name,
                        verb,
                        reach.phone.display,
                        reach.phone.tel,
                        suggestion.at,
                        suggestion.when(clock),
                        suggestion.why,
                        state.rank,
                    )
                )
        elif action is NextAction.UPDATE_EMPLOYER:
            who = state.candidate.employer or "the employer"
            contact = ", ".join(state.candidate.employer_emails[:1])
            waiting = "; they asked" if state.employer_waiting else ""
            employer.append(PlanItem(name, state.rank, f"{who}{f' ({contact})' if contact else ''}{waiting}"))
        elif action is NextAction.CONSIDER_PULLING:
            pulling.append(PlanItem(name, state.rank, f"silent {silence}, {_chasers(state.chasers_sent)}"))
        if state.status is Status.SILENT and was.get(name, Status.SILENT) is not Status.SILENT:
            silent.append(PlanItem(name, state.rank, f"silent {silence}"))
    calls.sort(key=lambda c: c.at)
    return DayPlan(
        clock.local(now).date(),
        now,
        tuple(chasers),
        tuple(calls),
        tuple(no_number),
        tuple(employer),
        tuple(pulling),
        tuple(silent),
    )


def _chasers(count: int) -> str:
    return "no chaser yet" if not count else f"{count} chaser{'s' if count != 1 else ''} unanswered"


def to_ics(plan: DayPlan) -> bytes:
    """The plan's calls as an iCalendar file: one event per call at its suggested moment, the
    number in the title, the ``tel:`` link in the event, and a reminder when it starts."""
    from icalendar import Alarm, Calendar, Event

    calendar = Calendar()
    calendar.add("prodid", "-//inbox-watch//today//EN")
    calendar.add("version", "2.0")
    for call in plan.calls:
        event = Event()
        key = f"{call.candidate}|{call.at.isoformat()}".encode()
        event.add("uid", f"{hashlib.sha256(key).hexdigest()[:24]}@inbox-watch")
        event.add("dtstamp", plan.generated_at)
        start = call.at.astimezone(UTC)  # UTC: valid without a VTIMEZONE block, right on every phone
        event.add("dtstart", start)
        event.add("dtend", start + timedelta(minutes=CALL_MINUTES))
        event.add("summary", f"{call.verb.capitalize()} {call.candidate}: {call.number}")
        about = f"{call.verb.capitalize()} {call.candidate} on {call.number} ({call.why})."
        event.add("description", f"{about}\n{call.tel}")
        if call.tel:
            event.add("url", call.tel)
            event.add("location", call.number)
        alarm = Alarm()
        alarm.add("action", "DISPLAY")
        alarm.add("description", f"{call.verb.capitalize()} {call.candidate}: {call.number}")
        alarm.add("trigger", timedelta(0))
        event.add_component(alarm)
        calendar.add_component(event)
    return calendar.to_ical()
