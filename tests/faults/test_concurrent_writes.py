"""Writes from several processes at once on one store: a daemon's sync passes beside the
dashboard's and the command line's writes (logs, snoozes, the outbox). Every write that returned
must be in the store at the end: the figures count writes made and writes lost."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from inbox_watch.store import Store
from tests.faults.campaign import Figures, campaign_count

ROOT = Path(__file__).resolve().parents[2]

DAEMON = """
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from inbox_watch.models import Cursor, MailMessage, SyncBatch
from inbox_watch.store import Store

store, count, tag = Store(Path(sys.argv[1])), int(sys.argv[2]), sys.argv[3]
base = datetime(2026, 11, 23, 9, tzinfo=UTC)
for i in range(count):
    messages = tuple(
        MailMessage(account=tag, id=f"{tag}-{i}-{j}", message_id=f"<{tag}-{i}-{j}@example.com>",
                    date=base + timedelta(minutes=i), from_addr="c@example.com", subject=f"pass {i}", to=("sam@agency.example",))
        for j in range(2)
    )
    store.apply_sync(SyncBatch(tag, messages, Cursor(tag, f"c{i}")), at=base)
    store.set_heartbeat(4242, base + timedelta(seconds=i))
print("done")
"""

FRONT_END = """
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from inbox_watch import outbox
from inbox_watch.models import ActionKind, ActionMode, OutgoingMessage, Snooze, Touch
from inbox_watch.store import Store

store, count, tag = Store(Path(sys.argv[1])), int(sys.argv[2]), sys.argv[3]
now = datetime(2026, 11, 25, 12, tzinfo=UTC)
for i in range(count):
    store.add_touch(Touch(f"{tag} {i}", "call", now, f"note {tag} {i}"))
    if i % 4 == 0:
        store.set_snooze(Snooze(f"{tag} {i}", date(2026, 12, 1), "ill", since=now))
    outbox.enqueue(
        store, kind=ActionKind.CHASER, mode=ActionMode.DRAFT, candidate=f"{tag} {i}", account="work",
        message=OutgoingMessage(from_addr="sam@agency.example", to=("c@example.com",), subject="Re: slots",
                                body="Hi", message_id=f"<{tag}-{i}@agency.example>"),
        now=now + timedelta(seconds=i),
    )
print("done")
"""


def test_writes_from_a_daemon_and_two_front_ends_at_once_are_all_kept(tmp_path: Path, figures: Figures) -> None:
    count = campaign_count(30, 300)
    path = tmp_path / "store.json"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    runs = [
        ("daemon", DAEMON, "work"),
        ("dashboard", FRONT_END, "dash"),
        ("cli", FRONT_END, "cli"),
    ]
    children = [
        subprocess.Popen(
            [sys.executable, "-c", script, str(path), str(count), tag],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _, script, tag in runs
    ]
    for child in children:
        out, err = child.communicate(timeout=600)
        assert child.returncode == 0 and out.strip() == "done", err
    store = Store(path)
    found_messages = {m.id for m in store.messages()}
    lost_passes = sum(1 for i in range(count) if not {f"work-{i}-0", f"work-{i}-1"} <= found_messages)
    expected_notes = {f"note {tag} {i}" for tag in ("dash", "cli") for i in range(count)}
    expected_actions = {f"<{tag}-{i}@agency.example>" for tag in ("dash", "cli") for i in range(count)}
    snoozes = len([i for i in range(count) if i % 4 == 0]) * 2
    # every call that wrote: sync passes, heartbeats, logs, outbox entries, snoozes
    made = count + count + len(expected_notes) + len(expected_actions) + snoozes
    lost = (
        lost_passes
        + len(expected_notes - {t.note for t in store.touches()})
        + len(expected_actions - {a.message.message_id for a in store.actions()})
        + max(0, snoozes - len(store.snoozes()))
    )
    figures.add("processes writing at once", len(children))
    figures.add("concurrent writes", made)
    figures.add("lost writes", lost)
    assert lost == 0
    assert store.cursor("work") is not None and store.cursor("work").value == f"c{count - 1}"
    assert store.heartbeat() == (4242, datetime(2026, 11, 23, 9, tzinfo=UTC) + timedelta(seconds=count - 1))
