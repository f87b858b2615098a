"""The sample mailbox behind `inbox-watch demo`: recruiting threads anchored to ``now``.

Times are placed in business time before ``now`` (so every status shows whatever the day),
and one thread straddles the most recent public holiday.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from email.utils import format_datetime

from inbox_watch.config import Policy, RecruiterConfig
from inbox_watch.engine.clock import BusinessClock
from inbox_watch.mime import parse_bytes
from inbox_watch.models import Candidate, MailMessage

DEMO_RECRUITER = RecruiterConfig(name="Sam Carter", addresses=("sam@agency.example",))
SAM = "sam@agency.example"
DAY = 8.5  # business hours in the demo policy's working day


def demo_candidates() -> list[Candidate]:
    """The roster details of the demo candidates (the mailbox tags link them to threads)."""

    def c(name: str, email: str, phone: str, role: str, employer: str, contact: str, stage: str) -> Candidate:
        return Candidate(name, (email,), phone, role, employer, (contact,) if contact else (), stage)

    return [
        c(
            "Priya Shah",
            "priya.shah@example.com",
            "07700 100101",
            "Finance Analyst",
            "Northwind",
            "talent@northwind.example",
            "first interview",
        ),
        c(
            "Tom Becker",
            "tom.becker@example.com",
            "07700 100112",
            "Backend Engineer",
            "Contoso",
            "hiring@contoso.example",
            "technical interview",
        ),
        c(
            "Aisha Khan",
            "aisha.khan@example.com",
            "07700 100123",
            "Product Designer",
            "Fabrikam",
            "jo.price@fabrikam.example",
            "portfolio review",
        ),
        c(
            "Daniel Okafor",
            "daniel.okafor@example.com",
            "07700 100134",
            "Data Engineer",
            "Tailspin",
            "recruit@tailspin.example",
            "first interview",
        ),
        c(
            "Lena Fischer",
            "lena.fischer@example.com",
            "07700 100145",
            "Marketing Lead",
            "Northwind",
            "talent@northwind.example",
            "final interview",
        ),
        c(
            "Marco Rossi",
            "marco.rossi@example.com",
            "07700 100156",
            "QA Engineer",
            "Contoso",
            "hiring@contoso.example",
            "phone screen",
        ),
        c(
            "Sofia Almeida",
            "sofia.almeida@example.com",
            "07700 100167",
            "Solutions Architect",
            "Litware",
            "people@litware.example",
            "first interview",
        ),
        c(
            "James Whitfield",
            "james.whitfield@example.com",
            "07700 100178",
            "DevOps Engineer",
            "Fabrikam",
            "jo.price@fabrikam.example",
            "technical interview",
        ),
        c(
            "Hannah Cho",
            "hannah.cho@example.com",
            "07700 100189",
            "UX Researcher",
            "Tailspin",
            "recruit@tailspin.example",
            "first interview",
        ),
        c(
            "Oliver Grant",
            "oliver.grant@example.com",
            "07700 100190",
            "Account Manager",
            "Litware",
            "people@litware.example",
            "final interview",
        ),
        c(
            "Chloe Dubois",
            "chloe.dubois@example.com",
            "+33 6 12 34 56 78",
            "Legal Counsel",
            "Northwind",
            "talent@northwind.example",
            "first interview",
        ),
        c(
            "Ethan Brooks",
            "ethan.brooks@example.com",
            "07700 100212",
            "Sales Director",
            "Contoso",
            "hiring@contoso.example",
            "sourcing",
        ),
        c(
            "Maya Patel",
            "maya.patel@example.com",
            "07700 100223",
            "iOS Developer",
            "Fabrikam",
            "jo.price@fabrikam.example",
            "technical interview",
        ),
        c(
            "Noah Williams",
            "noah.williams@example.com",
            "020 7946 0123",
            "Support Lead",
            "Tailspin",
            "",
            "first interview",
        ),
        c(
            "Grace Liu",
            "grace.liu@example.com",
            "07700 100245",
            "Data Scientist",
            "Litware",
            "people@litware.example",
            "second interview",
        ),
        c(
            "Ruby Evans",
            "ruby.evans@example.com",
            "07700 100256",
            "Payroll Officer",
            "Northwind",
            "talent@northwind.example",
            "first interview",
        ),
        c(
            "Samuel Adeyemi",
            "samuel.adeyemi@example.com",
            "07700 100267",
            "Cloud Engineer",
            "Contoso",
            "hiring@contoso.example",
            "phone screen",
        ),
    ]


class _Builder:
    def __init__(self, account: str, now: datetime) -> None:
        self.account = account
        self.now = now
        self.clock = BusinessClock(Policy())
        self.messages: list[MailMessage] = []
        self.count = 0

    def ago(self, business_hours: float) -> datetime:
        return self.clock.sub_business_hours(self.now, business_hours)

    def slots(self, count: int = 3) -> list[str]:
        """Interview slots on the coming business days, written for people."""
        out = []
        moment = self.clock.add_business_hours(self.now, DAY)
        for hour in (10, 14, 11)[:count]:
            day = self.clock.local(moment).date()
            while not self.clock.is_business_day(day):
                day += timedelta(days=1)
            out.append(f"{day:%A %d %B} at {hour}:00")
            moment = self.clock.add_business_hours(datetime.combine(day, time(17), tzinfo=self.clock.tz), 1)
        return out

    def mail(
        self,
        when: datetime,
        sender: str,
        to: str,
        subject: str,
        body: str,
        *,
        tag: str,
        reply_to: MailMessage | None = None,
        headers: dict[str, str] | None = None,
        calendar: str = "",
        content_type: str = "",
        sender_name: str = "",
    ) -> MailMessage:
        self.count += 1
        message_id = f"<demo-{self.count}@{sender.split('@')[1]}>"
        lines = [
            f"From: {sender_name} <{sender}>" if sender_name else f"From: {sender}",
            f"To: {to}",
            f"Subject: {subject}",
            f"Date: {format_datetime(when.astimezone(UTC))}",
            f"Message-ID: {message_id}",
            "MIME-Version: 1.0",
        ]
        if reply_to is not None:
            refs = " ".join((*reply_to.references, reply_to.message_id))
            lines += [f"In-Reply-To: {reply_to.message_id}", f"References: {refs}"]
        for key, value in (headers or {}).items():
            lines.append(f"{key}: {value}")
        if calendar:
            lines += [
                'Content-Type: multipart/alternative; boundary="b1"',
                "",
                "--b1",
                "Content-Type: text/plain; charset=utf-8",
                "",
                body,
                "--b1",
                f"Content-Type: text/calendar; charset=utf-8; method={content_type or 'REQUEST'}",
                "",
                calendar,
                "--b1--",
                "",
            ]
        elif content_type:
            lines += [f"Content-Type: {content_type}", "", body, ""]
        else:
            lines += ["Content-Type: text/plain; charset=utf-8", "", body, ""]
        raw = "\r\n".join(lines).encode()
        folder = "Sent" if sender == SAM else "INBOX"
        message = parse_bytes(raw, account=self.account, id=f"demo/{self.count}", folder=folder, tags=(tag,))
        self.messages.append(message)
        return message


def _invite(
    start: datetime, summary: str, attendee: str, method: str = "REQUEST", partstat: str = "NEEDS-ACTION"
) -> str:
    stamp = start.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    end = (start + timedelta(hours=1)).astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    return "\r\n".join(
        [
            "BEGIN:VCALENDAR",
            "PRODID:-//inbox-watch demo//EN",
            "VERSION:2.0",
            f"METHOD:{method}",
            "BEGIN:VEVENT",
            f"UID:{summary.replace(' ', '-').lower()}@agency.example",
            f"DTSTAMP:{stamp}",
            f"DTSTART:{stamp}",
            f"DTEND:{end}",
            f"SUMMARY:{summary}",
            f"ORGANIZER;CN=Sam Carter:mailto:{SAM}",
            f"ATTENDEE;PARTSTAT={partstat};RSVP=TRUE:mailto:{attendee}",
            "END:VEVENT",
            "END:VCALENDAR",
        ]
    )


def _last_holiday(clock: BusinessClock, now: datetime) -> date | None:
    day = clock.local(now).date() - timedelta(days=1)
    for _ in range(400):
        if day.weekday() < 5 and clock.is_holiday(day):
            return day
        day -= timedelta(days=1)
    return None


def build_mailbox(account: str, now: datetime) -> list[MailMessage]:
    """Every message of the demo mailbox as of ``now``."""
    b = _Builder(account, now)
    sig = "\n\nSam Carter\nSenior Consultant, Agency\n+44 20 7946 0000"

    def offer(name: str, role: str, employer: str, hours_ago: float, email: str) -> MailMessage:
        first = name.split()[0]
        slots = "\n".join(f"  - {s}" for s in b.slots())
        return b.mail(
            b.ago(hours_ago),
            SAM,
            email,
            f"{employer} interview: {role} ({name})",
            f"Hi {first},\n\n{employer} would love to meet you for the {role} role. They can do:\n\n{slots}\n\n"
            f"Which of these suits you best? Let me know and I'll confirm it with them.{sig}",
            tag=name,
            sender_name="Sam Carter",
        )

    def follow_up(parent: MailMessage, hours_ago: float, text: str) -> MailMessage:
        """A chaser from the recruiter in ``parent``'s thread."""
        return b.mail(
            b.ago(hours_ago),
            SAM,
            parent.to[0],
            "Re: " + parent.subject,
            text + sig,
            tag=parent.tags[0],
            reply_to=parent,
            sender_name="Sam Carter",
        )

    # Silent, no chaser yet: send a chaser.
    offer("Priya Shah", "Finance Analyst", "Northwind", 1.3 * DAY, "priya.shah@example.com")

    # Silent, chaser unanswered for a business day: call.
    tom = offer("Tom Becker", "Backend Engineer", "Contoso", 1.8 * DAY, "tom.becker@example.com")
    follow_up(
        tom, 1.2 * DAY, "Hi Tom,\n\nJust checking you saw the slots below? Contoso are keen to lock something in."
    )

    # Silent and the employer is asking: update the employer.
    aisha = offer("Aisha Khan", "Product Designer", "Fabrikam", 1.5 * DAY, "aisha.khan@example.com")
    b.mail(
        b.ago(2),
        "jo.price@fabrikam.example",
        SAM,
        "Aisha Khan - portfolio review?",
        "Hi Sam,\n\nAny news from Aisha? The panel is holding Thursday for her and I need to confirm the room by tomorrow.\n\nJo Price\nTalent Partner, Fabrikam",
        tag="Aisha Khan",
        sender_name="Jo Price",
    )
    del aisha

    # Silent for over a week, two chasers, employer wondering: consider pulling.
    daniel = offer("Daniel Okafor", "Data Engineer", "Tailspin", 6.2 * DAY, "daniel.okafor@example.com")
    follow_up(
        daniel,
        4.8 * DAY,
        "Hi Daniel,\n\nFollowing up on the Tailspin interview times below. Could you let me know which works?",
    )
    follow_up(
        daniel, 3.1 * DAY, "Hi Daniel,\n\nI haven't heard back; are you still interested in the Data Engineer role?"
    )
    b.mail(
        b.ago(0.6 * DAY),
        "recruit@tailspin.example",
        SAM,
        "Data Engineer shortlist",
        "Sam, should we move on from Daniel Okafor? We have two other people ready to interview.\n\nTailspin Recruiting",
        tag="Daniel Okafor",
    )

    # Silent, but a chaser went out two hours ago: wait.
    lena = offer("Lena Fischer", "Marketing Lead", "Northwind", 1.6 * DAY, "lena.fischer@example.com")
    follow_up(
        lena, 2, "Hi Lena,\n\nA gentle nudge on the times below; Northwind would like to confirm today if possible."
    )

    # Awaiting: sent this morning.
    offer("Marco Rossi", "QA Engineer", "Contoso", 3, "marco.rossi@example.com")

    # Awaiting: a calendar invitation for a slot that comes up soon.
    slot = b.clock.add_business_hours(now, 1.2 * DAY)
    b.mail(
        b.ago(1),
        SAM,
        "sofia.almeida@example.com",
        "Invitation: Litware interview - Solutions Architect",
        "Hi Sofia,\n\nI've sent the invitation for your first interview with Litware. Please accept if the time works, or let me know another."
        + sig,
        tag="Sofia Almeida",
        calendar=_invite(slot, "Litware interview Sofia Almeida", "sofia.almeida@example.com"),
        headers={"Auto-Submitted": "auto-generated"},
        sender_name="Sam Carter",
    )

    # Replied: picked a slot.
    james = offer("James Whitfield", "DevOps Engineer", "Fabrikam", 2 * DAY, "james.whitfield@example.com")
    b.mail(
        b.ago(1.5 * DAY),
        "james.whitfield@example.com",
        SAM,
        "Re: " + james.subject,
        f"Hi Sam,\n\n{b.slots()[1]} works well for me. Thanks for arranging!\n\nJames\nMobile: 07700 100178",
        tag="James Whitfield",
        reply_to=james,
        sender_name="James Whitfield",
    )

    # Replied from a personal address in the same thread.
    hannah = offer("Hannah Cho", "UX Researcher", "Tailspin", 1 * DAY, "hannah.cho@example.com")
    b.mail(
        b.ago(0.4 * DAY),
        "hannah.c.home@example.net",
        SAM,
        "Re: " + hannah.subject,
        "Hi Sam, replying from my personal email as I'm off work today. The first slot is perfect. Hannah",
        tag="Hannah Cho",
        reply_to=hannah,
    )

    # Out of office with a return date.
    oliver = offer("Oliver Grant", "Account Manager", "Litware", 1.2 * DAY, "oliver.grant@example.com")
    back = b.clock.local(b.clock.add_business_hours(now, 2.5 * DAY)).date()
    b.mail(
        b.ago(1.2 * DAY - 0.01),
        "oliver.grant@example.com",
        SAM,
        "Automatic reply: " + oliver.subject,
        f"Thank you for your email. I am out of the office on annual leave and will be back on {back:%A %d %B %Y}. "
        "I will have limited access to email.",
        tag="Oliver Grant",
        reply_to=oliver,
        headers={"Auto-Submitted": "auto-replied", "X-Auto-Response-Suppress": "All"},
    )

    # Bounced: a typo in the address.
    chloe = offer("Chloe Dubois", "Legal Counsel", "Northwind", 0.5 * DAY, "chloe.dubios@example.com")
    b.mail(
        b.ago(0.5 * DAY - 0.02),
        "MAILER-DAEMON@mail.agency.example",
        SAM,
        "Undelivered Mail Returned to Sender",
        "This is the mail system at host mail.agency.example.\r\n\r\nI'm sorry to have to inform you that your message could not\r\n"
        "be delivered to one or more recipients.\r\n\r\n<chloe.dubios@example.com>: host mx.example.com said: 550 5.1.1 User unknown\r\n\r\n"
        f"--r1\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mail.agency.example\r\n\r\n"
        f"Final-Recipient: rfc822; chloe.dubios@example.com\r\nAction: failed\r\nStatus: 5.1.1\r\n\r\n"
        f"--r1\r\nContent-Type: text/rfc822-headers\r\n\r\nMessage-ID: {chloe.message_id}\r\nSubject: {chloe.subject}\r\n\r\n--r1--",
        tag="Chloe Dubois",
        content_type='multipart/report; report-type=delivery-status; boundary="r1"',
    )
    # (the body above is a full multipart report, assembled by hand to look like Postfix's)

    # Idle: no scheduling email open.
    ethan_hello = b.mail(
        b.ago(3 * DAY),
        "ethan.brooks@example.com",
        SAM,
        "CV - Ethan Brooks",
        "Hi Sam, as discussed on the phone, here is my CV. Ethan\nMobile: 07700 100212",
        tag="Ethan Brooks",
        sender_name="Ethan Brooks",
    )
    b.mail(
        b.ago(2.8 * DAY),
        SAM,
        "ethan.brooks@example.com",
        "Re: CV - Ethan Brooks",
        "Thanks Ethan, I'll share it with Contoso and come back to you once they've had a look." + sig,
        tag="Ethan Brooks",
        reply_to=ethan_hello,
        sender_name="Sam Carter",
    )

    # Replied by accepting a calendar invitation.
    maya_start = b.clock.add_business_hours(now, 2 * DAY)
    maya = b.mail(
        b.ago(1 * DAY),
        SAM,
        "maya.patel@example.com",
        "Invitation: Fabrikam technical interview - Maya Patel",
        "Hi Maya, invitation attached for the technical interview with Fabrikam." + sig,
        tag="Maya Patel",
        calendar=_invite(maya_start, "Fabrikam technical interview", "maya.patel@example.com"),
        sender_name="Sam Carter",
    )
    b.mail(
        b.ago(0.7 * DAY),
        "maya.patel@example.com",
        SAM,
        "Accepted: Fabrikam technical interview - Maya Patel",
        "Maya Patel has accepted this invitation.",
        tag="Maya Patel",
        reply_to=maya,
        calendar=_invite(maya_start, "Fabrikam technical interview", "maya.patel@example.com", "REPLY", "ACCEPTED"),
        content_type="REPLY",
        headers={"Auto-Submitted": "auto-generated"},
    )

    # Silent, two chasers, only an office landline known.
    noah = offer("Noah Williams", "Support Lead", "Tailspin", 3 * DAY, "noah.williams@example.com")
    follow_up(noah, 2.1 * DAY, "Hi Noah, just making sure this didn't get buried - which slot suits you?")
    follow_up(noah, 1.1 * DAY, "Hi Noah, Tailspin need an answer this week. Are you still interested?")

    # Replied weeks ago, then a new scheduling email went unanswered.
    grace_old = offer("Grace Liu", "Data Scientist", "Litware", 12 * DAY, "grace.liu@example.com")
    b.mail(
        b.ago(11.5 * DAY),
        "grace.liu@example.com",
        SAM,
        "Re: " + grace_old.subject,
        "Hi Sam, the Tuesday slot is great, thank you.\n\nGrace\nM: 07700 100245",
        tag="Grace Liu",
        reply_to=grace_old,
    )
    b.mail(
        b.ago(1.1 * DAY),
        SAM,
        "grace.liu@example.com",
        "Litware second interview: Data Scientist (Grace Liu)",
        "Hi Grace,\n\nGreat news: Litware would like a second interview. Are you available on any of these?\n\n"
        + "\n".join(f"  - {s}" for s in b.slots())
        + sig,
        tag="Grace Liu",
        sender_name="Sam Carter",
    )

    # A thread across the latest public holiday: asked the day before, answered the day after.
    holiday = _last_holiday(b.clock, now)
    if holiday is not None:
        before = datetime.combine(holiday - timedelta(days=1), time(16, 0), tzinfo=b.clock.tz)
        while not b.clock.is_business_day(before.date()):
            before -= timedelta(days=1)
        after = datetime.combine(holiday + timedelta(days=1), time(9, 40), tzinfo=b.clock.tz)
        while not b.clock.is_business_day(after.date()):
            after += timedelta(days=1)
        ruby = b.mail(
            before,
            SAM,
            "ruby.evans@example.com",
            "Northwind interview: Payroll Officer (Ruby Evans)",
            "Hi Ruby,\n\nNorthwind can meet you on Thursday at 10:00 or Friday at 14:00. Which would you prefer?" + sig,
            tag="Ruby Evans",
            sender_name="Sam Carter",
        )
        b.mail(
            after,
            "ruby.evans@example.com",
            SAM,
            "Re: Northwind interview: Payroll Officer (Ruby Evans)",
            "Hi Sam, sorry for the delay - it was the bank holiday. Thursday at 10 please!\nRuby",
            tag="Ruby Evans",
            reply_to=ruby,
        )

    # Awaiting, with a helpdesk-style auto-acknowledgement that is not an out-of-office.
    samuel = offer("Samuel Adeyemi", "Cloud Engineer", "Contoso", 5, "samuel.adeyemi@example.com")
    b.mail(
        b.ago(5 - 0.01),
        "samuel.adeyemi@example.com",
        SAM,
        "Auto-Reply: " + samuel.subject,
        "Thanks for your message. This is an automatic acknowledgement.",
        tag="Samuel Adeyemi",
        reply_to=samuel,
        headers={"Auto-Submitted": "auto-replied"},
    )

    return b.messages
