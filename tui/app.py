"""The dashboard application. Thin on purpose: it holds the workspace and the clock, and the
main screen (tui/screens/main.py) does the work."""

from __future__ import annotations

import gc
from datetime import UTC, datetime

from textual.app import App
from textual.binding import Binding

from inbox_watch.service import Workspace
from tui.commands import DashboardCommands
from tui.screens.help import HelpScreen
from tui.screens.main import MainScreen

DEFAULT_COUNTDOWN = 10.0  # seconds between Ctrl+S and the send; `u` undoes it meanwhile


class InboxWatchApp(App[int]):
    CSS_PATH = "app.tcss"
    TITLE = "inbox-watch"
    COMMANDS = App.COMMANDS | {DashboardCommands}
    BINDINGS = [
        Binding("question_mark", "help", "Help", id="help", key_display="?"),
        Binding("q", "quit", "Quit", id="quit"),
    ]

    def __init__(self, workspace: Workspace, *, demo: bool = False, now: datetime | None = None, countdown: float = DEFAULT_COUNTDOWN) -> None:
        super().__init__()
        self.workspace = workspace
        self.demo = demo
        self.fixed_now = now
        self.countdown = countdown
        self.sub_title = "demo mailbox" if demo else ""

    def on_mount(self) -> None:
        # The dashboard holds a large, long-lived heap (thousands of candidate states, their
        # threads, the table's rows). With CPython's default thresholds (700, 10, 10) full
        # collections kept landing on key presses: 100-400 ms pauses in bench/tui.py with 2,000
        # candidates. Collecting the young generation less often removes them.
        gc.set_threshold(50_000, 20, 100)

    def now(self) -> datetime:
        """The dashboard's clock: fixed when the app was built with ``now`` (tests, snapshots)."""
        return self.fixed_now or datetime.now(UTC)

    def get_default_screen(self) -> MainScreen:
        return MainScreen()

    def action_help(self) -> None:
        keys = []
        for source in (MainScreen.BINDINGS, self.BINDINGS):
            for binding in source:
                key = {"slash": "/", "question_mark": "?"}.get(binding.key, binding.key)
                keys.append((key, binding.tooltip or binding.description))
        keys += [
            ("ctrl+s", "in a draft: send, after the countdown"),
            ("d", "in a draft: save it to the mailbox's Drafts"),
            ("i / escape", "in a draft: edit the text / stop editing"),
            ("ctrl+p", "command palette: every action by name"),
        ]
        self.push_screen(HelpScreen(keys, self.countdown))


def create_app(
    workspace: Workspace, *, demo: bool = False, now: datetime | None = None, countdown: float = DEFAULT_COUNTDOWN
) -> InboxWatchApp:
    """The dashboard over ``workspace``; ``now`` fixes the clock, ``countdown`` the undo window."""
    return InboxWatchApp(workspace, demo=demo, now=now, countdown=countdown)
