"""The store contract: the same calls give the same answers on the TinyDB file and on the team's
PostgreSQL (a real server, tests/providers/postgres.py). Whatever the sync, the outbox and the
front ends rely on is checked here against both."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from inbox_watch import outbox
from inbox_watch.models import (
    ActionKind,
    ActionMode,
    ActionState,
    Candidate,
    Cursor,
    OutgoingMessage,
    Snooze,
    SyncBatch,
    Touch,
)
from inbox_watch.store import Store
from tests.builders import RECRUITER, SAM, SLOTS, jane, msg

NOW = datetime(2026, 11, 25, 12, tzinfo=UTC)


@pytest.fixture(params=["tinydb", "postgres"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Any]:
    if request.param == "tinydb":
        yield Store(tmp_path / "store.json")
        return
    from inbox_watch.store_pg import PgStore

    server = request.getfixturevalue("postgres_server")
    pg = PgStore(server.new_database(), recruiter=RECRUITER, local=tmp_path / "store.json", check=False)
    pg.init()
    try:
        yield pg
    finally:
        pg.close()


def _chaser(candidate: str = "Jane Doe", mode: ActionMode = ActionMode.SEND) -> Any:
    return dict(
        kind=ActionKind.CHASER,
        mode=mode,
        candidate=candidate,
        account="work",
        message=OutgoingMessage(
            from_addr=SAM, to=("jane@example.com",), subject="Re: Slots", body="Hi Jane", message_id="<x@a.example>"
        ),
        now=NOW,
    )


def test_candidates_are_added_then_updated_by_name(store: Any) -> None:
    assert store.upsert_candidates([jane(), Candidate(name="Bob Ray", emails=("bob@example.com",))]) == (2, 0)
    assert store.upsert_candidates([jane(role="Senior Analyst")]) == (0, 1)
    assert store.candidate("jane  DOE").role == "Senior Analyst"
    assert sorted(c.name for c in store.candidates()) == ["Bob Ray", "Jane Doe"]
    assert store.candidate("Nobody") is None
    # The roster's timezone column is kept (call times in the candidate's own clock).
    store.upsert_candidates([jane(timezone="Asia/Shanghai")])
    assert store.candidate("Jane Doe").timezone == "Asia/Shanghai"


def test_a_sync_pass_stores_mail_and_cursor_and_a_repeat_doubles_nothing(store: Any) -> None:
    sent = msg("2026-11-23 10:00", SAM, "jane@example.com", "Slots", SLOTS, tags=("Ann Lee",))
    other = msg("2026-11-23 11:00", "bob@example.com", SAM, "Hello", "Hi")
    batch = SyncBatch("work", (sent, other), Cursor("work", "c1"))
    assert store.apply_sync(batch, at=NOW, classes={sent.id: ["scheduling", 1]}) == (2, 0)
    assert store.apply_sync(batch, at=NOW) == (0, 2)  # the same pass again (a crash before the cursor)
    assert store.message_count() == 2
    assert store.cursor("work") == Cursor("work", "c1")
    assert store.cursor("other") is None
    assert sorted(m.id for m in store.messages()) == sorted([sent.id, other.id])
    assert next(m for m in store.messages() if m.id == sent.id) == sent  # every field, the excerpt too
    assert [c.name for c in store.candidates()] == ["Ann Lee"]  # created from the tag
    status = store.sync_status()
    assert [(s["account"], s["last_error"]) for s in status] == [("work", "")] and "last_sync" in status[0]


def test_classes_are_kept_beside_their_messages(store: Any) -> None:
    sent = msg("2026-11-23 10:00", SAM, "jane@example.com", "Slots", SLOTS)
    store.apply_sync(SyncBatch("work", (sent,), Cursor("work", "c1")), at=NOW, classes={sent.id: ["scheduling", 1]})
    messages, classes = store.messages_and_classes()
    assert classes[(messages[0].account, sent.id)] == ["scheduling", 1]


def test_removed_and_full_sync_drop_what_the_mailbox_no_longer_has(store: Any) -> None:
    a, b, c = (msg("2026-11-23 10:00", SAM, f"c{i}@example.com", f"S{i}", SLOTS) for i in range(3))
    store.apply_sync(SyncBatch("work", (a, b, c), Cursor("work", "1")), at=NOW)
    store.apply_sync(SyncBatch("work", (), Cursor("work", "2"), removed=(a.id,)), at=NOW)
    assert sorted(m.id for m in store.messages()) == sorted([b.id, c.id])
    store.apply_sync(SyncBatch("work", (c,), Cursor("work", "3"), full=True), at=NOW)
    assert [m.id for m in store.messages()] == [c.id]
    assert store.cursor("work") == Cursor("work", "3")


def test_messages_from_an_address_after_a_moment(store: Any) -> None:
    early = msg("2026-11-23 09:00", "jane@example.com", SAM, "Re: Slots", "yes")
    late = msg("2026-11-24 09:00", "jane@example.com", SAM, "Re: Slots", "Tuesday")
    other = msg("2026-11-24 10:00", "bob@example.com", SAM, "Hi", "hi")
    store.apply_sync(SyncBatch("work", (late, early, other), Cursor("work", "1")), at=NOW)
    found = store.messages_from(["JANE@example.com"], after=early.date)
    assert [m.id for m in found] == [late.id]
    assert store.messages_from([], after=early.date) == []


def test_a_failed_sync_is_recorded_and_a_later_success_clears_it(store: Any) -> None:
    store.record_sync_error("work", "login refused", at=NOW)
    assert store.sync_status()[0]["last_error"] == "login refused"
    assert "last_sync" not in store.sync_status()[0]
    store.apply_sync(SyncBatch("work", (), Cursor("work", "1")), at=NOW + timedelta(minutes=5))
    assert store.sync_status()[0]["last_error"] == ""
    assert datetime.fromisoformat(store.sync_status()[0]["last_sync"]) == NOW + timedelta(minutes=5)


def test_touches_snoozes_and_pulls(store: Any) -> None:
    touch = Touch("Jane Doe", "call", NOW, "left voicemail")
    store.add_touch(touch)
    assert store.touches() == [touch]
    first = Snooze("Jane Doe", date(2026, 11, 27), "ill", since=NOW)
    second = Snooze("Jane Doe", date(2026, 12, 4), "on holiday", since=NOW + timedelta(days=6))
    store.set_snooze(first)
    store.set_snooze(second)
    assert store.snoozes() == [first, second]
    store.set_pulled("Jane Doe")
    assert store.pulled() == frozenset({"Jane Doe"})
    store.set_pulled("jane doe", False)
    assert store.pulled() == frozenset()


def test_an_action_is_claimed_once_and_a_stale_claim_is_taken_up(store: Any) -> None:
    action = outbox.enqueue(store, **_chaser())
    assert [a.id for a in store.actions(state=ActionState.QUEUED)] == [action.id]
    claimed = store.claim_action(action.id, NOW, timedelta(minutes=10))
    assert claimed is not None and claimed.state is ActionState.SENDING
    assert store.claim_action(action.id, NOW + timedelta(minutes=1), timedelta(minutes=10)) is None
    again = store.claim_action(action.id, NOW + timedelta(minutes=11), timedelta(minutes=10))
    assert again is not None  # the first claimer died
    store.update_action(again.__class__(**{**_fields(again), "state": ActionState.DONE, "done_at": NOW}))
    assert store.actions(state=ActionState.QUEUED) == []
    assert [a.state for a in store.actions()] == [ActionState.DONE]
    assert store.claim_action(action.id, NOW + timedelta(hours=1), timedelta(minutes=10)) is None
    assert outbox.cancel(store, action.id) is False


def test_a_refused_send_keeps_the_addresses_the_server_refused(store: Any) -> None:
    """The candidate shows a refused address as failing: both stores must keep it on the action."""
    action = outbox.enqueue(store, **_chaser())
    store.update_action(
        action.__class__(**{**_fields(action), "state": ActionState.FAILED, "refused": ("jane@example.com",)})
    )
    assert [a.refused for a in store.actions()] == [("jane@example.com",)]


def test_a_queued_action_can_be_cancelled(store: Any) -> None:
    action = outbox.enqueue(store, **_chaser(mode=ActionMode.DRAFT))
    assert outbox.cancel(store, action.id) is True
    assert [a.state for a in store.actions()] == [ActionState.CANCELLED]


def test_heartbeat(store: Any) -> None:
    assert store.heartbeat() is None
    store.set_heartbeat(4242, NOW)
    assert store.heartbeat() == (4242, NOW)
    store.clear_heartbeat()
    assert store.heartbeat() is None


def _forget(store: Any, name: str) -> dict[str, int]:
    """What `inbox-watch forget NAME --yes` does: the engine decides, the store erases."""
    from inbox_watch.config import Config
    from inbox_watch.service import Workspace

    return Workspace(Config(path=None, recruiter=RECRUITER, store_path=store.path), store).forget(name, NOW)[1]


def test_forget_erases_the_candidate_their_thread_logs_and_outbox(store: Any) -> None:
    store.upsert_candidates([jane(), Candidate(name="Bob Ray", emails=("bob@example.com",))])
    sent = msg("2026-11-23 10:00", SAM, "jane@example.com", "Slots", SLOTS)
    reply = msg("2026-11-23 12:00", "jane.home@example.net", SAM, "Re: Slots", "Tuesday!", reply_to=sent)
    bob = msg("2026-11-23 10:00", SAM, "bob@example.com", "Slots for Bob", "Hi Bob, are you free Tuesday at 10?")
    store.apply_sync(SyncBatch("work", (sent, reply, bob), Cursor("work", "c")), at=NOW)
    store.add_touch(Touch("Jane Doe", "call", NOW))
    store.set_snooze(Snooze("Jane Doe", date(2026, 11, 27), "ill", since=NOW))
    store.set_pulled("Jane Doe")
    outbox.enqueue(store, **_chaser())
    row = ("1", "Jane Doe", "silent")
    assert store.save_ranking([row], at=NOW, read_from=store.mail_file_key())
    counts = _forget(store, "jane doe")
    assert counts["candidates"] == 1 and counts["messages"] == 2 and counts["touches"] == 1
    assert counts["snoozes"] == 1 and counts["pulled"] == 1 and counts["outbox"] == 1
    assert [m.id for m in store.messages()] == [bob.id]
    assert [c.name for c in store.candidates()] == ["Bob Ray"]
    assert store.touches() == [] and store.snoozes() == [] and store.actions() == []
    assert store.saved_ranking() is None


def test_forget_keeps_another_candidates_reply_and_a_forget_list_until_imported_again(store: Any) -> None:
    from dataclasses import replace

    from inbox_watch.sync import without_forgotten

    ann = Candidate(name="Ann Lee", emails=("ann@example.com",))
    store.upsert_candidates([ann, Candidate(name="Bob Smith", emails=("bob@example.com",))])
    to_ann = msg("2026-11-23 10:00", SAM, "ann@example.com", "Ann's slots", SLOTS)
    to_bob = msg("2026-11-23 10:00", SAM, "bob@example.com", "Bob's slots", SLOTS)
    from_bob = msg(
        "2026-11-23 12:00", "bob@example.com", SAM, "Re: Bob's slots",
        "Annual leave until Monday, then in Leeds; Tuesday works.", reply_to=to_bob,
    )  # fmt: skip
    store.apply_sync(SyncBatch("work", (to_ann, to_bob, from_bob), Cursor("work", "c")), at=NOW)
    assert _forget(store, "Ann Lee")["messages"] == 1
    assert sorted(m.subject for m in store.messages()) == ["Bob's slots", "Re: Bob's slots"]
    forgotten = store.forgotten()
    from_ann = msg("2026-11-24 09:00", "ann@example.com", SAM, "Hello again", "Still keen")
    tagged = replace(msg("2026-11-24 09:30", SAM, "x@example.org", "Notes"), tags=("Ann Lee",))
    assert forgotten.hits(to_ann) and forgotten.hits(from_ann) and forgotten.hits(tagged)
    assert not forgotten.hits(from_bob)
    full = SyncBatch("work", (to_ann, to_bob, from_bob, from_ann, tagged), Cursor("work", "d"), full=True)
    assert [m.id for m in without_forgotten(store, full).messages] == [to_bob.id, from_bob.id]
    store.upsert_candidates([ann])  # imported anew
    assert not store.forgotten().hits(from_ann)
    assert len(without_forgotten(store, full).messages) == 5


def test_the_saved_ranking_never_outlives_a_change(store: Any) -> None:
    store.upsert_candidates([jane()])
    before = store.mail_file_key()
    store.add_touch(Touch("Jane Doe", "call", NOW))
    assert not store.save_ranking([("1", "Jane Doe")], at=NOW, read_from=before)
    assert store.save_ranking([("1", "Jane Doe")], at=NOW, read_from=store.mail_file_key())
    assert store.saved_ranking() == (NOW, [("1", "Jane Doe")])


def _fields(action: Any) -> dict[str, Any]:
    return {name: getattr(action, name) for name in action.__slots__}


def test_mail_kept_as_metadata_is_apart_from_the_messages_and_moves_when_read_whole(store: Any) -> None:
    """Mail that concerns no one is stored as metadata (keyed addresses, threading, no subject
    or text): never among ``messages``, read back by ``metadata``; read whole later (a late
    candidate), it moves; a full sync drops what the mailbox no longer has, of both kinds."""
    from inbox_watch.engine.relevance import address_hasher, metadata

    keyed = address_hasher(store.address_key())
    assert store.address_key() == store.address_key()  # made once, then kept
    slots = msg("2026-11-23 10:00", SAM, "jane@example.com", SLOTS)
    other = msg("2026-11-23 11:00", "alex@else.example", SAM, "Dinner", "my new flat", reply_to=slots)
    kept = metadata(other, keyed)
    store.apply_sync(SyncBatch("work", (slots, kept), Cursor("work", "1")), at=NOW)
    assert [m.message_id for m in store.messages()] == [slots.message_id]
    assert store.message_count() == 2  # of both kinds
    [back] = store.metadata()
    assert back.headers_only and back.id == other.id and back.message_id == other.message_id
    assert back.in_reply_to == slots.message_id and back.references == other.references
    assert back.from_addr == keyed("alex@else.example") and SAM not in (back.from_addr, *back.to)
    assert back.subject == back.text == "" and back.date == other.date
    # Read whole later: it leaves the metadata.
    new, updated = store.apply_sync(SyncBatch("work", (other,), Cursor("work", "2")), at=NOW)
    assert (new, updated) == (0, 1)
    assert {m.message_id for m in store.messages()} == {slots.message_id, other.message_id}
    assert store.metadata() == []
    # Kept as metadata again; then a full sync that finds only the slots drops it.
    store.apply_sync(SyncBatch("work", (kept,), Cursor("work", "3")), at=NOW)
    assert [m.id for m in store.messages()] == [slots.id] and [m.id for m in store.metadata()] == [other.id]
    store.apply_sync(SyncBatch("work", (slots,), Cursor("work", "4"), full=True), at=NOW)
    assert [m.id for m in store.messages()] == [slots.id] and store.metadata() == []
