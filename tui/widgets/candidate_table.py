"""The ranked candidate table: one row per candidate, in the order ``report`` ranks them.

Rows are keyed by the candidate's name (``tag_key``). A refresh with the same rows in the same
order updates only the cells that changed, so the cursor never moves under the recruiter; when
rows come or go the table is rebuilt and the cursor goes back to the same candidate.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from rich.text import Text
from textual.widgets import DataTable
from textual.widgets.data_table import RowKey

from inbox_watch.engine.clock import BusinessClock
from inbox_watch.engine.state import tag_key
from inbox_watch.models import CandidateState, Status
from inbox_watch.vocabulary import action_word, status_word
from tui.widgets.palette import status_style

WIDE_TABLE = 110  # from this many columns of table width, show "role @ employer" too
MIN_NAME = 12  # the candidate column never narrows below this, however little room is left
MAX_NAME = 40  # nor grows beyond it: a long name is cut with an ellipsis ("…")
MAX_ROLE = 32  # the same for "role @ employer"

Values = tuple[str, ...]


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


def row_values(state: CandidateState, clock: BusinessClock) -> Values:
    """Every column's plain text for one candidate (wide layout)."""
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
    )


# (key, label, index into row_values, shown in the narrow layout)
COLUMNS = (
    ("rank", "#", 0, True),
    ("candidate", "Candidate", 1, True),
    ("role", "Role @ employer", 2, False),
    ("status", "Status", 3, True),
    ("silent", "Silent", 4, True),
    ("chasers", "Ch", 5, True),
    ("employer", "Emp", 6, True),
    ("next", "Next action", 7, True),
)


class CandidateTable(DataTable[str | Text]):
    """Candidates ranked by urgency; the highlighted row is the selected candidate."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=True)
        self._wide: bool | None = None
        self._keys: list[str] = []
        self._values: dict[str, Values] = {}
        self._states: dict[str, CandidateState] = {}
        self._clock: BusinessClock | None = None
        self._widths: dict[str, int] = {}  # widest plain value per column key

    # --- layout ------------------------------------------------------------------------------

    def _columns(self) -> list[tuple[str, str, int, bool]]:
        return [c for c in COLUMNS if self._wide or c[3]]

    def _set_columns(self, wide: bool) -> None:
        if wide == self._wide:
            return
        self._wide = wide
        self.clear(columns=True)
        for key, label, _, _ in self._columns():
            self.add_column(label, key=key)
        keys, self._keys = self._keys, []  # force a rebuild of the rows
        if self._states and self._clock is not None:
            self.show(list(self._states.values()), self._clock)
        elif keys:
            self._fill(keys, self._values)

    def on_resize(self) -> None:
        wide = self._wide
        self._set_columns(self.size.width >= WIDE_TABLE)
        if wide == self._wide and self.ordered_columns:  # same columns: fit the name to the new width
            self._update_dimensions(())
            self._clear_caches()
            self.refresh()

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
    def shown(self) -> list[str]:
        """The candidate names in the table, top to bottom."""
        return [self._values[k][1] for k in self._keys]

    @staticmethod
    def _cell(column: str, index: int, values: Values) -> str | Text:
        """Every cell is a ``Text``: a name, role or employer is never read as markup.
        ``index`` is the column's place in ``values`` (COLUMNS gives it)."""
        if column == "status":
            try:
                return status_text(Status(values[index]))
            except ValueError:  # a saved row from another version: plain text will do
                return Text(values[index])
        if column == "employer" and values[index]:
            return Text(values[index], style="bold")
        if column == "rank":
            return Text(values[index], justify="right")
        return Text(values[index], no_wrap=True, overflow="ellipsis")

    def show(self, states: Sequence[CandidateState], clock: BusinessClock) -> None:
        """Show ``states`` (already ranked and filtered), keeping the cursor on its candidate."""
        self._clock = clock
        keys = [tag_key(s.candidate.name) for s in states]
        self._fill(keys, {k: row_values(s, clock) for k, s in zip(keys, states, strict=True)})
        self._states = dict(zip(keys, states, strict=True))

    def show_saved(self, rows: Sequence[Values]) -> None:
        """Show rows as ``row_values`` gave them on an earlier run (the dashboard's saved
        ranking) until the fresh ranking arrives; no candidate is selectable meanwhile."""
        rows = [row for row in rows if len(row) == len(COLUMNS)]
        keys = [tag_key(row[1]) for row in rows]
        self._states = {}
        self._fill(keys, dict(zip(keys, rows, strict=True)))

    @property
    def saved(self) -> bool:
        """True while the table shows a saved ranking rather than a fresh one."""
        return bool(self._keys) and not self._states

    def _fill(self, keys: list[str], values: dict[str, Values]) -> None:
        if self._wide is None:
            self._set_columns(self.size.width >= WIDE_TABLE)
        columns = self._columns()
        self._widths = {
            column: max((len(v[index]) for v in values.values()), default=0) for column, _, index, _ in columns
        }
        if keys == self._keys:  # the same rows in the same order: change only what changed
            for key in keys:
                old, new = self._values[key], values[key]
                if old == new:
                    continue
                for column, _, index, _ in columns:
                    if old[index] != new[index]:
                        self.update_cell(key, column, self._cell(column, index, new))
            self._values = values
            return
        selected, row = self.selected_key, self.cursor_row
        self._keys, self._values = keys, values
        self.clear()
        for key in keys:
            self.add_row(*(self._cell(c[0], c[2], values[key]) for c in columns), key=key)
        if not keys:
            return
        target = keys.index(selected) if selected in values else min(max(row, 0), len(keys) - 1)
        self.move_cursor(row=target, animate=False, scroll=True)

    def _update_dimensions(self, new_rows: Iterable[RowKey]) -> None:
        """Column widths from the plain values already at hand, instead of DataTable measuring
        every cell through Rich (0.3 s for 2,000 rows in bench/tui.py); then the usual sizing."""
        for column in self.ordered_columns:
            column.content_width = max(column.content_width, self._widths.get(str(column.key.value), 0))
        self._cap_widths()
        super()._update_dimensions(())

    def _cap_widths(self) -> None:
        """Keep the candidate (and role) columns from pushing the status, the silence and the
        next action off the table: a long name gets what room is left, cut with an ellipsis."""
        columns = {str(c.key.value): c for c in self.ordered_columns}
        role = columns.get("role")
        if role is not None:
            role.content_width = min(max(self._widths.get("role", 0), len(role.label)), MAX_ROLE)
        name = columns.get("candidate")
        if name is None:
            return
        others = sum(c.get_render_width(self) for key, c in columns.items() if key != "candidate")
        room = self.scrollable_content_region.width - others - 2 * self.cell_padding
        wanted = max(self._widths.get("candidate", 0), len(name.label))
        name.content_width = min(wanted, MAX_NAME, max(MIN_NAME, room))

    def select_name(self, name: str) -> bool:
        """Move the cursor to the candidate called ``name``; False when not shown."""
        key = tag_key(name)
        if key not in self._values:
            return False
        self.move_cursor(row=self._keys.index(key), animate=False, scroll=True)
        return True
