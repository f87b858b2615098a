# ruff: noqa: F811 - the fixtures imported from dovecot.py / smtp_server.py / test_imap.py are named as arguments
"""The two-step read on a real Dovecot: header fields for every message, the text only of the
mail that concerns someone, and nothing of the rest's text in any file the store writes."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import pytest

from inbox_watch.config import Policy, RecruiterConfig
from inbox_watch.engine.state import Inputs, evaluate
from inbox_watch.models import Candidate, Status
from inbox_watch.store import Store
from inbox_watch.sync import sync_account
from tests.providers.contract import CANDIDATE, RECRUITER, make_raw
from tests.providers.dovecot import Dovecot, dovecot_server  # noqa: F401
from tests.providers.smtp_server import SmtpServer, smtp_server  # noqa: F401
from tests.providers.test_imap import ImapHarness, imap_env  # noqa: F401

EMPLOYER = "jo.price@fabrikam.example"
NOW = datetime.now(UTC)
SAM = RecruiterConfig("Sam Carter", (RECRUITER,))


@pytest.fixture
def harness(dovecot_server: Dovecot, smtp_server: SmtpServer, imap_env: None) -> Iterator[ImapHarness]:
    h = ImapHarness(dovecot_server, smtp_server)
    yield h
    h.close()


def _bounce(*, about: str, failed: str, marker: str, message_id: str) -> bytes:
    """A delivery report (multipart/report) for the message ``about``, sent to ``failed``."""
    return (
        f"From: MAILER-DAEMON@mx.agency.example\r\nTo: {RECRUITER}\r\n"
        f"Subject: Undelivered Mail Returned to Sender\r\nDate: {format_datetime(NOW - timedelta(hours=3))}\r\n"
        f"Message-ID: {message_id}\r\nMIME-Version: 1.0\r\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="r"\r\n\r\n'
        f"--r\r\nContent-Type: text/plain\r\n\r\n{marker}: your message could not be delivered.\r\n"
        f"--r\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.agency.example\r\n\r\n"
        f"Final-Recipient: rfc822; {failed}\r\nAction: failed\r\nStatus: 5.1.1\r\n"
        f"--r\r\nContent-Type: text/rfc822-headers\r\n\r\nMessage-ID: {about}\r\nTo: {failed}\r\n--r--\r\n"
    ).encode()


def _store_bytes(store: Store) -> bytes:
    """Everything the store keeps on disk: every file in its folder (backup, state, caches)."""
    return b"".join(p.read_bytes() for p in sorted(Path(store.path).parent.iterdir()) if p.is_file())


class FetchLog:
    """Which UIDs of which folder the provider read the text of (a spy on the commands it
    writes to the socket; nothing is changed)."""

    def __init__(self, harness: ImapHarness) -> None:
        self.commands: list[bytes] = []
        imap = harness.provider._connection()._imap
        real = imap.send

        def send(data: bytes) -> None:
            self.commands.append(bytes(data))
            real(data)

        imap.send = send

    def text_uids(self) -> dict[str, set[int]]:
        folder = ""
        found: dict[str, set[int]] = {}
        for command in self.commands:
            words = command.rstrip(b"\r\n").split(b" ")
            if len(words) > 2 and words[1] in (b"EXAMINE", b"SELECT"):
                folder = b" ".join(words[2:]).strip(b'"').decode()
            elif b" UID FETCH " in command and b"BODY.PEEK[" in command and b"HEADER.FIELDS" not in command:
                for part in words[3].decode().split(","):
                    low, _, high = part.partition(":")
                    found.setdefault(folder, set()).update(range(int(low), int(high or low) + 1))
        return found


def test_unrelated_mail_is_read_headers_only_and_its_text_is_in_no_store_file(
    harness: ImapHarness, tmp_path: Any
) -> None:
    store = Store(tmp_path / "store.json")
    store.upsert_candidates(
        [Candidate(name="Jane Doe", emails=(CANDIDATE,), employer="Fabrikam", employer_emails=(EMPLOYER,))]
    )
    day = timedelta(days=1)
    # Jane's thread: the slots (Sent), her answer from a personal address, nothing else needed.
    harness.deliver(
        make_raw(
            subject="Interview slots with Fabrikam",
            message_id="<slots@agency.example>",
            body="Hi Jane, Fabrikam can see you Tuesday at 10:00. RELATED-SLOTS",
            when=NOW - 3 * day,
        ),
        folder="sent",
    )
    harness.deliver(
        make_raw(
            subject="Re: Interview slots with Fabrikam",
            message_id="<jane-home@home.example>",
            sender="jane.home@home.example",
            to=RECRUITER,
            in_reply_to="<slots@agency.example>",
            body="Tuesday at 10:00 is fine. RELATED-PERSONAL-ADDRESS",
            when=NOW - 2 * day,
        )
    )
    # The employer contact, in a thread of its own, and a candidate known only by a folder.
    harness.deliver(
        make_raw(
            subject="Any news?",
            message_id="<jo@fabrikam.example>",
            sender=EMPLOYER,
            to=RECRUITER,
            body="Sam, any news on Jane Doe? RELATED-EMPLOYER",
            when=NOW - day,
        )
    )
    harness.deliver(
        make_raw(
            subject="CV attached",
            message_id="<tagged@example.org>",
            sender="omar@example.org",
            to=RECRUITER,
            body="Here is my CV. RELATED-TAGGED",
            when=NOW - day,
        ),
        tag="Omar Haddad",
    )
    # The recruiter's other mail: a thread with a friend (and Sam's answer), a newsletter, and a
    # delivery report about someone no one tracks.
    harness.deliver(
        make_raw(
            subject="Dinner on Friday",
            message_id="<friend@else.example>",
            sender="alex@else.example",
            to=RECRUITER,
            body="UNRELATED-FRIEND-TEXT my new flat is at 12 Elm Road",
            when=NOW - 2 * day,
        )
    )
    harness.deliver(
        make_raw(
            subject="Re: Dinner on Friday",
            message_id="<sam-friend@agency.example>",
            to="alex@else.example",
            in_reply_to="<friend@else.example>",
            body="UNRELATED-OWN-REPLY see you at eight",
            when=NOW - day,
        ),
        folder="sent",
    )
    harness.deliver(
        make_raw(
            subject="Weekly digest",
            message_id="<news@list.example>",
            sender="bulletin@list.example",
            to=RECRUITER,
            body="UNRELATED-NEWSLETTER",
        )
    )
    harness.deliver(
        _bounce(
            about="<sam-friend@agency.example>",
            failed="alex@else.example",
            marker="UNRELATED-BOUNCE",
            message_id="<b1@mx.agency.example>",
        )
    )
    # A delivery report about the email to Jane: its text says it is hers.
    harness.deliver(
        _bounce(
            about="<slots@agency.example>",
            failed=CANDIDATE,
            marker="RELATED-BOUNCE",
            message_id="<b2@mx.agency.example>",
        )
    )

    spy = FetchLog(harness)
    result = sync_account(store, harness.account, harness.provider, drain_outbox=False, recruiter=SAM)
    assert result.full and result.new == 9

    kept = _store_bytes(store)
    for marker in ("UNRELATED-FRIEND-TEXT", "UNRELATED-OWN-REPLY", "UNRELATED-NEWSLETTER", "UNRELATED-BOUNCE"):
        assert marker.encode() not in kept, marker
    for marker in ("RELATED-SLOTS", "RELATED-PERSONAL-ADDRESS", "RELATED-EMPLOYER", "RELATED-TAGGED", "RELATED-BOUNCE"):
        assert marker.encode() in kept, marker
    # Nor their subjects or addresses: threading metadata only, the addresses as keyed hashes.
    for private in (b"Dinner on Friday", b"alex@else.example", b"Weekly digest", b"bulletin@list.example"):
        assert private not in kept, private
    stubs = {m.message_id: m for m in store.metadata()}
    assert set(stubs) == {
        "<friend@else.example>",
        "<sam-friend@agency.example>",
        "<news@list.example>",
        "<b1@mx.agency.example>",
    }
    assert stubs["<sam-friend@agency.example>"].in_reply_to == "<friend@else.example>"
    assert all(a.startswith("#") for m in stubs.values() for a in (m.from_addr, *m.to))
    assert not {m.message_id for m in store.messages()} & set(stubs)
    # The text of the friend's thread and the newsletter was never even read from the server.
    messages = {m.message_id: m for m in [*store.messages(), *store.metadata()]}
    read = spy.text_uids()

    def text_read(message_id: str) -> bool:
        message = messages[message_id]
        return int(message.id.rsplit("/", 1)[1]) in read.get(message.folder, set())

    for unread in ("<friend@else.example>", "<sam-friend@agency.example>", "<news@list.example>"):
        assert not text_read(unread), (unread, spy.commands)
        assert messages[unread].headers_only and not messages[unread].text
    for whole in ("<slots@agency.example>", "<jane-home@home.example>", "<jo@fabrikam.example>"):
        assert text_read(whole) and not messages[whole].headers_only, whole
    assert text_read("<b1@mx.agency.example>")  # read to learn whom it is about
    assert messages["<b1@mx.agency.example>"].headers_only  # and not kept

    inputs = Inputs(candidates=store.candidates(), messages=store.messages(), recruiter=SAM, policy=Policy(holidays=""))
    states = {s.candidate.name: s for s in evaluate(inputs, NOW)}
    assert states["Jane Doe"].status is Status.REPLIED
    report = messages["<b2@mx.agency.example>"]  # hers: kept whole
    assert not report.headers_only and report.failed_recipients == (CANDIDATE,) and report.delivery_status
    assert states["Jane Doe"].employer_waiting
    assert "Omar Haddad" in states


def test_a_candidate_imported_later_gets_their_older_mail_in_one_targeted_fetch(
    harness: ImapHarness, tmp_path: Any
) -> None:
    """Mail synced while it concerned no one is read whole on the next sync after the roster
    names its sender: no full resync, one FETCH of just those UIDs, the status right at once.
    The same for an employer contact added to a candidate later."""
    store = Store(tmp_path / "store.json")
    late = "lee.park@example.net"
    contact = "hr@contoso.example"
    harness.deliver(
        make_raw(
            subject="Contoso interview",
            message_id="<late-slots@agency.example>",
            to=late,
            body="Hi Lee, Contoso can interview you on Tuesday at 10:00 or Wednesday at 14:00. Which suits you?",
            when=NOW - timedelta(days=6),
        ),
        folder="sent",
    )
    harness.deliver(
        make_raw(
            subject="Shortlist",
            message_id="<hr1@contoso.example>",
            sender=contact,
            to=RECRUITER,
            body="Any news from Lee Park? LATE-EMPLOYER-TEXT",
            when=NOW - timedelta(days=1),
        )
    )
    for n in range(3):
        harness.deliver(
            make_raw(
                subject=f"Other {n}",
                message_id=f"<other{n}@else.example>",
                sender="alex@else.example",
                to=RECRUITER,
                body="OTHER-TEXT",
            )
        )
    first = sync_account(store, harness.account, harness.provider, drain_outbox=False, recruiter=SAM)
    assert first.full and first.new == 5
    assert b"Which suits you?" not in _store_bytes(store) and late.encode() not in _store_bytes(store)

    store.upsert_candidates([Candidate(name="Lee Park", emails=(late,), employer="Contoso")])
    spy = FetchLog(harness)
    second = sync_account(store, harness.account, harness.provider, drain_outbox=False, recruiter=SAM)
    assert not second.full  # no resync
    messages = {m.message_id: m for m in store.messages()}
    slots = messages["<late-slots@agency.example>"]
    assert not slots.headers_only and "Which suits you?" in slots.text
    assert spy.text_uids() == {"Sent": {int(slots.id.rsplit("/", 1)[1])}}  # just theirs, one FETCH
    assert len([c for c in spy.commands if b" UID FETCH " in c]) == 1
    inputs = Inputs(candidates=store.candidates(), messages=store.messages(), recruiter=SAM, policy=Policy(holidays=""))
    [state] = evaluate(inputs, NOW)
    assert state.status is Status.SILENT and state.waiting_since == slots.date
    assert not state.employer_waiting

    # Their employer contact, added later: their message is read, the employer shows waiting.
    store.upsert_candidates(
        [Candidate(name="Lee Park", emails=(late,), employer="Contoso", employer_emails=(contact,))]
    )
    sync_account(store, harness.account, harness.provider, drain_outbox=False, recruiter=SAM)
    assert b"LATE-EMPLOYER-TEXT" in _store_bytes(store)
    assert b"OTHER-TEXT" not in _store_bytes(store)
    inputs = Inputs(candidates=store.candidates(), messages=store.messages(), recruiter=SAM, policy=Policy(holidays=""))
    [state] = evaluate(inputs, NOW)
    assert state.employer_waiting
    # Nothing left to read: the next pass fetches nothing.
    spy = FetchLog(harness)
    sync_account(store, harness.account, harness.provider, drain_outbox=False, recruiter=SAM)
    assert not [c for c in spy.commands if b" UID FETCH " in c]
