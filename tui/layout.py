"""How the main screen shares its width between the candidate table and the detail pane.

One pure function, ``plan_layout``, decides from the terminal's width and the widest value of
each column (in terminal cells, ``rich.cells.cell_len``, so CJK and emoji names count double):

- below ``NARROW`` columns the pane goes under the table, which takes the whole width;
- otherwise the table takes what its columns need (with "Role @ employer" whenever the pane
  still gets ``PANE_MIN`` beside it) and the pane grows into the rest, up to ``PANE_MAX``;
- only when even that does not fit does the candidate column (then the role column, then team
  mode's owner column) narrow, never below ``MIN_NAME``; every other column keeps its full width.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from rich.cells import cell_len

NARROW = 110  # below this many columns the detail pane goes under the table
PANE_MIN = 44  # the pane beside the table is never narrower ...
PANE_MAX = 96  # ... nor wider: a long line is hard to read
MIN_NAME = 12  # the candidate column never narrows below this, however little room is left
MAX_NAME = 40  # nor grows beyond it: a longer name is cut with an ellipsis ("…")
MIN_ROLE = 16
MAX_ROLE = 36  # the same for "role @ employer"
MIN_OWNER = 8  # team mode's owner column narrows to this, after the name and the role
MAX_OWNER = 18
PADDING = 2  # DataTable's cell padding, one cell each side
CHROME = 3  # the table's round border (2) and its vertical scrollbar (1, app.tcss)

# (key, label, index into the row's values), left to right
COLUMNS: tuple[tuple[str, str, int], ...] = (
    ("rank", "#", 0),
    ("candidate", "Candidate", 1),
    ("owner", "Owner", 8),  # team mode only: the recruiter who owns the candidate
    ("role", "Role @ employer", 2),
    ("status", "Status", 3),
    ("silent", "Silent", 4),
    ("chasers", "Ch", 5),
    ("employer", "Emp", 6),
    ("next", "Next action", 7),
)
OPTIONAL = "role"
TEAM_ONLY = "owner"


@dataclass(frozen=True)
class Layout:
    """``columns``: (key, content width in cells) of each column shown, left to right;
    ``pane_width``: the detail pane's width beside the table (0 when it is below)."""

    narrow: bool
    pane_width: int
    columns: tuple[tuple[str, int], ...]

    @property
    def table_width(self) -> int:
        return sum(width + PADDING for _, width in self.columns) + CHROME

    def width_of(self, key: str) -> int | None:
        return dict(self.columns).get(key)


def natural_widths(rows: Iterable[Sequence[str]]) -> dict[str, int]:
    """The widest value of each column, label included, in terminal cells, capped for the
    name and the role columns (their long values are cut with an ellipsis)."""
    widths = {key: cell_len(label) for key, label, _ in COLUMNS}
    for row in rows:
        for key, _, index in COLUMNS:
            if index < len(row):
                width = cell_len(row[index])
                if width > widths[key]:
                    widths[key] = width
    widths["candidate"] = min(widths["candidate"], MAX_NAME)
    widths["role"] = min(widths["role"], MAX_ROLE)
    widths["owner"] = min(widths["owner"], MAX_OWNER)
    return widths


def _need(widths: Mapping[str, int], keys: Sequence[str]) -> int:
    return sum(widths[key] + PADDING for key in keys) + CHROME


def plan_layout(width: int, natural: Mapping[str, int], *, team: bool = False) -> Layout:
    """The table's columns and the pane's width for a screen ``width`` columns wide; ``team``
    (team mode) adds the owner column."""
    widths = {key: natural.get(key, cell_len(label)) for key, label, _ in COLUMNS}
    every = [key for key, _, _ in COLUMNS if team or key != TEAM_ONLY]
    base = [key for key in every if key != OPTIONAL]
    narrow = width < NARROW
    if narrow:
        keys = every if _need(widths, every) <= width else base
        room, pane = width, 0
    else:
        keys = every if width - _need(widths, every) >= PANE_MIN else base
        pane = max(PANE_MIN, min(PANE_MAX, width - _need(widths, keys)))
        room = width - pane
    # Too little room: the name column gives first (down to MIN_NAME), then the role column,
    # then the owner's.
    over = _need(widths, keys) - room
    for key, floor in (("candidate", MIN_NAME), (OPTIONAL, MIN_ROLE), (TEAM_ONLY, MIN_OWNER)):
        if over > 0 and key in keys and widths[key] > floor:
            give = min(over, widths[key] - floor)
            widths[key] -= give
            over -= give
    return Layout(narrow, pane, tuple((key, widths[key]) for key in keys))
