"""The daemon in-process on the demo mailbox: woken by a front end's poke, it drains the outbox
at once (not at the next interval); it tells the recruiter about a reply, once."""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from inbox_watch import wake
from inbox_watch.config import AccountConfig, Config
from inbox_watch.daemon import run_daemon
from inbox_watch.models import ActionMode, ActionState
from inbox_watch.service import Workspace
from inbox_watch.store import Store
from providers.demo import DEMO_RECRUITER


def _config(tmp_path: Path) -> Config:
    return Config(
        path=None,
        recruiter=DEMO_RECRUITER,
        store_path=tmp_path / "store.json",
        accounts=(AccountConfig(name="demo", provider="demo"),),
        interval=300,  # nothing but the poke can bring the next pass within the test
    )


def _in_background(work: Callable[[], None]) -> threading.Thread:
    """Run ``work`` beside the daemon (which needs the main thread for its signals), then stop it."""

    def run() -> None:
        try:
            work()
        finally:
            os.kill(os.getpid(), signal.SIGTERM)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def _wait(condition: Callable[[], bool], within: float) -> float:
    started = time.monotonic()
    while time.monotonic() - started < within:
        if condition():
            return time.monotonic() - started
        time.sleep(0.05)
    raise AssertionError("not within the time")


def test_a_poke_drains_the_outbox_at_once(tmp_path: Path) -> None:
    config = _config(tmp_path)
    store = Store(config.store_path)
    taken: list[float] = []

    def front_end() -> None:
        _wait(lambda: store.state_path.exists() and any(s.get("last_sync") for s in store.sync_status()), 30)
        workspace = Workspace.open(config)
        now = datetime.now(UTC)
        state = workspace.state_of("Priya Shah", now)
        action = workspace.queue(state, workspace.chaser_draft(state), ActionMode.DRAFT, now)
        wake.poke(config.store_path)  # what a front end does when it leaves an action queued
        taken.append(_wait(lambda: [a.state for a in store.actions() if a.id == action.id] == [ActionState.DONE], 10))

    thread = _in_background(front_end)
    assert run_daemon(Workspace.open(config)) == 0
    thread.join()
    assert taken and taken[0] < 3.0  # within a second or two, not the 300 s interval


def test_the_morning_plan_is_saved_as_a_draft_to_the_recruiter_once_a_working_day(tmp_path: Path) -> None:
    from dataclasses import replace

    from inbox_watch.config import NotifyConfig
    from inbox_watch.daemon import AccountWorker, Daemon
    from providers.demo import DemoProvider

    config = replace(_config(tmp_path), notify=NotifyConfig(morning_plan=True))
    workspace = Workspace.open(config)
    worker = AccountWorker(Daemon(workspace), config.accounts[0])
    worker.run_pass()  # the store filled, the connection open
    DemoProvider._outgoing.pop("demo", None)
    monday_early = datetime(2026, 11, 30, 7, 55, tzinfo=UTC)  # before 09:00 in London
    saturday = datetime(2026, 11, 28, 10, 0, tzinfo=UTC)
    monday = datetime(2026, 11, 30, 9, 5, tzinfo=UTC)
    assert not worker.morning_plan(monday_early) and not worker.morning_plan(saturday)
    assert worker.morning_plan(monday)
    assert not worker.morning_plan(monday + timedelta(hours=2))  # once a day
    [draft] = DemoProvider._outgoing["demo"]
    assert draft.is_draft and draft.to == (DEMO_RECRUITER.addresses[0],)
    assert draft.subject.startswith("Your plan for Mon 30 Nov: ")
    assert "Chasers due" in draft.text or "nothing due" in draft.subject
    assert worker.morning_plan(monday + timedelta(days=1))  # the next working day, again
    off = AccountWorker(Daemon(Workspace.open(_config(tmp_path))), config.accounts[0])
    off.run_pass()
    assert not off.morning_plan(monday + timedelta(days=2))  # [notify] morning_plan is off by default
