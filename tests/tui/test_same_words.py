"""The dashboard and the command line say the same thing: the same words for a status and a next
action, and one phone judgment behind the ranking's reasons, the next action and the detail pane."""

from __future__ import annotations

import io

from inbox_watch.cli import print_report
from inbox_watch.engine.state import tag_key
from inbox_watch.models import NextAction
from inbox_watch.service import Workspace
from tests.tui.helpers import FIXED, settle
from tui.app import InboxWatchApp
from tui.widgets.candidate_table import CandidateTable
from tui.widgets.detail_pane import DetailPane


async def test_the_table_and_the_text_report_use_the_same_words(app: InboxWatchApp, workspace: Workspace) -> None:
    out = io.StringIO()
    print_report(workspace, workspace.report(FIXED), out)
    printed = {line[5:25].strip(): line for line in out.getvalue().splitlines()[1:]}
    async with app.run_test(size=(160, 40)) as pilot:
        await settle(pilot)
        table = app.screen.query_one(CandidateTable)
        seen = set()
        for name in table.shown:
            status = str(table.get_cell(tag_key(name), "status"))
            action = str(table.get_cell(tag_key(name), "next"))
            line = printed[name[:20]]
            assert f" {status} " in line and f" {action} " in line, (name, status, action, line)
            seen |= {status, action}
    # The words people read, never an identifier with an underscore.
    assert {"out of office", "send chaser", "consider pulling", "update employer"} <= seen
    assert not any("_" in word for word in seen)


async def test_noah_williams_is_never_offered_a_call_to_his_landline(app: InboxWatchApp, workspace: Workspace) -> None:
    noah = next(s for s in workspace.evaluate(FIXED) if s.candidate.name == "Noah Williams")
    assert noah.candidate.phone == "020 7946 0123"
    assert noah.next_action not in (NextAction.CALL, NextAction.TEXT)
    reasons = " ".join(noah.reasons)
    assert "call their mobile" not in reasons
    assert "only a landline is known (020 7946 0123)" in reasons
    async with app.run_test(size=(160, 50)) as pilot:
        await settle(pilot)
        assert app.screen.query_one(CandidateTable).select_name("Noah Williams")
        await pilot.pause()
        pane = app.screen.query_one(DetailPane).plain
    assert "landline 020 7946 0123\n         tel:+44-20-7946-0123" in pane
    assert "not for a call or text" in pane
    assert "\n  call " not in pane and "next: call" not in pane
    assert "only a landline is known (020 7946 0123)" in pane  # the reasons, as ranked


async def test_a_mobile_abroad_gets_a_time_in_both_clocks(app: InboxWatchApp, workspace: Workspace) -> None:
    chloe = next(s for s in workspace.evaluate(FIXED) if s.candidate.name == "Chloe Dubois")
    assert chloe.next_action is NextAction.CALL
    reason = next(r for r in chloe.reasons if r.startswith("call +33"))
    async with app.run_test(size=(160, 50)) as pilot:
        await settle(pilot)
        assert app.screen.query_one(CandidateTable).select_name("Chloe Dubois")
        await pilot.pause()
        pane = app.screen.query_one(DetailPane).plain
    assert "mobile +33 6 12 34 56 78\n         tel:+33-6-12-34-56-78" in pane
    assert "their time (Europe/Paris)" in pane and "yours" in pane
    assert reason.removeprefix("call +33 6 12 34 56 78 ") in pane  # the same moment, both places


async def test_search_ignores_accents_as_the_command_line_does(workspace: Workspace) -> None:
    from inbox_watch.models import Candidate
    from tui.app import create_app

    workspace.store.upsert_candidates([Candidate(name="Zoë Clarke", emails=("zoe@example.com",))])
    app = create_app(workspace, demo=True, now=FIXED)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("slash", *"zoe")
        assert app.screen.query_one(CandidateTable).shown == ["Zoë Clarke"]
