"""Drafts: a chaser in the candidate's thread and a holding reply to the employer.

Templates are plain text files with ``$name`` placeholders (``string.Template``), shipped in
``inbox_watch/templates`` and overridable by files of the same name in the configured
templates directory. Substitution is single-pass and safe: a value containing ``$``, braces or
CR/LF is inserted as text, never expanded, and header fields are built here, not by templates.
"""

from __future__ import annotations

import re
import string
from dataclasses import dataclass
from datetime import datetime
from importlib import resources
from pathlib import Path

from inbox_watch.engine.classify import _TIME, own_text
from inbox_watch.engine.clock import BusinessClock
from inbox_watch.engine.threads import base_subject
from inbox_watch.models import CandidateState, MailMessage, OutgoingMessage, Status

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


def render(template: str, values: dict[str, str]) -> str:
    """Substitute ``$name`` placeholders once; unknown placeholders stay as written."""
    return string.Template(template).safe_substitute({k: str(v) for k, v in values.items()})


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
        "role": _one_line(candidate.role or "the"),
        "employer": _one_line(candidate.employer or "the employer"),
        "recruiter_name": _one_line(recruiter_name),
        "slots": offered_slots(state.waiting_message or message, clock, state.slot_expires),
    }
    body = render(load_template(f"chaser_{step}", templates_dir), values)
    in_reply_to, references = _reply_headers(message)
    subject = "Re: " + _one_line(base_subject(message.subject if message else "") or "Interview times")
    to = tuple(candidate.emails[:1]) or ((message.to[:1]) if message else ())
    return Draft(
        kind="chaser",
        to=to,
        subject=subject,
        body=body,
        in_reply_to=in_reply_to,
        references=references,
        thread_id=message.thread_id if message else "",
        reply_to_id=message.id if message else "",
    )


def employer_update(
    state: CandidateState,
    *,
    recruiter_name: str,
    clock: BusinessClock,
    now: datetime,
    templates_dir: Path | None = None,
) -> Draft:
    """A holding reply to the employer contact: names the candidate, what was tried, and when
    the next update will come (a business day later). For a pulled candidate it is the note
    that withdraws them (template ``employer_withdrawn``)."""
    candidate = state.candidate
    tried = [f"sent {state.chasers_sent} follow-up email{'s' if state.chasers_sent != 1 else ''}"]
    channels = {"call": "called", "text": "texted", "dm": "messaged on social media"}
    for touch in state.touches:
        if state.waiting_since is None or touch.at >= state.waiting_since:
            word = channels.get(touch.channel, touch.channel)
            if word not in tried:
                tried.append(word)
    if len(tried) > 1:
        tried_text = ", ".join(tried[:-1]) + " and " + tried[-1]
    else:
        tried_text = tried[0]
    next_update = clock.add_business_hours(now, clock.policy.business_hours_per_day)
    contact = candidate.employer_emails[0] if candidate.employer_emails else ""
    values = {
        "employer_contact_name": _one_line(contact.split("@")[0].split(".")[0].title() if contact else "there"),
        "candidate_name": _one_line(candidate.name),
        "role": _one_line(candidate.role or "the"),
        "employer": _one_line(candidate.employer),
        "recruiter_name": _one_line(recruiter_name),
        "waiting_since": (f"{clock.local(state.waiting_since):%A %d %B}" if state.waiting_since else "recently"),
        "tried": tried_text,
        "next_update": f"{clock.local(next_update):%A %H:%M}",
    }
    withdrawn = state.status is Status.PULLED
    body = render(load_template("employer_withdrawn" if withdrawn else "employer_update", templates_dir), values)
    what = "withdrawn" if withdrawn else "update"
    subject = _one_line(f"{candidate.name}: {candidate.role or 'interview'} {what}")
    return Draft(kind="employer_update", to=candidate.employer_emails[:1], subject=subject, body=body)
