"""Small builders for hand-written threads in tests."""

from __future__ import annotations

import itertools
from datetime import datetime
from zoneinfo import ZoneInfo

from inbox_watch.config import Policy, RecruiterConfig
from inbox_watch.models import Candidate, MailMessage

LONDON = ZoneInfo("Europe/London")
SAM = "sam@agency.example"
RECRUITER = RecruiterConfig(name="Sam Carter", addresses=(SAM,))
POLICY = Policy()
_ids = itertools.count(1)


def at(text: str) -> datetime:
    """A London wall-clock time: at("2026-11-23 10:00")."""
    return datetime.fromisoformat(text).replace(tzinfo=LONDON)


def msg(
    when: str,
    sender: str,
    to: str | tuple[str, ...],
    subject: str = "Interview slots",
    text: str = "",
    *,
    reply_to: MailMessage | None = None,
    headers: tuple[tuple[str, str], ...] = (),
    calendar: str = "",
    tags: tuple[str, ...] = (),
    failed: tuple[str, ...] = (),
    original: str = "",
    delivery_status: str = "",
) -> MailMessage:
    n = next(_ids)
    refs: tuple[str, ...] = ()
    if reply_to is not None:
        refs = (*reply_to.references, reply_to.message_id)
    return MailMessage(
        account="work",
        id=f"m{n}",
        message_id=f"<m{n}@test.example>",
        date=at(when),
        from_addr=sender,
        subject=subject,
        to=(to,) if isinstance(to, str) else to,
        in_reply_to=reply_to.message_id if reply_to else "",
        references=refs,
        headers=headers,
        text=text,
        calendar=calendar,
        tags=tags,
        failed_recipients=failed,
        original_message_id=original,
        delivery_status=delivery_status,
    )


SLOTS = "Hi Jane,\n\nAcme can interview you on Tuesday at 10:00 or Wednesday at 14:00. Which suits you?\n\nSam"


def jane(**changes: object) -> Candidate:
    base = Candidate(
        name="Jane Doe",
        emails=("jane@example.com",),
        phone="07700 100001",
        role="Analyst",
        employer="Acme",
        employer_emails=("hr@acme.example",),
    )
    from dataclasses import replace

    return replace(base, **changes)  # type: ignore[arg-type]
