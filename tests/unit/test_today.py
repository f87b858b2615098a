"""``inbox-watch today``: the day's plan from the ranking, as text, JSON and calendar events."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from icalendar import Calendar

from inbox_watch.demo import open_demo
from inbox_watch.engine.plan import day_plan, to_ics
from inbox_watch.models import NextAction, Status

ROOT = Path(__file__).resolve().parents[2]


def test_the_plan_holds_what_the_ranking_says_is_due_today() -> None:
    now = datetime.now(UTC)
    with open_demo() as workspace:
        states = workspace.evaluate(now)
        plan = workspace.today(now)
        clock = workspace.clock
    by_action = {a: {s.candidate.name for s in states if s.next_action is a} for a in NextAction}
    assert {i.candidate for i in plan.chasers} == by_action[NextAction.SEND_CHASER]
    assert {i.candidate for i in plan.employer_updates} == by_action[NextAction.UPDATE_EMPLOYER]
    assert {i.candidate for i in plan.consider_pulling} == by_action[NextAction.CONSIDER_PULLING]
    due_calls = by_action[NextAction.CALL] | by_action[NextAction.TEXT]
    assert {c.candidate for c in plan.calls} | {i.candidate for i in plan.no_number} == due_calls
    assert plan.calls and all(c.at > now and c.tel.startswith("tel:+") for c in plan.calls)
    assert [c.at for c in plan.calls] == sorted(c.at for c in plan.calls)  # in the order of the day
    # Newly silent: silent now, not silent a day before.
    before = {s.candidate.name: s.status for s in workspace_states_a_day_before(now)}
    expected = {
        s.candidate.name
        for s in states
        if s.status is Status.SILENT and before.get(s.candidate.name) is not Status.SILENT
    }
    assert {i.candidate for i in plan.newly_silent} == expected
    assert plan.day == clock.local(now).date()
    text = "\n".join(plan.lines())
    assert text.startswith(f"Today, {plan.day:%a %d %b}: ")
    for call in plan.calls:
        assert f"{call.candidate:<22} {call.verb} {call.number} {call.when} ({call.why})" in text


def workspace_states_a_day_before(now: datetime):  # type: ignore[no-untyped-def]
    with open_demo() as workspace:
        return workspace.evaluate(now - timedelta(days=1))


def test_a_silent_candidate_from_yesterday_is_not_newly_silent() -> None:
    now = datetime.now(UTC)
    with open_demo() as workspace:
        states = workspace.evaluate(now)
        clock = workspace.clock
    assert not day_plan(states, states, now, clock).newly_silent  # the same ranking yesterday: nothing new


def test_the_calendar_has_one_event_per_call_with_the_number_and_a_reminder_when_it_starts() -> None:
    now = datetime.now(UTC)
    with open_demo() as workspace:
        plan = workspace.today(now)
    calendar = Calendar.from_ical(to_ics(plan))
    events = calendar.walk("VEVENT")
    assert len(events) == len(plan.calls) > 0
    for event, call in zip(events, plan.calls, strict=True):
        assert event.decoded("dtstart") == call.at
        assert call.number in str(event["summary"]) and call.candidate in str(event["summary"])
        assert str(event["url"]) == call.tel
        [alarm] = event.walk("VALARM")
        assert alarm.decoded("trigger") == timedelta(0)  # rings at the suggested moment
    assert len({str(e["uid"]) for e in events}) == len(events)


def test_today_on_the_command_line_json_and_ics(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text(
        '[recruiter]\nname = "Sam Carter"\naddresses = ["sam@agency.example"]\n'
        f'[store]\npath = "{tmp_path / "store.json"}"\n[[accounts]]\nname = "demo"\nprovider = "demo"\n'
    )
    roster = tmp_path / "roster.csv"
    roster.write_text("name,email,phone\nPriya Shah,priya.shah@example.com,07700 900123\n")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    base = [sys.executable, "-m", "inbox_watch", "--config", str(config)]
    for args in (["candidates", "import", str(roster)], ["sync"]):
        subprocess.run(base + args, check=True, capture_output=True, env=env, timeout=120)
    ics = tmp_path / "today.ics"
    done = subprocess.run(
        base + ["today", "--json", "--ics", str(ics)], capture_output=True, text=True, env=env, timeout=120
    )
    assert done.returncode == 0, done.stderr
    plan = json.loads(done.stdout)
    assert set(plan) == {
        "date",
        "generated_at",
        "chasers",
        "calls",
        "calls_without_a_number",
        "employer_updates",
        "consider_pulling",
        "newly_silent",
    }
    assert "Priya Shah" in [c["candidate"] for c in plan["chasers"]]
    assert ics.read_bytes().startswith(b"BEGIN:VCALENDAR")
    assert (ics.stat().st_mode & 0o777) == 0o600
    bad = subprocess.run(base + ["today", "--ics", str(tmp_path)], capture_output=True, text=True, env=env)
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1 and "cannot write the file" in bad.stderr
