"""The fault campaign: one module per fault, each reporting what it tried and what it saw.

`make test` runs every module with small counts (the quick subset); `make faults` sets
INBOX_WATCH_FAULTS=full and runs the whole campaign. Each module records its figures with the
`figures` fixture (`figures.add("kill points tried", n)`); every figure is a count made during
the run, and the terminal summary prints them all at the end.
"""

from __future__ import annotations

import os
from collections import defaultdict

FULL = os.environ.get("INBOX_WATCH_FAULTS") == "full"

FIGURES: dict[str, dict[str, int]] = defaultdict(dict)


def campaign_count(quick: int, full: int) -> int:
    """How many cases a fault module tries: `quick` in `make test`, `full` in `make faults`."""
    return full if FULL else quick


class Figures:
    """The counts one fault module reports (accumulated over its tests)."""

    def __init__(self, module: str) -> None:
        self._figures = FIGURES[module]

    def add(self, name: str, count: int = 1) -> None:
        self._figures[name] = self._figures.get(name, 0) + count

    def get(self, name: str) -> int:
        return self._figures.get(name, 0)
