"""Snapshots of the demo dashboard, built by the CLI's own factory at a fixed clock, at the
smallest supported terminal (80x24) and a common larger one (120x40).

Update after a deliberate change with ``pytest tests/tui --snapshot-update`` and look at the SVGs.
"""

from __future__ import annotations

from typing import Any

from tests.tui.helpers import settle
from tui.app import InboxWatchApp


def test_demo_80x24(app: InboxWatchApp, snap_compare: Any) -> None:
    assert snap_compare(app, terminal_size=(80, 24), run_before=settle)


def test_demo_120x40(app: InboxWatchApp, snap_compare: Any) -> None:
    assert snap_compare(app, terminal_size=(120, 40), run_before=settle)


def test_chaser_draft_80x24(app: InboxWatchApp, snap_compare: Any) -> None:
    async def open_chaser(pilot: Any) -> None:
        await settle(pilot)
        pilot.app.screen.query_one("CandidateTable").select_name("Priya Shah")
        await pilot.press("c")
        await settle(pilot)

    assert snap_compare(app, terminal_size=(80, 24), run_before=open_chaser)
