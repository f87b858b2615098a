# ruff: noqa: F811 - the fixtures imported from smtp_server.py are named as arguments
"""Sending through the outbox against a real Dovecot and a real SMTP server (aiosmtpd): at most once.

Each test plays one way a send can go wrong after, or around, the moment the SMTP server takes
the message, and checks what the recruiter relies on: how many copies went out, and the one
line they are shown. The Dovecot here gives every mailbox a small quota, so a test can fill a
mailbox and have the server refuse the copy in Sent with ``[OVERQUOTA]``, as a full one does.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import asdict, replace
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import pytest

from inbox_watch import outbox
from inbox_watch.models import Action, ActionState
from inbox_watch.store import Store
from inbox_watch.sync import sync_account
from providers.imap import ImapProvider
from tests.providers.contract import CANDIDATE, RECRUITER, chaser_message, make_raw, queue_chaser
from tests.providers.dovecot import PASSWORD, Dovecot, free_port, running_dovecot
from tests.providers.smtp_server import SmtpServer, smtp_server  # noqa: F401
from tests.providers.test_imap import PASSWORD_ENV, ImapHarness

ROOT = Path(__file__).resolve().parents[2]
QUOTA = "64K"


@pytest.fixture(scope="module")
def small_dovecot() -> Iterator[Dovecot]:
    yield from running_dovecot(quota=QUOTA)


@pytest.fixture
def mailbox(small_dovecot: Dovecot, smtp_server: SmtpServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[ImapHarness]:
    monkeypatch.setenv(PASSWORD_ENV, PASSWORD)
    harness = ImapHarness(small_dovecot, smtp_server)
    yield harness
    smtp_server.handler.after_taking = None
    harness.close()


def fill(harness: ImapHarness) -> None:
    """Fill the mailbox to its quota: the server refuses the next APPEND of any real message."""
    harness.world.append("INBOX", b"Subject: filler\r\n\r\n" + b"x" * (62 * 1024))
    while True:
        try:
            harness.world.append("INBOX", b"Subject: filler\r\n\r\n" + b"x" * 200)
        except Exception as exc:  # noqa: BLE001 - imaplib's error for the refused APPEND
            assert "OVERQUOTA" in str(exc)
            return


def queue(store: Store, message_id: str, now: datetime) -> Action:
    return queue_chaser(store, chaser_message(message_id), now)


def the_action(store: Store) -> Action:
    [action] = store.actions()
    return action


# -- 1. the SMTP server took it, the copy in Sent was refused ------------------------------------


def cli(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "inbox_watch", "--config", str(config), *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


def test_a_full_mailbox_refusing_the_sent_copy_is_a_warning_never_a_second_send(
    mailbox: ImapHarness, tmp_path: Path
) -> None:
    when = datetime.now(UTC) - timedelta(days=3)
    mailbox.deliver(
        make_raw(
            subject="Interview slots",
            message_id="<c1@agency.example>",
            body="Could you do Tuesday at 10:00 or Wednesday at 14:00 for the interview at Acme?",
            when=when,
        ),
        folder="sent",
    )
    fill(mailbox)
    account = mailbox.account
    config = tmp_path / "config.toml"
    config.write_text(
        '[recruiter]\nname = "Sam Carter"\naddresses = ["sam@agency.example"]\n'
        f'[store]\npath = "{tmp_path / "store.json"}"\n'
        '[[accounts]]\nname = "work"\nprovider = "imap"\nhost = "127.0.0.1"\n'
        f'port = {account.port}\nsecurity = "none"\nusername = "{account.username}"\n'
        f'password_env = "{PASSWORD_ENV}"\nsmtp_host = "127.0.0.1"\nsmtp_port = {account.smtp_port}\n'
        'smtp_security = "none"\n'
    )
    roster = tmp_path / "roster.csv"
    roster.write_text(f"name,email,phone,role,employer,employer_email,stage\nJane Doe,{CANDIDATE},,,,,\n")
    assert cli(config, "candidates", "import", str(roster)).returncode == 0
    assert cli(config, "sync").returncode == 0
    before = len(mailbox.smtp.messages)

    sent = cli(config, "chase", "Jane Doe", "--send")

    assert sent.returncode == 0, sent.stderr
    [line] = sent.stdout.strip().splitlines()
    assert line.startswith("chaser for Jane Doe sent: Re: Interview slots -> jane.doe@example.com")
    assert "(but no copy could be kept in Sent: " in line and "[OVERQUOTA]" in line
    assert "Traceback" not in sent.stderr
    assert len(mailbox.smtp.messages) == before + 1
    # Later syncs (the daemon's every few minutes) never send it again.
    for _ in range(2):
        synced = cli(config, "sync")
        assert synced.returncode == 0 and "waiting to retry" not in synced.stdout
    assert len(mailbox.smtp.messages) == before + 1
    # ... and a second chaser the same day is still refused, though Sent holds no copy.
    again = cli(config, "chase", "Jane Doe", "--send")
    assert again.returncode == 3 and "wait a business day" in again.stderr
    assert len(mailbox.smtp.messages) == before + 1


# -- 2. the outcome of a send is unknown ----------------------------------------------------------

SENDER = """
import json, sys
from datetime import UTC, datetime
from pathlib import Path
from inbox_watch import outbox
from inbox_watch.config import AccountConfig
from inbox_watch.store import Store
from providers.imap import ImapProvider
provider = ImapProvider(AccountConfig(**json.loads(sys.argv[2])))
outbox.drain(Store(Path(sys.argv[1])), lambda _name: provider, datetime.now(UTC), immediate=True)
print("finished")
"""


def test_a_send_cut_off_by_a_crash_after_the_smtp_server_took_it_is_not_sent_again(
    mailbox: ImapHarness, tmp_path: Path
) -> None:
    now = datetime.now(UTC)
    queue(Store(tmp_path / "store.json"), "<crash1@agency.example>", now)
    sender: list[subprocess.Popen[str]] = []
    # The process is killed the moment the SMTP server has the message: no answer, no copy in
    # Sent, nothing recorded after it.
    mailbox.smtp.handler.after_taking = lambda _server: os.kill(sender[0].pid, signal.SIGKILL)
    sender.append(
        subprocess.Popen(
            [sys.executable, "-c", SENDER, str(tmp_path / "store.json"), json.dumps(asdict(mailbox.account))],
            env={**os.environ, "PYTHONPATH": str(ROOT)},
            stdout=subprocess.PIPE,
            text=True,
        )
    )
    out, _ = sender[0].communicate(timeout=60)
    mailbox.smtp.handler.after_taking = None
    assert sender[0].returncode == -signal.SIGKILL and "finished" not in out
    assert mailbox.smtp.copies("<crash1@agency.example>") == 1
    assert mailbox.sent() == []

    # The next sync, in a new process (a fresh store object), after the claim went stale.
    store = Store(tmp_path / "store.json")
    later = now + outbox.CLAIM_TIMEOUT + timedelta(minutes=1)
    result = sync_account(store, mailbox.account, mailbox.provider, now=later)

    assert mailbox.smtp.copies("<crash1@agency.example>") == 1
    action = the_action(store)
    assert action.state is ActionState.FAILED
    [note] = result.outbox_notes
    assert note.startswith("work: chaser for Jane Doe not sent again: the attempt at ")
    assert "may have gone out, and no copy is in Sent; check Sent" in note
    assert "1 outbox action(s) not carried out" in result.describe()
    # Nothing takes it up again.
    sync_account(store, mailbox.account, mailbox.provider, now=later + timedelta(minutes=5))
    assert mailbox.smtp.copies("<crash1@agency.example>") == 1


def test_an_smtp_answer_lost_after_the_message_was_handed_over_is_not_sent_again(
    mailbox: ImapHarness, tmp_path: Path
) -> None:
    store = Store(tmp_path / "store.json")
    now = datetime.now(UTC)
    action = queue(store, "<lost1@agency.example>", now)
    mailbox.smtp.handler.after_taking = lambda server: server.transport.close()

    [first] = outbox.drain(store, lambda _name: mailbox.provider, now, immediate=True)

    mailbox.smtp.handler.after_taking = None
    assert first.state is ActionState.QUEUED
    line = outbox.outcome(first)
    assert line.startswith("chaser for Jane Doe may have been sent (SMTP server 127.0.0.1:")
    assert "did not confirm the message" in line
    assert line.endswith("it will not be sent again: the next sync looks for it in Sent")
    assert mailbox.smtp.copies("<lost1@agency.example>") == 1

    result = sync_account(store, mailbox.account, mailbox.provider, now=now + timedelta(minutes=5))

    assert mailbox.smtp.copies("<lost1@agency.example>") == 1
    assert store.actions()[0].id == action.id and store.actions()[0].state is ActionState.FAILED
    assert "may have gone out" in result.outbox_notes[0]


def test_a_send_refused_before_the_hand_over_is_retried_by_the_next_sync_once(
    mailbox: ImapHarness, tmp_path: Path
) -> None:
    store = Store(tmp_path / "store.json")
    now = datetime.now(UTC)
    queue(store, "<down1@agency.example>", now)
    nobody_listening = ImapProvider(replace(mailbox.account, smtp_port=free_port()), mailbox.provider.recruiter)

    [first] = outbox.drain(store, lambda _name: nobody_listening, now, immediate=True)
    nobody_listening.close()

    assert first.state is ActionState.QUEUED and first.send_started_at is None
    assert "cannot reach SMTP server" in first.error
    assert "stays queued for the next sync" in outbox.outcome(first)
    result = sync_account(store, mailbox.account, mailbox.provider, now=now + timedelta(minutes=5))
    assert result.actions_done == 1 and result.outbox_notes == ()
    assert mailbox.smtp.copies("<down1@agency.example>") == 1
    assert len(mailbox.sent()) == 1


# -- 3. the candidate answered while the chaser waited ------------------------------------------


def test_a_queued_chaser_is_cancelled_when_the_candidate_wrote_after_it_was_queued(
    mailbox: ImapHarness, tmp_path: Path
) -> None:
    store = Store(tmp_path / "store.json")
    now = datetime.now(UTC)
    queued_at = now - timedelta(hours=2)
    queue(store, "<late1@agency.example>", queued_at)
    nobody_listening = ImapProvider(replace(mailbox.account, smtp_port=free_port()), mailbox.provider.recruiter)
    [first] = outbox.drain(store, lambda _name: nobody_listening, queued_at, immediate=True)
    nobody_listening.close()
    assert first.state is ActionState.QUEUED
    replied_at = (queued_at + timedelta(minutes=42)).replace(microsecond=0)
    mailbox.deliver(
        f"From: Jane Doe <{CANDIDATE}>\r\nTo: {RECRUITER}\r\nSubject: Re: Interview slots\r\n"
        f"Date: {format_datetime(replied_at)}\r\nMessage-ID: <reply1@example.com>\r\n"
        "In-Reply-To: <c1@agency.example>\r\n\r\nTuesday at 10 works, thanks!\r\n".encode()
    )

    result = sync_account(store, mailbox.account, mailbox.provider, now=now)

    assert mailbox.smtp.copies("<late1@agency.example>") == 0
    assert the_action(store).state is ActionState.CANCELLED
    local = replied_at.astimezone()
    assert result.outbox_notes == (
        f"work: chaser for Jane Doe not sent: Jane Doe wrote at {local:%H:%M on %a %d %b}, "
        "after this chaser was queued",
    )
