"""The dashboard driven as a recruiter would: keys in, what the screen and the mailbox show out."""

from __future__ import annotations

import inspect
from datetime import timedelta

from textual.widgets import Input

from inbox_watch.config import AccountConfig
from inbox_watch.engine.state import tag_key
from inbox_watch.errors import ConnectionFailed, SendOutcomeUnknown
from inbox_watch.models import ActionMode, ActionState, NextAction, OutgoingMessage, SendReceipt, Status
from inbox_watch.service import Workspace
from providers.demo import DemoProvider
from tests.tui.helpers import COUNTDOWN, FIXED, outgoing, settle, shown_toasts
from tui.app import DEFAULT_COUNTDOWN, InboxWatchApp, create_app
from tui.screens.dialogs import ConfirmDialog, LogTouchDialog, SnoozeDialog
from tui.screens.draft import DraftScreen
from tui.screens.help import HelpScreen
from tui.screens.main import MainScreen
from tui.widgets.candidate_table import CandidateTable
from tui.widgets.detail_pane import DetailPane
from tui.widgets.status_bar import StatusBar


def table(app: InboxWatchApp) -> CandidateTable:
    return app.screen.query_one(CandidateTable)


def status_text(app: InboxWatchApp) -> str:
    bar = app.screen.query_one(StatusBar)
    return bar.line_sync().plain + "\n" + bar.line_activity().plain


async def select(pilot, name: str) -> None:  # type: ignore[no-untyped-def]
    await settle(pilot)
    assert table(pilot.app).select_name(name), f"{name} is not in the table"
    await pilot.pause()


def test_default_countdown_is_ten_seconds(workspace: Workspace) -> None:
    assert DEFAULT_COUNTDOWN == 10
    assert inspect.signature(create_app).parameters["countdown"].default == 10
    assert create_app(workspace).countdown == 10


async def test_table_is_ranked_like_the_report(app: InboxWatchApp, workspace: Workspace) -> None:
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        expected = [row["candidate"] for row in workspace.report(FIXED)["candidates"]]
        assert table(app).shown == expected
        assert len(expected) == 17
        # every status word is on screen as text, not only as a colour
        words = {str(table(app).get_cell(tag_key(name), "status")) for name in expected}
        assert {"silent", "awaiting", "bounced", "out of office", "replied", "idle"} <= words
        assert table(app).selected is not None
        assert "Why this rank" in app.screen.query_one(DetailPane).plain


async def test_chaser_is_sent_once_after_the_countdown(app: InboxWatchApp, workspace: Workspace) -> None:
    async with app.run_test(size=(120, 40)) as pilot:
        await select(pilot, "Priya Shah")
        await pilot.press("c")
        assert isinstance(app.screen, DraftScreen)
        await pilot.press("ctrl+s")
        assert isinstance(app.screen, MainScreen)
        assert "press u to undo" in status_text(app)
        assert outgoing() == [] and workspace.store.actions() == []  # nothing leaves during the countdown
        await pilot.pause(COUNTDOWN + 0.3)
        await settle(pilot)
        sent = outgoing()
        assert len(sent) == 1 and not sent[0].is_draft
        assert sent[0].to == ("priya.shah@example.com",) or "priya" in sent[0].to[0]
        actions = workspace.store.actions()
        assert [(a.mode, a.state) for a in actions] == [(ActionMode.SEND, ActionState.DONE)]
        assert "sent to" in status_text(app)
        await pilot.pause(COUNTDOWN + 0.2)
        await settle(pilot)
        assert len(outgoing()) == 1  # the sync that followed did not send it again


async def test_undo_during_the_countdown_sends_nothing(app: InboxWatchApp, workspace: Workspace) -> None:
    async with app.run_test(size=(120, 40)) as pilot:
        await select(pilot, "Priya Shah")
        await pilot.press("c", "ctrl+s")
        await pilot.press("u")
        await pilot.pause(COUNTDOWN + 0.3)
        await settle(pilot)
        assert outgoing() == []
        assert workspace.store.actions() == []
        assert "Undone" in status_text(app)


async def test_edited_chaser_is_saved_to_drafts(app: InboxWatchApp, workspace: Workspace) -> None:
    async with app.run_test(size=(120, 40)) as pilot:
        await select(pilot, "Grace Liu")
        await pilot.press("c", "i", "ctrl+home")
        await pilot.press(*"PS ")
        await pilot.press("escape", "d")
        await settle(pilot)
        saved = outgoing()
        assert len(saved) == 1 and saved[0].is_draft
        assert saved[0].text.startswith("PS ")
        assert [a.mode for a in workspace.store.actions()] == [ActionMode.DRAFT]


async def test_second_chaser_within_a_day_asks_first(app: InboxWatchApp, workspace: Workspace) -> None:
    async with app.run_test(size=(120, 40)) as pilot:
        await select(pilot, "Priya Shah")
        await pilot.press("c", "ctrl+s")
        await pilot.pause(COUNTDOWN + 0.3)
        await settle(pilot)
        await select(pilot, "Priya Shah")
        await pilot.press("c")
        await settle(pilot)
        assert "Careful" in str(app.screen.query_one("#draft-warning").render())
        await pilot.press("ctrl+s")
        assert isinstance(app.screen, ConfirmDialog)
        await pilot.press("n")
        await pilot.press("escape")
        await pilot.pause(COUNTDOWN + 0.3)
        await settle(pilot)
        assert len(outgoing()) == 1


async def test_employer_update_flow(app: InboxWatchApp) -> None:
    async with app.run_test(size=(120, 40)) as pilot:
        await select(pilot, "Aisha Khan")
        await pilot.press("e")
        assert isinstance(app.screen, DraftScreen)
        await pilot.press("ctrl+s")
        await pilot.pause(COUNTDOWN + 0.3)
        await settle(pilot)
        sent = outgoing()
        assert len(sent) == 1
        assert all(address.endswith("fabrikam.example") for address in sent[0].to)


async def test_log_a_call(app: InboxWatchApp, workspace: Workspace) -> None:
    async with app.run_test(size=(120, 40)) as pilot:
        await select(pilot, "Tom Becker")
        await pilot.press("l")
        assert isinstance(app.screen, LogTouchDialog)
        await pilot.press(*"left voicemail", "enter")
        await settle(pilot)
        touches = workspace.store.touches()
        assert [(t.candidate, t.channel, t.note) for t in touches] == [("Tom Becker", "call", "left voicemail")]
        assert "Touches logged" in app.screen.query_one(DetailPane).plain


async def test_snooze_with_a_date_and_reason(app: InboxWatchApp, workspace: Workspace) -> None:
    async with app.run_test(size=(120, 40)) as pilot:
        await select(pilot, "Lena Fischer")
        await pilot.press("s")
        assert isinstance(app.screen, SnoozeDialog)
        await pilot.press("tab", *"on holiday", "enter")  # the date field first: keep the suggestion
        await settle(pilot)
        snoozes = workspace.store.snoozes()
        assert [(s.candidate, s.until.isoformat(), s.reason) for s in snoozes] == [
            ("Lena Fischer", "2026-11-27", "on holiday")
        ]
        lena = next(s for s in app.screen.states if s.candidate.name == "Lena Fischer")
        assert lena.status is Status.SNOOZED
        assert table(app).selected is not None and table(app).selected.candidate.name == "Lena Fischer"


async def test_snooze_rejects_a_past_date(app: InboxWatchApp, workspace: Workspace) -> None:
    async with app.run_test(size=(120, 40)) as pilot:
        await select(pilot, "Lena Fischer")
        await pilot.press("s", "shift+tab")
        until = app.screen.query_one("#until", Input)
        until.value = "2026-11-01"
        await pilot.press("tab", "enter")
        assert isinstance(app.screen, SnoozeDialog)
        assert "past" in str(app.screen.query_one("#snooze-error").render())
        await pilot.press("escape")
        assert workspace.store.snoozes() == []


async def test_pull_asks_then_offers_the_employer_note(app: InboxWatchApp, workspace: Workspace) -> None:
    async with app.run_test(size=(120, 40)) as pilot:
        await select(pilot, "Daniel Okafor")
        await pilot.press("p")
        assert isinstance(app.screen, ConfirmDialog)
        await pilot.press("n")
        await settle(pilot)
        assert workspace.store.pulled() == frozenset()
        await pilot.press("p", "y")
        await settle(pilot)
        assert workspace.store.pulled() == frozenset({"Daniel Okafor"})
        assert isinstance(app.screen, ConfirmDialog)  # "write to the employer now?"
        await pilot.press("y")
        assert isinstance(app.screen, DraftScreen)
        await pilot.press("d")
        await settle(pilot)
        assert len(outgoing()) == 1 and outgoing()[0].is_draft


async def test_sync_now_keeps_the_cursor(app: InboxWatchApp) -> None:
    async with app.run_test(size=(120, 40)) as pilot:
        await select(pilot, "Marco Rossi")
        await pilot.press("r")
        await settle(pilot)
        assert "demo: incremental sync" in status_text(app)
        assert table(app).selected is not None and table(app).selected.candidate.name == "Marco Rossi"


async def test_a_provider_error_is_one_line_and_no_crash(app: InboxWatchApp, workspace: Workspace) -> None:
    def broken(account: AccountConfig):  # type: ignore[no-untyped-def]
        raise ConnectionFailed("imap.example.com: connection refused")

    workspace.factory = broken
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("r")
        await settle(pilot)
        assert "error: demo: imap.example.com: connection refused" in status_text(app)
        assert app.is_running
        await select(pilot, "Priya Shah")
        await pilot.press("c", "ctrl+s")
        await pilot.pause(COUNTDOWN + 0.3)
        await settle(pilot)
        assert "retried" in status_text(app)  # queued in the outbox, not lost
        assert app.is_running


async def test_a_send_whose_outcome_is_unknown_says_so_and_is_not_sent_again(
    app: InboxWatchApp, workspace: Workspace
) -> None:
    class AnswerLost(DemoProvider):
        """The demo mailbox, whose send is taken but whose answer never comes back."""

        def send(self, message: OutgoingMessage) -> SendReceipt:
            super().send(message)
            raise SendOutcomeUnknown("SMTP server smtp.example.com:587 did not confirm the message")

    config = workspace.config
    workspace.factory = lambda account: AnswerLost(account, config.recruiter, now=FIXED)
    async with app.run_test(size=(120, 40)) as pilot:
        await select(pilot, "Priya Shah")
        await pilot.press("c", "ctrl+s")
        await pilot.pause(COUNTDOWN + 0.3)
        await settle(pilot)
        assert "The chaser for Priya Shah may have been sent (SMTP server smtp.example.com:587" in status_text(app)
        assert len(outgoing()) == 1
        [action] = workspace.store.actions()
        assert action.state is ActionState.QUEUED and action.send_started_at is not None
        await pilot.press("r")  # a sync takes it up: it finds it in Sent, and sends nothing more
        await settle(pilot)
        assert len(outgoing()) == 1
        assert workspace.store.actions()[0].state is ActionState.DONE


async def test_search_filters_rows(app: InboxWatchApp) -> None:
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("slash", *"khan")
        assert table(app).shown == ["Aisha Khan"]
        await pilot.press("enter")
        assert table(app).has_focus
        await pilot.press("escape")
        assert len(table(app).shown) == 17


async def test_status_filter_cycles(app: InboxWatchApp) -> None:
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("f")  # needs you
        states = {s.candidate.name: s.status for s in app.screen.states}
        shown = table(app).shown
        assert shown and {states[n] for n in shown} == {Status.SILENT, Status.BOUNCED}
        await pilot.press("f")  # silent
        assert {states[n] for n in table(app).shown} == {Status.SILENT}
        assert "filter: silent" in str(table(app).border_title)


async def test_command_palette_runs_actions(app: InboxWatchApp) -> None:
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+p", *"snooze")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, SnoozeDialog)


async def test_help(app: InboxWatchApp) -> None:
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("escape")
        assert isinstance(app.screen, MainScreen)


async def test_bindings_have_ids_and_descriptions() -> None:
    for binding in [*MainScreen.BINDINGS, *InboxWatchApp.BINDINGS, *DraftScreen.BINDINGS]:
        assert binding.id and binding.description, binding


async def test_quit(app: InboxWatchApp) -> None:
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("q")
        await pilot.pause()
        assert not app.is_running


async def test_narrow_terminal_puts_details_below(app: InboxWatchApp) -> None:
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert app.screen.has_class("-narrow")
        detail = app.screen.query_one("#detail")
        assert detail.region.y > table(app).region.y
        await pilot.press("t")
        assert not detail.display or detail.region.height == 0


async def test_daemon_indicator_and_own_sync(workspace: Workspace) -> None:
    async with create_app(workspace, demo=True, now=FIXED).run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        assert "daemon: off, dashboard syncs every 60s" in status_text(pilot.app)
        schedule = pilot.app.screen.sync_schedule
        assert not pilot.app.screen.syncing and schedule.reason == "manual"  # the demo store was synced just now
        schedule.tick()  # what the interval timer calls
        await settle(pilot)
        assert schedule.reason == "auto" and not schedule.syncing  # the dashboard synced on its own
    workspace.store.set_heartbeat(4242, FIXED - timedelta(seconds=30))
    async with create_app(workspace, demo=True, now=FIXED).run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        assert "daemon: running" in status_text(pilot.app)
        schedule = pilot.app.screen.sync_schedule
        schedule.tick()
        await settle(pilot)
        assert schedule.reason == "manual"  # the daemon syncs; the dashboard only re-reads


def test_sync_progress_messages_collapse() -> None:
    first, second = MainScreen.SyncProgress(1, 10, "demo"), MainScreen.SyncProgress(2, 10, "demo")
    assert second.can_replace(first)


def test_no_color_keeps_the_word_and_drops_the_colour(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from tui.widgets.candidate_table import status_text as cell

    monkeypatch.setenv("NO_COLOR", "1")
    text = cell(Status.SILENT)
    assert text.plain == "silent"
    assert text.style.color is None and text.style.bold  # type: ignore[union-attr]


async def test_start_paints_the_saved_ranking_then_the_fresh_one(workspace: Workspace, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """A second start shows the table the first run kept at once, says so, and lets no action
    act on it; the fresh ranking then takes its place (with a filter chosen meanwhile)."""
    import os
    import threading

    import tui.app

    first = create_app(workspace, demo=True, now=FIXED, countdown=COUNTDOWN)
    async with first.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        ranked = table(first).shown
    saved = workspace.store.saved_ranking()
    assert saved is not None and [row[1] for row in saved[1]] == ranked
    assert os.stat(workspace.store.ranking_path).st_mode & 0o777 == 0o600

    gate = threading.Event()
    read = tui.app.read_overview

    def held_back(*args):  # type: ignore[no-untyped-def]
        assert gate.wait(20), "the test never let the fresh read go"
        return read(*args)

    monkeypatch.setattr(tui.app, "read_overview", held_back)
    second = create_app(workspace, demo=True, now=FIXED, countdown=COUNTDOWN)
    async with second.run_test(size=(120, 40), notifications=True) as pilot:
        await pilot.pause()
        assert table(second).shown == ranked and table(second).saved
        assert "as ranked at 14:00, refreshing" in str(table(second).border_title)
        assert "reading the store; meanwhile, the ranking as of 14:00" in status_text(second)
        assert second.screen.query_one(DetailPane).plain == "Reading the store..."
        await pilot.press("c")  # no action on a saved row
        await pilot.pause()
        assert isinstance(second.screen, MainScreen)
        assert any("Still reading the store" in toast for toast in await shown_toasts(pilot))
        await pilot.press("f")  # "needs you": applied when the fresh ranking arrives
        await pilot.pause()
        assert table(second).shown == ranked
        gate.set()
        await settle(pilot)
        assert not table(second).saved and table(second).selected is not None
        needs_you = [
            s.candidate.name for s in second.screen.states if s.next_action not in (NextAction.WAIT, NextAction.NONE)
        ]
        assert table(second).shown == needs_you and 0 < len(needs_you) < len(ranked)
        assert "reading the store" not in status_text(second)
        assert "Why this rank" in second.screen.query_one(DetailPane).plain


async def test_a_store_that_cannot_be_read_takes_the_saved_ranking_down(workspace: Workspace) -> None:
    first = create_app(workspace, demo=True, now=FIXED, countdown=COUNTDOWN)
    async with first.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
    assert workspace.store.saved_ranking() is not None
    workspace.store.path.write_bytes(b'{"messages": ')  # damaged after that run
    second = create_app(workspace, demo=True, now=FIXED, countdown=COUNTDOWN)
    async with second.run_test(size=(120, 40), notifications=True) as pilot:
        for _ in range(200):  # the failed read ends its worker with an error: wait for it
            await pilot.pause(0.02)
            if "damaged" in status_text(second):
                break
        assert table(second).shown == [] and "as ranked at" not in str(table(second).border_title)
        assert "the store file is damaged" in second.screen.query_one(DetailPane).plain
        assert "the store file is damaged" in status_text(second)
        await pilot.press("c")
        await pilot.pause()
        assert isinstance(second.screen, MainScreen)
        assert "the store file is damaged" in (await shown_toasts(pilot))[-1]


async def test_logged_warnings_become_notifications_not_terminal_output(app: InboxWatchApp, capsys) -> None:  # type: ignore[no-untyped-def]
    """The terminal belongs to the dashboard: a warning logged by a worker thread (a sync, the
    store) shows as a notification, and nothing is written under the screen."""
    import logging
    import sys
    import threading

    from tui.app import logs_in_dashboard

    terminal = logging.StreamHandler(sys.stderr)
    root = logging.getLogger()
    root.addHandler(terminal)
    try:
        with logs_in_dashboard(app):
            async with app.run_test(size=(120, 40), notifications=True) as pilot:
                await settle(pilot)
                worker = threading.Thread(
                    target=logging.getLogger("inbox_watch.sync").warning, args=("work: slow answer\nsecond line",)
                )
                worker.start()
                worker.join()
                await pilot.pause(0.1)
                assert any(toast.endswith("work: slow answer") for toast in await shown_toasts(pilot))
        assert terminal in root.handlers  # given back once the dashboard is gone
    finally:
        root.removeHandler(terminal)
    assert "slow answer" not in capsys.readouterr().err


# --- text from the roster, the server or the recruiter is never markup -----------------------

MARKUP_NAME = "Anna [Annie] Lee [/]"


async def test_names_and_search_text_are_never_read_as_markup(workspace: Workspace) -> None:
    from inbox_watch.models import Candidate

    workspace.store.upsert_candidates(
        [Candidate(name=MARKUP_NAME, emails=("anna.lee@example.com",), role="[b]Lead[/b]", employer="[red]Acme")]
    )
    app = create_app(workspace, demo=True, now=FIXED, countdown=COUNTDOWN)
    async with app.run_test(size=(120, 40)) as pilot:
        await select(pilot, MARKUP_NAME)
        assert table(app).get_cell(tag_key(MARKUP_NAME), "candidate").plain == MARKUP_NAME  # type: ignore[union-attr]
        detail = app.screen.query_one(DetailPane)
        assert detail._border_title is not None and detail._border_title.plain == MARKUP_NAME
        assert MARKUP_NAME in detail.plain and "[b]Lead[/b] @ [red]Acme" in detail.plain
        await pilot.press("l")
        assert isinstance(app.screen, LogTouchDialog)
        assert MARKUP_NAME in str(app.screen.query_one(".dialog-question").render())
        await pilot.press("escape")
        await pilot.press("p")
        assert isinstance(app.screen, ConfirmDialog)
        assert f"Pull {MARKUP_NAME} from" in str(app.screen.query_one(".dialog-question").render())
        await pilot.press("n")
        await pilot.press("slash", "[", "/")
        await pilot.pause()
        assert app.is_running and table(app).shown == [MARKUP_NAME]
        assert app.screen.search_text == "[/"
        title = app.screen.query_one(CandidateTable)._border_title
        assert title is not None and "search: '[/'" in title.plain
        await pilot.press("backspace", "backspace", *"[b]", "enter")
        await pilot.pause()
        assert app.is_running and table(app).shown == [MARKUP_NAME]  # the role, "[b]Lead[/b]"
        await pilot.press("slash", "backspace", "backspace", "backspace", *"[x]", "enter")
        await pilot.pause()
        assert app.is_running and table(app).shown == []
        app.screen.notify("bad [/] text", markup=False)
        await pilot.pause()
        assert app.is_running


# --- the status bar ---------------------------------------------------------------------------


async def test_the_countdown_line_shows_with_several_accounts_at_80x24(workspace: Workspace) -> None:
    # A countdown long enough to outlast a loaded machine: this is about the bar's layout, and
    # the undo below stops the send all the same.
    app = create_app(workspace, demo=True, now=FIXED, countdown=10)
    async with app.run_test(size=(80, 24)) as pilot:
        await select(pilot, "Priya Shah")
        bar = app.screen.query_one(StatusBar)
        accounts = [
            {"account": name, "last_sync": FIXED.isoformat(), "last_error": "timed out" if name == "work" else ""}
            for name in ("personal-gmail", "work", "agency-outlook", "old-agency")
        ]
        accounts.append({"account": "new", "last_sync": None, "last_error": "refused"})
        await pilot.press("c", "ctrl+s")
        await pilot.pause()
        assert isinstance(app.screen, MainScreen)
        # set after the keys: a refresh finishing meanwhile would put the demo's one account back,
        # so the accounts shown stay these five for the rest of the test
        bar.set_sync_status(accounts, False, 60, app.workspace.clock, FIXED)
        bar.set_sync_status = lambda *args, **kwargs: None  # type: ignore[method-assign]
        assert "new: never synced (failing)" in bar.line_sync().plain
        assert "synced never" not in bar.line_sync().plain
        await pilot.pause()
        lines = [strip.text for strip in (bar.render_line(y) for y in range(bar.size.height))]
        assert len(lines) == 2
        assert lines[0].lstrip().startswith("agency-outlook") and lines[0].rstrip().endswith("…")
        assert "Sending" in lines[1] and "press u to undo" in lines[1]
        await pilot.press("u")
        await settle(pilot)
        assert outgoing() == []


# --- undo from a draft ------------------------------------------------------------------------


async def test_undo_works_from_a_draft_opened_during_the_countdown(
    workspace: Workspace,
) -> None:
    app = create_app(workspace, demo=True, now=FIXED, countdown=2.0)
    async with app.run_test(size=(80, 24)) as pilot:
        await select(pilot, "Priya Shah")
        await pilot.press("c", "ctrl+s")
        assert isinstance(app.screen, MainScreen)
        table(app).select_name("Grace Liu")
        await pilot.pause()
        await pilot.press("c")
        assert isinstance(app.screen, DraftScreen)
        countdown = app.screen.query_one("#draft-countdown")
        assert countdown.display and "press u to undo" in str(countdown.render())
        await pilot.press("u")
        await pilot.pause()
        assert not countdown.display
        assert isinstance(app.screen, DraftScreen)  # still on the draft
        await pilot.press("escape")
        await pilot.pause(2.3)
        await settle(pilot)
        assert outgoing() == []
        assert workspace.store.actions() == []
        assert "Undone" in status_text(app)


# --- the detail pane scrolls from the keyboard --------------------------------------------------


async def test_the_detail_pane_scrolls_from_the_keyboard(app: InboxWatchApp) -> None:
    async with app.run_test(size=(80, 24)) as pilot:
        await select(pilot, "Priya Shah")
        detail = app.screen.query_one(DetailPane)
        assert detail.max_scroll_y > 0  # cut off at 80x24
        for _ in range(30):
            await pilot.press("right_square_bracket")
        await pilot.pause()
        assert detail.scroll_y == detail.max_scroll_y
        assert table(app).has_focus  # the table keeps the keys
        await pilot.press("shift+up")
        await pilot.pause()
        assert detail.scroll_y < detail.max_scroll_y
        for _ in range(30):
            await pilot.press("left_square_bracket")
        await pilot.pause()
        assert detail.scroll_y == 0
        await pilot.press("shift+down")
        await pilot.pause()
        assert detail.scroll_y > 0
    from tui.commands import dashboard_commands

    titles = [title for title, _, _ in dashboard_commands()]
    assert "Details down (] / shift+down)" in titles and "Details up ([ / shift+up)" in titles


# --- long names -------------------------------------------------------------------------------


async def test_a_long_name_leaves_the_status_and_next_action_on_screen(workspace: Workspace) -> None:
    from inbox_watch.models import Candidate

    long_name = "Maximiliana Theodora Wolfeschlegelsteinhausen-Bergerdorff Vanderbilt"
    assert len(long_name) >= 68
    workspace.store.upsert_candidates([Candidate(name=long_name, emails=("max@example.com",))])
    app = create_app(workspace, demo=True, now=FIXED, countdown=COUNTDOWN)
    for size in ((100, 30), (80, 24), (140, 40)):
        async with app.run_test(size=size) as pilot:
            await select(pilot, long_name)
            grid = table(app)
            assert grid.virtual_size.width <= grid.scrollable_content_region.width, size
            header = grid.render_line(0).text
            for label in ("Status", "Silent", "Ch", "Emp", "Next action"):
                assert label in header, (size, header)
            row = grid.render_line(1 + grid.cursor_row - int(grid.scroll_y)).text
            assert "…" in row and "Maximiliana" in row
        app = create_app(workspace, demo=True, now=FIXED, countdown=COUNTDOWN)


async def test_chasing_a_pulled_candidate_asks_first(workspace: Workspace) -> None:
    workspace.pull("Priya Shah", FIXED)
    app = create_app(workspace, demo=True, now=FIXED, countdown=COUNTDOWN)
    async with app.run_test(size=(120, 40)) as pilot:
        await select(pilot, "Priya Shah")
        await pilot.press("c")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmDialog) and "pulled from the campaign" in app.screen.question
        await pilot.press("n")
        await pilot.pause()
        assert isinstance(app.screen, MainScreen)
        await pilot.press("c")
        await pilot.pause()
        await pilot.press("y")
        await settle(pilot)
        assert isinstance(app.screen, DraftScreen) and "Priya" in app.screen.query_one("#draft-title").render().plain


async def test_chase_on_a_candidate_with_nothing_to_chase_says_so_once(app: InboxWatchApp) -> None:
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        await select(pilot, "Hannah Cho")  # replied: no scheduling email is open
        await pilot.press("c")
        await pilot.pause()
        assert isinstance(app.screen, MainScreen)  # no "anyway?" question that cannot lead anywhere
        assert any(toast.startswith("No chaser") for toast in await shown_toasts(pilot))


async def test_a_daemon_notice_shows_as_a_toast_and_in_the_status_bar(app: InboxWatchApp, workspace: Workspace) -> None:
    from datetime import UTC, datetime

    from inbox_watch import notify

    path = workspace.store.path
    notify.keep(path, [notify.Notice("silent", "Old News", "Old News is now silent", "", datetime.now(UTC))])
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        await settle(pilot)
        notice = notify.Notice("replied", "Tom Becker", "Tom Becker replied", "Monday at 10 works", datetime.now(UTC))
        notify.keep(path, [notice])
        await pilot.pause(2.5)
        await settle(pilot)
        assert "Tom Becker replied: 'Monday at 10 works'" in status_text(app)
        toasts = await shown_toasts(pilot)
        assert any("Tom Becker replied: 'Monday at 10 works'" in toast for toast in toasts)
        assert not any("Old News" in toast for toast in toasts)  # from before the dashboard opened: not news
