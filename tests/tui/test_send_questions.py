"""The dashboard's questions around sending, driven as a recruiter would: quitting while a send
counts down, chasing someone who is away or whose address fails, taking a pull or snooze back."""

from __future__ import annotations

from datetime import date

from inbox_watch.models import ActionState, Status
from inbox_watch.service import Workspace
from tests.tui.helpers import COUNTDOWN, FIXED, outgoing, settle
from tui.app import InboxWatchApp, create_app
from tui.commands import dashboard_commands
from tui.screens.dialogs import ConfirmDialog, PendingSendDialog
from tui.screens.draft import DraftScreen
from tui.screens.main import MainScreen
from tui.widgets.candidate_table import CandidateTable
from tui.widgets.status_bar import StatusBar


async def select(pilot, name: str) -> None:  # type: ignore[no-untyped-def]
    await settle(pilot)
    assert pilot.app.screen.query_one(CandidateTable).select_name(name), f"{name} is not in the table"
    await pilot.pause()


LONG = 2.0  # a countdown long enough to press q in, on a busy machine


def app_with_countdown(workspace: Workspace) -> InboxWatchApp:
    return create_app(workspace, demo=True, now=FIXED, countdown=LONG)


def activity(app: InboxWatchApp) -> str:
    main = next(s for s in app.screen_stack if isinstance(s, MainScreen))
    return main.query_one(StatusBar).line_activity().plain


async def start_a_send(pilot) -> None:  # type: ignore[no-untyped-def]
    await select(pilot, "Priya Shah")
    await pilot.press("c")
    assert isinstance(pilot.app.screen, DraftScreen)
    await pilot.press("ctrl+s")
    assert isinstance(pilot.app.screen, MainScreen) and pilot.app.screen.pending


async def test_quit_during_the_countdown_asks_and_sends_nothing_while_it_asks(workspace: Workspace) -> None:
    app = app_with_countdown(workspace)
    async with app.run_test(size=(120, 40)) as pilot:
        await start_a_send(pilot)
        await pilot.press("q")
        await pilot.pause()
        assert isinstance(app.screen, PendingSendDialog) and app.is_running
        await pilot.pause(LONG + 0.5)  # the countdown is held while the question is open
        await settle(pilot)
        assert outgoing() == []
        await pilot.press("c")  # cancel the send, and quit
        await pilot.pause()
        assert not app.is_running
    assert outgoing() == []
    assert app.workspace.store.actions() == []


async def test_send_now_from_the_quit_question_sends_once_then_quits(workspace: Workspace) -> None:
    app = app_with_countdown(workspace)
    async with app.run_test(size=(120, 40)) as pilot:
        await start_a_send(pilot)
        await pilot.press("q")
        await pilot.pause()
        await pilot.press("s")
        await settle(pilot)
        assert not app.is_running
    sent = outgoing()
    assert len(sent) == 1 and not sent[0].is_draft and sent[0].to == ("priya.shah@example.com",)
    assert [a.state for a in app.workspace.store.actions()] == [ActionState.DONE]


async def test_keep_waiting_goes_on_with_the_countdown(workspace: Workspace) -> None:
    app = app_with_countdown(workspace)
    async with app.run_test(size=(120, 40)) as pilot:
        await start_a_send(pilot)
        await pilot.press("q")
        await pilot.pause()
        assert "held" in activity(app)
        await pilot.press("escape")  # Escape keeps waiting, as "w" does
        await pilot.pause()
        assert isinstance(app.screen, MainScreen) and app.is_running and "press u to undo" in activity(app)
        await pilot.pause(LONG + 0.3)
        await settle(pilot)
        assert len(outgoing()) == 1
        assert app.is_running


async def test_chasing_an_out_of_office_candidate_asks_first_saying_until_when(app: InboxWatchApp) -> None:
    state = next(s for s in app.workspace.evaluate(FIXED) if s.status is Status.OUT_OF_OFFICE)
    assert state.out_of_office_until is not None
    async with app.run_test(size=(120, 40)) as pilot:
        await select(pilot, state.candidate.name)
        await pilot.press("c")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmDialog)
        assert f"away until {state.out_of_office_until:%a %d %b %Y}" in app.screen.question
        assert "Write a chaser anyway?" in app.screen.question
        await pilot.press("n")
        await pilot.pause()
        assert isinstance(app.screen, MainScreen)


async def test_unpull_and_unsnooze_from_keys_and_the_palette(workspace: Workspace) -> None:
    workspace.pull("Priya Shah", FIXED)
    workspace.snooze("Grace Liu", date(2026, 12, 4), "on holiday", FIXED)
    app = create_app(workspace, demo=True, now=FIXED, countdown=COUNTDOWN)
    titles = [title for title, _help, _action in dashboard_commands()]
    assert "Unpull (P)" in titles and "Unsnooze (W)" in titles
    async with app.run_test(size=(120, 40)) as pilot:
        await select(pilot, "Priya Shah")
        await pilot.press("p")  # pull again: it says so, and offers to put them back
        await pilot.pause()
        assert isinstance(app.screen, ConfirmDialog) and "already pulled" in app.screen.question
        await pilot.press("y")
        await settle(pilot)
        assert workspace.store.pulled() == frozenset()
        assert workspace.state_of("Priya Shah", FIXED).status is Status.SILENT
        await select(pilot, "Grace Liu")
        await pilot.press("W")
        await settle(pilot)
        assert workspace.state_of("Grace Liu", FIXED).status is Status.SILENT
        assert "Grace Liu is no longer snoozed." in activity(app)
        await select(pilot, "Tom Becker")
        await pilot.press("P")
        await settle(pilot)
        assert "Tom Becker is not pulled." in [n.message for n in app._notifications]
