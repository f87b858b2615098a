"""Two lines at the foot of the dashboard.

Line 1: the last sync of each account, and whether the background daemon is running (or the
dashboard is syncing on its own). Line 2: what is happening now, most urgent first: a send
counting down (with the undo key), sync progress, the last error, the last thing done.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from rich.text import Text
from textual.widgets import Static

from inbox_watch.engine.clock import BusinessClock
from tui.widgets.palette import style


def when(value: str | None, clock: BusinessClock, now: datetime) -> str:
    """A stored ISO timestamp as a short local time ("14:00", or "Mon 23 Nov 14:00")."""
    if not value:
        return "never"
    try:
        moment = clock.local(datetime.fromisoformat(value))
    except ValueError:
        return value
    if moment.date() == clock.local(now).date():
        return f"{moment:%H:%M}"
    return f"{moment:%a %d %b %H:%M}"


class StatusBar(Static):
    """Sync, daemon, progress, countdown and error, drawn from plain fields."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.accounts: list[dict[str, Any]] = []
        self.daemon: bool | None = None  # None: not known yet
        self.interval = 0
        self.countdown = ""
        self.progress = ""
        self.error = ""
        self.note = ""
        self._clock: BusinessClock | None = None
        self._now: datetime | None = None

    def set_sync_status(
        self,
        accounts: list[dict[str, Any]],
        daemon: bool,
        interval: int,
        clock: BusinessClock,
        now: datetime,
    ) -> None:
        self.accounts, self.daemon, self.interval = accounts, daemon, interval
        self._clock, self._now = clock, now
        self.refresh_line()

    def set_activity(self, **fields: str) -> None:
        """Set any of ``countdown``, ``progress``, ``error``, ``note``."""
        for name, value in fields.items():
            setattr(self, name, value)
        self.refresh_line()

    def line_sync(self) -> Text:
        text = Text()
        if self._clock is not None and self._now is not None:
            for index, account in enumerate(sorted(self.accounts, key=lambda a: a.get("account", ""))):
                if index:
                    text.append("  ")
                name = account.get("account", "?")
                if account.get("last_sync"):
                    text.append(f"{name}: synced {when(account.get('last_sync'), self._clock, self._now)}")
                    if account.get("last_error"):
                        text.append(" (failed since)", style=style("bold red"))
                else:
                    text.append(f"{name}: never synced")
                    if account.get("last_error"):
                        text.append(" (failing)", style=style("bold red"))
        if not self.accounts:
            text.append("no sync yet")
        text.append("  |  ")
        if self.daemon is None:
            text.append("daemon: ?")
        elif self.daemon:
            text.append("daemon: running", style=style("green"))
        else:
            text.append(f"daemon: off, dashboard syncs every {self.interval}s")
        return text

    def line_activity(self) -> Text:
        if self.countdown:
            return Text(self.countdown, style="bold reverse")
        if self.progress:
            return Text(self.progress, style="bold")
        if self.error:
            return Text(f"error: {self.error}", style=style("bold red"))
        return Text(self.note or "ready", style="dim" if not self.note else "")

    def refresh_line(self) -> None:
        # Each line is one row, cut with an ellipsis (``text-wrap: nowrap`` in app.tcss): a long
        # first line (several accounts at 80 columns) must never wrap and push the second, the
        # send countdown and its undo key, out of the bar's two rows.
        text = self.line_sync()
        text.append("\n")
        text.append_text(self.line_activity())
        text.no_wrap = True
        text.overflow = "ellipsis"
        self.update(text)
