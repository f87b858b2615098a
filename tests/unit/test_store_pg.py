"""Team mode's store on a real PostgreSQL: the schema, what teammates share, faults, the claim."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest

from inbox_watch import outbox
from inbox_watch.config import RecruiterConfig, parse_config
from inbox_watch.errors import ActionRefused, ConfigError, StoreError, StoreUnavailable
from inbox_watch.models import ActionKind, ActionMode, ActionState, Candidate, Cursor, OutgoingMessage, SyncBatch
from inbox_watch.store_pg import PgStore
from tests.builders import RECRUITER, SAM, SLOTS, jane, msg
from tests.providers.dovecot import free_port
from tests.providers.postgres import Postgres

NOW = datetime(2026, 11, 25, 12, tzinfo=UTC)
ALEX = RecruiterConfig(name="Alex Moore", addresses=("alex@agency.example",))


def _store(url: str, tmp_path: Path, recruiter: RecruiterConfig = RECRUITER, **kw: Any) -> PgStore:
    return PgStore(url, recruiter=recruiter, local=tmp_path / recruiter.name / "store.json", **kw)


@pytest.fixture
def url(postgres_server: Postgres) -> str:
    return postgres_server.new_database()


def test_without_a_schema_the_store_says_to_run_store_init(url: str, tmp_path: Path) -> None:
    with pytest.raises(StoreUnavailable, match=r"run `inbox-watch store init`") as caught:
        _store(url, tmp_path)
    assert caught.value.exit_code == 2
    store = _store(url, tmp_path, check=False)
    assert store.init() == (None, 3)
    assert store.init() == (3, 3)  # again: nothing to do
    _store(url, tmp_path).close()


def test_a_version_1_database_gains_the_candidates_timezone(url: str, tmp_path: Path) -> None:
    from inbox_watch.models import Candidate

    store = _store(url, tmp_path, check=False)
    store.init()
    store.upsert_candidates([Candidate("Li Wei", ("li@example.com",), "+86 138 0013 8000")])
    with psycopg.connect(url, autocommit=True) as conn:  # as version 1 left it
        conn.execute("ALTER TABLE candidates DROP COLUMN timezone")
        conn.execute("UPDATE inbox_watch_schema SET version = 1")
    with pytest.raises(StoreUnavailable, match="schema version 1: run `inbox-watch store init`"):
        _store(url, tmp_path)
    assert _store(url, tmp_path, check=False).init() == (1, 3)
    migrated = _store(url, tmp_path)
    assert migrated.candidate("Li Wei").timezone == ""  # kept, with no zone yet
    migrated.upsert_candidates([Candidate("Li Wei", ("li@example.com",), timezone="Asia/Shanghai")])
    assert migrated.candidate("Li Wei").timezone == "Asia/Shanghai"
    assert migrated.candidate("Li Wei").phone == "+86 138 0013 8000"


def test_a_newer_schema_is_refused_in_one_line(url: str, tmp_path: Path) -> None:
    _store(url, tmp_path, check=False).init()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("UPDATE inbox_watch_schema SET version = 7")
    for attempt in (lambda: _store(url, tmp_path), lambda: _store(url, tmp_path, check=False).init()):
        with pytest.raises(StoreUnavailable) as caught:
            attempt()
        assert "schema version 7, newer than this inbox-watch understands (3): upgrade inbox-watch" in str(caught.value)
        assert "\n" not in str(caught.value)


def test_a_database_that_is_down_is_one_line_without_the_password(tmp_path: Path) -> None:
    url = f"postgresql://sam@127.0.0.1:{free_port()}/agency"
    with pytest.raises(StoreUnavailable) as caught:
        _store(url, tmp_path, password="s3cret-Pa55")
    text = str(caught.value)
    assert text.startswith(f"PostgreSQL sam@127.0.0.1:{url.split(':')[2].split('/')[0]}/agency: cannot reach")
    assert "s3cret" not in text and "\n" not in text and caught.value.exit_code == 2


def test_one_row_per_person_matched_by_any_address(url: str, tmp_path: Path) -> None:
    sam = _store(url, tmp_path, check=False)
    sam.init()
    alex = _store(url, tmp_path, ALEX)
    sam.upsert_candidates([jane()])
    # Alex's roster spells her differently but has her address, and a second one.
    assert alex.upsert_candidates([Candidate(name="Jane M. Doe", emails=("jane@example.com", "jd@home.example"))]) == (
        0,
        1,
    )
    [row] = sam.candidates()
    assert row.name == "Jane Doe" and row.emails == ("jane@example.com", "jd@home.example")
    assert alex.candidate_owners() == {"Jane Doe": "Sam Carter"}  # she stays Sam's import


def test_mail_stays_with_its_recruiter_and_excerpts_only_when_shared(url: str, tmp_path: Path) -> None:
    sam = _store(url, tmp_path, check=False)
    sam.init()
    alex = _store(url, tmp_path, ALEX)
    sent = msg("2026-11-23 10:00", SAM, "jane@example.com", "Slots", SLOTS)
    sam.apply_sync(SyncBatch("work", (sent,), Cursor("work", "1")), at=NOW)
    theirs = msg("2026-11-23 11:00", "alex@agency.example", "bob@example.com", "Slots for Bob", "Tuesday at 10?")
    alex.apply_sync(SyncBatch("work", (theirs,), Cursor("work", "9")), at=NOW)  # both call it "work"
    seen = {m.subject: m for m in alex.messages()}
    assert seen["Slots"].account == "Sam Carter/work" and seen["Slots"].text == ""  # Sam does not share excerpts
    assert seen["Slots for Bob"].account == "work" and seen["Slots for Bob"].text == "Tuesday at 10?"
    assert alex.owner_of_account("Sam Carter/work") == "Sam Carter"
    assert alex.cursor("work") == Cursor("work", "9") and sam.cursor("work") == Cursor("work", "1")
    assert [s["account"] for s in alex.sync_status()] == ["work"]
    sharing = _store(url, tmp_path, share_excerpts=True)  # Sam turns on [team] share_excerpts
    assert {m.subject: m for m in alex.messages()}["Slots"].text == SLOTS
    assert sharing.team_addresses() == (SAM, "alex@agency.example")


def test_each_recruiter_sees_only_their_own_outbox(url: str, tmp_path: Path) -> None:
    sam = _store(url, tmp_path, check=False)
    sam.init()
    alex = _store(url, tmp_path, ALEX)
    mine = outbox.enqueue(sam, **_chaser(ActionMode.DRAFT))
    assert [a.id for a in sam.actions()] == [mine.id] and alex.actions() == []
    assert alex.claim_action(mine.id, NOW, timedelta(minutes=10)) is None


def test_a_sync_pass_cut_off_by_the_database_stores_nothing_and_the_next_catches_up(tmp_path: Path) -> None:
    server = Postgres().start()  # a server of its own: this test stops it
    try:
        url = server.new_database("agency")
        store = _store(url, tmp_path, check=False)
        store.init()
        first = tuple(msg("2026-11-23 10:00", SAM, f"c{i}@example.com", f"S{i}", SLOTS) for i in range(3))
        store.apply_sync(SyncBatch("work", first, Cursor("work", "1")), at=NOW)
        server.stop()
        more = (*first, msg("2026-11-24 10:00", "c1@example.com", SAM, "Re: S1", "yes"))
        with pytest.raises(StoreError, match="cannot reach the team database"):
            store.apply_sync(SyncBatch("work", more, Cursor("work", "2")), at=NOW)
        server.start()
        assert store.cursor("work") == Cursor("work", "1")  # the cut-off pass left nothing
        assert store.apply_sync(SyncBatch("work", more, Cursor("work", "2")), at=NOW) == (1, 3)
        assert store.message_count() == 4 and store.cursor("work") == Cursor("work", "2")
        store.close()
    finally:
        server.remove()


def test_twenty_recruiters_sending_at_once_queue_exactly_one(url: str, tmp_path: Path) -> None:
    _store(url, tmp_path, check=False).init()
    people = [RecruiterConfig(name=f"R{i}", addresses=(f"r{i}@agency.example",)) for i in range(20)]
    stores = [_store(url, tmp_path, p) for p in people]
    # An earlier chaser, cancelled before it went out, counts for nothing (and its claim row exists).
    assert outbox.cancel(stores[0], outbox.enqueue(stores[0], **_chaser(ActionMode.SEND)).id)
    start = threading.Barrier(len(stores))
    outcomes: list[str] = []

    def refuse_after_another(last: Any) -> None:
        if last is not None:
            raise ActionRefused(f"{last.recruiter} chased Jane Doe")

    def press_send(store: PgStore) -> None:
        start.wait()
        try:
            outbox.enqueue(store, **_chaser(ActionMode.SEND), guard=refuse_after_another)
            outcomes.append("queued")
        except ActionRefused as exc:
            outcomes.append(str(exc))

    threads = [threading.Thread(target=press_send, args=(s,)) for s in stores]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert outcomes.count("queued") == 1 and len(outcomes) == 20
    assert sum(len(s.actions(state=ActionState.QUEUED)) for s in stores) == 1


def test_config_refuses_both_path_and_url_a_password_in_the_url_and_no_addresses(tmp_path: Path) -> None:
    base = '[recruiter]\nname = "Sam"\naddresses = ["sam@a.example"]\n'
    with pytest.raises(ConfigError, match="store.path and store.url are both set"):
        parse_config(base + '[store]\npath = "s.json"\nurl = "postgresql://sam@db/agency"\n', tmp_path / "c.toml")
    with pytest.raises(ConfigError, match="must not carry the password") as caught:
        parse_config(base + '[store]\nurl = "postgresql://sam:hunter2@db/agency"\n', tmp_path / "c.toml")
    assert "hunter2" not in str(caught.value)
    with pytest.raises(ConfigError, match="needs \\[recruiter\\] addresses"):
        parse_config('[store]\nurl = "postgresql://sam@db/agency"\n', tmp_path / "c.toml")
    with pytest.raises(ConfigError, match="store.url"):
        parse_config(base + '[store]\nurl = "mysql://sam@db/agency"\n', tmp_path / "c.toml")
    config = parse_config(
        base + '[store]\nurl = "postgresql://sam@db/agency?sslmode=require"\npassword_env = "PGPW"\n'
        "[team]\nshare_excerpts = true\n",
        tmp_path / "c.toml",
    )
    assert config.team and config.store_password_env == "PGPW" and config.share_excerpts
    assert not parse_config(base, tmp_path / "c.toml").team


def _chaser(mode: ActionMode) -> Any:
    return dict(
        kind=ActionKind.CHASER,
        mode=mode,
        candidate="Jane Doe",
        account="work",
        message=OutgoingMessage(
            from_addr=SAM, to=("jane@example.com",), subject="Re: Slots", body="Hi Jane", message_id="<x@a.example>"
        ),
        now=NOW,
    )
