"""Drafts: a chaser in the candidate's thread and a holding reply to the employer.

Templates are plain text files with ``$name`` placeholders (``string.Template``), shipped in
``inbox_watch/templates`` and overridable by files of the same name in the configured
templates directory. Substitution is single-pass and safe: a value containing ``$``, braces or
CR/LF is inserted as text, never expanded, and header fields are built here, not by templates.
A placeholder whose value is empty (no role on the roster) takes one neighbouring space with it,
so "the $role interview" reads "the interview".
"""

from __future__ import annotations

import re
import string
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from importlib import resources
from pathlib import Path

from inbox_watch.engine.classify import _TIME, classify, own_text
from inbox_watch.engine.clock import BusinessClock
from inbox_watch.engine.threads import base_subject
from inbox_watch.models import Candidate, CandidateState, Kind, MailMessage, OutgoingMessage, Status, Thread
from inbox_watch.vocabulary import end_of_day

MAX_SLOTS = 6


@dataclass(frozen=True, slots=True)
class Draft:
    """A draft for the recruiter to read, edit and send. Not yet an OutgoingMessage."""

    kind: str  # "chaser" | "employer_update"
    to: tuple[str, ...]
    subject: str
    body: str
    in_reply_to: str = ""
    references: tuple[str, ...] = ()
    thread_id: str = ""
    reply_to_id: str = ""
    account: str = ""  # the account holding the message it answers ("" for a new thread)

    def outgoing(self, *, from_addr: str, from_name: str, message_id: str) -> OutgoingMessage:
        return OutgoingMessage(
            from_addr=from_addr,
            from_name=from_name,
            to=self.to,
            subject=self.subject,
            body=self.body,
            message_id=message_id,
            in_reply_to=self.in_reply_to,
            references=self.references,
            thread_id=self.thread_id,
            reply_to_id=self.reply_to_id,
        )


def load_template(name: str, override_dir: Path | None = None) -> str:
    """The template text: the user's file if present, else the built-in one."""
    if override_dir is not None:
        candidate = override_dir / f"{name}.txt"
        if candidate.is_file():
            return candidate.read_text(encoding="utf-8")
    return resources.files("inbox_watch.templates").joinpath(f"{name}.txt").read_text("utf-8")


def _one_line(value: str) -> str:
    return re.sub(r"[\r\n\t]+", " ", value).strip()


_GAP = "\x00"  # stands in for an empty value until the substitution is done
_EMPTY = re.compile(f" {_GAP}|{_GAP} ?")


def render(template: str, values: dict[str, str]) -> str:
    """Substitute ``$name`` placeholders once; unknown placeholders stay as written.

    An empty value takes one neighbouring space with it (the one before it, else the one
    after), so "about the $role interview" without a role reads "about the interview"."""
    filled = {k: str(v).replace(_GAP, "") or _GAP for k, v in values.items()}
    return _EMPTY.sub("", string.Template(template).safe_substitute(filled))


def offered_slots(message: MailMessage | None, clock: BusinessClock, slot: datetime | None) -> str:
    """The slot lines of the scheduling email, restated as a bulleted list."""
    lines: list[str] = []
    if message is not None:
        for line in own_text(message.text).splitlines():
            text = line.strip(" \t-*•>")
            if text and _TIME.search(text) and len(text) < 160 and not text.lower().startswith(("on ", "sent", "date")):
                lines.append(f"  - {text}")
            if len(lines) >= MAX_SLOTS:
                break
    if not lines and slot is not None:
        lines.append(f"  - {clock.local(slot):%A %d %B at %H:%M}")
    return "\n".join(lines) or "  - (the times in my earlier email)"


def _reply_headers(message: MailMessage | None) -> tuple[str, tuple[str, ...]]:
    if message is None or not message.message_id:
        return "", ()
    refs = tuple(dict.fromkeys((*message.references, message.message_id)))
    return message.message_id, refs


def _chaser_to(state: CandidateState) -> tuple[str, ...]:
    """The candidate's addresses the email being chased went to (the latest of the wait, else
    the one that opened it); the first roster address when it named none of them."""
    addresses = {a.lower() for a in state.candidate.emails}
    for message in (state.scheduling_message, state.waiting_message):
        if message is not None:
            to = tuple(dict.fromkeys(a for a in message.recipients if a.lower() in addresses))
            if to:
                return to
    if state.candidate.emails:
        return state.candidate.emails[:1]
    message = state.scheduling_message
    return message.to[:1] if message is not None else ()


def chaser(
    state: CandidateState,
    *,
    recruiter_name: str,
    clock: BusinessClock,
    templates_dir: Path | None = None,
) -> Draft:
    """A chaser in the candidate's thread; the tone steps up with each chaser already sent."""
    candidate = state.candidate
    step = min(state.chasers_sent + 1, 3)
    message = state.scheduling_message
    values = {
        "first_name": _one_line(candidate.name.split()[0] if candidate.name.split() else candidate.name),
        "candidate_name": _one_line(candidate.name),
        "role": _one_line(candidate.role),
        "employer": _one_line(candidate.employer) or "the employer",
        "recruiter_name": _one_line(recruiter_name),
        "slots": offered_slots(state.waiting_message or message, clock, state.slot_expires),
    }
    body = render(load_template(f"chaser_{step}", templates_dir), values)
    in_reply_to, references = _reply_headers(message)
    subject = "Re: " + _one_line(base_subject(message.subject if message else "") or "Interview times")
    return Draft(
        kind="chaser",
        to=_chaser_to(state),
        subject=subject,
        body=body,
        in_reply_to=in_reply_to,
        references=references,
        thread_id=message.thread_id if message else "",
        reply_to_id=message.id if message else "",
        account=message.account if message else "",
    )


# Display names that belong to a mailbox, not a person: greeted with "Hello," instead.
_NOT_A_PERSON = re.compile(
    r"\b(?:team|hr|human|recruit\w*|resourcing|talent|careers?|hiring|jobs|people|info|admin|office|"
    r"enquiries|inquiries|support|service|no-?reply|mail|desk|department|ltd|limited|inc|llc|plc|group)\b",
    re.IGNORECASE,
)
_TITLES = {"mr", "mrs", "ms", "miss", "mx", "dr", "prof", "sir", "dame"}


def greeting_name(display_name: str) -> str:
    """The name to greet someone by, from their display name: "Priya Shah" and "Shah, Priya"
    give "Priya"; "" when it does not look like a person's name ("Acme HR", an address)."""
    name = re.sub(r"[\(\[<].*?[\)\]>]", " ", _one_line(display_name)).strip(" \"'")
    if "," in name:  # "Shah, Priya", or "Priya Shah, Acme"
        before, _, after = name.partition(",")
        name = f"{after} {before}" if len(before.split()) == 1 and len(after.split()) == 1 else before
    words = [w for w in name.split() if w.rstrip(".").lower() not in _TITLES]
    if not words or len(words) > 4 or "@" in name or re.search(r"\d", name) or _NOT_A_PERSON.search(name):
        return ""
    first = words[0]
    if not first[0].isalpha():
        return ""
    if len(first.rstrip(".")) == 1:  # an initial: "J. Smith"
        return " ".join(words)
    return first.capitalize() if first.isupper() else first


@dataclass(frozen=True, slots=True)
class EmployerContact:
    """Who an employer update goes to: the contact's address, their display name when a message
    of theirs shows one, and the latest message they wrote about the candidate (the update
    answers it in its thread)."""

    address: str
    name: str = ""
    message: MailMessage | None = None


_WORDS = re.compile(r"[^\W_]+")


def _names(message: MailMessage, candidate: Candidate, others: Sequence[Candidate]) -> bool:
    """``message`` names ``candidate``: their full name, or their first name when no other
    candidate of the same employer contact shares it (the rule ``employer_waiting`` uses)."""
    words = _WORDS.findall(candidate.name.casefold())
    if not words:
        return False
    said = _WORDS.findall(f"{message.subject}\n{message.text[:2000]}".casefold())
    text = f" {' '.join(said)} "
    if f" {' '.join(words)} " in text:
        return True
    first = words[0]
    if len(first) <= 2 or f" {first} " not in text:
        return False
    contacts = {a.lower() for a in candidate.employer_emails}
    for other in others:
        other_words = _WORDS.findall(other.name.casefold())
        if (
            other_words != words
            and other_words[:1] == [first]
            and contacts & {a.lower() for a in other.employer_emails}
        ):
            return False  # another of this contact's candidates has the same first name
    return True


def employer_contact(
    state: CandidateState,
    threads: Iterable[Thread],
    *,
    now: datetime,
    candidates: Sequence[Candidate] = (),
) -> EmployerContact | None:
    """The employer contact an update about ``state``'s candidate goes to, from the mail in
    ``threads`` (every thread, so that a message naming the candidate elsewhere is found).

    The message answered is the latest one, up to ``now``, that one of the candidate's employer
    contacts wrote in the candidate's threads or naming the candidate, by hand (an out-of-office
    reply or a calendar answer is not one to answer). None when the candidate has no employer
    contact address."""
    contacts = [a.lower() for a in state.candidate.employer_emails]
    if not contacts:
        return None
    own_threads = set(state.threads)
    names: dict[str, tuple[datetime, str]] = {}
    latest: MailMessage | None = None
    for thread in threads:
        for message in thread.messages:
            sender = message.from_addr.lower()
            if sender not in contacts or message.date > now:
                continue
            if message.from_name and (sender not in names or message.date >= names[sender][0]):
                names[sender] = (message.date, message.from_name)
            if latest is not None and message.date <= latest.date:
                continue
            if (thread.id in own_threads or _names(message, state.candidate, candidates)) and _written(message):
                latest = message
    address = latest.from_addr.lower() if latest is not None else contacts[0]
    return EmployerContact(address=address, name=names[address][1] if address in names else "", message=latest)


def _written(message: MailMessage) -> bool:
    """A message a person wrote: not an auto-reply, a delivery report or a calendar answer."""
    found = classify(message, read_dates=False, content=False)
    return found.human and found.kind in (Kind.OTHER, Kind.SCHEDULING)


def _tried(state: CandidateState) -> list[str]:
    """What the recruiter has tried since the scheduling email, in words."""
    tried = []
    if state.chasers_sent:
        tried.append(f"sent {state.chasers_sent} follow-up email{'s' if state.chasers_sent != 1 else ''}")
    channels = {"call": "called", "text": "texted", "dm": "messaged on social media"}
    for touch in state.touches:
        if state.waiting_since is None or touch.at >= state.waiting_since:
            word = channels.get(touch.channel, touch.channel)
            if word not in tried:
                tried.append(word)
    return tried


def _and(words: list[str]) -> str:
    return ", ".join(words[:-1]) + " and " + words[-1] if len(words) > 1 else "".join(words)


def employer_update(
    state: CandidateState,
    *,
    recruiter_name: str,
    clock: BusinessClock,
    now: datetime,
    templates_dir: Path | None = None,
    contact: EmployerContact | None = None,
) -> Draft:
    """A holding reply to the employer contact: names the candidate, what was tried, and when
    the next update will come (a business day later). For a pulled candidate it is the note
    that withdraws them (template ``employer_withdrawn``).

    With ``contact`` (see ``employer_contact``) it answers the contact's latest message about
    the candidate in its thread and greets them by name; else it starts a new thread to the
    first employer address and opens with "Hello,"."""
    candidate = state.candidate
    if contact is None:
        contact = EmployerContact(candidate.employer_emails[0] if candidate.employer_emails else "")
    tried = _tried(state)
    next_update = clock.add_business_hours(now, clock.policy.business_hours_per_day)
    first_name = _one_line(greeting_name(contact.name))
    values = {
        "greeting": f"Hi {first_name}," if first_name else "Hello,",
        "employer_contact_name": first_name or "there",
        "candidate_name": _one_line(candidate.name),
        "role": _one_line(candidate.role),
        "employer": _one_line(candidate.employer),
        "recruiter_name": _one_line(recruiter_name),
        "waiting_since": (f"{clock.local(state.waiting_since):%A %d %B}" if state.waiting_since else "recently"),
        "sent_on": (f"on {clock.local(state.waiting_since):%A %d %B}" if state.waiting_since else "recently"),
        "tried": _and(tried) or "not followed up yet",
        "so_far": f"I've since {_and(tried)}." if tried else "",
        "next_update": end_of_day(next_update, now, clock),  # "by end of day Friday", never "Friday 13:04"
    }
    withdrawn = state.status is Status.PULLED
    body = render(load_template("employer_withdrawn" if withdrawn else "employer_update", templates_dir), values)
    message = contact.message
    if message is not None:
        in_reply_to, references = _reply_headers(message)
        subject = "Re: " + _one_line(base_subject(message.subject) or candidate.name)
        return Draft(
            kind="employer_update",
            to=(contact.address,),
            subject=subject,
            body=body,
            in_reply_to=in_reply_to,
            references=references,
            thread_id=message.thread_id,
            reply_to_id=message.id,
            account=message.account,
        )
    what = "withdrawn" if withdrawn else "update"
    subject = _one_line(f"{candidate.name}: {candidate.role or 'interview'} {what}")
    to = (contact.address,) if contact.address else ()
    return Draft(kind="employer_update", to=to, subject=subject, body=body)
