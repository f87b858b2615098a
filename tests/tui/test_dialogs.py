"""The snooze and log dialogs, and the command palette, as a recruiter uses them."""

from __future__ import annotations

from datetime import date

import pytest
from textual.widgets import Input

from inbox_watch.service import Workspace
from tests.tui.helpers import FIXED, settle
from tui.app import InboxWatchApp
from tui.dates import parse_when
from tui.screens.dialogs import LogTouchDialog, SnoozeDialog
from tui.screens.main import MainScreen
from tui.widgets.candidate_table import CandidateTable

WEDNESDAY = date(2026, 11, 25)


@pytest.mark.parametrize(
    ("typed", "dayfirst", "expected"),
    [
        ("2026-12-10", True, date(2026, 12, 10)),
        ("2026-12-10", False, date(2026, 12, 10)),
        ("10/12", True, date(2026, 12, 10)),  # day first (GB)
        ("10/12", False, date(2026, 10, 12).replace(year=2027)),  # month first (US): 12 Oct, next year
        ("fri", True, date(2026, 11, 27)),
        ("Friday", True, date(2026, 11, 27)),
        ("wed", True, date(2026, 12, 2)),  # the coming Wednesday, never today
        ("next monday", True, date(2026, 11, 30)),
        ("next fri", True, date(2026, 12, 4)),
        ("+3d", True, date(2026, 11, 28)),
        ("+2w", True, date(2026, 12, 9)),
        ("tomorrow", True, date(2026, 11, 26)),
        ("3 Jan", True, date(2027, 1, 3)),
        ("soon", True, None),
        ("", True, None),
    ],
)
def test_snooze_dates_as_typed(typed: str, dayfirst: bool, expected: date | None) -> None:
    assert parse_when(typed, WEDNESDAY, dayfirst=dayfirst) == expected


async def select(pilot, name: str) -> None:  # type: ignore[no-untyped-def]
    await settle(pilot)
    assert pilot.app.screen.query_one(CandidateTable).select_name(name)
    await pilot.pause()


async def test_snooze_starts_in_the_date_and_shows_what_it_understood(app: InboxWatchApp, workspace: Workspace) -> None:
    async with app.run_test(size=(100, 30)) as pilot:
        await select(pilot, "Priya Shah")
        await pilot.press("s")
        await pilot.pause()
        dialog = app.screen
        assert isinstance(dialog, SnoozeDialog)
        until = dialog.query_one("#until", Input)
        assert until.has_focus
        until.value = ""
        await pilot.press(*"next monday")
        await pilot.pause()
        assert "until Monday 30 November 2026" in str(dialog.query_one("#snooze-understood").render())
        await pilot.press("tab", *"on holiday", "enter")
        await settle(pilot)
        assert isinstance(app.screen, MainScreen)
        state = next(s for s in workspace.evaluate(FIXED) if s.candidate.name == "Priya Shah")
        assert state.status.value == "snoozed"
        assert "until Mon 30 Nov" in app.screen.query_one("#status").line_activity().plain


async def test_log_keeps_the_note_across_tab_and_enter_always_saves(app: InboxWatchApp, workspace: Workspace) -> None:
    async with app.run_test(size=(100, 30)) as pilot:
        await select(pilot, "Tom Becker")
        await pilot.press("l")
        await pilot.pause()
        dialog = app.screen
        assert isinstance(dialog, LogTouchDialog)
        assert "moves the ladder on" in str(dialog.query_one(".dialog-hint").render())
        await pilot.press(*"voicemail", "tab")  # to the kind
        await pilot.press("down")  # text
        await pilot.press("shift+tab")  # back to the note
        await pilot.pause()
        assert dialog.query_one("#note", Input).value == "voicemail"
        await pilot.press("tab", "enter")  # Enter on the kind saves, with the note
        await settle(pilot)
        assert isinstance(app.screen, MainScreen)
        state = next(s for s in workspace.evaluate(FIXED) if s.candidate.name == "Tom Becker")
        assert [(t.channel, t.note) for t in state.touches][-1] == ("text", "voicemail")


async def test_the_palette_jumps_to_a_candidate_and_lists_filters_first(app: InboxWatchApp) -> None:
    from tui.commands import DashboardCommands, dashboard_commands

    titles = [title for title, _, _ in dashboard_commands()]
    for name in ("all", "needs you", "silent", "snoozed", "pulled", "idle", "out of office"):
        assert f"Show {name}" in titles
    async with app.run_test(size=(120, 35)) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+p", *"go to ruby")
        await pilot.pause(0.5)
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, MainScreen)
        assert app.screen.query_one(CandidateTable).selected.candidate.name == "Ruby Evans"  # type: ignore[union-attr]
        # product commands first, Textual's (theme, quit, keys...) after them
        provider = DashboardCommands(app.screen)
        order = [hit.text async for hit in provider.discover()]
        assert "Theme" in order and order.index("Show all") < order.index("Theme")
        ours = [i for i, text in enumerate(order) if text in titles]
        theirs = [i for i, text in enumerate(order) if text not in titles]
        assert max(ours) < min(theirs)
