"""A synthetic mailbox of realistic shape for benchmarks: N candidates, about ten messages each,
and, when a total is asked for, the recruiter's other mail (colleagues, clients, newsletters:
mail that concerns no candidate) up to that many messages."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from inbox_watch.models import Candidate, MailMessage

SAM = "sam@agency.example"
FIRST = ("Priya", "Tom", "Aisha", "Daniel", "Lena", "Marco", "Sofia", "James", "Hannah", "Oliver", "Chloe", "Ethan")
LAST = ("Shah", "Becker", "Khan", "Okafor", "Fischer", "Rossi", "Almeida", "Whitfield", "Cho", "Grant")
EMPLOYERS = ("Northwind", "Contoso", "Fabrikam", "Tailspin", "Litware")
SLOTS = (
    "Hi {first},\n\n{employer} would like to meet you for the interview. They can do:\n\n"
    "  - Tuesday 1 December at 10:00\n  - Wednesday 2 December at 14:00\n\n"
    "Which of these suits you best?\n\nSam Carter\nSenior Consultant"
)
REPLY = "Hi Sam,\n\nThanks for this. Wednesday at 14:00 works for me.\n\n{first}\n\nOn Mon, Sam wrote:\n> older text"
CHASER = "Hi {first},\n\nJust checking you saw my note below?\n\nSam"
OOO = "Thank you for your email. I am out of the office until Monday 7 December 2026 with limited access to email."
CHAT = "Hi Sam, thanks for sending the job description over, I have read it and I'm interested. {first}"
INVITE = (
    "BEGIN:VCALENDAR\r\nMETHOD:REQUEST\r\nBEGIN:VTIMEZONE\r\nTZID:GMT\r\nBEGIN:STANDARD\r\n"
    "DTSTART:16010101T020000\r\nTZOFFSETFROM:+0000\r\nTZOFFSETTO:+0000\r\nEND:STANDARD\r\nEND:VTIMEZONE\r\n"
    "BEGIN:VEVENT\r\nUID:{uid}\r\nDTSTART:20261201T100000Z\r\nDTEND:20261201T110000Z\r\nSUMMARY:Interview\r\n"
    "END:VEVENT\r\nEND:VCALENDAR\r\n"
)


OTHER_SENDERS = ("ops@agency.example", "finance@agency.example", "news@jobboard.example", "alex@client.example")
OTHER_SUBJECTS = ("Weekly numbers", "Invoice 2231", "New roles this week", "Lunch on Friday?", "Timesheets")
OTHER_TEXT = "Hi Sam,\n\nPlease find the figures for this week below. Let me know if anything looks off.\n\nThanks"


def mailbox(
    candidates: int, messages_per: int = 10, seed: int = 7, *, total: int = 0
) -> tuple[list[Candidate], list[MailMessage]]:
    """``candidates`` people and about ``candidates * messages_per`` messages; with ``total``,
    the recruiter's other mail is added until there are ``total`` messages in all."""
    rng = random.Random(seed)
    now = datetime(2026, 11, 27, 12, tzinfo=UTC)
    people: list[Candidate] = []
    messages: list[MailMessage] = []
    count = 0

    def add(
        when: datetime,
        sender: str,
        to: str,
        subject: str,
        text: str,
        parent: MailMessage | None = None,
        headers: tuple[tuple[str, str], ...] = (),
        calendar: str = "",
    ) -> MailMessage:
        nonlocal count
        count += 1
        message = MailMessage(
            account="bench",
            id=f"b{count}",
            message_id=f"<b{count}@bench.example>",
            date=when,
            from_addr=sender,
            subject=subject,
            to=(to,),
            text=text,
            headers=headers,
            calendar=calendar,
            in_reply_to=parent.message_id if parent else "",
            references=(*parent.references, parent.message_id) if parent else (),
        )
        messages.append(message)
        return message

    for i in range(candidates):
        first, last = rng.choice(FIRST), rng.choice(LAST)
        name = f"{first} {last} {i}"
        email = f"{first.lower()}.{last.lower()}.{i}@example.com"
        employer = rng.choice(EMPLOYERS)
        contact = f"hiring@{employer.lower()}.example"
        people.append(Candidate(name, (email,), f"07700 1{i:05d}", "Engineer", employer, (contact,)))
        start = now - timedelta(hours=rng.randint(2, 400))
        subject = f"{employer} interview ({name})"
        intro = add(start - timedelta(days=3), email, SAM, f"CV {name}", CHAT.format(first=first))
        add(start - timedelta(days=2), SAM, email, f"Re: CV {name}", "Thanks, I'll come back to you.", intro)
        invite = rng.random() < 0.03
        sched = add(
            start,
            SAM,
            email,
            subject,
            SLOTS.format(first=first, employer=employer),
            calendar=INVITE.format(uid=i) if invite else "",
        )
        for n in range(messages_per - 3):
            when = start + timedelta(hours=6 * (n + 1))
            roll = rng.random()
            if when > now:
                break
            if roll < 0.35:
                add(when, SAM, email, "Re: " + subject, CHASER.format(first=first), sched)
            elif roll < 0.55:
                add(when, email, SAM, "Re: " + subject, REPLY.format(first=first), sched)
            elif roll < 0.62:
                add(when, email, SAM, "Automatic reply: " + subject, OOO, sched, (("auto-submitted", "auto-replied"),))
            elif roll < 0.85:
                add(when, contact, SAM, f"Shortlist update {employer}", f"Any news from {name}?")
            else:
                add(when, SAM, contact, f"Re: Shortlist update {employer}", f"Chasing {first} today.")
    parent: MailMessage | None = None
    while len(messages) < total:
        when = now - timedelta(minutes=rng.randint(10, 60 * 24 * 170))
        sender, subject = rng.choice(OTHER_SENDERS), rng.choice(OTHER_SUBJECTS)
        if parent is not None and rng.random() < 0.4:  # a reply of Sam's in the last thread
            add(when, SAM, parent.from_addr, "Re: " + parent.subject, "Thanks, noted.", parent)
            parent = None
        else:
            parent = add(when, sender, SAM, subject, OTHER_TEXT)
    return people, messages
