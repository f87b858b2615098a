"""When the dashboard syncs: on request (``r``, after a send), every ``interval`` seconds while
no daemon runs (with a daemon running it only re-reads the store the daemon keeps fresh), and
once at start when an account has not synced within the interval. One sync at a time.

A widget with no looks of its own, for Textual's timer and reactives: the main screen mounts
it, tells it after each read of the store what it read (``planned``), runs the sync when
``request`` says so or a ``SyncNow`` message comes, and re-reads the store on ``Reread``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from textual.message import Message
from textual.reactive import reactive
from textual.timer import Timer
from textual.widget import Widget


def synced_within(name: str, accounts: Sequence[Mapping[str, Any]], now: datetime, window: timedelta) -> bool:
    """Whether the store says account ``name`` last synced less than ``window`` before ``now``
    (an unreadable date counts as never)."""
    for status in accounts:
        if status.get("account") == name and status.get("last_sync"):
            try:
                last = datetime.fromisoformat(status["last_sync"])
            except (TypeError, ValueError):
                return False
            return now - last < window
    return False


class SyncSchedule(Widget):
    DEFAULT_CSS = "SyncSchedule { display: none; }"

    syncing: reactive[bool] = reactive(False, repaint=False)
    """A sync is running (started by ``request``, ended by ``finished``)."""
    daemon_running: reactive[bool | None] = reactive(None, repaint=False)
    """Whether a daemon runs (its heartbeat within two intervals); None before the first read."""

    @dataclass
    class SyncNow(Message):
        """Time to sync (``reason``: "auto")."""

        reason: str

    class Reread(Message):
        """Time to read the store again (the daemon syncs)."""

    def __init__(self, interval: float, accounts: Sequence[str]) -> None:
        super().__init__()
        self.interval = interval
        self.accounts = tuple(accounts)  # the configured accounts' names
        self.reason = "manual"  # why the running (or last) sync started
        self._timer: Timer | None = None

    def request(self, reason: str = "manual") -> bool:
        """Start a sync for ``reason`` ("manual", "auto", "after-send"); False while one runs."""
        if self.syncing:
            return False
        self.reason, self.syncing = reason, True
        return True

    def finished(self) -> None:
        """The sync ended (done or failed)."""
        self.syncing = False

    def planned(self, accounts: Sequence[Mapping[str, Any]], heartbeat: datetime | None, now: datetime) -> None:
        """After a read of the store: ``accounts`` (its sync status per account) and the daemon's
        last ``heartbeat``. The first time, the interval starts, and a stale store with no daemon
        syncs at once."""
        window = timedelta(seconds=self.interval)
        self.daemon_running = heartbeat is not None and now - heartbeat <= 2 * window
        if self._timer is not None:
            return
        self._timer = self.set_interval(self.interval, self.tick, name="auto-sync")
        stale = [name for name in self.accounts if not synced_within(name, accounts, now, window)]
        if stale and not self.daemon_running:
            self.post_message(self.SyncNow("auto"))

    def tick(self) -> None:
        """Every interval: sync when no daemon runs and none is running, else re-read the store."""
        if not self.daemon_running and not self.syncing:
            self.post_message(self.SyncNow("auto"))
        else:
            self.post_message(self.Reread())
