# ruff: noqa: F811 - the fixtures imported from dovecot.py / smtp_server.py are named as arguments
"""Fault: one message that stops an account's sync (issue 10, item 1), on a real Dovecot.

A multipart message longer than the partial fetch, whose BODYSTRUCTURE holds a field over
1 MB (an attachment name of 1.1 MB folded over 76-character lines), made every later sync fail
with imaplib's ``got more than 1000000 bytes``: the outbox was not drained and later replies
were never seen. Each shape below is delivered beside a scheduling email; then a pass must
complete, drain the outbox, and a reply delivered after it must be seen by the next pass.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import pytest

from inbox_watch import outbox
from inbox_watch.models import ActionKind, ActionMode, ActionState, Candidate, OutgoingMessage
from inbox_watch.store import Store
from inbox_watch.sync import sync_account
from providers.imap import ImapProvider
from tests.faults.campaign import campaign_count
from tests.providers.contract import CANDIDATE, RECRUITER, make_raw
from tests.providers.dovecot import Dovecot, dovecot_server  # noqa: F401
from tests.providers.smtp_server import SmtpServer, smtp_server  # noqa: F401
from tests.providers.test_imap import PASSWORD_ENV, ImapHarness, imap_env  # noqa: F401

FILLER = ("Please find the interview details below. " * 40 + "\r\n") * 30  # ~50 KB: past the partial fetch


def _folded(text: str) -> str:
    return "\r\n ".join(text[i : i + 76] for i in range(0, len(text), 76))


def _multipart(subject: str, message_id: str, attachment_headers: str, *, boundary: str = "b1") -> bytes:
    when = format_datetime(datetime.now(UTC) - timedelta(hours=2))
    return (
        f"From: Eve Mallory <{CANDIDATE}>\r\nTo: {RECRUITER}\r\nSubject: {subject}\r\nDate: {when}\r\n"
        f"Message-ID: {message_id}\r\nMIME-Version: 1.0\r\n"
        f'Content-Type: multipart/mixed; boundary="{boundary}"\r\n\r\n'
        f"--{boundary}\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{FILLER}\r\n"
        f"--{boundary}\r\n{attachment_headers}\r\n\r\nAAAA\r\n--{boundary}--\r\n"
    ).encode()


def _long_filename(size: int) -> bytes:
    name = "x" * size
    return _multipart(
        "CV attached",
        "<big-name@example.com>",
        "Content-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n"
        f'Content-Disposition: attachment;\r\n filename="{_folded(name)}"',
    )


def _long_8bit_filename(size: int) -> bytes:  # 8-bit text: Dovecot sends it as a literal
    name = "é" * (size // 2)
    return _multipart(
        "CV attached (8-bit)",
        "<big-8bit@example.com>",
        "Content-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n"
        f'Content-Disposition: attachment;\r\n filename="{_folded(name)}"',
    )


def _long_rfc2231_name(size: int) -> bytes:
    pieces = ";\r\n ".join(f'name*{i}="{"y" * 70}"' for i in range(size // 70))
    return _multipart(
        "Portfolio",
        "<big-2231@example.com>",
        f"Content-Type: application/pdf;\r\n {pieces}\r\nContent-Transfer-Encoding: base64",
    )


def _many_parts(count: int) -> bytes:
    when = format_datetime(datetime.now(UTC) - timedelta(hours=2))
    parts = "".join(f"--b1\r\nContent-Type: text/x-part{i}\r\n\r\npart {i}\r\n" for i in range(count))
    return (
        f"From: {CANDIDATE}\r\nTo: {RECRUITER}\r\nSubject: Many parts\r\nDate: {when}\r\n"
        "Message-ID: <many-parts@example.com>\r\nMIME-Version: 1.0\r\n"
        'Content-Type: multipart/mixed; boundary="b1"\r\n\r\n'
        f"--b1\r\nContent-Type: text/plain\r\n\r\n{FILLER}\r\n{parts}--b1--\r\n"
    ).encode()


def _deep_nesting(depth: int) -> bytes:
    when = format_datetime(datetime.now(UTC) - timedelta(hours=2))
    head = "".join(f'--n{i}\r\nContent-Type: multipart/mixed; boundary="n{i + 1}"\r\n\r\n' for i in range(depth))
    tail = "".join(f"--n{i}--\r\n" for i in reversed(range(depth + 1)))
    return (
        f"From: {CANDIDATE}\r\nTo: {RECRUITER}\r\nSubject: Deep\r\nDate: {when}\r\n"
        "Message-ID: <deep@example.com>\r\nMIME-Version: 1.0\r\n"
        'Content-Type: multipart/mixed; boundary="n0"\r\n\r\n'
        f"--n0\r\nContent-Type: text/plain\r\n\r\n{FILLER}\r\n{head}--n{depth}\r\n"
        f"Content-Type: text/plain\r\n\r\nbottom\r\n{tail}"
    ).encode()


def _long_subject(size: int) -> bytes:
    when = format_datetime(datetime.now(UTC) - timedelta(hours=2))
    subject = _folded("z" * size)
    return (
        f"From: {CANDIDATE}\r\nTo: {RECRUITER}\r\nSubject: {subject}\r\nDate: {when}\r\n"
        "Message-ID: <long-subject@example.com>\r\nMIME-Version: 1.0\r\n"
        'Content-Type: multipart/mixed; boundary="b1"\r\n\r\n'
        f"--b1\r\nContent-Type: text/plain\r\n\r\n{FILLER}\r\n--b1--\r\n"
    ).encode()


SHAPES = {
    "1.1 MB attachment name folded in 76-character lines": lambda: _long_filename(1_100_000),
    "1.1 MB 8-bit attachment name (a literal)": lambda: _long_8bit_filename(1_100_000),
    "1.1 MB name in RFC 2231 pieces": lambda: _long_rfc2231_name(1_100_000),
    "2,000 parts": lambda: _many_parts(2000),
    "parts nested 90 deep": lambda: _deep_nesting(90),
    "1.1 MB subject": lambda: _long_subject(1_100_000),
}
QUICK = ("1.1 MB attachment name folded in 76-character lines",)


@pytest.fixture
def harness(dovecot_server: Dovecot, smtp_server: SmtpServer, imap_env: None) -> Iterator[ImapHarness]:
    h = ImapHarness(dovecot_server, smtp_server)
    yield h
    h.close()


def _store(tmp_path: Any) -> Store:
    store = Store(tmp_path / "store.json")
    store.upsert_candidates([Candidate(name="Jane Doe", emails=(CANDIDATE,), employer="Acme")])
    return store


def _queue_draft(store: Store) -> str:
    message = OutgoingMessage(
        from_addr=RECRUITER,
        to=(CANDIDATE,),
        subject="Re: Interview slots",
        body="Just checking in.",
        message_id="<chaser-1@agency.example>",
    )
    action = outbox.enqueue(
        store,
        kind=ActionKind.CHASER,
        mode=ActionMode.DRAFT,
        candidate="Jane Doe",
        account="work",
        message=message,
        now=datetime.now(UTC),
    )
    return action.id


def _shapes() -> list[str]:
    names = list(SHAPES)
    return names[: campaign_count(len(QUICK), len(names))]


@pytest.mark.parametrize("shape", _shapes())
def test_a_message_with_a_huge_structure_does_not_stop_the_sync(
    harness: ImapHarness, tmp_path: Any, figures: Any, shape: str, caplog: pytest.LogCaptureFixture
) -> None:
    figures.add("blocking messages tried")
    store = _store(tmp_path)
    harness.deliver(
        make_raw(
            subject="Interview slots", message_id="<slots@agency.example>", when=datetime.now(UTC) - timedelta(days=3)
        ),
        folder="sent",
    )
    harness.deliver(SHAPES[shape]())
    action_id = _queue_draft(store)
    blocked = False
    try:
        first = sync_account(store, harness.account, harness.provider)
    except Exception:
        blocked = True
        raise
    finally:
        figures.add("syncs blocked", int(blocked))
    assert first.actions_done == 1, first.describe()  # the outbox drained after it
    assert [a.state for a in store.actions() if a.id == action_id] == [ActionState.DONE]
    ids = {m.message_id for m in store.messages()}
    assert {"<slots@agency.example>"} <= ids
    assert len(harness.drafts()) == 1

    harness.deliver(
        make_raw(
            subject="Re: Interview slots",
            message_id="<answer@example.com>",
            sender=CANDIDATE,
            to=RECRUITER,
            in_reply_to="<slots@agency.example>",
            body="Tuesday works.",
        )
    )
    with caplog.at_level(logging.WARNING):
        later = ImapProvider(harness.account, harness.provider.recruiter)
        try:
            second = sync_account(store, harness.account, later)
        finally:
            later.close()
    assert second.new == 1 and not second.full
    assert "<answer@example.com>" in {m.message_id for m in store.messages()}
    assert "unreadable" not in caplog.text  # nothing left to stumble on


def test_the_long_field_is_read_past_and_the_message_kept_whole(harness: ImapHarness) -> None:
    """The bounded parse reads the rest of the message by its parts (its text here), instead
    of giving up on it."""
    harness.deliver(_long_filename(1_100_000))
    [message] = harness.provider.full_sync().messages
    assert message.message_id == "<big-name@example.com>"
    assert message.subject == "CV attached" and message.from_addr == CANDIDATE
    assert message.text.startswith("Please find the interview details")


def test_a_message_that_cannot_be_read_is_skipped_and_named_once(
    harness: ImapHarness, tmp_path: Any, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """Whatever the reason a message cannot be read (here: the parser fails on it, a fault
    injected for one message), the pass completes, the line names folder, UID, sender and
    subject, and the next pass does not read it again."""
    import providers.imap.messages as messages

    real_parse = messages.parse_bytes

    def failing_parse(raw: bytes, **kwargs: Any) -> Any:
        if b"<poison@example.com>" in raw:
            raise RecursionError("maximum recursion depth exceeded")
        return real_parse(raw, **kwargs)

    monkeypatch.setattr(messages, "parse_bytes", failing_parse)
    monkeypatch.setattr(messages, "fast_parse", lambda *a, **k: None)
    store = _store(tmp_path)
    harness.deliver(make_raw(subject="Interview slots", message_id="<slots@agency.example>"), folder="sent")
    harness.deliver(make_raw(subject="Hello there", message_id="<poison@example.com>", sender=CANDIDATE, to=RECRUITER))
    harness.deliver(make_raw(subject="Re: Interview slots", message_id="<after@example.com>", sender=CANDIDATE))
    action_id = _queue_draft(store)
    with caplog.at_level(logging.WARNING, logger="inbox_watch.sync"):
        first = sync_account(store, harness.account, harness.provider)
    assert first.unreadable == 1 and "1 unreadable message(s) skipped" in first.describe()
    assert [a.state for a in store.actions() if a.id == action_id] == [ActionState.DONE]
    ids = {m.message_id for m in store.messages()}
    assert "<after@example.com>" in ids and "<poison@example.com>" not in ids
    [line] = [r.getMessage() for r in caplog.records if "unreadable" in r.getMessage()]
    assert "folder 'INBOX', UID 1," in line and CANDIDATE in line and "'Hello there'" in line
    assert "\n" not in line and "\r" not in line
    caplog.clear()
    harness.deliver(make_raw(subject="Later", message_id="<later@example.com>", sender=CANDIDATE))
    with caplog.at_level(logging.WARNING, logger="inbox_watch.sync"):
        second = sync_account(store, harness.account, harness.provider)
    assert second.new == 1 and second.unreadable == 0
    assert "unreadable" not in caplog.text
