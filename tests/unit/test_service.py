"""The service layer the CLI and the dashboard share: name lookup, snooze limits, chase refusals."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from inbox_watch.errors import ActionRefused, UsageError
from inbox_watch.models import Candidate, Snooze, Status
from inbox_watch.service import Workspace, name_matches, parse_now

NOW = datetime(2026, 11, 25, 12, tzinfo=UTC)


@pytest.fixture
def workspace(tmp_path: Path) -> Workspace:
    from inbox_watch.demo import prepare_demo

    return prepare_demo(tmp_path, now=NOW)


def test_a_name_matches_whole_words_or_word_prefixes_only() -> None:
    assert name_matches("anna", "Anna Lee")
    assert name_matches("anna l", "Anna Lee")
    assert name_matches("lee", "Anna Lee")
    assert not name_matches("anna", "Hannah Cho")
    assert not name_matches("nna", "Anna Lee")
    assert not name_matches("lee anna", "Anna Lee")  # in order
    assert name_matches("smith", "Jo Ward-Smith")


def test_names_match_without_accents_or_case_still_by_whole_words() -> None:
    assert name_matches("zoe", "Zoë Clarke") and name_matches("ZOE c", "Zoë Clarke")
    assert name_matches("zoë", "Zoe Hart")  # typed with the accent, written without
    assert name_matches("jose", "José Álvarez") and name_matches("alvarez", "José Álvarez")
    assert name_matches("francois", "Fran\u0063\u0327ois Roy")  # a combining cedilla
    assert not name_matches("oe", "Zoë Clarke")  # still the start of a word
    assert not name_matches("clarke zoe", "Zoë Clarke")  # still in order


def test_log_zoe_call_finds_zoe_clarke_and_refuses_ambiguity(workspace: Workspace) -> None:
    workspace.store.upsert_candidates([Candidate(name="Zoë Clarke", emails=("zoe@example.com",))])
    assert workspace.log_touch("zoe", "call", "", NOW).candidate.name == "Zoë Clarke"
    assert workspace.log_touch("ZOE CLARKE", "text", "", NOW).candidate.name == "Zoë Clarke"
    workspace.store.upsert_candidates([Candidate(name="Zoe Hart", emails=("hart@example.com",))])
    with pytest.raises(UsageError, match="'zoe' matches several candidates: Zo. (Clarke|Hart), Zo. (Clarke|Hart)"):
        workspace.log_touch("zoe", "call", "", NOW)
    assert workspace.log_touch("zoe h", "call", "", NOW).candidate.name == "Zoe Hart"
    # Two people whose names differ only by the accent: the exact spelling picks one, the
    # folded spelling names both and is refused.
    workspace.store.upsert_candidates([Candidate(name="Zoe Clarke", emails=("zc@example.com",))])
    assert workspace.log_touch("Zoë Clarke", "call", "", NOW).candidate.name == "Zoë Clarke"
    assert workspace.log_touch("zoe clarke", "call", "", NOW).candidate.name == "Zoe Clarke"
    with pytest.raises(UsageError, match="matches several"):
        workspace.log_touch("ZOE CLARKË", "call", "", NOW)


def test_log_and_forget_never_pick_a_name_that_only_contains_the_word(workspace: Workspace) -> None:
    workspace.store.upsert_candidates([Candidate(name="Anna Lee", emails=("anna@example.com",))])
    state = workspace.log_touch("anna", "call", "", NOW)
    assert state.candidate.name == "Anna Lee"  # not Hannah Cho
    assert workspace.forget("Anna Lee", NOW)[0] == "Anna Lee"
    with pytest.raises(UsageError, match="no candidate called 'anna'"):
        workspace.forget("anna", NOW)
    assert workspace.store.candidate("Hannah Cho") is not None  # untouched


def test_several_matches_are_refused_and_listed(workspace: Workspace) -> None:
    workspace.store.upsert_candidates(
        [Candidate(name="Anna Lee", emails=("a@example.com",)), Candidate(name="Anna Berg", emails=("b@example.com",))]
    )
    with pytest.raises(UsageError, match="'anna' matches several candidates: Anna (Lee|Berg), Anna (Lee|Berg)") as err:
        workspace.forget("anna", NOW)
    assert err.value.exit_code == 2
    assert workspace.store.candidate("Anna Lee") and workspace.store.candidate("Anna Berg")
    assert workspace.forget("anna b", NOW)[0] == "Anna Berg"


def test_a_snooze_more_than_a_year_ahead_is_refused(workspace: Workspace) -> None:
    with pytest.raises(UsageError, match="more than a year ahead") as err:
        workspace.snooze("Tom Becker", date(9999, 12, 31), "", NOW)
    assert err.value.exit_code == 2
    assert workspace.store.snoozes() == []
    assert workspace.snooze("Tom Becker", date(2027, 11, 1), "", NOW).status is Status.SNOOZED


def test_a_far_snooze_already_stored_does_not_break_every_read(workspace: Workspace) -> None:
    workspace.store.set_snooze(Snooze("Tom Becker", date.max, "", since=NOW))
    workspace.store.set_snooze(Snooze("Grace Liu", date(9999, 12, 30), "", since=None))
    states = {s.candidate.name: s for s in workspace.evaluate(NOW)}
    assert states["Tom Becker"].status is Status.SNOOZED
    workspace.report(NOW)
    workspace.forget("Tom Becker", NOW)  # and the store recovers


@pytest.mark.parametrize("value", ["9999-12-31T23:00Z", "0001-01-01T00:00Z", "2200-01-01T00:00:00+00:00"])
def test_an_absurd_now_is_refused(value: str) -> None:
    with pytest.raises(UsageError, match="years from today"):
        parse_now(value)


def test_a_pulled_or_snoozed_candidate_is_not_chased_without_force(workspace: Workspace) -> None:
    workspace.pull("Tom Becker", NOW)
    state = workspace.state_of("Tom Becker", NOW)
    with pytest.raises(ActionRefused, match="Tom Becker was pulled from the campaign; use --force"):
        workspace.chaser_draft(state)
    assert workspace.chaser_draft(state, force=True).to
    workspace.snooze("Grace Liu", date(2026, 12, 4), "", NOW)
    state = workspace.state_of("Grace Liu", NOW)
    with pytest.raises(ActionRefused, match="Grace Liu is snoozed until 2026-12-04; use --force") as err:
        workspace.chaser_draft(state)
    assert err.value.exit_code == 3
    assert workspace.chaser_draft(state, force=True).to


def test_rows_of_the_same_name_are_merged_and_counted_once(tmp_path: Path, workspace: Workspace) -> None:
    from inbox_watch.roster import read_roster

    roster = tmp_path / "dup.csv"
    roster.write_text(
        "name,email,phone,role,employer,employer_email,stage\n"
        "Zoë O'Brien,zoe@example.com,07700 100001,Dev,Acme,hr@acme.example,screen\n"
        "zoë  o'brien,zoe2@example.com,,,,boss@acme.example,\n"
        "Bob,bob@example.com,,,,,\n",
        encoding="utf-8",
    )
    notes: list[str] = []
    candidates = read_roster(roster, notes)
    assert [c.name for c in candidates] == ["Zoë O'Brien", "Bob"]
    zoe = candidates[0]
    assert zoe.emails == ("zoe@example.com", "zoe2@example.com")
    assert zoe.employer_emails == ("hr@acme.example", "boss@acme.example")
    assert (zoe.phone, zoe.role, zoe.stage) == ("07700 100001", "Dev", "screen")
    assert notes == [f"{roster}:3: zoë o'brien is also on line 2: merged into one candidate"]
    assert workspace.store.upsert_candidates(candidates) == (2, 0)
    stored = workspace.store.candidate("Zoë O'Brien")
    assert stored is not None and "zoe2@example.com" in stored.emails


def test_a_repeated_email_column_adds_its_addresses_and_another_repeat_is_refused(tmp_path: Path) -> None:
    from inbox_watch.roster import read_roster

    roster = tmp_path / "dupcol.csv"
    roster.write_text("name,email,email\nX,x@example.com,y@example.com\n")
    (x,) = read_roster(roster)
    assert x.emails == ("x@example.com", "y@example.com")
    roster.write_text("name,email,role,Role\nX,x@example.com,1,2\n")
    with pytest.raises(UsageError, match="'role' appears more than once"):
        read_roster(roster)


def _two_candidates(tmp_path: Path) -> Workspace:
    from inbox_watch.config import Config, RecruiterConfig
    from inbox_watch.models import Cursor, SyncBatch
    from tests.builders import SAM, SLOTS, msg

    config = Config(path=None, recruiter=RecruiterConfig("Sam Carter", (SAM,)), store_path=tmp_path / "store.json")
    workspace = Workspace.open(config)
    workspace.store.upsert_candidates(
        [
            Candidate(name="Ann Lee", emails=("ann@example.com",)),
            Candidate(name="Bob Smith", emails=("bob@example.com",)),
        ]
    )
    to_ann = msg("2026-11-23 10:00", SAM, "ann@example.com", "Ann: slots", SLOTS)
    from_ann = msg("2026-11-23 11:00", "ann@example.com", SAM, "Re: Ann: slots", "Tue works", reply_to=to_ann)
    to_bob = msg("2026-11-23 10:00", SAM, "bob@example.com", "Bob: slots", SLOTS)
    from_bob = msg(
        "2026-11-23 12:00", "bob@example.com", SAM, "Re: Bob: slots",
        "Sorry, annual leave until Monday; I am in Leeds then. Tuesday 10:00 works.", reply_to=to_bob,
    )  # fmt: skip
    group = msg("2026-11-24 10:00", SAM, ("ann@example.com", "bob@example.com"), "Panel day", SLOTS)
    ann_in_group = msg("2026-11-24 11:00", "ann@example.com", SAM, "Re: Panel day", "I can do it", reply_to=group)
    workspace.store.apply_sync(
        SyncBatch("work", (to_ann, from_ann, to_bob, from_bob, group, ann_in_group), Cursor("work", "c"), full=True),
        at=NOW,
    )
    return workspace


def test_forget_erases_exactly_the_candidates_own_mail(tmp_path: Path) -> None:
    """forget "Ann Lee" keeps Bob Smith's reply that mentions "annual leave" and "Leeds", and the
    group email that is Bob's too; Ann's own reply in the group thread goes, so it can never
    pass for Bob's answer."""
    workspace = _two_candidates(tmp_path)
    later = datetime(2026, 11, 26, 12, tzinfo=UTC)
    before = {s.candidate.name: s for s in workspace.evaluate(later)}["Bob Smith"]
    name, counts = workspace.forget("Ann Lee", later)
    assert (name, counts["candidates"], counts["messages"]) == ("Ann Lee", 1, 3)
    subjects = sorted(m.subject for m in workspace.store.messages())
    assert subjects == ["Bob: slots", "Panel day", "Re: Bob: slots"]
    after = {s.candidate.name: s for s in workspace.evaluate(later)}
    assert list(after) == ["Bob Smith"]
    assert (after["Bob Smith"].status, after["Bob Smith"].waiting_since) == (before.status, before.waiting_since)
    assert before.status is not Status.REPLIED  # the group email waits for his answer
