"""The send countdown on its own (tui/countdown.py), in a bare Textual app with real timers:
nothing is due before its time, undo takes the latest send back, a held countdown waits for the
answer and then goes on from where it was."""

from __future__ import annotations

import time

from textual.app import App, ComposeResult

from inbox_watch.engine.drafts import Draft
from inbox_watch.models import ActionMode
from inbox_watch.service import Workspace
from tests.tui.helpers import FIXED
from tui.countdown import PendingSend, SendCountdown, countdown_line
from tui.screens.draft import DraftOutcome

SHORT = 0.4  # seconds: long enough to act inside on a loaded machine, short enough to wait out


class Bare(App[None]):
    def __init__(self) -> None:
        super().__init__()
        self.countdown = SendCountdown()
        self.due: list[PendingSend] = []
        self.lines: list[str] = []

    def compose(self) -> ComposeResult:
        yield self.countdown

    def on_mount(self) -> None:
        self.watch(self.countdown, "line", self.heard, init=False)

    def heard(self, line: str) -> None:
        self.lines.append(line)

    def on_send_countdown_due(self, message: SendCountdown.Due) -> None:
        self.due.append(message.pending)


def outcome(workspace: Workspace, to: str) -> DraftOutcome:
    state = workspace.evaluate(FIXED)[0]
    return DraftOutcome(ActionMode.SEND, Draft(kind="chaser", to=(to,), subject="s", body="b"), state)


def test_the_line_says_what_counts_down_and_how_many_more_wait() -> None:
    first = PendingSend(None, "chaser to ana@example.com", deadline=100.0)  # type: ignore[arg-type]
    second = PendingSend(None, "employer update to hr@example.com", deadline=103.2)  # type: ignore[arg-type]
    assert countdown_line([], 100.0) == ""
    assert countdown_line([first], 97.5) == "Sending chaser to ana@example.com in 3s  -  press u to undo"
    assert countdown_line([first], 101.0) == "Sending chaser to ana@example.com in 0s  -  press u to undo"
    assert countdown_line([first, second], 100.0) == (
        "Sending employer update to hr@example.com in 4s (+1 more)  -  press u to undo"
    )
    second.held = 2.1
    assert countdown_line([first, second], 100.0) == "Sending employer update to hr@example.com (+1 more): held, 3s left"


async def test_a_send_is_due_once_its_countdown_ends_and_not_before(workspace: Workspace) -> None:
    app = Bare()
    async with app.run_test() as pilot:
        started = time.monotonic()
        pending = app.countdown.start(outcome(workspace, "ana@example.com"), SHORT, "chaser to ana@example.com")
        assert app.countdown.waiting == 1 and app.countdown.pending == (pending,)
        assert app.countdown.line == "Sending chaser to ana@example.com in 1s  -  press u to undo"
        while not app.due and time.monotonic() - started < 5:
            await pilot.pause(0.05)
        assert app.due == [pending] and time.monotonic() - started >= SHORT
        assert app.countdown.waiting == 0 and app.countdown.line == ""
        await pilot.pause(SHORT)
        assert app.due == [pending]  # once


async def test_undo_takes_back_the_latest_send_and_only_it(workspace: Workspace) -> None:
    app = Bare()
    async with app.run_test() as pilot:
        assert app.countdown.undo() is None  # nothing to undo
        first = app.countdown.start(outcome(workspace, "ana@example.com"), SHORT, "chaser to ana@example.com")
        second = app.countdown.start(outcome(workspace, "ben@example.com"), SHORT, "chaser to ben@example.com")
        assert "(+1 more)" in app.countdown.line
        assert app.countdown.undo() is second
        assert app.countdown.waiting == 1 and "ana@example.com" in app.countdown.line
        await pilot.pause(SHORT + 0.3)
        assert app.due == [first]
        assert app.lines[-1] == ""


async def test_a_held_countdown_waits_then_goes_on_from_where_it_was(workspace: Workspace) -> None:
    app = Bare()
    async with app.run_test() as pilot:
        assert not app.countdown.hold()  # nothing to hold
        pending = app.countdown.start(outcome(workspace, "ana@example.com"), SHORT, "chaser to ana@example.com")
        assert app.countdown.hold() and app.countdown.held
        assert not app.countdown.hold()  # already held: the question is open
        assert "held, 1s left" in app.countdown.line
        await pilot.pause(SHORT + 0.3)
        assert app.due == [] and app.countdown.waiting == 1  # nothing goes out while it asks
        resumed = time.monotonic()
        app.countdown.resume()
        assert not app.countdown.held and "press u to undo" in app.countdown.line
        while not app.due and time.monotonic() - resumed < 5:
            await pilot.pause(0.05)
        assert app.due == [pending]


async def test_taking_every_send_stops_their_countdowns(workspace: Workspace) -> None:
    app = Bare()
    async with app.run_test() as pilot:
        first = app.countdown.start(outcome(workspace, "ana@example.com"), SHORT, "chaser to ana@example.com")
        second = app.countdown.start(outcome(workspace, "ben@example.com"), SHORT, "chaser to ben@example.com")
        app.countdown.hold()
        assert app.countdown.take_all() == [first, second]
        assert app.countdown.waiting == 0 and app.countdown.line == ""
        app.countdown.resume()  # nothing left to resume
        await pilot.pause(SHORT + 0.3)
        assert app.due == []
