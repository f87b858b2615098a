"""When the dashboard syncs, on its own (tui/sync_schedule.py), in a bare Textual app with a
real interval timer: at start only when the store is stale and no daemon runs, every interval
while no daemon runs (else it re-reads the store), and one sync at a time."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

from textual.app import App, ComposeResult

from tui.sync_schedule import SyncSchedule, synced_within

NOW = datetime(2026, 11, 25, 14, 0, tzinfo=UTC)


class Bare(App[None]):
    def __init__(self, interval: float, accounts: list[str]) -> None:
        super().__init__()
        self.schedule = SyncSchedule(interval, accounts)
        self.heard: list[str] = []

    def compose(self) -> ComposeResult:
        yield self.schedule

    def on_sync_schedule_sync_now(self, message: SyncSchedule.SyncNow) -> None:
        self.heard.append(f"sync {message.reason}")

    def on_sync_schedule_reread(self) -> None:
        self.heard.append("reread")


def status(name: str, last: datetime | str | None) -> dict[str, object]:
    return {"account": name, "last_sync": last.isoformat() if isinstance(last, datetime) else last}


def test_an_account_synced_within_the_window_is_fresh_and_anything_else_is_stale() -> None:
    accounts = [status("work", NOW - timedelta(seconds=30)), status("old", NOW - timedelta(hours=2)), status("bad", "x")]
    window = timedelta(minutes=5)
    assert synced_within("work", accounts, NOW, window)
    assert not synced_within("old", accounts, NOW, window)
    assert not synced_within("bad", accounts, NOW, window)  # an unreadable date counts as never
    assert not synced_within("never", accounts, NOW, window)
    assert not synced_within("work", [status("work", None)], NOW, window)


async def test_a_stale_store_with_no_daemon_syncs_once_at_start() -> None:
    app = Bare(300, ["work", "home"])
    async with app.run_test() as pilot:
        accounts = [status("work", NOW - timedelta(seconds=30)), status("home", NOW - timedelta(hours=1))]
        app.schedule.planned(accounts, None, NOW)
        app.schedule.planned(accounts, None, NOW)  # later reads: the interval is already running
        await pilot.pause()
        assert app.heard == ["sync auto"] and app.schedule.daemon_running is False


async def test_a_fresh_store_or_a_running_daemon_waits_for_the_interval() -> None:
    app = Bare(300, ["work"])
    async with app.run_test() as pilot:
        app.schedule.planned([status("work", NOW - timedelta(seconds=30))], None, NOW)
        await pilot.pause()
        assert app.heard == []
    app = Bare(300, ["work"])
    async with app.run_test() as pilot:
        app.schedule.planned([status("work", NOW - timedelta(hours=1))], NOW - timedelta(seconds=400), NOW)
        await pilot.pause()
        assert app.heard == [] and app.schedule.daemon_running  # heartbeat within two intervals


async def test_every_interval_it_syncs_without_a_daemon_and_rereads_with_one() -> None:
    app = Bare(0.3, ["work"])
    async with app.run_test() as pilot:
        app.schedule.planned([status("work", NOW)], None, NOW)
        started = time.monotonic()
        while not app.heard and time.monotonic() - started < 5:
            await pilot.pause(0.05)
        assert app.heard[:1] == ["sync auto"]  # the interval timer fired on its own
        app.heard.clear()
        app.schedule.planned([status("work", NOW)], NOW - timedelta(seconds=0.1), NOW)  # a daemon now
        app.schedule.tick()
        await pilot.pause()
        assert app.heard[:1] == ["reread"]


async def test_one_sync_at_a_time() -> None:
    app = Bare(300, ["work"])
    async with app.run_test() as pilot:
        app.schedule.planned([status("work", NOW)], None, NOW)
        assert app.schedule.request("manual") and app.schedule.syncing
        assert not app.schedule.request("after-send")  # one is running
        assert app.schedule.reason == "manual"
        app.schedule.tick()  # no daemon, but a sync runs: only re-read
        await pilot.pause()
        assert app.heard == ["reread"]
        app.schedule.finished()
        assert not app.schedule.syncing and app.schedule.request("after-send")
        assert app.schedule.reason == "after-send"
