"""Ranking: who needs the recruiter now. Silent and bounced first, by score; then awaiting;
then the rest. Every score is explained by the state's reasons."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from inbox_watch.engine.clock import BusinessClock
from inbox_watch.models import CandidateState, Status, evolve

_GROUP = {
    Status.SILENT: 0,
    Status.BOUNCED: 0,
    Status.AWAITING: 1,
    Status.OUT_OF_OFFICE: 2,
    Status.SNOOZED: 3,
    Status.REPLIED: 4,
    Status.IDLE: 5,
    Status.PULLED: 6,
}

# Weights of the score (points).
NEEDS_ACTION_BASE = 100.0
PER_SILENT_HOUR = 2.0
PER_CHASER = 10.0
EMPLOYER_WAITING = 30.0
BOUNCED = 40.0
SLOT_SOON_MAX = 40.0  # a slot expiring now; fades to 0 at two business days away


def score(state: CandidateState, clock: BusinessClock, now: datetime) -> tuple[float, list[str]]:
    """The urgency score and the reasons that add to it."""
    reasons: list[str] = []
    if state.status not in (Status.SILENT, Status.BOUNCED, Status.AWAITING):
        return 0.0, reasons
    per_day = clock.policy.business_hours_per_day or 8.0
    if state.status is Status.AWAITING:
        threshold = clock.policy.silent_after_business_hours or 1.0
        value = 50.0 * min(1.0, state.silent_business_hours / threshold)
    else:
        value = NEEDS_ACTION_BASE + PER_SILENT_HOUR * state.silent_business_hours
        value += PER_CHASER * state.chasers_sent
        if state.employer_waiting:
            value += EMPLOYER_WAITING
        if state.status is Status.BOUNCED:
            value += BOUNCED
    if state.slot_expires is not None and state.slot_expires > now:
        left = clock.business_hours_between(now, state.slot_expires)
        if left < 2 * per_day:
            value += SLOT_SOON_MAX * (1 - left / (2 * per_day))
            reasons.append(f"offered slot {clock.local(state.slot_expires):%a %d %b %H:%M} is close")
    return round(value, 1), reasons


def rank(states: Sequence[CandidateState], clock: BusinessClock, now: datetime) -> list[CandidateState]:
    scored = []
    for state in states:
        value, extra = score(state, clock, now)
        scored.append((_GROUP[state.status], -value, state.candidate.name.casefold(), value, extra, state))
    scored.sort(key=lambda row: row[:3])
    return [
        evolve(state, score=value, reasons=state.reasons + tuple(extra), rank=i)
        for i, (_, _, _, value, extra, state) in enumerate(scored, start=1)
    ]
