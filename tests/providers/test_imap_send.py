# ruff: noqa: F811 - the fixtures imported from smtp_server.py are named as arguments
"""Sending as a recruiter sees it, through the CLI, against a real Dovecot and a real SMTP
server (aiosmtpd): who a message is from, what a refusal does, and what a send changes at once.
"""

from __future__ import annotations

import email
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from inbox_watch.models import ActionState
from inbox_watch.store import Store
from tests.providers.contract import CANDIDATE, RECRUITER, make_raw
from tests.providers.dovecot import PASSWORD, Dovecot, dovecot_server  # noqa: F401
from tests.providers.smtp_server import Received, SmtpServer, smtp_server  # noqa: F401
from tests.providers.test_imap import PASSWORD_ENV, ImapHarness

ROOT = Path(__file__).resolve().parents[2]
EMPLOYER = "priya@acme.example"
NORTH = "sam@north.agency.example"


@pytest.fixture
def harnesses(
    dovecot_server: Dovecot, smtp_server: SmtpServer, monkeypatch: pytest.MonkeyPatch
) -> Iterator[list[ImapHarness]]:
    monkeypatch.setenv(PASSWORD_ENV, PASSWORD)
    made: list[ImapHarness] = []
    yield made
    smtp_server.handler.refuse_rcpt.clear()
    smtp_server.handler.refuse_data = ""
    for harness in made:
        harness.close()


def mailbox(harnesses: list[ImapHarness], dovecot: Dovecot, smtp: SmtpServer) -> ImapHarness:
    harness = ImapHarness(dovecot, smtp)
    harnesses.append(harness)
    return harness


def write_config(tmp_path: Path, accounts: list[tuple[str, ImapHarness, str]]) -> Path:
    """A config with one IMAP account per (name, mailbox, from_address or "")."""
    text = (
        '[recruiter]\nname = "Sam Carter"\naddresses = ["sam@agency.example"]\n'
        f'[store]\npath = "{tmp_path / "store.json"}"\n'
    )
    for name, harness, from_address in accounts:
        account = harness.account
        text += (
            f'[[accounts]]\nname = "{name}"\nprovider = "imap"\nhost = "127.0.0.1"\n'
            f'port = {account.port}\nsecurity = "none"\nusername = "{account.username}"\n'
            f'password_env = "{PASSWORD_ENV}"\nsmtp_host = "127.0.0.1"\nsmtp_port = {account.smtp_port}\n'
            'smtp_security = "none"\n'
        )
        if from_address:
            text += f'from_address = "{from_address}"\n'
    config = tmp_path / "config.toml"
    config.write_text(text)
    return config


def cli(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "inbox_watch", "--config", str(config), *args],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        timeout=120,
    )


def roster(tmp_path: Path, *rows: str) -> Path:
    path = tmp_path / "roster.csv"
    path.write_text("name,email,phone,role,employer,employer_email,stage\n" + "".join(f"{r}\n" for r in rows))
    return path


def scheduling_email(harness: ImapHarness, *, to: str, message_id: str, sender: str = RECRUITER) -> None:
    """An unanswered interview email, sent four days ago (two to four business days of silence)."""
    harness.deliver(
        make_raw(
            subject=f"Interview slots {message_id}",
            message_id=message_id,
            sender=sender,
            to=to,
            body="Could you do Tuesday at 10:00 or Wednesday at 14:00 for the interview at Acme?",
            when=datetime.now(UTC) - timedelta(days=4),
        ),
        folder="sent",
    )


def row(config: Path, name: str) -> dict[str, Any]:
    report = cli(config, "report", "--json")
    assert report.returncode == 0, report.stderr
    [found] = [r for r in json.loads(report.stdout)["candidates"] if r["candidate"] == name]
    return found


def received_for(smtp: SmtpServer, address: str) -> list[Received]:
    return [m for m in smtp.messages if address in m.rcpt_tos]


# -- item 3: each account sends as its own address ----------------------------------------------


def test_each_account_sends_as_its_own_address_in_from_and_the_envelope(
    harnesses: list[ImapHarness], dovecot_server: Dovecot, smtp_server: SmtpServer, tmp_path: Path
) -> None:
    london = mailbox(harnesses, dovecot_server, smtp_server)
    north = mailbox(harnesses, dovecot_server, smtp_server)
    scheduling_email(london, to=CANDIDATE, message_id="<from-l1@agency.example>")
    scheduling_email(north, to="bob.smith@example.com", message_id="<from-n1@agency.example>", sender=NORTH)
    config = write_config(tmp_path, [("london", london, ""), ("north", north, NORTH)])
    assert (
        cli(
            config,
            "candidates",
            "import",
            str(roster(tmp_path, f"Jane Doe,{CANDIDATE},,,,,", "Bob Smith,bob.smith@example.com,,,,,")),
        ).returncode
        == 0
    )
    assert cli(config, "sync").returncode == 0
    # The north mailbox's email, From its own address, is the recruiter's: Bob is silent.
    assert row(config, "Bob Smith")["status"] == "silent"

    for name in ("Jane Doe", "Bob Smith"):
        sent = cli(config, "chase", name, "--send")
        assert sent.returncode == 0, sent.stderr

    [to_jane] = received_for(smtp_server, CANDIDATE)[-1:]
    [to_bob] = received_for(smtp_server, "bob.smith@example.com")
    # london has no from_address: its user name is an address, so it sends as that.
    assert to_jane.mail_from == london.account.username
    assert email.message_from_bytes(to_jane.data)["From"] == f"Sam Carter <{london.account.username}>"
    assert to_bob.mail_from == NORTH
    assert email.message_from_bytes(to_bob.data)["From"] == f"Sam Carter <{NORTH}>"


# -- item 4: a permanent refusal is final, a transient one is tried again ------------------------


def test_a_recipient_refused_for_good_fails_at_once_is_never_retried_and_shows_as_failing(
    harnesses: list[ImapHarness], dovecot_server: Dovecot, smtp_server: SmtpServer, tmp_path: Path
) -> None:
    harness = mailbox(harnesses, dovecot_server, smtp_server)
    gone = "gone.away@example.com"
    scheduling_email(harness, to=gone, message_id="<refused1@agency.example>")
    config = write_config(tmp_path, [("work", harness, "")])
    assert (
        cli(config, "candidates", "import", str(roster(tmp_path, f"Ann Lee,{gone},07700 900123,,,,"))).returncode == 0
    )
    assert cli(config, "sync").returncode == 0
    smtp_server.handler.refuse_rcpt[gone] = f"550 5.1.1 <{gone}>: Recipient address rejected: User unknown"
    attempts = smtp_server.handler.rcpt_attempts.count(gone)

    sent = cli(config, "chase", "Ann Lee", "--send")

    assert sent.returncode == 1 and sent.stdout == ""
    [line] = sent.stderr.strip().splitlines()
    assert line.startswith("inbox-watch: chaser for Ann Lee not sent: SMTP server 127.0.0.1:")
    assert f"refused {gone}: 550 5.1.1 <{gone}>: Recipient address rejected: User unknown" in line
    assert line.endswith("it will not be tried again")
    assert smtp_server.handler.rcpt_attempts.count(gone) == attempts + 1
    [action] = Store(tmp_path / "store.json").actions()
    assert action.state is ActionState.FAILED and action.refused == (gone,)
    # Later syncs never try it again.
    for _ in range(2):
        synced = cli(config, "sync")
        assert synced.returncode == 0 and "waiting to retry" not in synced.stdout
    assert smtp_server.handler.rcpt_attempts.count(gone) == attempts + 1
    # The candidate shows the address as failing, as after a bounce.
    ann = row(config, "Ann Lee")
    assert ann["status"] == "bounced" and ann["next_action"] in ("call", "message_on_social")
    assert ann["reasons"][0].startswith(f"delivery to {gone} was refused by the mail server on ")


def test_a_greylisted_recipient_is_tried_again_by_the_next_sync(
    harnesses: list[ImapHarness], dovecot_server: Dovecot, smtp_server: SmtpServer, tmp_path: Path
) -> None:
    harness = mailbox(harnesses, dovecot_server, smtp_server)
    grey = "grey.list@example.com"
    scheduling_email(harness, to=grey, message_id="<grey1@agency.example>")
    config = write_config(tmp_path, [("work", harness, "")])
    assert cli(config, "candidates", "import", str(roster(tmp_path, f"Gail Grey,{grey},,,,,"))).returncode == 0
    assert cli(config, "sync").returncode == 0
    smtp_server.handler.refuse_rcpt[grey] = "451 4.7.1 Greylisted, please try again later"

    sent = cli(config, "chase", "Gail Grey", "--send")

    assert sent.returncode == 1
    assert "turned the recipients away for now" in sent.stderr and "451 4.7.1 Greylisted" in sent.stderr
    assert "stays queued for the next sync" in sent.stderr
    assert row(config, "Gail Grey")["status"] == "silent"  # not a bounce
    del smtp_server.handler.refuse_rcpt[grey]
    synced = cli(config, "sync")
    assert synced.returncode == 0 and "1 outbox action(s) done" in synced.stdout
    assert len(received_for(smtp_server, grey)) == 1


def test_a_message_refused_outright_fails_at_once_with_the_servers_reason(
    harnesses: list[ImapHarness], dovecot_server: Dovecot, smtp_server: SmtpServer, tmp_path: Path
) -> None:
    harness = mailbox(harnesses, dovecot_server, smtp_server)
    scheduling_email(harness, to=CANDIDATE, message_id="<spam1@agency.example>")
    config = write_config(tmp_path, [("work", harness, "")])
    assert cli(config, "candidates", "import", str(roster(tmp_path, f"Jane Doe,{CANDIDATE},,,,,"))).returncode == 0
    assert cli(config, "sync").returncode == 0
    smtp_server.handler.refuse_data = "554 5.7.1 Message rejected as spam"
    before = len(smtp_server.messages)

    sent = cli(config, "chase", "Jane Doe", "--send")

    assert sent.returncode == 1
    [line] = sent.stderr.strip().splitlines()
    assert "refused the message: 554 5.7.1 Message rejected as spam" in line
    assert line.endswith("it will not be tried again")
    smtp_server.handler.refuse_data = ""
    assert cli(config, "sync").returncode == 0
    assert len(smtp_server.messages) == before  # never tried again
    [action] = Store(tmp_path / "store.json").actions()
    assert action.state is ActionState.FAILED and action.refused == ()
    assert row(config, "Jane Doe")["status"] == "silent"  # the address is not what failed


# -- item 6: what the outbox sent counts at once -------------------------------------------------


def test_a_sent_chaser_counts_at_once_and_a_second_employer_update_needs_force(
    harnesses: list[ImapHarness], dovecot_server: Dovecot, smtp_server: SmtpServer, tmp_path: Path
) -> None:
    harness = mailbox(harnesses, dovecot_server, smtp_server)
    tom = "tom.becker@example.com"
    scheduling_email(harness, to=CANDIDATE, message_id="<count1@agency.example>")
    scheduling_email(harness, to=tom, message_id="<count2@agency.example>")
    config = write_config(tmp_path, [("work", harness, "")])
    people = roster(tmp_path, f"Jane Doe,{CANDIDATE},,,,,", f"Tom Becker,{tom},,Analyst,Acme,{EMPLOYER},")
    assert cli(config, "candidates", "import", str(people)).returncode == 0
    assert cli(config, "sync").returncode == 0
    before = row(config, "Jane Doe")
    assert (before["chasers_sent"], before["next_action"]) == (0, "send_chaser")

    assert cli(config, "chase", "Jane Doe", "--send").returncode == 0

    after = row(config, "Jane Doe")  # no sync in between
    assert (after["chasers_sent"], after["next_action"]) == (1, "wait")
    assert "1 chaser unanswered" in after["reasons"]

    assert row(config, "Tom Becker")["next_action"] == "update_employer"
    first = cli(config, "update-employer", "Tom Becker", "--send")
    assert first.returncode == 0, first.stderr
    assert len(received_for(smtp_server, EMPLOYER)) == 1
    assert row(config, "Tom Becker")["next_action"] != "update_employer"  # the employer was told

    second = cli(config, "update-employer", "Tom Becker", "--send")
    assert second.returncode == 3
    [line] = second.stderr.strip().splitlines()
    assert line.startswith("inbox-watch: an employer update about Tom Becker went out just now (")
    assert line.endswith("); wait a business day or use --force")
    assert len(received_for(smtp_server, EMPLOYER)) == 1

    forced = cli(config, "update-employer", "Tom Becker", "--send", "--force")
    assert forced.returncode == 0, forced.stderr
    assert len(received_for(smtp_server, EMPLOYER)) == 2
