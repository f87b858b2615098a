"""What the speed work on the dashboard's key paths (bench/tui.py) must not change for the
recruiter: a long table still goes to its last row, a name far down can still be selected, the
footer still shows the keys that apply, and the pane and the thread still say what each message
is, as the sync judged it."""

from __future__ import annotations

from dataclasses import replace

from rich.console import Console, Group, RenderableType
from rich.segment import Segment
from rich.style import Style
from rich.table import Table
from rich.text import Text
from textual.widgets import Footer

from inbox_watch.engine.classify import classify, to_stored
from inbox_watch.models import Candidate, Classification, Kind
from inbox_watch.service import Workspace
from tests.tui.helpers import COUNTDOWN, FIXED, settle
from tui.app import InboxWatchApp, create_app
from tui.reading import Classified
from tui.screens.draft import DraftScreen
from tui.screens.main import MainScreen
from tui.screens.thread import ThreadScreen
from tui.widgets.candidate_table import FIRST_ROWS, CandidateTable
from tui.widgets.detail_pane import DetailPane, HangingLines

MANY = 3 * FIRST_ROWS + 17


def many(workspace: Workspace) -> InboxWatchApp:
    """The demo mailbox plus MANY roster-only candidates (idle, ranked after the demo's)."""
    workspace.store.upsert_candidates(
        [Candidate(name=f"Roster Person {i:04}", emails=(f"person{i}@example.com",)) for i in range(MANY)]
    )
    return create_app(workspace, demo=True, now=FIXED, countdown=COUNTDOWN)


def grid(app: InboxWatchApp) -> CandidateTable:
    return app.screen.query_one(CandidateTable)


async def test_a_long_table_goes_to_its_last_candidate_and_pages_through_the_rest(workspace: Workspace) -> None:
    app = many(workspace)
    async with app.run_test(size=(120, 35)) as pilot:
        await settle(pilot)
        table, screen = grid(app), app.screen
        assert isinstance(screen, MainScreen)
        ranked = [s.candidate.name for s in screen.states]
        assert table.candidate_count == len(ranked) > MANY
        await pilot.press("G")
        await pilot.pause()
        assert table.selected is not None and table.selected.candidate.name == ranked[-1]
        assert table.cursor_row == len(ranked) - 1
        await pilot.press("g")
        for _ in range(2 * MANY // table.size.height + 2):  # page by page, past every batch of rows
            await pilot.press("pagedown")
        await pilot.pause()
        assert table.selected is not None and table.selected.candidate.name == ranked[-1]
        for _ in range(3):
            await pilot.press("k")
        await pilot.pause()
        assert table.selected is not None and table.selected.candidate.name == ranked[-4]


async def test_the_cursor_walks_down_past_the_rows_first_shown(workspace: Workspace) -> None:
    app = many(workspace)
    async with app.run_test(size=(120, 35)) as pilot:
        await settle(pilot)
        table, screen = grid(app), app.screen
        assert isinstance(screen, MainScreen)
        ranked = [s.candidate.name for s in screen.states]
        table.move_cursor(row=FIRST_ROWS - 3, animate=False)
        await pilot.press(*["j"] * 10)
        await pilot.pause()
        assert table.cursor_row == FIRST_ROWS + 7
        assert table.selected is not None and table.selected.candidate.name == ranked[FIRST_ROWS + 7]
        assert ranked[FIRST_ROWS + 7] in screen.query_one(DetailPane).plain


async def test_a_search_on_a_long_table_lists_every_match_and_goes_to_a_name_far_down(
    workspace: Workspace,
) -> None:
    app = many(workspace)
    async with app.run_test(size=(120, 35)) as pilot:
        await settle(pilot)
        table, screen = grid(app), app.screen
        assert isinstance(screen, MainScreen)
        await pilot.press("slash", *"roster")
        await pilot.pause()
        assert table.candidate_count == MANY
        assert table.shown == [f"Roster Person {i:04}" for i in range(MANY)]
        assert f"{MANY} of {len(screen.states)} candidates" in str(table.border_title)
        await pilot.press("enter")
        screen.go_to(f"Roster Person {MANY - 2:04}")
        await pilot.pause()
        assert table.selected is not None and table.selected.candidate.name == f"Roster Person {MANY - 2:04}"
        assert table.cursor_row == MANY - 2


async def test_opening_a_draft_or_the_thread_leaves_the_dashboard_footer_as_it_was(app: InboxWatchApp) -> None:
    async with app.run_test(size=(120, 35)) as pilot:
        await settle(pilot)
        footer = app.screen.query_one(Footer)
        keys = list(footer.children)
        assert any("Chase" in str(key.render()) for key in keys)
        for key, screen_type in (("c", DraftScreen), ("v", ThreadScreen)):
            grid(app).select_name("Priya Shah")
            await pilot.press(key)
            await pilot.pause()
            assert isinstance(app.screen, screen_type)
            await pilot.press("escape")
            await settle(pilot)
            assert isinstance(app.screen, MainScreen)
            # the same key widgets: not rebuilt while hidden, nor on the way back
            assert list(app.screen.query_one(Footer).children) == keys


async def test_the_footer_still_follows_the_keys_that_apply(app: InboxWatchApp) -> None:
    async with app.run_test(size=(120, 35)) as pilot:
        await settle(pilot)
        footer = app.screen.query_one(Footer)

        def undo_enabled() -> bool:
            return any(key.action == "undo_send" and not key.disabled for key in footer.query("FooterKey"))

        assert not undo_enabled()
        grid(app).select_name("Priya Shah")
        await pilot.press("c")
        await pilot.pause()
        await pilot.press("ctrl+s")
        await pilot.pause()
        await pilot.pause()
        assert isinstance(app.screen, MainScreen)
        assert undo_enabled()  # a send counts down: u undoes it
        await pilot.press("u")
        await pilot.pause()
        await pilot.pause()
        assert not undo_enabled()


async def test_a_refilter_that_keeps_the_same_candidate_does_not_redraw_the_pane(app: InboxWatchApp) -> None:
    async with app.run_test(size=(120, 35)) as pilot:
        await settle(pilot)
        grid(app).select_name("Daniel Okafor")
        await pilot.pause()
        body = app.screen.query_one("#detail-body")
        drawn = body.content
        await pilot.press("slash", *"okafor")
        await pilot.pause()
        assert grid(app).shown == ["Daniel Okafor"]
        assert body.content is drawn  # same text: nothing to measure or lay out again
        grid(app).select_name("Daniel Okafor")
        assert "Daniel Okafor" in app.screen.query_one(DetailPane).plain


def test_the_screens_take_what_each_message_is_from_the_classification_the_sync_kept(
    workspace: Workspace,
) -> None:
    message = next(m for m in workspace.store.messages() if classify(m).kind is Kind.SCHEDULING)
    kept = Classification(Kind.AUTO_REPLY, ("kept at sync time",), out_of_office=True, human=False)
    classified = Classified({(message.account, message.id): to_stored(kept)})
    assert classified(message) == kept  # the kept judgment, not a second reading of the text
    other = replace(message, id=message.id + "-not-kept")
    assert classified(other) == classify(other)  # nothing kept: classified here
    damaged = Classified({(message.account, message.id): [to_stored(kept)[0], "sch,duling", [], 0, 0, 0]})
    assert damaged(message) == classify(message)  # a damaged kept copy: classified afresh


def _grid_line(line: Text) -> RenderableType:
    """How the pane drew one line before HangingLines: a two-column rich grid (the reference)."""
    plain = line.plain
    indent = len(plain) - len(plain.lstrip(" "))
    if plain[indent : indent + 2] == "- ":
        indent += 2
    if not indent:
        return line
    grid = Table.grid(padding=0)
    grid.add_column(width=indent, no_wrap=True)
    grid.add_column(ratio=1)
    grid.add_row(line[:indent], line[indent:])
    return grid


def test_the_pane_lines_wrap_under_their_indent_exactly_as_the_grid_drew_them() -> None:
    lines = [
        Text("Daniel Okafor", style="bold"),
        Text("\nWhy this rank", style="bold underline"),
        Text("  - past 5 business days without a reply: consider pulling the candidate"),
        Text("    Sam, should we move on from Daniel? We have two other people ready to go"),
        Text("  email  daniel.okafor.with.a.very.long.address@example.com"),
        Text("  call 07700 900134 Thu 08:15 (before work)", style=Style(bold=True)),
        Text("  "),
        Text("no indent at all, and long enough to wrap at every width tried here"),
    ]
    console = Console(width=120, color_system="truecolor", force_terminal=True, legacy_windows=False)
    for width in (12, 20, 33, 44, 61, 90):
        options = console.options.update_width(width)
        drawn = console.render_lines(HangingLines(lines), options, pad=False)
        reference = console.render_lines(
            Group(*[_grid_line(part) for line in lines for part in line.split("\n")]), options, pad=False
        )
        as_text = [[(s.text, s.style) for s in Segment.simplify(line)] for line in drawn]
        expected = [[(s.text, s.style) for s in Segment.simplify(line)] for line in reference]
        assert [("".join(t for t, _ in line)).rstrip() for line in as_text] == [
            ("".join(t for t, _ in line)).rstrip() for line in expected
        ], width
        assert as_text == expected, width
