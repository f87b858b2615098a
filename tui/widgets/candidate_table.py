"""The ranked candidate table: one row per candidate, in the order ``report`` ranks them.

Rows are keyed by the candidate's name (``tag_key``). A refresh with the same rows in the same
order updates only the cells that changed, so the cursor never moves under the recruiter; when
rows come or go the table is rebuilt and the cursor goes back to the same candidate.

A rebuild adds the first few screenfuls of rows (and the cursor's), and more as the cursor or
the scroll position comes near the last one added: adding 2,000 rows to a ``DataTable`` took
most of a search keystroke's time in bench/tui.py (every added row also makes the DataTable draw
its visible rows again, so adding the rest in the background cost more than it saved). ``G`` /
``End`` and ``select_name`` add what they need first; the title counts every row.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from rich.console import Console, ConsoleOptions, RenderResult
from rich.segment import Segment
from rich.text import Text
from textual.binding import Binding
from textual.widgets import DataTable
from textual.widgets.data_table import RowKey

from inbox_watch.engine.clock import BusinessClock
from inbox_watch.engine.state import tag_key
from inbox_watch.models import CandidateState, Status
from inbox_watch.vocabulary import action_word, status_word
from tui.layout import COLUMNS
from tui.widgets.palette import status_style

Values = tuple[str, ...]

FIRST_ROWS = 100  # rows added on a rebuild (at least: more on a tall screen or for a low cursor)
MORE_ROWS = 200  # rows added each time the cursor or the scroll position nears the last one


class CellText(Text):
    """A cell's text that keeps the lines it rendered, per width. A ``DataTable`` draws every
    visible cell afresh after any change to its rows (a search keystroke, a refresh), and the
    same candidates' cells mostly come back: drawing a kept cell costs half as much."""

    _drawn: tuple[tuple[object, ...], list[Segment]] | None = None

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        key = (options.max_width, options.no_wrap, options.overflow, options.justify, options.height)
        if self._drawn is None or self._drawn[0] != key:
            self._drawn = (key, list(super().__rich_console__(console, options)))  # type: ignore[arg-type]
        return self._drawn[1]


def status_text(status: Status) -> Text:
    """The status word, coloured; the word itself carries the meaning without colour."""
    return Text(status_word(status), style=status_style(status))


def silent_for(state: CandidateState, clock: BusinessClock) -> str:
    """Business-time silence for people: "2d 3h"; "paused" while away or snoozed; "-" when not
    waiting (a pulled candidate is not waited for, though the engine still reports the wait)."""
    if state.waiting_since is None or state.status is Status.PULLED:
        return "-"
    if state.status in (Status.OUT_OF_OFFICE, Status.SNOOZED):
        return "paused"
    return clock.format_hours(state.silent_business_hours)


def row_values(state: CandidateState, clock: BusinessClock, owner: str = "") -> Values:
    """Every column's plain text for one candidate (wide layout); ``owner``: team mode's owner."""
    candidate = state.candidate
    role = " @ ".join(part for part in (candidate.role, candidate.employer) if part)
    return (
        str(state.rank),
        candidate.name,
        role or "-",
        state.status.value,
        silent_for(state, clock),
        str(state.chasers_sent) if state.chasers_sent else "-",
        "yes" if state.employer_waiting else "",
        action_word(state.next_action),
        owner,
    )


class CandidateTable(DataTable[str | Text]):
    """Candidates ranked by urgency; the highlighted row is the selected candidate.

    Every column has a fixed ``width`` (Textual's public ``add_column(width=...)``), set from
    the screen's ``Layout`` (tui/layout.py), which measures values in terminal cells; a value
    wider than its column is cut with an ellipsis. A new layout rebuilds the columns.
    """

    BINDINGS = [  # on the table, so they win over DataTable's own home/end (which scroll sideways)
        Binding(
            "j", "cursor_down", "Down", id="row_down", key_display="j / down", tooltip="Next candidate", show=False
        ),
        Binding("k", "cursor_up", "Up", id="row_up", key_display="k / up", tooltip="Previous candidate", show=False),
        Binding(
            "g,home", "scroll_top", "First", id="row_first", key_display="g / home", tooltip="First row", show=False
        ),
        Binding("G,end", "scroll_bottom", "Last", id="row_last", key_display="G / end", tooltip="Last row", show=False),
    ]

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=True)
        self.layout_columns: tuple[tuple[str, int], ...] = ()
        self._keys: list[str] = []
        self._values: dict[str, Values] = {}
        self._states: dict[str, CandidateState] = {}
        self._added = 0  # how many of ``_keys`` are rows of the DataTable so far
        self._cells: dict[str, tuple[Values, tuple[str | Text, ...]]] = {}  # key -> (values, cells shown)

    # --- layout ------------------------------------------------------------------------------

    def _columns(self) -> list[tuple[str, int]]:
        """(key, index into the row's values) of each column shown."""
        index = {key: place for key, _, place in COLUMNS}
        return [(key, index[key]) for key, _ in self.layout_columns]

    def set_layout(self, columns: tuple[tuple[str, int], ...]) -> None:
        """Show these columns at these widths (in cells); rebuild only when they change."""
        if columns == self.layout_columns:
            return
        self.layout_columns = columns
        labels = {key: label for key, label, _ in COLUMNS}
        keys, values = self._keys, self._values
        self.clear(columns=True)
        self._cells = {}
        for key, width in columns:
            self.add_column(Text(labels[key], no_wrap=True, overflow="ellipsis"), width=width, key=key)
        self._keys = []  # force a rebuild of the rows
        if keys:
            self._fill(keys, values)

    # --- content -----------------------------------------------------------------------------

    @property
    def selected_key(self) -> str | None:
        if not self._keys or not 0 <= self.cursor_row < len(self._keys):
            return None
        return self._keys[self.cursor_row]

    @property
    def selected(self) -> CandidateState | None:
        key = self.selected_key
        return self._states.get(key) if key else None

    @property
    def candidate_count(self) -> int:
        """How many candidates the table lists (``row_count`` counts the rows added so far)."""
        return len(self._keys)

    @property
    def shown(self) -> list[str]:
        """The candidate names in the table, top to bottom."""
        return [self._values[k][1] for k in self._keys]

    @staticmethod
    def _cell(column: str, index: int, values: Values) -> str | Text:
        """Every cell is a ``Text``: a name, role or employer is never read as markup.
        ``index`` is the column's place in ``values`` (COLUMNS gives it)."""
        value = values[index]
        if column == "status":
            try:
                status = Status(value)
            except ValueError:  # a saved row from another version: plain text will do
                return CellText(value)
            return CellText(status_word(status), style=status_style(status))
        if column == "employer" and value:
            return CellText(value, style="bold")
        if column == "rank":
            return CellText(value, justify="right")
        return CellText(value, no_wrap=True, overflow="ellipsis")

    def show(
        self,
        states: Sequence[CandidateState],
        clock: BusinessClock,
        owners: Mapping[str, str] | None = None,
        rows: Mapping[str, Values] | None = None,
    ) -> None:
        """Show ``states`` (already ranked and filtered), keeping the cursor on its candidate;
        ``owners`` (team mode): candidate name -> the owner's name; ``rows``: each candidate's
        ``row_values`` by key, when already made (else made here)."""
        keys = [tag_key(s.candidate.name) for s in states]
        owners, made = owners or {}, rows or {}
        self._fill(
            keys,
            {
                k: made.get(k) or row_values(s, clock, owners.get(s.candidate.name, ""))
                for k, s in zip(keys, states, strict=True)
            },
        )
        self._states = dict(zip(keys, states, strict=True))

    def show_saved(self, rows: Sequence[Values]) -> None:
        """Show rows as ``row_values`` gave them on an earlier run (the dashboard's saved
        ranking) until the fresh ranking arrives; no candidate is selectable meanwhile."""
        # A row saved before team mode's owner column (one value short) gets an empty owner.
        rows = [(*row, *("",) * (len(COLUMNS) - len(row))) for row in rows if 0 <= len(COLUMNS) - len(row) <= 1]
        keys = [tag_key(row[1]) for row in rows]
        self._states = {}
        self._fill(keys, dict(zip(keys, rows, strict=True)))

    @property
    def saved(self) -> bool:
        """True while the table shows a saved ranking rather than a fresh one."""
        return bool(self._keys) and not self._states

    def _fill(self, keys: list[str], values: dict[str, Values]) -> None:
        columns = self._columns()
        if keys == self._keys:  # the same rows in the same order: change only what changed
            for key in keys[: self._added]:  # rows still to add are added with the new values
                old, new = self._values[key], values[key]
                if old == new:
                    continue
                for column, index in columns:
                    if old[index] != new[index]:
                        self.update_cell(key, column, self._cell(column, index, new))
            self._values = values
            return
        selected, row = self.selected_key, self.cursor_row
        self._keys, self._values, self._added = keys, values, 0
        self.clear()
        if not columns:  # no layout yet (before the first resize): rows come with the columns
            return
        if not keys:
            return
        target = keys.index(selected) if selected in values else min(max(row, 0), len(keys) - 1)
        self._add_rows(max(FIRST_ROWS, target + 2 * self.size.height))
        self.move_cursor(row=target, animate=False, scroll=True)

    def _add_rows(self, upto: int) -> None:
        """Add the rows of ``_keys`` up to index ``upto`` (all of them when past the end)."""
        columns = self._columns()
        cells, values = self._cells, self._values
        for key in self._keys[self._added : upto]:
            kept = cells.get(key)
            if kept is None or (kept[0] is not values[key] and kept[0] != values[key]):
                kept = cells[key] = (values[key], tuple(self._cell(c, i, values[key]) for c, i in columns))
            self.add_row(*kept[1], key=key)
        self._added = min(max(upto, self._added), len(self._keys))

    def _near_the_end(self, row: int) -> None:
        """``row`` is about to show: make sure a screenful of rows follows it."""
        if self._added < len(self._keys) and row + self.size.height >= self._added:
            self._add_rows(row + self.size.height + MORE_ROWS)

    def on_mount(self) -> None:
        self.watch(self, "scroll_y", self._scrolled, init=False)

    def _scrolled(self, scroll_y: float) -> None:
        self._near_the_end(int(scroll_y) + self.size.height)

    def add_every_row(self) -> None:
        """Add every row not added yet (for ``G``, ``End`` and going to a name)."""
        if self._added < len(self._keys):
            self._add_rows(len(self._keys))

    def action_cursor_down(self) -> None:
        self._near_the_end(self.cursor_row + 1)
        super().action_cursor_down()

    def action_page_down(self) -> None:
        self._near_the_end(self.cursor_row + self.size.height)
        super().action_page_down()

    def action_scroll_bottom(self) -> None:
        self.add_every_row()
        super().action_scroll_bottom()

    def action_scroll_end(self) -> None:
        self.add_every_row()
        super().action_scroll_end()

    def _update_dimensions(self, new_rows: Iterable[RowKey]) -> None:
        """Skip measuring the new rows' cells: every column has a fixed width, so DataTable's
        measure of each cell (its ``content_width``) is never used, and it cost 0.3 s for
        2,000 rows in bench/tui.py (every filter, search keystroke and first paint). No public
        API turns the measure off; tests/tui/test_layout.py pins the Textual version this was
        checked against and fails on an upgrade until it is checked again. Rows are one line
        each (no auto height), which is all ``new_rows`` serves besides measuring."""
        super()._update_dimensions(())

    def select_name(self, name: str) -> bool:
        """Move the cursor to the candidate called ``name``; False when not shown."""
        key = tag_key(name)
        if key not in self._values:
            return False
        self._near_the_end(self._keys.index(key))
        self.move_cursor(row=self._keys.index(key), animate=False, scroll=True)
        return True
