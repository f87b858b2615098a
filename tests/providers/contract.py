"""The contract every mail provider honours, run against IMAP, Gmail, Outlook and demo alike.

A provider's test module subclasses ``ProviderContract`` and supplies a ``harness`` fixture: a
real server or a faithful emulator, plus a provider pointed at it. The harness can put mail in
and read back what the provider wrote, without going through the provider under test.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any, Protocol

import pytest

from inbox_watch import outbox
from inbox_watch.errors import CursorExpired
from inbox_watch.models import Action, ActionKind, ActionMode, MailMessage, OutgoingMessage, SyncBatch
from inbox_watch.provider import Capability, MailProvider
from inbox_watch.store import Store

RECRUITER = "sam@agency.example"
CANDIDATE = "jane.doe@example.com"


class Harness(Protocol):
    provider: MailProvider

    def deliver(self, raw: bytes, *, folder: str = "inbox", tag: str = "") -> None:
        """Put ``raw`` in the mailbox: folder "inbox" or "sent"; ``tag`` a candidate name
        (files it under Candidates/<tag>: folder, label or category)."""
        ...

    def drafts(self) -> list[bytes]:
        """Raw RFC 5322 bytes of every draft the server holds, read without the provider."""
        ...

    def sent(self) -> list[bytes]:
        """Raw bytes of every message in Sent, read without the provider."""
        ...

    def expire_cursor(self) -> None:
        """Make every sync position the provider gave out invalid, mail kept (IMAP: a new
        UIDVALIDITY for the candidate folders; Gmail: history gone; Graph: delta tokens gone)."""
        ...


def make_raw(
    *,
    subject: str,
    message_id: str,
    sender: str = RECRUITER,
    to: str = CANDIDATE,
    in_reply_to: str = "",
    body: str = "Hello",
    when: datetime | None = None,
) -> bytes:
    when = when or (datetime.now(UTC) - timedelta(days=1))
    lines = [
        f"From: {sender}",
        f"To: {to}",
        f"Subject: {subject}",
        f"Date: {format_datetime(when)}",
        f"Message-ID: {message_id}",
    ]
    if in_reply_to:
        lines += [f"In-Reply-To: {in_reply_to}", f"References: {in_reply_to}"]
    lines += ["MIME-Version: 1.0", "Content-Type: text/plain; charset=utf-8", "", body, ""]
    return "\r\n".join(lines).encode()


def _by_id(batch: SyncBatch) -> dict[str, MailMessage]:
    return {m.message_id: m for m in batch.messages}


class ProviderContract:
    """Behaviour every adapter must show. Subclasses provide the ``harness`` fixture."""

    def test_capabilities_are_declared(self, harness: Harness) -> None:
        caps = type(harness.provider).capabilities
        assert isinstance(caps, frozenset)
        assert all(isinstance(c, Capability) for c in caps)
        assert Capability.INCREMENTAL in caps

    def test_full_sync_reads_headers_and_threading(self, harness: Harness) -> None:
        harness.deliver(make_raw(subject="Interview slots", message_id="<c1@agency.example>"), folder="sent")
        harness.deliver(
            make_raw(
                subject="Re: Interview slots",
                message_id="<c2@example.com>",
                sender=CANDIDATE,
                to=RECRUITER,
                in_reply_to="<c1@agency.example>",
                body="Tuesday at 10 works for me.",
            )
        )
        batch = harness.provider.full_sync()
        assert batch.full
        assert batch.cursor.account == harness.provider.account
        found = _by_id(batch)
        reply = found["<c2@example.com>"]
        assert reply.from_addr == CANDIDATE
        assert reply.to == (RECRUITER,)
        assert reply.subject == "Re: Interview slots"
        assert reply.in_reply_to == "<c1@agency.example>"
        assert "Tuesday at 10" in reply.text
        assert reply.date.tzinfo is not None
        assert found["<c1@agency.example>"].from_addr == RECRUITER

    def test_incremental_sync_returns_only_what_is_new(self, harness: Harness) -> None:
        harness.deliver(make_raw(subject="First", message_id="<i1@agency.example>"), folder="sent")
        first = harness.provider.full_sync()
        idle = harness.provider.incremental_sync(first.cursor)
        assert idle.messages == ()
        assert not idle.full
        harness.deliver(
            make_raw(
                subject="Re: First",
                message_id="<i2@example.com>",
                sender=CANDIDATE,
                to=RECRUITER,
                in_reply_to="<i1@agency.example>",
            )
        )
        second = harness.provider.incremental_sync(idle.cursor)
        assert [m.message_id for m in second.messages] == ["<i2@example.com>"]
        third = harness.provider.incremental_sync(second.cursor)
        assert third.messages == ()

    def test_two_step_reads_the_text_only_of_what_select_picks(self, harness: Harness) -> None:
        """``Capability.TWO_STEP``: the first step carries no text; only the selected messages
        come back whole; the rest keep their addressing and threading; ``read_text`` reads a
        message passed over earlier, later, in one targeted read."""
        provider = harness.provider
        if Capability.TWO_STEP not in type(provider).capabilities:
            pytest.skip("this provider reads every message whole")
        two_step: Any = provider
        harness.deliver(
            make_raw(subject="Interview slots", message_id="<w1@agency.example>", body="WHOLE-SLOTS Tue 10:00"),
            folder="sent",
        )
        harness.deliver(
            make_raw(
                subject="Dinner",
                message_id="<o1@else.example>",
                sender="alex@else.example",
                to=RECRUITER,
                body="OTHER-MAIL my new flat",
            )
        )
        first_step: list[MailMessage] = []

        def select(messages: Sequence[MailMessage]) -> set[str]:
            first_step.extend(messages)
            return {m.id for m in messages if CANDIDATE in m.to}

        batch = two_step.full_sync(select=select)
        assert {m.message_id for m in first_step} == {"<w1@agency.example>", "<o1@else.example>"}
        assert all(m.headers_only and not m.text for m in first_step)
        found = _by_id(batch)
        assert "WHOLE-SLOTS" in found["<w1@agency.example>"].text and not found["<w1@agency.example>"].headers_only
        other = found["<o1@else.example>"]
        assert other.headers_only and other.text == "" and "OTHER" not in other.calendar + other.delivery_status
        assert other.from_addr == "alex@else.example" and other.to == (RECRUITER,) and other.subject == "Dinner"

        harness.deliver(
            make_raw(
                subject="Re: Dinner",
                message_id="<o2@agency.example>",
                to="alex@else.example",
                in_reply_to="<o1@else.example>",
                body="OTHER-REPLY see you",
            ),
            folder="sent",
        )
        later = two_step.incremental_sync(batch.cursor, select=lambda messages: set())
        [reply] = later.messages
        assert reply.message_id == "<o2@agency.example>" and reply.headers_only and not reply.text

        [whole] = two_step.read_text([other.id])
        assert whole.id == other.id and "OTHER-MAIL" in whole.text and not whole.headers_only
        assert two_step.read_text([]) == []

    def test_a_sync_keeps_no_text_of_mail_that_concerns_no_one(self, harness: Harness, tmp_path: Path) -> None:
        """Through ``sync_account`` and a store: the text of mail that concerns no one is in no
        store file; a candidate imported later gets theirs on the next pass."""
        from inbox_watch.config import AccountConfig, RecruiterConfig
        from inbox_watch.models import Candidate
        from inbox_watch.sync import sync_account

        if Capability.TWO_STEP not in type(harness.provider).capabilities:
            pytest.skip("this provider reads every message whole")
        store = Store(tmp_path / "store.json")
        store.upsert_candidates([Candidate(name="Jane Doe", emails=(CANDIDATE,))])
        harness.deliver(
            make_raw(subject="Interview slots", message_id="<k1@agency.example>", body="KEPT-SLOTS Tue 10:00"),
            folder="sent",
        )
        harness.deliver(
            make_raw(
                subject="Contoso interview",
                message_id="<late1@agency.example>",
                to="lee.park@example.net",
                body="LATE-SLOTS Wed 14:00",
            ),
            folder="sent",
        )
        harness.deliver(
            make_raw(
                subject="Dinner", message_id="<x1@else.example>", sender="alex@else.example", to=RECRUITER,
                body="PRIVATE-TEXT my new flat",
            )
        )  # fmt: skip
        sam = RecruiterConfig("Sam Carter", (RECRUITER,))

        def kept() -> bytes:
            return b"".join(p.read_bytes() for p in tmp_path.iterdir() if p.is_file() and p.name.startswith("store"))

        account = AccountConfig(name=harness.provider.account, provider="test")  # sync reads its name only
        first = sync_account(store, account, harness.provider, drain_outbox=False, recruiter=sam)
        assert first.full and first.new == 3
        assert b"KEPT-SLOTS" in kept() and b"PRIVATE-TEXT" not in kept() and b"LATE-SLOTS" not in kept()
        store.upsert_candidates([Candidate(name="Lee Park", emails=("lee.park@example.net",))])
        second = sync_account(store, account, harness.provider, drain_outbox=False, recruiter=sam)
        assert not second.full and second.updated == 1
        assert b"LATE-SLOTS" in kept() and b"PRIVATE-TEXT" not in kept()

    def test_garbage_cursor_is_expired_not_a_crash(self, harness: Harness) -> None:
        from inbox_watch.models import Cursor

        with pytest.raises(CursorExpired):
            harness.provider.incremental_sync(Cursor(harness.provider.account, "not a cursor"))

    def test_candidate_tag_is_read(self, harness: Harness) -> None:
        if Capability.TAGS not in type(harness.provider).capabilities:
            pytest.skip("this provider has no tags")
        harness.deliver(
            make_raw(subject="Slots for Ann", message_id="<t1@agency.example>", to="ann@example.org"),
            folder="sent",
            tag="Ann Lee",
        )
        batch = harness.provider.full_sync()
        tagged = [m for m in batch.messages if m.message_id == "<t1@agency.example>"]
        assert tagged and "Ann Lee" in tagged[0].tags

    def _outgoing(self, message_id: str) -> OutgoingMessage:
        return chaser_message(message_id)

    def test_a_forgotten_candidate_stays_forgotten_through_a_forced_full_sync(
        self, harness: Harness, tmp_path: Path
    ) -> None:
        """forget erases Ann Lee's own mail (not Bob Smith's reply about "annual leave" in
        "Leeds"), and a full sync forced by an expired position does not bring it back, until
        she is imported anew."""
        from inbox_watch.config import AccountConfig, Config, RecruiterConfig
        from inbox_watch.models import Candidate
        from inbox_watch.service import Workspace
        from inbox_watch.sync import sync_account

        tags = Capability.TAGS in type(harness.provider).capabilities
        ann, bob = "ann.lee@example.com", "bob.smith@example.com"
        roster = [Candidate(name="Ann Lee", emails=(ann,)), Candidate(name="Bob Smith", emails=(bob,))]
        store = Store(tmp_path / "store.json")
        store.upsert_candidates(roster)
        config = Config(path=None, recruiter=RecruiterConfig("Sam Carter", (RECRUITER,)), store_path=store.path)
        account = AccountConfig(name=harness.provider.account, provider="imap")
        harness.deliver(make_raw(subject="Slots", message_id="<fa1@agency.example>", to=ann), folder="sent")
        harness.deliver(
            make_raw(
                subject="Re: Slots", message_id="<fa2@example.com>", sender="ann.home@mail.example", to=RECRUITER,
                in_reply_to="<fa1@agency.example>", body="Tuesday works. Ann, 07700 900123",
            )
        )  # fmt: skip
        harness.deliver(
            make_raw(subject="Your CV", message_id="<fa3@agency.example>", to="ann.home@mail.example"),
            folder="sent",
            tag="Ann Lee" if tags else "",
        )
        harness.deliver(make_raw(subject="Bob's slots", message_id="<fb1@agency.example>", to=bob), folder="sent")
        harness.deliver(
            make_raw(
                subject="Re: Bob's slots", message_id="<fb2@example.com>", sender=bob, to=RECRUITER,
                in_reply_to="<fb1@agency.example>", body="I'm on annual leave, back Monday, then in Leeds.",
            )
        )  # fmt: skip
        sync_account(store, account, harness.provider, drain_outbox=False)
        ids = {m.message_id for m in store.messages()}
        assert {"<fa1@agency.example>", "<fa2@example.com>", "<fb2@example.com>"} <= ids
        name, counts = Workspace(config, store).forget("Ann Lee", datetime.now(UTC))
        assert name == "Ann Lee" and counts["candidates"] == 1
        annes = {"<fa1@agency.example>", "<fa2@example.com>", "<fa3@agency.example>"} if tags else set()
        annes |= {"<fa1@agency.example>", "<fa2@example.com>"}
        assert not annes & {m.message_id for m in store.messages()}
        assert counts["messages"] == len(annes)
        assert {"<fb1@agency.example>", "<fb2@example.com>"} <= {m.message_id for m in store.messages()}
        harness.deliver(
            make_raw(subject="Still keen", message_id="<fa4@example.com>", sender=ann, to=RECRUITER, body="Hi")
        )
        harness.expire_cursor()
        again = sync_account(store, account, harness.provider, drain_outbox=False)
        assert again.full  # the expired position forced a full sync
        left = {m.message_id for m in store.messages()}
        assert not (annes | {"<fa4@example.com>"}) & left
        assert {"<fb1@agency.example>", "<fb2@example.com>"} <= left
        assert [c.name for c in store.candidates()] == ["Bob Smith"]  # her tag did not bring her back
        for trace in (b"ann.lee", b"ann lee", b"ann.home", b"07700 900123"):
            assert trace not in store.path.read_bytes().lower()
        for trace in (b"ann.lee@", b"ann.home", b"07700 900123"):  # (an IMAP position names her folder)
            assert trace not in store.state_path.read_bytes().lower()  # the forget list holds hashes only
        # imported anew: her mail comes back on the next full sync
        store.upsert_candidates(roster[:1])
        harness.deliver(make_raw(subject="Update", message_id="<fa5@example.com>", sender=ann, to=RECRUITER))
        harness.expire_cursor()
        assert sync_account(store, account, harness.provider, drain_outbox=False).full
        assert {"<fa4@example.com>", "<fa5@example.com>"} <= {m.message_id for m in store.messages()}

    def test_draft_is_saved_in_thread(self, harness: Harness) -> None:
        harness.deliver(make_raw(subject="Interview slots", message_id="<c1@agency.example>"), folder="sent")
        harness.provider.full_sync()
        harness.provider.save_draft(self._outgoing("<d1@agency.example>"))
        drafts = harness.drafts()
        assert any(b"<d1@agency.example>" in raw for raw in drafts)
        draft = next(raw for raw in drafts if b"<d1@agency.example>" in raw)
        assert b"In-Reply-To: <c1@agency.example>" in draft

    def test_send_once_and_find_it(self, harness: Harness) -> None:
        harness.deliver(make_raw(subject="Interview slots", message_id="<c1@agency.example>"), folder="sent")
        harness.provider.full_sync()
        assert harness.provider.find_sent("<s1@agency.example>") is None
        harness.provider.send(self._outgoing("<s1@agency.example>"))
        assert harness.provider.find_sent("<s1@agency.example>") is not None
        copies = [raw for raw in harness.sent() if b"<s1@agency.example>" in raw]
        assert len(copies) == 1


def chaser_message(message_id: str, **changes: object) -> OutgoingMessage:
    """A chaser from the recruiter to the candidate, in the thread of ``<c1@agency.example>``."""
    values: dict[str, object] = {
        "from_addr": RECRUITER,
        "from_name": "Sam Carter",
        "to": (CANDIDATE,),
        "subject": "Re: Interview slots",
        "body": "Just checking in on the slots below.",
        "message_id": message_id,
        "in_reply_to": "<c1@agency.example>",
        "references": ("<c1@agency.example>",),
        **changes,
    }
    return OutgoingMessage(**values)  # type: ignore[arg-type]


def queue_chaser(store: Store, message: OutgoingMessage, now: datetime) -> Action:
    """Put a chaser for Jane Doe (account "work") in the outbox, as the dashboard would: for a
    candidate it tracks (her mail is read whole, so the outbox sees her answers)."""
    from inbox_watch.models import Candidate

    if store.candidate("Jane Doe") is None:
        store.upsert_candidates([Candidate(name="Jane Doe", emails=(CANDIDATE,))])
    return outbox.enqueue(
        store,
        kind=ActionKind.CHASER,
        mode=ActionMode.SEND,
        candidate="Jane Doe",
        account="work",
        message=message,
        now=now,
    )
