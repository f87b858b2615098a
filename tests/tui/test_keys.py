"""Moving, searching, sorting and filtering the table from the keyboard."""

from __future__ import annotations

from inbox_watch.models import NextAction
from inbox_watch.service import Workspace
from tests.tui.helpers import COUNTDOWN, FIXED, settle
from tui.app import InboxWatchApp, create_app
from tui.screens.help import HelpScreen
from tui.widgets.candidate_table import CandidateTable


def table(app: InboxWatchApp) -> CandidateTable:
    return app.screen.query_one(CandidateTable)


def help_text(app: InboxWatchApp) -> str:
    """Every line of the help as drawn (scrolled out of view or not)."""
    return "\n".join(
        static.render_line(y).text for static in app.screen.query("Static") for y in range(static.size.height)
    )


async def test_j_k_g_and_G_move_the_cursor(app: InboxWatchApp) -> None:
    async with app.run_test(size=(120, 35)) as pilot:
        await settle(pilot)
        grid = table(app)
        assert grid.cursor_row == 0
        await pilot.press("j", "j")
        assert grid.cursor_row == 2
        await pilot.press("k")
        assert grid.cursor_row == 1
        await pilot.press("G")
        assert grid.cursor_row == grid.row_count - 1
        await pilot.press("g")
        assert grid.cursor_row == 0
        await pilot.press("end")
        assert grid.cursor_row == grid.row_count - 1
        await pilot.press("home")
        assert grid.cursor_row == 0
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        text = help_text(app)
        for key in ("j / down", "k / up", "g / home", "G / end"):
            assert key in text


async def test_search_matches_email_role_employer_and_phone(app: InboxWatchApp) -> None:
    async with app.run_test(size=(120, 35)) as pilot:
        await settle(pilot)
        states = {s.candidate.name: s.candidate for s in app.screen.states}
        daniel = states["Daniel Okafor"]
        assert daniel.phone
        for query in ("okafor@", "data engineer", "tailspin", daniel.phone, daniel.phone.replace(" ", "")):
            await pilot.press("slash")
            app.screen.query_one("#search").value = query
            await pilot.pause()
            shown = table(app).shown
            assert "Daniel Okafor" in shown, query
            for name in shown:
                c = states[name]
                words = " ".join([c.name, *c.emails, c.role, c.employer, c.phone.replace(" ", "")]).casefold()
                assert query.replace(" ", "").casefold() in words.replace(" ", ""), (query, name)
            await pilot.press("escape")
        await pilot.press("slash", *"tailspin")
        assert len(table(app).shown) >= 2  # every Tailspin candidate, not only one name


async def test_S_cycles_the_sort_and_the_title_says_which(app: InboxWatchApp) -> None:
    async with app.run_test(size=(120, 35)) as pilot:
        await settle(pilot)
        ranked = table(app).shown
        assert "sort: rank" in str(table(app).border_title)
        await pilot.press("S")
        assert "sort: name" in str(table(app).border_title)
        assert table(app).shown == sorted(ranked, key=str.casefold)
        await pilot.press("S")
        assert "sort: silent" in str(table(app).border_title)
        by_name = {s.candidate.name: s for s in app.screen.states}
        hours = [by_name[n].silent_business_hours for n in table(app).shown if by_name[n].waiting_since]
        assert hours == sorted(hours, reverse=True) and hours[0] > hours[-1]
        await pilot.press("S")
        assert "sort: employer" in str(table(app).border_title)
        employers = [by_name[n].candidate.employer for n in table(app).shown]
        assert employers == sorted(employers, key=lambda e: (not e, e.casefold()))
        await pilot.press("S")
        assert "sort: rank" in str(table(app).border_title) and table(app).shown == ranked


async def test_an_empty_filter_says_so(app: InboxWatchApp) -> None:
    async with app.run_test(size=(120, 35)) as pilot:
        await settle(pilot)
        app.screen.action_filter("snoozed")  # nobody is snoozed in the demo
        await pilot.pause()
        empty = app.screen.query_one("#empty")
        assert empty.display and not table(app).display
        assert "No snoozed candidates" in str(empty.render())
        assert "filter: snoozed" in str(empty.border_title)
        await pilot.press("f")  # pulled: nobody either
        await pilot.pause()
        assert "No pulled candidates" in str(empty.render())
        await pilot.press("f")  # idle: rows again, and the table has the keys
        await pilot.pause()
        assert table(app).display and not empty.display and table(app).has_focus
        await pilot.press("slash", *"zzzz")
        await pilot.pause()
        assert "No candidates match 'zzzz'" in str(empty.render())


async def test_needs_you_holds_only_candidates_with_something_to_do(app: InboxWatchApp) -> None:
    async with app.run_test(size=(120, 35)) as pilot:
        await settle(pilot)
        app.screen.action_filter("needs you")
        await pilot.pause()
        by_name = {s.candidate.name: s for s in app.screen.states}
        shown = table(app).shown
        assert shown
        assert all(by_name[n].next_action not in (NextAction.WAIT, NextAction.NONE) for n in shown)
        expected = [
            s.candidate.name for s in app.screen.states if s.next_action not in (NextAction.WAIT, NextAction.NONE)
        ]
        assert shown == expected
        assert any(s.next_action is NextAction.WAIT and s.status.value == "silent" for s in app.screen.states)


async def test_help_explains_each_next_action(workspace: Workspace) -> None:
    app = create_app(workspace, demo=True, now=FIXED, countdown=COUNTDOWN)
    async with app.run_test(size=(120, 50)) as pilot:
        await settle(pilot)
        await pilot.press("question_mark")
        await pilot.pause()
        text = help_text(app)
        assert "consider pulling" in text and "5 business days of silence; offer the employer another candidate" in text
        for action in NextAction:
            assert action.value.replace("_", " ") in text, action
