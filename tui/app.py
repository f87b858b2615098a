"""The dashboard application. Thin on purpose: it holds the workspace and the clock, and the
main screen (tui/screens/main.py) does the work."""

from __future__ import annotations

import gc
import logging
import sys
import threading
from collections.abc import Iterator
from concurrent.futures import Future
from contextlib import contextmanager
from datetime import UTC, datetime

from textual.app import App
from textual.binding import Binding

from inbox_watch.service import Workspace
from tui.commands import DashboardCommands
from tui.overview import Overview, read_overview
from tui.screens.help import HelpScreen
from tui.screens.main import MainScreen
from tui.widgets.candidate_table import CandidateTable

DEFAULT_COUNTDOWN = 10.0  # seconds between Ctrl+S and the send; `u` undoes it meanwhile


class InboxWatchApp(App[int]):
    CSS_PATH = "app.tcss"
    TITLE = "inbox-watch"
    COMMANDS = {DashboardCommands}  # Textual's own commands come through it, after ours (tui/commands.py)
    BINDINGS = [
        Binding("question_mark", "help", "Help", id="help", key_display="?", tooltip="Show every key"),
        Binding("q", "quit", "Quit", id="quit", tooltip="Quit (asks first while a send counts down)"),
    ]

    def __init__(
        self,
        workspace: Workspace,
        *,
        demo: bool = False,
        now: datetime | None = None,
        countdown: float = DEFAULT_COUNTDOWN,
    ) -> None:
        super().__init__()
        self.workspace = workspace
        self.demo = demo
        self.fixed_now = now
        self.countdown = countdown
        self.sub_title = "demo mailbox" if demo else ""
        self._prefetched: Future[Overview] | None = None
        self.saved_ranking: tuple[datetime, list[tuple[str, ...]]] | None = None
        self._saved_painted = threading.Event()

    def on_mount(self) -> None:
        # The dashboard holds a large, long-lived heap (thousands of candidate states, their
        # threads, the table's rows). With CPython's default thresholds (700, 10, 10) full
        # collections kept landing on key presses: 100-400 ms pauses in bench/tui.py with 2,000
        # candidates. Collecting the young generation less often removes them.
        gc.set_threshold(50_000, 20, 100)

    def prefetch(self) -> None:
        """Start reading the store and ranking the candidates now, in a thread, so the work
        overlaps Textual's start-up; the main screen's first refresh takes the result. The
        table the last run showed (a small file) is read here, before the screen exists, so
        the screen can paint it at once while the fresh ranking is computed."""
        self.saved_ranking = self.workspace.store.saved_ranking()
        if self.saved_ranking is None:
            self._saved_painted.set()
        future: Future[Overview] = Future()

        def read() -> None:
            # With a saved table to show, let the screen paint it first: the read holds the
            # GIL for long stretches (parsing the store file alone, ~0.1 s), which held the
            # first paint back by up to half a second. The wait is bounded, in case no screen
            # ever paints.
            self._saved_painted.wait(timeout=1.0)
            # While this thread reads the store and ranks, Textual's loop wakes many times a
            # second; the default 5 ms GIL switch interval turns that into constant hand-offs
            # that slowed the first read by a third. Longer slices until the first table.
            interval = sys.getswitchinterval()
            sys.setswitchinterval(0.05)
            try:
                future.set_result(read_overview(self.workspace, self.now()))
            except BaseException as exc:  # noqa: BLE001 -- handed to the worker that waits on it
                future.set_exception(exc)
            finally:
                sys.setswitchinterval(interval)

        threading.Thread(target=read, name="inbox-watch-first-read", daemon=True).start()
        self._prefetched = future

    def saved_ranking_painted(self) -> None:
        """The saved table is on screen: the fresh read may start."""
        self._saved_painted.set()

    def take_prefetched(self) -> Future[Overview] | None:
        future, self._prefetched = self._prefetched, None
        return future

    def now(self) -> datetime:
        """The dashboard's clock: fixed when the app was built with ``now`` (tests, snapshots)."""
        return self.fixed_now or datetime.now(UTC)

    def get_default_screen(self) -> MainScreen:
        return MainScreen()

    async def action_quit(self) -> None:
        """Quit; while a send counts down, ask first (send now, cancel it, or keep waiting)."""
        for screen in self.screen_stack:
            if isinstance(screen, MainScreen) and screen.pending:
                screen.ask_before_quitting()
                return
        self.exit()

    def action_help(self) -> None:
        keys = []
        for source in (CandidateTable.BINDINGS, MainScreen.BINDINGS, self.BINDINGS):
            for binding in source:
                if not isinstance(binding, Binding):
                    continue
                key = binding.key_display or {"slash": "/", "question_mark": "?"}.get(binding.key, binding.key)
                keys.append((key, binding.tooltip or binding.description))
        keys += [
            ("ctrl+s", "in a draft: send, after the countdown"),
            ("d", "in a draft: save it to the mailbox's Drafts"),
            ("u", "in a draft: undo the send still counting down from before"),
            ("i / escape", "in a draft: edit the text / stop editing"),
            ("y", "in a draft: copy its text to the clipboard"),
            ("ctrl+p", "command palette: every action by name"),
        ]
        self.push_screen(HelpScreen(keys, self.countdown, self.workspace.clock))


def create_app(
    workspace: Workspace,
    *,
    demo: bool = False,
    now: datetime | None = None,
    countdown: float = DEFAULT_COUNTDOWN,
) -> InboxWatchApp:
    """The dashboard over ``workspace``; ``now`` fixes the clock, ``countdown`` the undo window."""
    app = InboxWatchApp(workspace, demo=demo, now=now, countdown=countdown)
    app.prefetch()
    return app


class _NotifyHandler(logging.Handler):
    """Log records as the dashboard's notifications (one line each; ``App.notify`` is
    thread-safe, and most records come from worker threads)."""

    def __init__(self, app: InboxWatchApp) -> None:
        super().__init__(level=logging.WARNING)
        self.app = app

    def emit(self, record: logging.LogRecord) -> None:
        try:
            text = (record.getMessage().splitlines() or [""])[0]
            if record.levelno >= logging.ERROR:
                self.app.notify(text, title="Error", severity="error", markup=False)
            else:
                self.app.notify(text, title="Warning", severity="warning", markup=False)
        except Exception:  # noqa: BLE001 - logging must never break the dashboard
            self.handleError(record)


@contextmanager
def logs_in_dashboard(app: InboxWatchApp) -> Iterator[None]:
    """While the dashboard runs, warnings and errors logged anywhere show as its notifications
    instead of being written to the terminal it draws on (which garbles the screen)."""
    root = logging.getLogger()
    terminal = [h for h in root.handlers if type(h) is logging.StreamHandler]
    handler = _NotifyHandler(app)
    for old in terminal:
        root.removeHandler(old)
    root.addHandler(handler)
    try:
        yield
    finally:
        root.removeHandler(handler)
        for old in terminal:
            root.addHandler(old)
