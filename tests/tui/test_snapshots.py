"""Snapshots of the demo dashboard, built by the CLI's own factory at a fixed clock, at the
smallest supported terminal (80x24) and three larger ones (120x35, 150x40, 200x50).

Update after a deliberate change with ``pytest tests/tui --snapshot-update`` and look at the SVGs.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.tui.helpers import settle
from tui.app import InboxWatchApp


@pytest.mark.parametrize("size", [(80, 24), (120, 35), (150, 40), (200, 50)], ids=lambda s: f"{s[0]}x{s[1]}")
def test_demo(app: InboxWatchApp, snap_compare: Any, size: tuple[int, int]) -> None:
    assert snap_compare(app, terminal_size=size, run_before=settle)


def test_chaser_draft_80x24(app: InboxWatchApp, snap_compare: Any) -> None:
    async def open_chaser(pilot: Any) -> None:
        await settle(pilot)
        pilot.app.screen.query_one("CandidateTable").select_name("Priya Shah")
        await pilot.press("c")
        await settle(pilot)

    assert snap_compare(app, terminal_size=(80, 24), run_before=open_chaser)
