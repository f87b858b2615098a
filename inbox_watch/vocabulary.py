"""The words a recruiter reads for statuses, next actions and elapsed business time: one place, so
the command line's report and the dashboard never name the same thing two ways. JSON keeps the
enum values (``out_of_office``, ``send_chaser``): those are the contract for scripts."""

from __future__ import annotations

from datetime import datetime, timedelta

from inbox_watch.engine.clock import BusinessClock
from inbox_watch.models import NextAction, Status

STATUS_WORDS: dict[Status, str] = {
    Status.SILENT: "silent",
    Status.AWAITING: "awaiting",
    Status.REPLIED: "replied",
    Status.OUT_OF_OFFICE: "out of office",
    Status.BOUNCED: "bounced",
    Status.SNOOZED: "snoozed",
    Status.PULLED: "pulled",
    Status.IDLE: "idle",
}

ACTION_WORDS: dict[NextAction, str] = {
    NextAction.WAIT: "wait",
    NextAction.SEND_CHASER: "send chaser",
    NextAction.CALL: "call",
    NextAction.TEXT: "text",
    NextAction.MESSAGE_ON_SOCIAL: "message on social",
    NextAction.UPDATE_EMPLOYER: "update employer",
    NextAction.CONSIDER_PULLING: "consider pulling",
    NextAction.NONE: "none",
}

JUST_NOW = timedelta(minutes=5)


def status_word(status: Status | str) -> str:
    """ "out of office" for ``Status.OUT_OF_OFFICE`` (or its value); an unknown value as written,
    spaced (a saved row from another version)."""
    try:
        return STATUS_WORDS[Status(status)]
    except ValueError:
        return str(status).replace("_", " ")


def action_word(action: NextAction | str) -> str:
    """ "send chaser" for ``NextAction.SEND_CHASER`` (or its value)."""
    try:
        return ACTION_WORDS[NextAction(action)]
    except ValueError:
        return str(action).replace("_", " ")


def end_of_day(when: datetime, now: datetime, clock: BusinessClock) -> str:
    """A promise's deadline, never to the minute: "end of day today", "end of day Friday", or
    with the date when it is a week or more away ("end of day Tuesday 5 January")."""
    day, today = clock.local(when).date(), clock.local(now).date()
    if day <= today:
        return "end of day today"
    if (day - today).days < 7:
        return f"end of day {day:%A}"
    return f"end of day {day:%A} {day.day} {day:%B}"


def business_time_ago(then: datetime, now: datetime, clock: BusinessClock) -> str:
    """How long ago ``then`` was, for people: "just now" (under five minutes), "3h of business
    time ago", or "earlier, outside business hours" when no business time has passed since
    (sent last night), never "0m of business time ago"."""
    if now - then < JUST_NOW:
        return "just now"
    hours = clock.business_hours_between(then, now)
    if round(hours * 60) < 1:
        return "earlier, outside business hours"
    return f"{clock.format_hours(hours)} of business time ago"
