"""Candidate state: who is silent, since when, for how long in business time, and what next.

Pure: ``evaluate`` takes candidates, messages, the recruiter's logs and ``now``, and returns one
CandidateState per candidate, ranked. Domain rules: ../shared/DESIGN.md section 3.
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta

from inbox_watch.config import Policy, RecruiterConfig
from inbox_watch.engine.classify import classify, from_stored, invitation_start, read_return_date
from inbox_watch.engine.clock import BusinessClock
from inbox_watch.engine.contact import PhoneReach, mobile_from_text, reach_by_phone
from inbox_watch.engine.rank import rank
from inbox_watch.engine.threads import assemble_threads, dedupe
from inbox_watch.gc_pause import paused_gc
from inbox_watch.models import (
    Action,
    ActionMode,
    ActionState,
    Candidate,
    CandidateState,
    Classification,
    Erasure,
    Kind,
    MailMessage,
    NextAction,
    Snooze,
    Status,
    Thread,
    Touch,
    evolve,
)

_DAEMON = re.compile(r"^(mailer-daemon|postmaster|mail-daemon|no-?reply|do-?not-?reply|bounce)", re.I)
OOO_DEFAULT_PAUSE_DAYS = 2  # an out-of-office with no readable date pauses two business days


@dataclass(frozen=True, slots=True)
class Inputs:
    """Everything the engine reads, as plain data."""

    candidates: Sequence[Candidate]
    messages: Sequence[MailMessage]
    recruiter: RecruiterConfig
    policy: Policy
    touches: Sequence[Touch] = ()
    snoozes: Sequence[Snooze] = ()
    """Every snooze the recruiter set; a later one for the same candidate replaces an earlier
    one from the moment it was set."""
    pulled: frozenset[str] = frozenset()
    known_holidays: Mapping[int, frozenset[date]] = field(default_factory=dict)
    """Public holidays by year, when the caller keeps them (see ``BusinessClock``)."""
    stored_classes: Mapping[tuple[str, str], Sequence[object]] = field(default_factory=dict)
    """Full classifications made at sync time, by (account, provider id), in the compact form
    of ``classify.to_stored``; anything missing or from another classifier version is
    classified here."""
    outbox: Sequence[Action] = ()
    """The outbox: what it has sent counts at once, as if the next sync had brought the sent
    copy in (a chaser is counted, the ladder moves on, the employer is told); recipients a
    send was refused for good show as failing, as after a bounce."""


class _Classes:
    """Classifications, made when first needed and kept for the evaluation.

    ``full`` reads the content (is it a scheduling email?); ``shape`` stops once it knows
    whether a message is a calendar reply, an auto-reply, a bounce or a human message, which
    is all a reply needs. Messages nobody asks about are never classified.
    """

    __slots__ = ("_full", "_shape", "_stored")

    def __init__(self, stored: Mapping[tuple[str, str], Sequence[object]]) -> None:
        self._full: dict[int, Classification] = {}
        self._shape: dict[int, Classification] = {}
        self._stored = stored

    def full(self, message: MailMessage) -> Classification:
        key = id(message)
        found = self._full.get(key)
        if found is None:
            kept = self._stored.get((message.account, message.id))
            found = from_stored(kept) if kept is not None else None
            if found is None:
                found = classify(message, read_dates=False)
            self._full[key] = found
        return found

    def shape(self, message: MailMessage) -> Classification:
        key = id(message)
        found = self._full.get(key) or self._shape.get(key)
        if found is None and (message.account, message.id) in self._stored:
            found = self.full(message)
        if found is None:
            found = self._shape[key] = classify(message, read_dates=False, content=False)
        return found


def tag_key(name: str) -> str:
    return " ".join(name.split()).casefold()


def name_fold(name: str) -> str:
    """``name`` for matching what a person types: ``tag_key`` without accents (Unicode NFKD,
    combining marks dropped), so "zoe" finds Zoë and "jose" finds José. A key, never shown."""
    decomposed = unicodedata.normalize("NFKD", tag_key(name))
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def evaluate(inputs: Inputs, now: datetime) -> list[CandidateState]:
    """Every candidate's state at ``now``, ranked (rank 1 = most urgent)."""
    return evaluate_with_threads(inputs, now)[0]


def evaluate_with_threads(inputs: Inputs, now: datetime) -> tuple[list[CandidateState], dict[str, Thread]]:
    """``evaluate``, plus every thread by the id ``CandidateState.threads`` names it with."""
    with paused_gc():
        return _evaluate(inputs, now)


def _evaluate(inputs: Inputs, now: datetime) -> tuple[list[CandidateState], dict[str, Thread]]:
    clock = BusinessClock(inputs.policy, inputs.known_holidays)
    # A draft copy never hides the sent one; a copy synced from Sent comes before the outbox's own.
    messages = dedupe([*(m for m in inputs.messages if not m.is_draft), *sent_copies(inputs.outbox)])
    refusals: dict[str, list[Action]] = defaultdict(list)
    for action in inputs.outbox:
        if action.refused and action.state is ActionState.FAILED:
            refusals[tag_key(action.candidate)].append(action)
    classes = _Classes(inputs.stored_classes)
    threads = assemble_threads(messages)
    recruiter = frozenset(inputs.recruiter.addresses)

    owners = _Owners(inputs.candidates, threads, recruiter, inputs.policy.phone_region)
    candidates, by_address = owners.candidates, owners.by_address
    threads_of: dict[int, list[Thread]] = defaultdict(list)
    for thread, thread_owners in zip(threads, owners.of_threads, strict=True):
        for owner in thread_owners:
            threads_of[owner].append(thread)

    recruiter_to, contacts, named = _employer_contacts(candidates, messages, recruiter, classes, now)

    touches: dict[str, list[Touch]] = defaultdict(list)
    for touch in inputs.touches:
        touches[tag_key(touch.candidate)].append(touch)
    snoozes: dict[str, list[Snooze]] = defaultdict(list)
    for snooze in sorted(inputs.snoozes, key=lambda s: (s.since is not None, s.since or now)):
        snoozes[tag_key(snooze.candidate)].append(snooze)  # in the order they were set
    # Addresses known to be someone else's: every candidate's and every employer contact's.
    known = frozenset(by_address) | frozenset(contacts)
    pulled = {tag_key(name) for name in inputs.pulled}

    ctx = _Context(classes, recruiter, clock, inputs.policy, now, named, recruiter_to, known)
    states = []
    for index, candidate in enumerate(candidates):
        key = tag_key(candidate.name)
        candidate_snoozes = snoozes.get(key, [])
        who = _Subject.of(
            candidate,
            index,
            threads_of.get(index, []),
            sorted(touches.get(key, []), key=lambda t: t.at),
            candidate_snoozes,
            refusals.get(key, []),
            now,
        )
        states.append(_decided(_wait_state(ctx, who), candidate_snoozes, key in pulled, clock, now))
    return rank(states, clock, now), {thread.id: thread for thread in threads}


def _employer_contacts(
    candidates: Sequence[Candidate],
    messages: Sequence[MailMessage],
    recruiter: frozenset[str],
    classes: _Classes,
    now: datetime,
) -> tuple[dict[str, datetime], dict[str, list[int]], dict[tuple[int, str], datetime]]:
    """When the recruiter last wrote to each address; each employer contact's candidates (by
    index); and when each contact last wrote naming one of them."""
    recruiter_to: dict[str, datetime] = {}
    contacts: dict[str, list[int]] = defaultdict(list)
    for index, candidate in enumerate(candidates):
        for address in candidate.employer_emails:
            contacts[address.lower()].append(index)
    named: dict[tuple[int, str], datetime] = {}
    lookups = {address: _NameLookup(indices, candidates) for address, indices in contacts.items()}
    for message in messages:
        if message.date > now:
            continue
        if message.from_addr in recruiter:
            for address in message.recipients:
                if address not in recruiter_to or message.date > recruiter_to[address]:
                    recruiter_to[address] = message.date
        elif message.from_addr in contacts and _from_the_employer(message, classes):
            for index in lookups[message.from_addr].named_in(message):
                pair = (index, message.from_addr)
                if pair not in named or message.date > named[pair]:
                    named[pair] = message.date
    return recruiter_to, contacts, named


class _Owners:
    """Whose each thread is: a thread belongs to every candidate one of its messages is from or
    to (an address of theirs, or one inferred for a tag-only candidate) or is tagged with."""

    def __init__(
        self, given: Sequence[Candidate], threads: Sequence[Thread], recruiter: frozenset[str], phone_region: str
    ) -> None:
        by_address: dict[str, list[int]] = defaultdict(list)
        by_tag: dict[str, list[int]] = defaultdict(list)
        for index, candidate in enumerate(given):
            for address in candidate.emails:
                by_address[address.lower()].append(index)
            by_tag[tag_key(candidate.name)].append(index)
        employer_contacts = frozenset(a.lower() for c in given for a in c.employer_emails)
        self.candidates = _infer_addresses(given, threads, recruiter, by_tag, employer_contacts, phone_region)
        for index, candidate in enumerate(self.candidates):
            for address in candidate.emails:
                if index not in by_address[address.lower()]:
                    by_address[address.lower()].append(index)
        self.by_address, self.by_tag = by_address, by_tag
        self.of_threads = [self._of_thread(thread) for thread in threads]

    def of_message(self, message: MailMessage) -> set[int]:
        """The candidates one message involves (by address or tag)."""
        found: set[int] = set()
        get = self.by_address.get
        for address in (message.from_addr, *message.to, *message.cc, *message.failed_recipients):
            found.update(get(address, ()))
        for tag in message.tags:
            found.update(self.by_tag.get(tag_key(tag), ()))
        return found

    def _of_thread(self, thread: Thread) -> set[int]:
        found: set[int] = set()
        for message in thread.messages:
            found |= self.of_message(message)
        return found


def erasure(inputs: Inputs, name: str) -> Erasure:
    """What ``forget`` erases of the candidate called ``name``: every message of the threads
    that are theirs alone (assembled as ``evaluate`` does, drafts included); in a thread they
    share with another candidate, only the messages that involve them and nobody else on the
    roster, and the replies to those from addresses nobody knows (a personal address); and
    their employer contact's messages that name them alone, in threads that are nobody's.
    Every stored copy of such a message (another folder, a draft) goes with it."""
    messages = dedupe(list(inputs.messages))
    threads = assemble_threads(messages)
    owners = _Owners(inputs.candidates, threads, frozenset(inputs.recruiter.addresses), inputs.policy.phone_region)
    key = tag_key(name)
    target = next((i for i, c in enumerate(owners.candidates) if tag_key(c.name) == key), None)
    if target is None:
        return Erasure(name=name, addresses=(), tags=(key,), messages=frozenset(), message_ids=frozenset())
    candidate = owners.candidates[target]
    gone: list[MailMessage] = []
    lookups: dict[str, _NameLookup] = {}
    for address in candidate.employer_emails:
        theirs = [i for i, c in enumerate(owners.candidates) if address.lower() in map(str.lower, c.employer_emails)]
        lookups[address.lower()] = _NameLookup(theirs, owners.candidates)
    for thread, thread_owners in zip(threads, owners.of_threads, strict=True):
        if thread_owners == {target}:
            gone.extend(thread.messages)
        elif target in thread_owners:
            erased: set[str] = set()
            for message in thread.messages:  # in date order: a reply comes after what it answers
                involved = owners.of_message(message)
                parent = message.in_reply_to or (message.references[-1] if message.references else "")
                if involved == {target} or (not involved and parent and parent in erased):
                    gone.append(message)
                    if message.message_id:
                        erased.add(message.message_id)
        elif not thread_owners and lookups:
            for message in thread.messages:
                lookup = lookups.get(message.from_addr)
                if lookup is not None and lookup.named_in(message) == {target}:
                    gone.append(message)
    ids = frozenset(m.message_id for m in gone if m.message_id)
    keys = {(m.account, m.id) for m in gone}
    every_copy = frozenset(
        (m.account, m.id)
        for m in inputs.messages
        if (m.account, m.id) in keys or (m.message_id and m.message_id in ids)
    )
    return Erasure(
        name=candidate.name,
        addresses=tuple(a.lower() for a in candidate.emails),
        tags=(key,),
        messages=every_copy,
        message_ids=ids,
    )


def _infer_addresses(
    candidates: Sequence[Candidate],
    threads: Sequence[Thread],
    recruiter: frozenset[str],
    by_tag: dict[str, list[int]],
    employer_contacts: frozenset[str],
    region: str,
) -> list[Candidate]:
    """Fill in what a tag-only candidate lacks from their tagged threads: the address the
    recruiter wrote to, and a mobile number from the candidate's own signature. An employer
    contact (of any candidate on the roster) or another candidate is never taken for them."""
    result = list(candidates)
    wanted = {i for i, c in enumerate(candidates) if not c.emails or not c.phone}
    if not wanted:
        return result
    someone_else = recruiter | employer_contacts | {a.lower() for c in candidates for a in c.emails}
    for thread in threads:
        owners = {i for m in thread.messages for t in m.tags for i in by_tag.get(tag_key(t), ())}
        for index in owners & wanted:
            candidate = result[index]
            emails = list(candidate.emails)
            if not emails:
                for message in thread.messages:
                    if message.from_addr in recruiter:
                        emails.extend(a for a in message.to if a not in someone_else)
                        if emails:
                            break
            phone = candidate.phone
            if not phone:
                for message in thread.messages:
                    if message.from_addr in emails:
                        phone = mobile_from_text(message.text, region)
                        if phone:
                            break
            result[index] = replace(candidate, emails=tuple(dict.fromkeys(emails)), phone=phone)
    return result


def _is_reply(
    message: MailMessage,
    classes: _Classes,
    candidate_addresses: frozenset[str],
    recruiter: frozenset[str],
    employer: frozenset[str],
    known: frozenset[str],
) -> bool:
    """``known``: every roster candidate's and employer contact's address; a sender among them
    who is not this candidate is someone else (another candidate on a group email, another
    employer's contact), never this candidate answering from a personal address."""
    sender = message.from_addr
    if sender in recruiter or not sender:
        return False
    from_candidate = sender in candidate_addresses
    if not from_candidate and (sender in employer or sender in known):
        return False
    cls = classes.shape(message)
    if cls.kind is Kind.CALENDAR_RESPONSE:
        return True
    if cls.kind not in (Kind.SCHEDULING, Kind.OTHER) or not cls.human:
        return False
    return from_candidate or not _DAEMON.match(sender)


def _decided(
    state: CandidateState, snoozes: list[Snooze], pulled: bool, clock: BusinessClock, now: datetime
) -> CandidateState:
    """On top of the state of the candidate's wait, what the recruiter decided: a pulled
    candidate is ``pulled`` and a snoozed one ``snoozed`` (unless they have replied, which ends
    the wait), each still showing the wait (since when, chasers sent)."""
    if pulled:
        return evolve(state, status=Status.PULLED, next_action=NextAction.NONE, reasons=("pulled from the campaign",))
    snooze = _active_snooze(snoozes, clock, now)
    if snooze is not None and state.status is not Status.REPLIED:
        snoozed = f"snoozed until {snooze.until.isoformat()}" + (f": {snooze.reason}" if snooze.reason else "")
        return evolve(state, status=Status.SNOOZED, next_action=NextAction.WAIT, reasons=(snoozed,))
    return state


_LAST_SNOOZE_DAY = date(9000, 12, 31)  # far enough to be "for ever", far from date.max


def _set_before(snooze: Snooze, now: datetime) -> bool:
    return snooze.since is None or snooze.since <= now


def snooze_in_force(snoozes: Sequence[Snooze], clock: BusinessClock, now: datetime) -> Snooze | None:
    """The snooze in force at ``now`` among one candidate's ``snoozes`` (in the order set)."""
    return _active_snooze(list(snoozes), clock, now)


def _active_snooze(snoozes: list[Snooze], clock: BusinessClock, now: datetime) -> Snooze | None:
    """The snooze in force at ``now``: the latest one set by then, if it has not ended."""
    latest = None
    for snooze in snoozes:
        if _set_before(snooze, now):
            latest = snooze
    if latest is not None and latest.until >= clock.local(now).date():
        return latest
    return None


def _snooze_spans(
    snoozes: list[Snooze], clock: BusinessClock, now: datetime, waiting_since: datetime
) -> list[tuple[datetime, datetime]]:
    """When the snoozes held the clock: each from when it was set (from the start of the wait
    when that is not known) to the end of its last day, or until a later snooze replaced it."""
    set_by_now = [s for s in snoozes if _set_before(s, now)]
    spans = []
    for position, snooze in enumerate(set_by_now):
        start = snooze.since or waiting_since
        # The end of its last day; a date at the end of the calendar (stored before snoozes
        # were limited to a year) ends there rather than overflowing.
        last_day = min(snooze.until, _LAST_SNOOZE_DAY)
        end = datetime.combine(last_day + timedelta(days=1), time(0), tzinfo=clock.tz)
        if position + 1 < len(set_by_now):
            end = min(end, set_by_now[position + 1].since or end)
        spans.append((start, end))
    return spans


class _Pauses:
    """Stretches of time in which the silence clock stands still (a snooze, an out-of-office),
    merged, and business time measured around them."""

    __slots__ = ("_clock", "_spans")

    def __init__(self, clock: BusinessClock, spans: list[tuple[datetime, datetime]]) -> None:
        merged: list[tuple[datetime, datetime]] = []
        for start, end in sorted(span for span in spans if span[1] > span[0]):
            if merged and start <= merged[-1][1]:
                merged[-1] = (merged[-1][0], max(merged[-1][1], end))
            else:
                merged.append((start, end))
        self._clock = clock
        self._spans = merged

    def hours(self, start: datetime, end: datetime) -> float:
        """Business hours from ``start`` to ``end`` outside every pause."""
        total = 0.0
        for low, high in self._spans:
            if start >= end or low >= end:
                break
            if high <= start:
                continue
            if low > start:
                total += self._clock.business_hours_between(start, low)
            start = high
        if end > start:
            total += self._clock.business_hours_between(start, end)
        return total

    def add(self, start: datetime, hours: float) -> datetime:
        """The instant at which ``hours`` of business time outside the pauses have passed."""
        for low, high in self._spans:
            if high <= start:
                continue
            if low > start:
                available = self._clock.business_hours_between(start, low)
                if available >= hours:
                    break
                hours -= available
            start = max(start, high)
        return self._clock.add_business_hours(start, hours)


@dataclass(frozen=True, slots=True)
class _Context:
    """What every candidate's evaluation in one pass shares (made once by ``_evaluate``)."""

    classes: _Classes
    recruiter: frozenset[str]
    clock: BusinessClock
    policy: Policy
    now: datetime
    named: dict[tuple[int, str], datetime]
    """(candidate index, employer contact) -> when that contact last wrote naming the candidate."""
    recruiter_to: dict[str, datetime]
    """Address -> when the recruiter last wrote to it."""
    known: frozenset[str]
    """Every roster candidate's and employer contact's address: someone else's, for a candidate."""


@dataclass(frozen=True, slots=True)
class _Subject:
    """The candidate being evaluated, with what the pass gathered of theirs."""

    candidate: Candidate
    index: int
    threads: Sequence[Thread]
    touches: list[Touch]  # in time order
    snoozes: list[Snooze]  # in the order they were set
    refusals: Sequence[Action]
    addresses: frozenset[str]
    employer: frozenset[str]
    tag: str
    timeline: list[MailMessage]  # every message of their threads up to now, in date order

    @classmethod
    def of(
        cls,
        candidate: Candidate,
        index: int,
        threads: Sequence[Thread],
        touches: list[Touch],
        snoozes: list[Snooze],
        refusals: Sequence[Action],
        now: datetime,
    ) -> _Subject:
        timeline = sorted((m for t in threads for m in t.messages if m.date <= now), key=lambda m: m.date)
        return cls(
            candidate,
            index,
            threads,
            touches,
            snoozes,
            refusals,
            addresses=frozenset(a.lower() for a in candidate.emails),
            employer=frozenset(a.lower() for a in candidate.employer_emails),
            tag=tag_key(candidate.name),
            timeline=timeline,
        )


@dataclass(frozen=True, slots=True)
class _Wait:
    """An open wait: the scheduling email the candidate has not answered, and what followed it."""

    waiting: MailMessage
    chasers: list[MailMessage]
    slots: list[datetime]  # the start of every invitation the recruiter sent in it


def _wait_state(ctx: _Context, who: _Subject) -> CandidateState:
    """The state of one candidate's wait, before the recruiter's decisions (``_decided``)."""
    base = CandidateState(
        candidate=who.candidate,
        status=Status.IDLE,
        next_action=NextAction.NONE,
        threads=tuple(t.id for t in sorted(who.threads, key=lambda t: t.messages[0].date)),
        employer_waiting=_employer_waiting(
            who.employer, who.timeline, ctx.named, who.index, ctx.recruiter_to, ctx.classes
        ),
        touches=tuple(who.touches),
    )
    last_reply: datetime | None = None
    for message in who.timeline:
        if _is_reply(message, ctx.classes, who.addresses, ctx.recruiter, who.employer, ctx.known):
            last_reply = message.date
    wait = _open_wait(ctx, who, last_reply)
    if wait is None:
        asked = any(m.from_addr in ctx.recruiter and ctx.classes.full(m).kind is Kind.SCHEDULING for m in who.timeline)
        if last_reply is not None and asked:
            return evolve(base, status=Status.REPLIED, reasons=("the candidate replied",))
        return evolve(base, status=Status.IDLE, reasons=("no scheduling email open",))

    waiting, chasers = wait.waiting, wait.chasers
    state = evolve(
        base,
        waiting_since=waiting.date,
        chasers_sent=len(chasers),
        last_chaser_at=chasers[-1].date if chasers else None,
        scheduling_message=chasers[-1] if chasers else waiting,
        waiting_message=waiting,
        slot_expires=min((s for s in wait.slots if s > ctx.now), default=None),  # the soonest slot still ahead
    )
    reached = _reached(ctx, who, wait)
    pauses, pause_until, ooo_until = _pauses(ctx, who, waiting.date, last_reply, reached)
    state = evolve(state, silent_business_hours=round(pauses.hours(waiting.date, ctx.now), 2))
    bounced, delays = _bounce(ctx, who, state, wait, reached)
    if bounced is not None:
        return bounced
    if pause_until is not None and ctx.now < pause_until:
        until = ooo_until.isoformat() if ooo_until else "no return date given"
        return evolve(
            state,
            status=Status.OUT_OF_OFFICE,
            next_action=NextAction.WAIT,
            out_of_office_until=ooo_until,
            reasons=(f"out-of-office auto-reply ({until})", *delays),
        )
    return _silent_or_awaiting(ctx, who, state, pauses, delays)


def _open_wait(ctx: _Context, who: _Subject, last_reply: datetime | None) -> _Wait | None:
    """The first scheduling email of the recruiter's to the candidate since they last replied,
    and the chasers after it; None when there is none."""
    waiting: MailMessage | None = None
    chasers: list[MailMessage] = []
    slots: list[datetime] = []
    for message in who.timeline:
        if message.from_addr not in ctx.recruiter or (last_reply and message.date <= last_reply):
            continue
        if waiting is None and not _to_the_candidate(
            message, who.addresses, who.tag, ctx.recruiter, who.employer, ctx.known
        ):
            continue  # the recruiter writing to someone else in the thread (the employer)
        if waiting is None:
            if ctx.classes.full(message).kind is not Kind.SCHEDULING:
                continue
            waiting = message
        elif _a_chaser(set(message.recipients), who.addresses, who.employer, ctx.known):
            chasers.append(message)
        if message.calendar and ctx.classes.full(message).kind is Kind.SCHEDULING:
            start = invitation_start(message.calendar)
            if start is not None:
                slots.append(start)
    return None if waiting is None else _Wait(waiting, chasers, slots)


def _reached(ctx: _Context, who: _Subject, wait: _Wait) -> set[str]:
    """Where the candidate was written to: their addresses, and on an email that is theirs by
    its tag alone, any address that is nobody else's (a personal or a mistyped one); never the
    recruiter, an employer contact or another candidate copied in."""
    reached = set(who.addresses)
    for sent in (wait.waiting, *wait.chasers):
        if not set(sent.recipients) & who.addresses:
            reached.update(
                a for a in sent.recipients if a not in ctx.recruiter and a not in who.employer and a not in ctx.known
            )
    return reached


def _pauses(
    ctx: _Context, who: _Subject, waiting_since: datetime, last_reply: datetime | None, reached: set[str]
) -> tuple[_Pauses, datetime | None, date | None]:
    """When the silence clock stood still, and the out-of-office pause still running (its end,
    its stated return date). Out-of-office replies from the candidate pause the clock from the
    reply to the stated return date; a snooze pauses it while it lasts. Silence built up before
    either is kept."""
    clock = ctx.clock
    spans = _snooze_spans(who.snoozes, clock, ctx.now, waiting_since)
    pause_until: datetime | None = None
    ooo_until: date | None = None
    # An out-of-office from before the scheduling email counts too (Outlook answers a sender
    # once per absence): any since the candidate last replied; its span is clipped to the wait.
    for message in who.timeline:
        if last_reply is not None and message.date <= last_reply:
            continue
        if message.date > ctx.now or message.from_addr not in reached or not ctx.classes.shape(message).out_of_office:
            continue
        return_date = read_return_date(message.text[:2000], message.date)
        if return_date:
            start = datetime.combine(return_date, time(0), tzinfo=clock.tz)
        else:
            start = clock.add_business_hours(message.date, OOO_DEFAULT_PAUSE_DAYS * ctx.policy.business_hours_per_day)
        spans.append((message.date, start))
        if pause_until is None or start >= pause_until:
            pause_until, ooo_until = start, return_date
    return _Pauses(clock, spans), pause_until, ooo_until


def _bounce(
    ctx: _Context, who: _Subject, state: CandidateState, wait: _Wait, reached: set[str]
) -> tuple[CandidateState | None, list[str]]:
    """The bounced state when what the recruiter sent the candidate bounced (None when not),
    and the delays reported. A report that names the failed recipients must name an address the
    candidate was written to at (``reached``); one that delivery is only delayed is said in the
    reasons, and never marks the candidate bounced."""
    clock, waiting_since = ctx.clock, wait.waiting.date
    sent_ids = {wait.waiting.message_id, *(c.message_id for c in wait.chasers)} - {""}
    delays: list[str] = []
    for message in who.timeline:
        if message.date < waiting_since:
            continue
        cls = ctx.classes.shape(message)
        if cls.kind is not Kind.BOUNCE:
            continue
        failed = set(message.failed_recipients) & reached
        if message.failed_recipients:
            if not failed:
                continue
        elif message.original_message_id not in sent_ids and message.in_reply_to not in sent_ids:
            continue
        address = min(failed, key=lambda a: (a not in who.addresses, a), default="")
        if cls.delayed:
            delays.append(
                f"delivery to {address or 'the candidate'} delayed on {clock.local(message.date):%a %d %b}"
                " (the mail system is still trying)"
            )
            continue
        reason = f"delivery to {address or 'the candidate'} failed on {clock.local(message.date):%a %d %b}"
        return _bounced(state, reason, who.candidate, ctx.now, clock), delays
    # A send the mail server refused for good (550 no such user) is a bounce that came at once.
    for action in who.refusals:
        at = action.done_at or action.created_at
        refused = {a.lower() for a in action.refused} & (reached | who.addresses)
        if refused and waiting_since <= at <= ctx.now:
            address = min(refused, key=lambda a: (a not in who.addresses, a))
            reason = f"delivery to {address} was refused by the mail server on {clock.local(at):%a %d %b}"
            return _bounced(state, reason, who.candidate, ctx.now, clock), delays
    return None, delays


def _silent_or_awaiting(
    ctx: _Context, who: _Subject, state: CandidateState, pauses: _Pauses, delays: list[str]
) -> CandidateState:
    """A wait not paused: still within the silence threshold, or silent and on the ladder."""
    clock, policy = ctx.clock, ctx.policy
    assert state.waiting_since is not None
    if state.silent_business_hours < policy.silent_after_business_hours:
        due = pauses.add(state.waiting_since, policy.silent_after_business_hours)
        return evolve(
            state,
            status=Status.AWAITING,
            next_action=NextAction.WAIT,
            reasons=(
                f"scheduling email sent {clock.local(state.waiting_since):%a %d %b %H:%M}",
                f"silent after {clock.local(due):%a %d %b %H:%M}",
                *delays,
            ),
        )
    reach = _Reach(who.candidate, ctx.now, clock)
    next_action, why = _ladder(ctx, who, state, pauses, reach)
    if next_action in (NextAction.CALL, NextAction.TEXT):
        why.append(reach().reason(clock, "call" if next_action is NextAction.CALL else "text"))
    return evolve(state, status=Status.SILENT, next_action=next_action, reasons=(*why, *delays))


def _bounced(
    state: CandidateState, reason: str, candidate: Candidate, now: datetime, clock: BusinessClock
) -> CandidateState:
    reach = reach_by_phone(candidate, now, clock)
    if reach.callable:  # a call or text only to a number that can be a mobile
        steps = ("call to get a working address", reach.reason(clock))
        next_action = NextAction.CALL
    else:
        steps = (reach.reason(clock), "find a working address another way: a social message")
        next_action = NextAction.MESSAGE_ON_SOCIAL
    return evolve(state, status=Status.BOUNCED, next_action=next_action, reasons=(reason, *steps))


def sent_copies(outbox: Sequence[Action]) -> list[MailMessage]:
    """What the outbox has sent, as the copies in Sent that the next sync will bring in."""
    copies = []
    for action in outbox:
        if action.mode is not ActionMode.SEND or action.state is not ActionState.DONE:
            continue
        sent = action.message
        copies.append(
            MailMessage(
                account=action.account,
                id=f"outbox:{action.id}",
                message_id=sent.message_id,
                date=action.done_at or action.created_at,
                from_addr=sent.from_addr.lower(),
                from_name=sent.from_name,
                subject=sent.subject,
                to=tuple(a.lower() for a in sent.to),
                cc=tuple(a.lower() for a in sent.cc),
                in_reply_to=sent.in_reply_to,
                references=sent.references,
                thread_id=sent.thread_id,
                folder="sent",
                text=sent.body[:4000],
            )
        )
    return copies


class _Reach:
    """The candidate's phone judgment, made when the ladder first needs it (most states never do)."""

    __slots__ = ("_args", "_found")

    def __init__(self, candidate: Candidate, now: datetime, clock: BusinessClock) -> None:
        self._args = (candidate, now, clock)
        self._found: PhoneReach | None = None

    def __call__(self) -> PhoneReach:
        if self._found is None:
            self._found = reach_by_phone(*self._args)
        return self._found


def _to_the_candidate(
    message: MailMessage,
    addresses: frozenset[str],
    tag: str,
    recruiter: frozenset[str],
    employer: frozenset[str],
    known: frozenset[str],
) -> bool:
    """Whether a message of the recruiter's can open the candidate's wait: it is addressed to
    them, or it carries their tag and is not addressed only to employer contacts or other
    candidates (it goes to an address the roster does not know, or only to the recruiter, the
    candidate in Bcc)."""
    recipients = set(message.recipients)
    if recipients & addresses:
        return True
    if not any(tag_key(t) == tag for t in message.tags):
        return False
    others = recipients - recruiter
    return not others or any(a not in employer and a not in known for a in others)


def _a_chaser(recipients: set[str], addresses: frozenset[str], employer: frozenset[str], known: frozenset[str]) -> bool:
    """A later email of the recruiter's in the wait is a chaser unless it went only to the
    employer or to other candidates."""
    return bool(recipients & addresses) or not (recipients & employer or recipients & known)


def _ladder(
    ctx: _Context, who: _Subject, state: CandidateState, pauses: _Pauses, reach: _Reach
) -> tuple[NextAction, list[str]]:
    """The escalation ladder's next step for a silent candidate, with reasons. A call and a
    text need a number that can be a mobile (``reach``); without one the ladder skips them."""
    clock, policy, now, employer = ctx.clock, ctx.policy, ctx.now, who.employer
    per_day = policy.business_hours_per_day or 8.0
    silent = state.silent_business_hours
    assert state.waiting_since is not None
    why = [f"silent for {clock.format_hours(silent)} of business time"]
    if state.chasers_sent:
        why.append(f"{state.chasers_sent} chaser{'s' if state.chasers_sent > 1 else ''} unanswered")
    if state.employer_waiting:
        why.append("the employer is waiting for news")
    if silent >= policy.pull_after_business_days * per_day:
        why.append(f"past {policy.pull_after_business_days:g} business days: consider pulling")
        return NextAction.CONSIDER_PULLING, why
    employer_told = any(ctx.recruiter_to.get(a, state.waiting_since) > state.waiting_since for a in employer)
    if state.employer_waiting or (silent >= 2 * per_day and employer and not employer_told):
        if not state.employer_waiting:
            why.append("day 3 of silence: give the employer a holding reply")
        return NextAction.UPDATE_EMPLOYER, why
    since = [t for t in who.touches if t.at >= state.waiting_since]
    last_contact = max([state.last_chaser_at or state.waiting_since, *(t.at for t in since)])
    if not state.chasers_sent and not since:
        why.append("no chaser sent yet")
        return NextAction.SEND_CHASER, why
    if pauses.hours(last_contact, now) < per_day:  # an out-of-office or a snooze holds this clock too
        due = pauses.add(last_contact, per_day)
        why.append(f"last contact {clock.local(last_contact):%a %H:%M}; next step after {clock.local(due):%a %H:%M}")
        return NextAction.WAIT, why
    channels = {t.channel for t in since}
    phone = reach()
    if phone.callable and "call" not in channels:
        why.append(f"a chaser went unanswered for a business day: call their {phone.phone.label}")
        return NextAction.CALL, why
    if phone.callable and "text" not in channels:
        why.append("a call logged, still no answer: send a text")
        return NextAction.TEXT, why
    if "dm" not in channels:
        if phone.callable:
            why.append("call and text logged: try a social message")
        else:
            why.append(f"{phone.reason(clock)}; no call or text: try a social message")
        return NextAction.MESSAGE_ON_SOCIAL, why
    why.append("every channel tried: update the employer")
    return NextAction.UPDATE_EMPLOYER, why


_WORDS = re.compile(r"[^\W_]+")


class _NameLookup:
    """Finds which of one employer contact's candidates a message names: by full name, or by
    first name when no other candidate of that contact shares it."""

    def __init__(self, indices: list[int], candidates: Sequence[Candidate]) -> None:
        self.full: dict[str, list[int]] = defaultdict(list)
        firsts: dict[str, list[int]] = defaultdict(list)
        for index in indices:
            words = _WORDS.findall(candidates[index].name.casefold())
            if words:
                self.full[" ".join(words)].append(index)
                if len(words[0]) > 2:
                    firsts[words[0]].append(index)
        self.first = {name: found[0] for name, found in firsts.items() if len(found) == 1}
        self.starts = {key.split(" ", 1)[0] for key in self.full}
        self.longest = max((key.count(" ") + 1 for key in self.full), default=1)

    def named_in(self, message: MailMessage) -> set[int]:
        words = _WORDS.findall((message.subject + "\n" + message.text[:2000]).casefold())
        found: set[int] = set()
        for i, word in enumerate(words):
            if word in self.first:
                found.add(self.first[word])
            if word not in self.starts:
                continue
            for n in range(2, self.longest + 1):
                found.update(self.full.get(" ".join(words[i : i + n]), ()))
        return found


def _from_the_employer(message: MailMessage, classes: _Classes) -> bool:
    """A message the employer contact wrote: human, not an auto-reply, a calendar reply or a
    delivery report (an out-of-office or an accepted invitation is nobody waiting for news)."""
    cls = classes.shape(message)
    return cls.human and cls.kind in (Kind.SCHEDULING, Kind.OTHER)


def _employer_waiting(
    employer: frozenset[str],
    timeline: list[MailMessage],
    named: dict[tuple[int, str], datetime],
    index: int,
    recruiter_to: dict[str, datetime],
    classes: _Classes,
) -> bool:
    """The employer contact wrote about this candidate (in their thread, or naming them) after
    the recruiter last wrote to that contact."""
    for address in employer:
        last = named.get((index, address))
        for message in timeline:
            if (
                message.from_addr == address
                and (last is None or message.date > last)
                and _from_the_employer(message, classes)
            ):
                last = message.date
        if last is not None:
            told = recruiter_to.get(address)
            if told is None or last > told:
                return True
    return False
