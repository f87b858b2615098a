"""What people wrote, for the detail pane and the thread screen: excerpts with the quoted
history cut, the wait as a timeline of business days, and the webmail address of a thread.

Pure functions over the engine's data (no Textual), so the tests can read them directly."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import quote

from inbox_watch.config import AccountConfig, RecruiterConfig
from inbox_watch.engine.classify import classify, from_stored
from inbox_watch.engine.clock import BusinessClock
from inbox_watch.models import CandidateState, Classification, Kind, MailMessage

Classify = Callable[[MailMessage], Classification]


class Classified:
    """What each message is, for the pane and the thread screen: the classification the sync
    kept in the store beside the message (``Overview.classes``), else one made here, once.

    The pane asks again on every cursor move and the thread screen for every message it
    shows: classifying a 40-message thread afresh took most of opening it in bench/tui.py.
    The screens need the kind, ``human`` and ``out_of_office``, which the kept form holds."""

    def __init__(self, stored: Mapping[tuple[str, str], Sequence[object]] | None = None) -> None:
        self._stored = stored or {}
        self._made: dict[int, tuple[MailMessage, Classification]] = {}  # by id(), message kept alive

    def __call__(self, message: MailMessage) -> Classification:
        made = self._made.get(id(message))
        if made is not None and made[0] is message:
            return made[1]
        kept = self._stored.get((message.account, message.id))
        found = from_stored(kept) if kept is not None else None
        if found is None:
            found = classify(message)
        self._made[id(message)] = (message, found)
        return found

# The line that starts the quoted history: "On Tue, 24 Nov 2026 at 10:02, Sam <...> wrote:",
# Outlook's "-----Original Message-----" and "From: ... Sent: ..." blocks, Gmail's forwarding.
_QUOTE_START = re.compile(
    r"^\s*(On\b.{0,300}\bwrote:\s*$|-{2,}\s*(Original Message|Forwarded message)\s*-{2,}|From:\s.+|_{8,})",
    re.IGNORECASE,
)
_WRAPPED_ON = re.compile(r"^\s*On\b.{0,200}$", re.IGNORECASE)  # "On Tue ... Sam <sam@x>" / "wrote:"
_SIGNATURE = re.compile(r"^--\s*$")


def cut_quoted(text: str) -> str:
    """``text`` without its quoted history: everything from "On ... wrote:" (also when the
    client wrapped it over two lines), an "Original Message" block or a signature down, and
    every line starting with ">"."""
    kept: list[str] = []
    lines = text.replace("\r\n", "\n").split("\n")
    for index, line in enumerate(lines):
        following = lines[index + 1] if index + 1 < len(lines) else ""
        if _QUOTE_START.match(line) or _SIGNATURE.match(line):
            break
        if _WRAPPED_ON.match(line) and following.strip().lower().endswith("wrote:"):
            break
        if line.lstrip().startswith(">"):
            continue
        kept.append(line)
    return "\n".join(kept).strip()


def excerpt(text: str, limit: int = 280) -> str:
    """A short excerpt of what someone wrote: quoted history cut, whitespace collapsed, at most
    ``limit`` characters (cut at a word, with "…")."""
    words = " ".join(cut_quoted(text).split())
    if len(words) <= limit:
        return words
    return words[:limit].rsplit(" ", 1)[0] + "…"


_DIAGNOSTIC = re.compile(r"^\s*Diagnostic-Code:\s*(?:smtp;\s*)?(.+)$", re.IGNORECASE | re.MULTILINE)
_STATUS = re.compile(r"^\s*Status:\s*(\d\.\d+\.\d+)", re.IGNORECASE | re.MULTILINE)


def bounce_reason(message: MailMessage) -> str:
    """Why the mail was not delivered, from the report's Diagnostic-Code (or its text)."""
    found = _DIAGNOSTIC.search(message.delivery_status)
    if found:
        return " ".join(found.group(1).split())[:280]
    status = _STATUS.search(message.delivery_status)
    text = excerpt(message.text, 200)
    if status and not text:
        return f"delivery status {status.group(1)}"
    return text or "no reason given"


@dataclass(frozen=True)
class Said:
    """The last thing someone wrote: who, when, what kind, and the excerpt."""

    who: str
    at: datetime
    what: str  # "wrote", "auto-reply", "out of office", "bounce", "calendar reply"
    text: str


def _visible(messages: Iterable[MailMessage], now: datetime) -> list[MailMessage]:
    return sorted((m for m in messages if m.date <= now and not m.is_draft), key=lambda m: m.date)


def last_said(
    messages: Sequence[MailMessage],
    state: CandidateState,
    recruiter: RecruiterConfig,
    now: datetime,
    classified: Classify = classify,
) -> tuple[Said | None, Said | None]:
    """The candidate's last message (or their auto-reply, or a bounce with its reason) and the
    employer contact's last, each as an excerpt."""
    candidate = state.candidate
    ours = set(recruiter.addresses)
    employer = set(candidate.employer_emails)
    theirs: Said | None = None
    boss: Said | None = None
    for message in _visible(messages, now):
        sender = message.from_addr
        if sender in ours:
            continue
        cls = classified(message)
        if cls.kind is Kind.BOUNCE:
            theirs = Said("delivery report", message.date, "bounce", bounce_reason(message))
        elif sender in employer:
            if cls.human:
                boss = Said(candidate.employer or sender, message.date, "wrote", excerpt(message.text))
        elif sender in candidate.emails or cls.human or cls.kind is Kind.AUTO_REPLY:
            what = {
                Kind.AUTO_REPLY: "out of office" if cls.out_of_office else "auto-reply",
                Kind.CALENDAR_RESPONSE: "calendar reply",
            }.get(cls.kind, "wrote")
            theirs = Said(candidate.name, message.date, what, excerpt(message.text) or message.subject)
    return theirs, boss


@dataclass(frozen=True)
class Event:
    """One line of the timeline: ``day`` is the business day of the wait it fell on (1 = the
    day the scheduling email went), 0 before the wait began."""

    at: datetime
    day: int
    what: str


def business_day(start: datetime | None, at: datetime, clock: BusinessClock) -> int:
    if start is None or at < start:
        return 0
    per_day = clock.policy.business_hours_per_day or 8.0
    return int(clock.business_hours_between(start, at) // per_day) + 1


def timeline_events(
    messages: Sequence[MailMessage],
    state: CandidateState,
    recruiter: RecruiterConfig,
    clock: BusinessClock,
    now: datetime,
    classified: Classify = classify,
) -> list[Event]:
    """The wait as a story: the scheduling email, chasers, calls/texts/DMs logged, the
    employer's messages, replies, auto-replies and bounces, oldest first."""
    candidate = state.candidate
    start = state.waiting_since
    ours = set(recruiter.addresses)
    employer = set(candidate.employer_emails)
    events: list[tuple[datetime, str]] = []
    for message in _visible(messages, now):
        cls = classified(message)
        sender = message.from_addr
        if sender in ours:
            if start is not None and message.date == start:
                what = "scheduling email"
            elif (
                start is not None
                and message.date > start
                and candidate.emails
                and set(message.recipients) & set(candidate.emails)
            ):
                what = "chaser"
            elif set(message.recipients) & employer:
                what = "you wrote to the employer"
            else:
                what = "scheduling email" if cls.kind is Kind.SCHEDULING else "you wrote"
        elif cls.kind is Kind.BOUNCE:
            what = "bounce: " + bounce_reason(message)
        elif sender in employer:
            what = "employer asks" if cls.human else "employer auto-reply"
        elif cls.kind is Kind.AUTO_REPLY:
            what = "out of office" if cls.out_of_office else "auto-reply"
        elif cls.kind is Kind.CALENDAR_RESPONSE:
            what = "calendar reply"
        elif cls.human:
            what = "reply"
        else:
            what = "automated message"
        events.append((message.date, what))
    for touch in state.touches:
        if touch.at <= now:
            channel = {"dm": "DM", "text": "text", "call": "call"}.get(touch.channel, touch.channel)
            events.append((touch.at, f"{channel} logged" + (f": {touch.note}" if touch.note else "")))
    events.sort(key=lambda item: item[0])
    return [Event(at, business_day(start, at, clock), what) for at, what in events]


def event_line(event: Event, clock: BusinessClock) -> str:
    day = f"day {event.day}" if event.day else "before"
    return f"{day:<7}{clock.local(event.at):%d %b %H:%M}  {event.what}"


def webmail_url(message: MailMessage, account: AccountConfig | None) -> str | None:
    """Where the recruiter reads this message's thread: Gmail's web address for the thread,
    Outlook on the web's link for the message, or the IMAP account's ``webmail_url`` template;
    None when there is none."""
    if account is None:
        return None
    if account.provider == "gmail" and message.thread_id:
        return f"https://mail.google.com/mail/#all/{quote(message.thread_id, safe='')}"
    if account.provider == "outlook" and message.id:
        return f"https://outlook.office.com/mail/deeplink/read/{quote(message.id, safe='')}"
    if account.provider == "imap" and account.webmail_url:
        folder, _, uid = message.id.rpartition("/")
        folder = folder.rpartition("/")[0]  # "folder/uidvalidity/uid"
        values = {
            "message_id": quote(message.message_id.strip("<>"), safe="@"),
            "folder": quote(folder or message.folder, safe=""),
            "uid": quote(uid, safe=""),
        }
        return account.webmail_url.format_map(values)
    return None
