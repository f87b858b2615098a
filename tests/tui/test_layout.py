"""How the table and the detail pane share the terminal, at the sizes recruiters use."""

from __future__ import annotations

from importlib.metadata import version

import pytest
from rich.cells import cell_len

from inbox_watch.models import Candidate
from inbox_watch.service import Workspace
from tests.tui.helpers import COUNTDOWN, FIXED, settle
from tui.app import InboxWatchApp, create_app
from tui.layout import MIN_NAME, MIN_OWNER, NARROW, PANE_MIN, natural_widths, plan_layout
from tui.widgets.candidate_table import CandidateTable, row_values
from tui.widgets.detail_pane import DetailPane

SIZES = ((80, 24), (120, 35), (150, 40), (200, 50))


def table(app: InboxWatchApp) -> CandidateTable:
    return app.screen.query_one(CandidateTable)


def screen_lines(widget) -> list[str]:  # type: ignore[no-untyped-def]
    return [widget.render_line(y).text for y in range(widget.size.height)]


@pytest.mark.parametrize("size", SIZES)
async def test_table_and_pane_share_the_width(app: InboxWatchApp, size: tuple[int, int]) -> None:
    width, _ = size
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        grid, pane = table(app), app.screen.query_one(DetailPane)
        natural = natural_widths(row_values(s, app.workspace.clock) for s in app.screen.states)
        header = grid.render_line(0).text
        shown = dict(grid.layout_columns)
        # no squashed column: every column is as wide as its widest value (the demo's rows)
        for key, got in shown.items():
            assert got >= natural[key], (key, got, size)
        assert shown["candidate"] >= cell_len("James Whitfield")
        assert "Next action" in header and "Status" in header
        assert grid.virtual_size.width <= grid.scrollable_content_region.width  # nothing cut off
        if width >= 150:  # room for the role column beside a pane of at least PANE_MIN
            assert "Role @ employer" in header
            assert "Data Engineer @ Tailspin" in "\n".join(screen_lines(grid))
        else:
            assert "Role @ employer" not in header
        if width >= NARROW:
            assert pane.region.x >= grid.region.right  # beside the table
            assert pane.region.width >= PANE_MIN
            # the table takes what it needs, the pane the rest
            assert grid.region.width <= sum(w + 2 for w in shown.values()) + 3
        else:
            assert pane.region.y >= grid.region.bottom and pane.region.width == width  # below
        if width == 200:
            assert pane.region.width > 80  # the pane grows on a wide screen


async def test_the_pane_grows_with_the_screen(app: InboxWatchApp) -> None:
    widths = []
    for size in ((120, 35), (150, 40), (200, 50)):
        async with app.run_test(size=size) as pilot:
            await settle(pilot)
            widths.append(app.screen.query_one(DetailPane).region.width)
        app = create_app(app.workspace, demo=True, now=FIXED, countdown=COUNTDOWN)
    assert min(widths) >= PANE_MIN
    assert widths[2] > max(widths[:2]) + 30


async def test_resizing_relays_the_columns(app: InboxWatchApp) -> None:
    async with app.run_test(size=(120, 35)) as pilot:
        await settle(pilot)
        assert "Role @ employer" not in table(app).render_line(0).text
        await pilot.resize_terminal(200, 50)
        await settle(pilot)
        assert "Role @ employer" in table(app).render_line(0).text
        assert table(app).selected is not None


async def test_wrapped_lines_keep_their_indent(app: InboxWatchApp) -> None:
    async with app.run_test(size=(120, 35)) as pilot:
        await settle(pilot)
        table(app).select_name("Daniel Okafor")  # "past 5 business days: consider pulling" wraps
        await pilot.pause()
        pane = app.screen.query_one(DetailPane)
        body = app.screen.query_one("#detail-body")
        lines = [line.rstrip() for line in screen_lines(body)]
        start = next(i for i, line in enumerate(lines) if "past 5 business days" in line)
        assert not lines[start].rstrip().endswith("pulling"), "no wrap at this width: test nothing"
        assert lines[start + 1].startswith("    ") and lines[start + 1].strip(), lines[start : start + 2]
        assert pane.region.width < 60


async def test_cjk_and_emoji_names_line_up(workspace: Workspace) -> None:
    # wider on screen than any demo name, though shorter in characters: measured in cells,
    # they show whole; measured with len() they would be cut
    names = ["王小明 (Wang Xiaoming)", "Zoë 🎉🎉 Park-Whitfield", "佐藤 花子さん 佐藤 花子"]
    assert all(cell_len(n) > cell_len("James Whitfield") + 2 for n in names)
    workspace.store.upsert_candidates([Candidate(name=n, emails=(f"c{i}@example.com",)) for i, n in enumerate(names)])
    app = create_app(workspace, demo=True, now=FIXED, countdown=COUNTDOWN)
    async with app.run_test(size=(150, 40)) as pilot:
        await settle(pilot)
        grid = table(app)
        rows = screen_lines(grid)
        header = rows[0]
        status_at = cell_len(header[: header.index("Status")])
        found = 0
        for row in rows[1:]:
            name = next((n for n in names if n in row), None)
            if name is None:
                continue
            found += 1
            assert "…" not in row, row
            # the status column starts at the same terminal cell on every row
            assert cell_len(row[: row.index("idle")]) == status_at, row
        assert found == len(names), "\n".join(rows)


def test_plan_keeps_columns_whole_and_shrinks_the_name_last() -> None:
    natural = {
        "rank": 4,
        "candidate": 30,
        "role": 30,
        "status": 13,
        "silent": 6,
        "chasers": 2,
        "employer": 3,
        "next": 17,
    }
    for width in (80, 100, 120, 150, 200, 260):
        plan = plan_layout(width, natural)
        widths = dict(plan.columns)
        room = width - plan.pane_width
        assert plan.table_width <= room or widths["candidate"] == MIN_NAME, width
        for key in ("rank", "status", "silent", "chasers", "employer", "next"):
            assert widths[key] == natural[key], (width, key)
        if plan.table_width < room:  # space left over: nothing was cut
            assert widths["candidate"] == natural["candidate"], width
        if not plan.narrow:
            assert plan.pane_width >= PANE_MIN
    assert plan_layout(80, natural).narrow and not plan_layout(120, natural).narrow
    assert "role" in dict(plan_layout(200, natural).columns)
    assert "role" not in dict(plan_layout(120, natural).columns)


def test_team_mode_adds_the_owner_column_after_the_name_and_it_gives_room_last() -> None:
    natural = {"rank": 4, "candidate": 30, "owner": 18, "role": 30, "status": 13, "silent": 6, "chasers": 2,
               "employer": 3, "next": 17}  # fmt: skip
    assert "owner" not in dict(plan_layout(200, natural).columns)  # one recruiter: everything is theirs
    for width in (80, 120, 200):
        plan = plan_layout(width, natural, team=True)
        keys = [key for key, _ in plan.columns]
        assert keys[:3] == ["rank", "candidate", "owner"], width
        widths = dict(plan.columns)
        if widths["owner"] < natural["owner"]:  # the owner narrows only once the name is as narrow as it goes
            assert widths["candidate"] == MIN_NAME and widths["owner"] >= MIN_OWNER, width
    assert dict(plan_layout(200, natural, team=True).columns)["owner"] == 18


def test_textual_is_the_version_the_table_override_was_checked_against() -> None:
    """CandidateTable._update_dimensions overrides a private DataTable method to skip
    measuring every cell (fixed column widths make the measure unused; it cost 0.3 s for
    2,000 rows). On a Textual upgrade, check the override against the new DataTable (it must
    still only measure in ``_update_dimensions`` and size the table from ``Column.width``),
    then change this version. The same for tui/widgets/footer.py: ``Footer.bindings_changed``
    must still be the one place a Footer rebuilds its keys when its screen's bindings change."""
    from textual.widgets import DataTable, Footer

    assert version("textual") == "8.2.8"
    assert "new_rows" in DataTable._update_dimensions.__code__.co_varnames
    assert "recompose" in Footer.bindings_changed.__code__.co_names


async def test_the_draft_screens_keys_fit_one_line_at_80x24(app: InboxWatchApp) -> None:
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        table(app).select_name("Priya Shah")
        await pilot.press("c")
        await settle(pilot)
        keys = app.screen.query_one("#draft-keys")
        assert keys.region.height == 1
        line = keys.render_line(0).text
        for word in ("Send", "Save to Drafts", "Edit", "Copy", "Back"):
            assert word in line
