# ruff: noqa: F811 - the fixtures imported from dovecot.py / smtp_server.py are named as arguments
"""kill -9 at many points of a send, then resume: never a second delivery, never a silent loss.

A child process drains the outbox (one queued chaser) through the real IMAP provider against
a real Dovecot and a real aiosmtpd, and SIGKILLs itself at the Nth Python function call of the
drain (a profile hook in the child, nothing in the product). The points are spread evenly over
the calls a whole send makes (counted by a first, unkilled run). Then the next sync resumes in
a fresh store object, as a later daemon pass would, and aiosmtpd counts the deliveries of that
Message-ID. Each queued message must be delivered at most once, and one that was not delivered
must be reported failed with the line telling the recruiter to check Sent (the outcome of a
send cut off after it started is unknown: by design it is never sent again).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from inbox_watch import outbox
from inbox_watch.models import ActionState
from inbox_watch.store import Store
from inbox_watch.sync import sync_account
from tests.faults.campaign import Figures, campaign_count
from tests.providers.contract import chaser_message, make_raw, queue_chaser
from tests.providers.dovecot import PASSWORD, Dovecot, dovecot_server  # noqa: F401
from tests.providers.smtp_server import SmtpServer, smtp_server  # noqa: F401
from tests.providers.test_imap import PASSWORD_ENV, ImapHarness

ROOT = Path(__file__).resolve().parents[2]

CHILD = """
import json, os, signal, sys
from datetime import UTC, datetime
from pathlib import Path
from inbox_watch import outbox
from inbox_watch.config import AccountConfig
from inbox_watch.store import Store
from providers.imap import ImapProvider

kill_at = int(sys.argv[3])
calls = 0

def count(frame, event, arg):
    global calls
    if event == "call":
        calls += 1
        if calls == kill_at:
            os.kill(os.getpid(), signal.SIGKILL)

store = Store(Path(sys.argv[1]))
provider = ImapProvider(AccountConfig(**json.loads(sys.argv[2])))
sys.setprofile(count)
outbox.drain(store, lambda _name: provider, datetime.now(UTC), immediate=True)
sys.setprofile(None)
print(json.dumps({"calls": calls}))
"""


@pytest.fixture
def mailbox(dovecot_server: Dovecot, smtp_server: SmtpServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[ImapHarness]:
    monkeypatch.setenv(PASSWORD_ENV, PASSWORD)
    harness = ImapHarness(dovecot_server, smtp_server)
    harness.deliver(make_raw(subject="Interview slots", message_id="<c1@agency.example>"), folder="sent")
    yield harness
    harness.close()


def _send(mailbox: ImapHarness, folder: Path, message_id: str, kill_at: int) -> subprocess.CompletedProcess[str]:
    queue_chaser(Store(folder / "store.json"), chaser_message(message_id), datetime.now(UTC))
    return subprocess.run(
        [sys.executable, "-c", CHILD, str(folder / "store.json"), json.dumps(asdict(mailbox.account)), str(kill_at)],
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_kill_9_at_every_point_of_a_send_never_delivers_twice(
    mailbox: ImapHarness, tmp_path: Path, figures: Figures
) -> None:
    whole = _send(mailbox, tmp_path / "whole", "<kill-whole@agency.example>", 0)
    assert whole.returncode == 0, whole.stderr
    total = json.loads(whole.stdout)["calls"]
    assert mailbox.smtp.copies("<kill-whole@agency.example>") == 1
    figures.add("double sends", 0)
    figures.add("silent losses", 0)
    points = campaign_count(6, 126)
    kill_points = sorted({max(1, total * (i + 1) // (points + 1)) for i in range(points)})
    for n, kill_at in enumerate(kill_points):
        message_id = f"<kill-{n}@agency.example>"
        folder = tmp_path / f"p{n}"
        child = _send(mailbox, folder, message_id, kill_at)
        killed = child.returncode == -signal.SIGKILL
        figures.add("kill points tried")
        figures.add("processes killed" if killed else "sends finished before the kill point")
        # resume: the next passes, in a fresh store object, once the dead claim is stale
        store = Store(folder / "store.json")
        later = datetime.now(UTC) + outbox.CLAIM_TIMEOUT + timedelta(minutes=1)
        notes = list(sync_account(store, mailbox.account, mailbox.provider, now=later).outbox_notes)
        notes += sync_account(store, mailbox.account, mailbox.provider, now=later + timedelta(minutes=5)).outbox_notes
        copies = mailbox.smtp.copies(message_id)
        [action] = store.actions()
        figures.add("queued messages", 1)
        figures.add("deliveries seen by aiosmtpd", copies)
        if copies > 1:
            figures.add("double sends", copies - 1)
        assert copies <= 1, f"kill at call {kill_at}/{total}: delivered {copies} times"
        if copies == 0:
            told = action.state is ActionState.FAILED and any("check Sent" in note for note in notes)
            figures.add("undelivered, reported (outcome unknown)" if told else "silent losses")
            assert told, f"kill at call {kill_at}/{total}: not delivered and not reported: {action}"
        else:
            assert action.state in (ActionState.DONE, ActionState.FAILED), action
    assert figures.get("double sends") == 0 and figures.get("silent losses") == 0
