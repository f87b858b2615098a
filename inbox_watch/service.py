"""What the front ends (CLI, dashboard, daemon) do, in one place: read the store, ask the
engine, queue actions through the outbox. Front ends parse input and show output only."""

from __future__ import annotations

import shlex
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

import orjson

from inbox_watch import outbox, wake
from inbox_watch.config import AccountConfig, Config, RecruiterConfig, check_holidays, sender_address
from inbox_watch.engine import drafts
from inbox_watch.engine.clock import BusinessClock, holiday_dates
from inbox_watch.engine.plan import DayPlan, day_plan
from inbox_watch.engine.state import Inputs, erasure, evaluate_with_threads, name_fold, snooze_in_force, tag_key
from inbox_watch.errors import ActionRefused, SentByTeammate, UsageError
from inbox_watch.gc_pause import paused_gc
from inbox_watch.mime import make_message_id
from inbox_watch.models import (
    Action,
    ActionKind,
    ActionMode,
    ActionState,
    Candidate,
    CandidateState,
    Snooze,
    Status,
    TeamActivity,
    Thread,
    Touch,
)
from inbox_watch.provider import MailProvider
from inbox_watch.secrets import write_private
from inbox_watch.store_api import StoreAPI, open_store
from inbox_watch.sync import ProviderFactory, default_factory
from inbox_watch.vocabulary import business_time_ago, status_word

TOUCH_CHANNELS = ("call", "text", "dm")
MAX_SNOOZE_DAYS = 366  # a snooze ends within a year: a later date is a typo (and 9999-12-31 breaks date sums)
MAX_NOW_YEARS = 10  # --now within this many years of the real time


def iso(value: datetime | date | None) -> str | None:
    return value.isoformat() if value is not None else None


def report_row(state: CandidateState, owner: str = "") -> dict[str, Any]:
    """One row of ``report --json`` (the contract in DESIGN.md section 4); ``owner`` is the
    name of the recruiter who owns the candidate."""
    return {
        "rank": state.rank,
        "candidate": state.candidate.name,
        "emails": list(state.candidate.emails),
        "status": state.status.value,
        "waiting_since": iso(state.waiting_since),
        "silent_business_hours": state.silent_business_hours,
        "chasers_sent": state.chasers_sent,
        "employer_waiting": state.employer_waiting,
        "out_of_office_until": iso(state.out_of_office_until),
        "next_action": state.next_action.value,
        "score": state.score,
        "reasons": list(state.reasons),
        "threads": list(state.threads),
        "owner": owner,
    }


@dataclass
class Workspace:
    """A config and its store, with the operations the front ends offer."""

    config: Config
    store: StoreAPI
    factory: ProviderFactory | None = None
    _holidays: dict[int, dict[int, frozenset[date]]] = field(default_factory=dict)

    @classmethod
    def open(cls, config: Config, factory: ProviderFactory | None = None, *, pooled: bool = False) -> Workspace:
        """The workspace on the store ``config`` names (team mode: the team's PostgreSQL;
        ``pooled`` for the long-running dashboard and daemon)."""
        return cls(config, open_store(config, pooled=pooled), factory)

    @property
    def clock(self) -> BusinessClock:
        return BusinessClock(self.config.policy, self.known_holidays())

    def known_holidays(self, now: datetime | None = None) -> dict[int, frozenset[date]]:
        """Last, this and next year's public holidays, kept in a small file beside the store
        so that a start-up does not load the ``holidays`` package (about 0.2 s) every time.

        The file keeps each region (``policy.holidays``: country and subdivision, "GB-ENG")
        apart. The region is checked against the package only when the package is needed;
        dates in the file were computed, so checked, before."""
        region = self.config.policy.holidays
        if not region:
            return {}
        year = (now or datetime.now(UTC)).year
        if year in self._holidays:
            return self._holidays[year]
        self._holidays[year] = self._read_or_compute_holidays(region, year)
        return self._holidays[year]

    def _read_or_compute_holidays(self, region: str, year: int) -> dict[int, frozenset[date]]:
        path = self.store.path.with_name("holidays.json")
        try:
            kept = orjson.loads(path.read_bytes())
            days = kept.get(region, {}) if isinstance(kept, dict) else {}
        except (OSError, orjson.JSONDecodeError):
            kept, days = {}, {}
        wanted = (year - 1, year, year + 1)
        if all(str(y) in days for y in wanted):
            return {y: frozenset(date.fromisoformat(d) for d in days[str(y)]) for y in wanted}
        check_holidays(self.config)
        found = {y: holiday_dates(region, y) for y in wanted}
        days = {**days, **{str(y): sorted(d.isoformat() for d in found[y]) for y in wanted}}
        try:
            write_private(path, orjson.dumps({**(kept if isinstance(kept, dict) else {}), region: days}))
        except OSError:
            pass  # a cache only: the next start computes them again
        return found

    def inputs(self) -> Inputs:
        holidays = self.known_holidays()
        with self.store.reading(), paused_gc():
            messages, classes = self.store.messages_and_classes()
            return Inputs(
                known_holidays=holidays,
                candidates=self.store.candidates(),
                messages=messages,
                stored_classes=classes,
                recruiter=self.team_recruiter(),
                policy=self.config.policy,
                touches=self.store.touches(),
                snoozes=self.store.snoozes(),
                pulled=self.store.pulled(),
                outbox=self.store.actions(),
            )

    def team_recruiter(self) -> RecruiterConfig:
        """Who counts as "the recruiter" for the engine: in team mode, every teammate's address
        (a reply to any of them ends the wait; a chaser by any of them counts)."""
        recruiter = self.config.recruiter
        if not self.config.team:
            return recruiter
        return RecruiterConfig(name=recruiter.name, addresses=self.store.team_addresses())  # type: ignore[attr-defined]

    def owners(self, states: Sequence[CandidateState]) -> dict[str, str]:
        """Candidate name -> the name of the recruiter who owns them: the one whose mailbox holds
        the email that opened the current wait, else the one who imported them. Outside team
        mode, the recruiter's own name."""
        me = self.config.recruiter.name
        if not self.config.team:
            return {s.candidate.name: me for s in states}
        store: Any = self.store
        imported = store.candidate_owners()
        found = {}
        for state in states:
            opened = state.waiting_message
            found[state.candidate.name] = (
                store.owner_of_account(opened.account) if opened is not None else imported.get(state.candidate.name, me)
            )
        return found

    def team_activity(self, now: datetime) -> list[TeamActivity]:
        """Team mode: what teammates did to candidates in the last few days (the notices'
        source); nothing outside team mode."""
        if not self.config.team:
            return []
        from inbox_watch.notify import TEAM_LOOK_BACK_DAYS

        store: Any = self.store
        return list(store.team_activity(now - timedelta(days=TEAM_LOOK_BACK_DAYS)))

    def evaluate(self, now: datetime) -> list[CandidateState]:
        return self.evaluate_with_threads(now)[0]

    def evaluate_with_threads(self, now: datetime) -> tuple[list[CandidateState], dict[str, Thread]]:
        """``evaluate`` plus every stored thread by the id ``CandidateState.threads`` names it with,
        from one read of the store (the dashboard shows a candidate's thread as a timeline)."""
        return evaluate_with_threads(self.inputs(), now)

    def report(self, now: datetime, *, mine: bool = False) -> dict[str, Any]:
        """``report --json``: the whole team's candidates (``mine``: only the recruiter's own,
        ranked 1.. among themselves)."""
        states = self.evaluate(now)
        owners = self.owners(states)
        if mine:
            me = self.config.recruiter.name
            states = [
                replace(s, rank=i) for i, s in enumerate((s for s in states if owners[s.candidate.name] == me), 1)
            ]
        return {
            "generated_at": now.isoformat(),
            "candidates": [report_row(s, owners[s.candidate.name]) for s in states],
        }

    def today(self, now: datetime) -> DayPlan:
        """The day's plan (``inbox-watch today``): from the ranking now, and a day before it
        (who turned silent since yesterday)."""
        return day_plan(self.evaluate(now), self.evaluate(now - timedelta(days=1)), now, self.clock)

    def state_of(self, name: str, now: datetime) -> CandidateState:
        return self.find_state(self.evaluate(now), name)

    @staticmethod
    def find_state(states: Sequence[CandidateState], name: str) -> CandidateState:
        """The candidate called ``name``, or the only one whose name has words starting with
        ``name``'s words, in order ("anna" is Anna Lee, not Hannah Cho; "j doe" is Jane Doe).
        Several such candidates is a UsageError naming them: a command never guesses."""
        key = tag_key(name)
        if not key:
            raise UsageError("give a candidate's name (see `inbox-watch candidates list`)")
        for state in states:
            if tag_key(state.candidate.name) == key:
                return state
        folded = name_fold(key)  # "zoe clarke" is Zoë Clarke, unless that names two people
        matches = [s for s in states if name_fold(s.candidate.name) == folded]
        if not matches:
            matches = [s for s in states if name_matches(key, s.candidate.name)]
        if len(matches) == 1:
            return matches[0]
        if matches:
            names = ", ".join(s.candidate.name for s in matches[:5])
            more = f" and {len(matches) - 5} more" if len(matches) > 5 else ""
            raise UsageError(f"{name!r} matches several candidates: {names}{more}; give the full name")
        raise UsageError(f"no candidate called {name!r} (see `inbox-watch candidates list`)")

    # --- drafts and the outbox ---------------------------------------------------------------

    def chaser_draft(self, state: CandidateState, *, force: bool = False) -> drafts.Draft:
        """The chaser for ``state``. A pulled candidate, or a snoozed one, is not chased unless
        ``force`` (the recruiter asked for it by name, after seeing why not)."""
        if not force:
            self.check_chaseable(state)
        if state.waiting_since is None:
            raise ActionRefused(
                f"{state.candidate.name} has no unanswered scheduling email to chase ({status_word(state.status)})"
            )
        return drafts.chaser(
            state,
            recruiter_name=self.config.recruiter.name,
            clock=self.clock,
            templates_dir=self.config.templates_dir,
        )

    def employer_draft(
        self,
        state: CandidateState,
        now: datetime,
        threads: Mapping[str, Thread] | None = None,
        candidates: Sequence[Candidate] | None = None,
    ) -> drafts.Draft:
        """The employer update for ``state``: a reply in the thread where the employer contact
        last wrote about the candidate, when they did. ``threads`` (every stored thread) and
        ``candidates`` are what the caller last read; the store is read when they are not given."""
        if not state.candidate.employer_emails:
            raise ActionRefused(
                f"{state.candidate.name} has no employer contact address (add employer_email to the roster)"
            )
        if threads is None:
            states, threads = self.evaluate_with_threads(now)
            candidates = [s.candidate for s in states]
        contact = drafts.employer_contact(
            state,
            threads.values(),
            now=now,
            candidates=candidates if candidates is not None else (state.candidate,),
        )
        return drafts.employer_update(
            state,
            recruiter_name=self.config.recruiter.name,
            clock=self.clock,
            now=now,
            templates_dir=self.config.templates_dir,
            contact=contact,
        )

    def check_chaseable(self, state: CandidateState) -> None:
        """ActionRefused when ``state``'s candidate is pulled from the campaign, snoozed, out of
        the office or bounced: each is a reason not to chase that the recruiter overrides by
        asking again (``--force``; the dashboard asks)."""
        name = state.candidate.name
        if state.status is Status.PULLED:
            raise ActionRefused(f"{name} was pulled from the campaign; use --force to chase anyway")
        if state.status is Status.SNOOZED:
            until = [s.until for s in self.store.snoozes() if tag_key(s.candidate) == tag_key(name)]
            when = f" until {until[-1].isoformat()}" if until else ""  # the latest set is in force
            raise ActionRefused(f"{name} is snoozed{when}; use --force to chase anyway")
        if state.status is Status.OUT_OF_OFFICE:
            back = state.out_of_office_until
            when = f"away until {back:%a %d %b %Y}" if back else "away (their auto-reply gives no return date)"
            raise ActionRefused(f"{name} is out of the office: {when}; use --force to chase anyway")
        if state.status is Status.BOUNCED:
            why = state.reasons[0] if state.reasons else "an email to them bounced"
            raise ActionRefused(f"{name}'s address is failing ({why}); use --force to chase anyway")

    def check_chase_allowed(
        self, state: CandidateState, now: datetime, actions: Sequence[Action] | None = None
    ) -> None:
        """``check_send_allowed`` for a chaser."""
        self.check_send_allowed(state, ActionKind.CHASER, now, actions)

    def check_send_allowed(
        self, state: CandidateState, kind: ActionKind, now: datetime, actions: Sequence[Action] | None = None
    ) -> None:
        """Refuse a second chaser, or a second employer update, about one candidate within one
        business day of the last one (sent, queued, or given up after an attempt that may have
        gone out). This is the one guard on sends; ``queue`` applies it unless forced.

        ``actions`` is the outbox as the caller last read it (the dashboard keeps one copy per
        refresh); the store is read when it is not given.
        """
        per_day = self.config.policy.business_hours_per_day
        moments = [state.last_chaser_at] if kind is ActionKind.CHASER and state.last_chaser_at else []
        for action in self.store.actions() if actions is None else actions:
            if (
                action.kind is kind
                and action.mode is ActionMode.SEND
                and (
                    action.state in (ActionState.QUEUED, ActionState.SENDING, ActionState.DONE)
                    or action.send_started_at is not None
                )
                and tag_key(action.candidate) == tag_key(state.candidate.name)
            ):
                moments.append(action.done_at or action.created_at)
        if not moments:
            return
        last = max(moments)
        gap = self.clock.business_hours_between(last, now)
        if gap < per_day:
            what = (
                f"a chaser went to {state.candidate.name}"
                if kind is ActionKind.CHASER
                else f"an employer update about {state.candidate.name} went out"
            )
            raise ActionRefused(
                f"{what} {business_time_ago(last, now, self.clock)} "
                f"({self.clock.local(last):%a %d %b %H:%M}); wait a business day or use --force"
            )

    def account_for(self, state: CandidateState, draft: drafts.Draft | None = None) -> AccountConfig:
        """The account a draft goes out through: the one holding the message it answers, else
        the one holding the candidate's scheduling email, else the first."""
        if draft is not None and draft.account:
            for account in self.config.accounts:
                if account.name == draft.account:
                    return account
        message = state.scheduling_message
        if message is not None:
            for account in self.config.accounts:
                if account.name == message.account:
                    return account
        return self.config.account()

    def queue(
        self,
        state: CandidateState,
        draft: drafts.Draft,
        mode: ActionMode,
        now: datetime,
        *,
        not_before: datetime | None = None,
        force: bool = False,
    ) -> Action:
        """Record ``draft`` in the outbox for ``mode``. A send is first checked against the
        guard on repeated sends unless ``force``: ``check_send_allowed`` against this store's
        outbox; in team mode the send is claimed in the team's database instead: within one
        business day of a teammate's chaser (or employer update) to the same candidate it is
        refused, one line naming who sent what when."""
        kind = ActionKind.CHASER if draft.kind == "chaser" else ActionKind.EMPLOYER_UPDATE
        if mode is ActionMode.SEND and not force and not self.config.team:
            self.check_send_allowed(state, kind, now)
        account = self.account_for(state, draft)
        from_addr = sender_address(account, self.config.recruiter)
        if not from_addr:
            raise UsageError(
                f"no sender address for account {account.name!r}: set its from_address, or [recruiter] addresses"
            )
        if not draft.to:
            raise ActionRefused(f"no address to write to for {state.candidate.name}")
        domain = from_addr.split("@")[-1]
        message = draft.outgoing(
            from_addr=from_addr, from_name=self.config.recruiter.name, message_id=make_message_id(domain)
        )
        if self.config.team and draft.account and all(a.name != draft.account for a in self.config.accounts):
            # It answers a teammate's message: their provider's thread ids mean nothing in this
            # mailbox; the headers (In-Reply-To, References) still thread it.
            message = replace(message, thread_id="", reply_to_id="")
        guard = self.team_guard(state, kind, now, force=force) if self.config.team and mode is ActionMode.SEND else None
        action = outbox.enqueue(
            self.store,
            kind=kind,
            mode=mode,
            candidate=state.candidate.name,
            account=account.name,
            message=message,
            now=now,
            not_before=not_before,
            guard=guard,
        )
        if not_before is not None and not_before > now:
            wake.poke(self.store.path)  # queued for later: a running daemon wakes for it then
        return action

    def team_guard(self, state: CandidateState, kind: ActionKind, now: datetime, *, force: bool) -> Any:
        """The check the team's database runs under the candidate's claim lock, with the team's
        last send of ``kind``: refuses (ActionRefused) within one business day of it, or of the
        last chaser seen in anyone's mail, unless ``force``."""
        store: Any = self.store
        name = state.candidate.name

        def guard(last: Any) -> None:
            if force:
                return
            moments = [(last.at, last.recruiter)] if last is not None else []
            if kind is ActionKind.CHASER and state.last_chaser_at is not None:
                sent = state.scheduling_message
                who = store.owner_of_account(sent.account) if sent is not None else self.config.recruiter.name
                moments.append((state.last_chaser_at, who))
            if not moments:
                return
            at, who = max(moments)
            if self.clock.business_hours_between(at, now) >= self.config.policy.business_hours_per_day:
                return
            local, today = self.clock.local(at), self.clock.local(now).date()
            when = f"{local:%H:%M}" if local.date() == today else f"{local:%H:%M} on {local:%a %d %b}"
            did = f"chased {name}" if kind is ActionKind.CHASER else f"sent {name}'s employer an update"
            command = "chase" if kind is ActionKind.CHASER else "update-employer"
            raise SentByTeammate(f"{who} {did} at {when}", f"inbox-watch {command} {shlex.quote(name)} --send --force")

        return guard

    def run_actions(self, action_ids: set[str], now: datetime) -> list[Action]:
        """Carry out the given queued actions now, as the recruiter just asked, through each
        account's provider."""
        factory = self.factory or default_factory(self.config)
        providers: dict[str, MailProvider] = {}

        def provider_for(name: str) -> MailProvider:
            if name not in providers:
                providers[name] = factory(self.config.account(name))
            return providers[name]

        try:
            done = outbox.drain(self.store, provider_for, now, only=action_ids, immediate=True)
        finally:
            for provider in providers.values():
                provider.close()
        if any(a.state is ActionState.QUEUED and a.send_started_at is None for a in done):
            wake.poke(self.store.path)  # left queued: a running daemon takes it up from here
        return done

    # --- the recruiter's own records ---------------------------------------------------------

    def log_touch(self, name: str, channel: str, note: str, now: datetime) -> CandidateState:
        if channel not in TOUCH_CHANNELS:
            raise UsageError(f"unknown channel {channel!r} (use one of: {', '.join(TOUCH_CHANNELS)})")
        state = self.state_of(name, now)
        self.store.add_touch(Touch(state.candidate.name, channel, now, note))
        return self.state_of(state.candidate.name, now)

    def snooze(self, name: str, until: date, reason: str, now: datetime) -> CandidateState:
        today = self.clock.local(now).date()
        if until < today:
            raise UsageError(f"--until {until.isoformat()} is in the past")
        latest = today + timedelta(days=MAX_SNOOZE_DAYS)
        if until > latest:
            raise UsageError(
                f"--until {until.isoformat()} is more than a year ahead (at most {latest.isoformat()}); "
                "to stop chasing for good, use `pull`"
            )
        state = self.state_of(name, now)
        self.store.set_snooze(Snooze(state.candidate.name, until, reason, since=now))
        return self.state_of(state.candidate.name, now)

    def unsnooze(self, name: str, now: datetime) -> tuple[CandidateState, bool]:
        """End the candidate's snooze now (the pause it held so far still counts); the state
        after, and False when no snooze was in force."""
        state = self.state_of(name, now)
        key = tag_key(state.candidate.name)
        if snooze_in_force([s for s in self.store.snoozes() if tag_key(s.candidate) == key], self.clock, now) is None:
            return state, False
        # A snooze set now that ended yesterday: the one before it holds the clock until now.
        yesterday = self.clock.local(now).date() - timedelta(days=1)
        self.store.set_snooze(Snooze(state.candidate.name, yesterday, "snooze ended", since=now))
        return self.state_of(state.candidate.name, now), True

    def pull(self, name: str, now: datetime) -> tuple[CandidateState, bool]:
        """Pull the candidate from the campaign; False when they were already pulled."""
        state = self.state_of(name, now)
        if state.status is Status.PULLED:
            return state, False
        self.store.set_pulled(state.candidate.name)
        return replace(state, status=Status.PULLED), True

    def unpull(self, name: str, now: datetime) -> tuple[CandidateState, bool]:
        """Put a pulled candidate back in the campaign; False when they were not pulled."""
        state = self.state_of(name, now)
        if state.status is not Status.PULLED:
            return state, False
        self.store.set_pulled(state.candidate.name, pulled=False)
        return self.state_of(state.candidate.name, now), True

    def forget(self, name: str, now: datetime) -> tuple[str, dict[str, int]]:
        """Erase the candidate called ``name`` (see ``engine.state.erasure`` for which mail is
        theirs): decided and written under one hold of the store lock, so a sync landing
        meanwhile can neither slip their mail in nor lose another's."""
        with self.store.exclusive():
            state = self.state_of(name, now)
            plan = erasure(self.inputs(), state.candidate.name)
            counts = self.store.forget(plan)
        from inbox_watch import notify

        try:
            notify.forget(self.store.path, state.candidate.name)  # the daemon's notices name them too
        except OSError:
            pass  # no notices file to change
        return state.candidate.name, counts


def parse_now(value: str | None) -> datetime:
    """``--now`` as an aware datetime (UTC when no offset is given); the real time when absent."""
    if not value:
        return datetime.now(UTC)
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise UsageError(f"--now {value!r} is not an ISO 8601 date-time (e.g. 2026-11-27T09:30:00Z)") from None
    parsed = parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    real = datetime.now(UTC)
    if abs(parsed.year - real.year) > MAX_NOW_YEARS:
        raise UsageError(f"--now {value!r} is more than {MAX_NOW_YEARS} years from today; give a date-time near now")
    return parsed


def name_matches(key: str, name: str) -> bool:
    """Whether ``key`` names ``name``: each of its words starts a word of the name, in order
    ("anna" and "anna l" match Anna Lee; "anna" does not match Hannah Cho), ignoring case and
    accents ("zoe" matches Zoë Clarke, "zoë" matches Zoe Hart)."""
    words = name_fold(name).replace("-", " ").split()
    wanted = name_fold(key).replace("-", " ").split()
    at = 0
    for part in wanted:
        while at < len(words) and not words[at].startswith(part):
            at += 1
        if at == len(words):
            return False
        at += 1
    return True


def parse_day(value: str, what: str = "--until") -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise UsageError(f"{what} {value!r} is not a date (YYYY-MM-DD)") from None
