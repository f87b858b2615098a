"""The store: private, atomic, safe with two processes, forgetful on request."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import UTC, date, datetime
from pathlib import Path

import orjson
import pytest

from inbox_watch import outbox
from inbox_watch.errors import StoreError
from inbox_watch.models import ActionKind, ActionMode, Cursor, OutgoingMessage, Snooze, SyncBatch, Touch
from inbox_watch.store import Store
from tests.builders import SAM, SLOTS, jane, msg

NOW = datetime(2026, 11, 25, 12, tzinfo=UTC)
ROOT = Path(__file__).resolve().parents[2]


def forget(store: Store, name: str) -> dict[str, int]:
    """What `inbox-watch forget NAME --yes` does: the engine decides, the store erases."""
    from inbox_watch.config import Config, RecruiterConfig
    from inbox_watch.service import Workspace

    config = Config(path=None, recruiter=RecruiterConfig("Sam Carter", (SAM,)), store_path=store.path)
    return Workspace(config, store).forget(name, NOW)[1]


def test_files_are_private_and_versioned(tmp_path: Path) -> None:
    store = Store(tmp_path / "store.json")
    store.upsert_candidates([jane()])
    store.set_heartbeat(1, NOW)
    assert os.stat(store.path).st_mode & 0o777 == 0o600
    assert os.stat(store.state_path).st_mode & 0o777 == 0o600
    data = orjson.loads(store.path.read_bytes())
    assert data["meta"]["1"]["schema"] == 1


def test_newer_schema_is_refused_with_one_line(tmp_path: Path) -> None:
    path = tmp_path / "store.json"
    path.write_bytes(orjson.dumps({"meta": {"1": {"schema": 99}}}))
    with pytest.raises(StoreError, match="newer inbox-watch"):
        Store(path).upsert_candidates([jane()])


def test_damaged_file_gives_one_clear_error_and_is_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "store.json"
    path.write_bytes(b'{"candidates": {"1": {"na')
    with pytest.raises(StoreError, match="damaged"):
        Store(path).candidates()
    assert path.read_bytes() == b'{"candidates": {"1": {"na'


def test_sync_batch_and_cursor_are_written_together(tmp_path: Path) -> None:
    store = Store(tmp_path / "store.json")
    messages = tuple(
        msg("2026-11-23 10:00", SAM, f"c{i}@example.com", f"S{i}", SLOTS, tags=("Ann Lee",) if i == 0 else ())
        for i in range(3)
    )
    new, updated = store.apply_sync(SyncBatch("work", messages, Cursor("work", "c1"), full=True), at=NOW)
    assert (new, updated) == (3, 0)
    assert store.cursor("work") == Cursor("work", "c1")
    assert [c.name for c in store.candidates()] == ["Ann Lee"]  # created from the tag
    # The same messages again update in place; nothing is stored twice.
    new, updated = store.apply_sync(SyncBatch("work", messages[:1], Cursor("work", "c2")), at=NOW)
    assert (new, updated) == (0, 1)
    assert store.message_count() == 3
    # A full sync drops what the mailbox no longer has.
    store.apply_sync(SyncBatch("work", messages[:2], Cursor("work", "c3"), full=True), at=NOW)
    assert store.message_count() == 2


def test_idle_sync_rewrites_only_the_small_state_file(tmp_path: Path) -> None:
    store = Store(tmp_path / "store.json")
    messages = tuple(msg("2026-11-23 10:00", SAM, f"c{i}@example.com", f"S{i}", SLOTS) for i in range(50))
    store.apply_sync(SyncBatch("work", messages, Cursor("work", "c1"), full=True), at=NOW)
    before = os.stat(store.path)
    store.apply_sync(SyncBatch("work", (), Cursor("work", "c2")), at=NOW)
    after = os.stat(store.path)
    assert (before.st_ino, before.st_mtime_ns) == (after.st_ino, after.st_mtime_ns)
    assert store.cursor("work") == Cursor("work", "c2")
    assert store.sync_status()[0]["last_sync"] == NOW.isoformat()


def test_forget_erases_every_trace(tmp_path: Path) -> None:
    store = Store(tmp_path / "store.json")
    store.upsert_candidates([jane()])
    sent = msg("2026-11-23 10:00", SAM, "jane@example.com", "Slots", SLOTS)
    other = msg("2026-11-23 10:00", SAM, "bob@example.com", "Slots for Bob", "Hi Bob, are you free Tuesday at 10?")
    employer = msg("2026-11-23 11:00", "hr@acme.example", SAM, "Shortlist", "Any news from Jane Doe?")
    store.apply_sync(SyncBatch("work", (sent, other, employer), Cursor("work", "c")), at=NOW)
    store.add_touch(Touch("Jane Doe", "call", NOW, "left voicemail"))
    store.set_pulled("Jane Doe")
    outbox.enqueue(
        store,
        kind=ActionKind.CHASER,
        mode=ActionMode.DRAFT,
        candidate="Jane Doe",
        account="work",
        message=OutgoingMessage(
            from_addr=SAM,
            to=("jane@example.com",),
            subject="Re: Slots",
            body="Hi Jane",
            message_id="<x@agency.example>",
        ),
        now=NOW,
    )
    row = ("1", "Jane Doe", "Engineer @ Acme", "silent", "2d 1h", "-", "", "chase candidate")
    assert store.save_ranking([row], at=NOW, read_from=store.mail_file_key())
    counts = forget(store, "jane doe")
    assert counts["candidates"] == 1 and counts["messages"] == 2 and counts["touches"] == 1
    assert counts["outbox"] == 1
    for path in (store.path, store.state_path):
        assert b"jane" not in path.read_bytes().lower()
    assert store.message_count() == 1
    assert not store.ranking_path.exists() and store.saved_ranking() is None  # the dashboard's table too


def test_snoozes_keep_when_they_were_set_and_every_earlier_one(tmp_path: Path) -> None:
    store = Store(tmp_path / "store.json")
    first = Snooze("Jane Doe", date(2026, 11, 27), "ill", since=NOW)
    second = Snooze("Jane Doe", date(2026, 12, 4), "on holiday", since=datetime(2026, 12, 1, 9, tzinfo=UTC))
    store.set_snooze(first)
    store.set_snooze(second)
    assert store.snoozes() == [first, second]  # the engine needs every stretch that held the clock
    store.upsert_candidates([jane()])
    assert forget(store, "jane doe")["snoozes"] == 2


def test_saved_ranking_is_private_and_never_outlives_a_change(tmp_path: Path) -> None:
    store = Store(tmp_path / "store.json")
    store.upsert_candidates([jane()])
    row = ("1", "Jane Doe", "-", "silent", "2d 1h", "-", "", "chase candidate")
    before = store.mail_file_key()
    assert store.save_ranking([row], at=NOW, read_from=before)
    assert os.stat(store.ranking_path).st_mode & 0o777 == 0o600
    assert store.saved_ranking() == (NOW, [row])
    # ranked from the file as it was before a change: not kept, the older table stays
    store.add_touch(Touch("Jane Doe", "call", NOW, "left voicemail"))
    newer = ("1", "Jane Doe", "-", "awaiting", "-", "-", "", "wait")
    assert not store.save_ranking([newer], at=NOW, read_from=before)
    assert store.saved_ranking() == (NOW, [row])
    # a damaged or foreign file is no ranking at all, never an error
    for junk in (b"{", b"[]", b'{"v": 99, "at": "x", "rows": []}', b'{"v": 1, "at": "yesterday", "rows": []}'):
        store.ranking_path.write_bytes(junk)
        assert store.saved_ranking() is None


WRITER = """
import sys
from pathlib import Path
from inbox_watch.store import Store
from inbox_watch.models import Touch
from datetime import datetime, UTC
store = Store(Path(sys.argv[1]))
for i in range(int(sys.argv[3])):
    store.add_touch(Touch(sys.argv[2], "call", datetime.now(UTC), str(i)))
"""


def test_two_processes_writing_at_once_lose_nothing(tmp_path: Path) -> None:
    path = tmp_path / "store.json"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    procs = [
        subprocess.Popen([sys.executable, "-c", WRITER, str(path), name, "150"], env=env)
        for name in ("daemon", "dashboard")
    ]
    assert [p.wait(timeout=120) for p in procs] == [0, 0]
    touches = Store(path).touches()
    assert len(touches) == 300
    assert {t.note for t in touches if t.candidate == "daemon"} == {str(i) for i in range(150)}


def test_process_killed_mid_write_leaves_a_readable_file(tmp_path: Path) -> None:
    path = tmp_path / "store.json"
    Store(path).upsert_candidates([jane()])
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-c", WRITER, str(path), "busy", "100000"], env=env)
    time.sleep(1.0)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)
    store = Store(path)
    assert store.candidates()[0].name == "Jane Doe"
    assert len(store.touches()) > 0
    store.add_touch(Touch("after", "text", NOW))  # the lock left behind does not block us


def test_message_summaries_round_trip_through_json_exactly() -> None:
    from inbox_watch.mime import parse_bytes
    from inbox_watch.models import MailMessage
    from tests.conftest import need_corpus

    for path in need_corpus():
        message = parse_bytes(path.read_bytes(), account="work", id=path.name, tags=("Ann Lee",))
        doc = orjson.loads(orjson.dumps({**message.to_dict(), "class": [1, "other", [], False, True]}))
        assert MailMessage.from_dict(doc) == message
        shuffled = dict(reversed(list(doc.items())))  # a document written in another key order
        assert MailMessage.from_dict(shuffled) == message


def test_mail_in_an_escape_charset_is_stored_and_read_back(tmp_path: Path) -> None:
    """charset=unicode_escape used to make a lone surrogate, which the store could not write."""
    from inbox_watch.mime import parse_bytes

    raw = (
        b"From: =?unicode_escape?Q?Jane_=5Cud800?= <jane@example.com>\r\nTo: sam@agency.example\r\n"
        b"Subject: =?unicode_escape?Q?Slots_=5Cudc80?=\r\nMessage-ID: <esc@example.com>\r\n"
        b"Content-Type: text/plain; charset=unicode_escape\r\n\r\nTuesday works \\ud800\r\n"
    )
    message = parse_bytes(raw, account="work", id="INBOX/1/7", folder="INBOX")
    store = Store(tmp_path / "store.json")
    assert store.apply_sync(SyncBatch("work", (message,), Cursor("work", "c1"), full=True), at=NOW) == (1, 0)
    again = Store(tmp_path / "store.json")  # what another process (the dashboard) reads
    [stored] = again.messages()
    assert stored == message
    assert (stored.from_name, stored.subject) == ("Jane \\ud800", "Slots \\udc80")
    assert stored.text == "Tuesday works \\ud800\r\n"
    assert again.cursor("work") == Cursor("work", "c1")


def test_forget_takes_the_whole_thread_but_leaves_another_candidates_mail(tmp_path: Path) -> None:
    """A reply from an address the roster does not know (a personal one), and what follows it,
    is the candidate's too; a message that also involves another candidate stays theirs."""
    from inbox_watch.models import Candidate

    store = Store(tmp_path / "store.json")
    store.upsert_candidates([jane(), Candidate(name="Bob Ray", emails=("bob@example.com",))])
    sent = msg("2026-11-23 10:00", SAM, "jane@example.com", "Slots", SLOTS)
    personal = msg(
        "2026-11-23 12:00", "jd1990@mail.example", SAM, "Re: Slots", "Tue works. 07700 100123", reply_to=sent
    )
    answer = msg("2026-11-23 13:00", SAM, "jd1990@mail.example", "Re: Slots", "Booked.", reply_to=personal)
    to_bob = msg(
        "2026-11-23 14:00", SAM, ("jd1990@mail.example", "bob@example.com"), "Re: Slots", "Both of you", reply_to=answer
    )
    unrelated = msg("2026-11-23 15:00", SAM, "bob@example.com", "Slots for Bob", "Hi Bob, Tuesday at 10?")
    store.apply_sync(SyncBatch("work", (sent, personal, answer, to_bob, unrelated), Cursor("work", "c")), at=NOW)
    counts = forget(store, "Jane Doe")
    assert counts["messages"] == 3
    left = {m.id for m in store.messages()}
    assert left == {to_bob.id, unrelated.id}
    assert b"07700 100123" not in store.path.read_bytes()


def test_a_cached_read_never_outlives_a_write_with_the_same_size_and_time(tmp_path: Path) -> None:
    """Another process replaces the file with one of the same size, and a coarse clock gives it
    the same mtime; the file system would hand the freed inode straight back. The reader must
    still see the new contents."""
    reader, writer = Store(tmp_path / "store.json"), Store(tmp_path / "store.json")
    writer.set_heartbeat(111, NOW)
    assert reader.heartbeat() == (111, NOW)
    before = os.stat(reader.state_path)
    writer.set_heartbeat(222, NOW)
    writer.set_heartbeat(333, NOW)
    after = os.stat(reader.state_path)
    assert after.st_size == before.st_size
    os.utime(reader.state_path, ns=(before.st_atime_ns, before.st_mtime_ns))  # what a coarse clock records
    assert reader.heartbeat() == (333, NOW)


def test_a_crashed_writes_temp_file_is_removed_at_open_and_by_forget(tmp_path: Path) -> None:
    store = Store(tmp_path / "store.json")
    store.upsert_candidates([jane()])
    leftover = tmp_path / ".store.json.k3j4h5.tmp"  # what a write killed before its rename leaves
    leftover.write_bytes(store.path.read_bytes())
    state_leftover = tmp_path / ".store.state.json.x9.tmp"
    state_leftover.write_bytes(b"{}")
    unrelated = tmp_path / ".notes.txt.1.tmp"
    unrelated.write_bytes(b"mine")
    Store(tmp_path / "store.json")  # open: the lock is free, so they go at once
    assert not leftover.exists() and not state_leftover.exists()
    assert unrelated.exists()  # not the store's
    # while another process holds the lock, open leaves them, and forget (under the lock) removes them
    leftover.write_bytes(b"Jane Doe jane@example.com")
    from inbox_watch.filelock import FileLock

    with FileLock(str(store.path) + ".lock", timeout=1):
        held = Store(tmp_path / "store.json")
    assert leftover.exists()
    forget(held, "Jane Doe")
    assert not leftover.exists()


def test_the_store_folder_is_created_private(tmp_path: Path) -> None:
    store = Store(tmp_path / "data" / "inbox-watch" / "store.json")
    store.upsert_candidates([jane()])
    for folder in (tmp_path / "data", tmp_path / "data" / "inbox-watch"):
        assert os.stat(folder).st_mode & 0o777 == 0o700
    assert os.stat(tmp_path).st_mode & 0o777 != 0o700 or True  # an existing folder is left as it is


def _one_line(exc: pytest.ExceptionInfo[StoreError]) -> str:
    text = str(exc.value)
    assert "\n" not in text
    return text


DAMAGED_FILES = {
    "truncated": b'{"candidates": {"1": {"na',
    "empty": b"",
    "blank": b"  \n",
    "a list": b"[1, 2]",
    "a table that is a list": b'{"candidates": []}',
    "a record that is a string": b'{"touches": {"1": "Jane"}}',
    "a record id that is not a number": b'{"candidates": {"x": {"name": "Jane"}}}',
    "a candidate without a name": b'{"candidates": {"1": {"emails": ["j@example.com"]}}}',
    "a name that is a number": b'{"candidates": {"1": {"name": 5}}}',
    "emails that are a string": b'{"candidates": {"1": {"name": "Jane", "emails": "j@example.com"}}}',
    "a schema that is not a number": b'{"meta": {"1": {"schema": "one"}}}',
    "a meta record without a schema": b'{"meta": {"1": {}}}',
    "a message sender that is a number": b'{"messages": {"1": {"account": "w", "id": "1", "message_id": "",'
    b' "date": "2026-11-23T10:00:00+00:00", "from_addr": 5}}}',
    "a message recipient list that is a string": b'{"messages": {"1": {"account": "w", "id": "1", "message_id": "",'
    b' "date": "2026-11-23T10:00:00+00:00", "from_addr": "a@example.com", "to": "b@example.com"}}}',
}
DAMAGED_RECORDS = {  # the file's shape is right; one record is not what its reader expects
    "a message without a date": b'{"messages": {"1": {"account": "w", "id": "1", "message_id": "", "from_addr": ""}}}',
    "a message with a bad date": b'{"messages": {"1": {"account": "w", "id": "1", "message_id": "", "from_addr": "",'
    b' "date": "soon"}}}',
    "a touch with a bad date": b'{"touches": {"1": {"candidate": "Jane", "channel": "call", "at": "soon"}}}',
    "a touch without a channel": b'{"touches": {"1": {"candidate": "Jane", "at": "2026-11-23T10:00:00+00:00"}}}',
    "a snooze without a date": b'{"snoozes": {"1": {"candidate": "jane", "name": "Jane"}}}',
    "a pulled record without a name": b'{"pulled": {"1": {"candidate": "jane"}}}',
}


@pytest.mark.parametrize("case", sorted(DAMAGED_FILES))
def test_a_wrong_shaped_store_is_one_line_naming_the_file_on_every_read(tmp_path: Path, case: str) -> None:
    path = tmp_path / "store.json"
    path.write_bytes(DAMAGED_FILES[case])
    store = Store(path)
    for read in (store.candidates, store.messages, store.touches, store.snoozes, store.pulled, store.message_count):
        with pytest.raises(StoreError) as err:
            read()
        text = _one_line(err)
        assert text.startswith(f"{path}: the store file is damaged (") and "move it away" in text
    with pytest.raises(StoreError, match="damaged"):
        store.upsert_candidates([jane()])
    assert path.read_bytes() == DAMAGED_FILES[case]  # left alone


@pytest.mark.parametrize("case", sorted(DAMAGED_RECORDS))
def test_a_damaged_record_is_one_line_naming_the_file_not_a_key_error(tmp_path: Path, case: str) -> None:
    from inbox_watch.config import Config
    from inbox_watch.service import Workspace

    path = tmp_path / "store.json"
    path.write_bytes(DAMAGED_RECORDS[case])
    workspace = Workspace.open(Config(path=None, store_path=path))
    with pytest.raises(StoreError) as err:
        workspace.report(NOW)  # what every command reads
    text = _one_line(err)
    assert text.startswith(f"{path}: the store file is damaged (a record ")


def test_the_damaged_message_names_the_backup_kept_after_the_last_sync(tmp_path: Path) -> None:
    store = Store(tmp_path / "store.json")
    store.upsert_candidates([jane()])
    message = msg("2026-11-23 10:00", SAM, "jane@example.com", "Slots", SLOTS)
    store.apply_sync(SyncBatch("work", (message,), Cursor("work", "c1"), full=True), at=NOW)
    assert store.backup_path == tmp_path / "store.json.bak"
    assert os.stat(store.backup_path).st_mode & 0o777 == 0o600
    assert store.backup_path.read_bytes() == store.path.read_bytes()
    store.path.write_bytes(b'{"candidates": {"1": {"na')
    with pytest.raises(StoreError) as err:
        Store(store.path).candidates()
    assert f"cp {store.backup_path} {store.path}" in _one_line(err)
    os.replace(store.backup_path, store.path)  # what the message says to do
    restored = Store(store.path)
    assert [c.name for c in restored.candidates()] == ["Jane Doe"] and restored.messages() == [message]


def test_the_backup_follows_each_pass_and_forget(tmp_path: Path) -> None:
    store = Store(tmp_path / "store.json")
    store.upsert_candidates([jane()])
    assert not store.backup_path.exists()  # no pass yet
    sent = msg("2026-11-23 10:00", SAM, "jane@example.com", "Slots", SLOTS)
    store.apply_sync(SyncBatch("work", (sent,), Cursor("work", "c1"), full=True), at=NOW)
    store.add_touch(Touch("Jane Doe", "call", NOW, "voicemail"))
    assert b"voicemail" not in store.backup_path.read_bytes()
    store.apply_sync(SyncBatch("work", (), Cursor("work", "c2")), at=NOW)  # an idle pass
    assert b"voicemail" in store.backup_path.read_bytes()
    forget(store, "Jane Doe")
    assert b"jane" not in store.backup_path.read_bytes().lower()  # forget reaches the backup


def test_a_folder_or_an_unreadable_file_in_the_stores_place_is_one_line(tmp_path: Path) -> None:
    folder = tmp_path / "store.json"
    folder.mkdir()
    with pytest.raises(StoreError) as err:
        Store(folder).candidates()
    text = _one_line(err)
    assert text.startswith(f"{folder}: is a folder") and ": 4" not in text and "Errno" not in text


def test_a_newer_schema_is_refused_by_reads_too(tmp_path: Path) -> None:
    path = tmp_path / "store.json"
    path.write_bytes(orjson.dumps({"meta": {"1": {"schema": 99}}, "candidates": {}}))
    with pytest.raises(StoreError, match="newer inbox-watch"):
        Store(path).candidates()
    state = Store(tmp_path / "other.json")
    state.state_path.write_bytes(orjson.dumps({"meta": {"1": {"schema": 7}}}))
    with pytest.raises(StoreError, match="newer inbox-watch"):
        state.actions()


def test_a_damaged_state_file_says_what_moving_it_away_costs(tmp_path: Path) -> None:
    store = Store(tmp_path / "store.json")
    store.state_path.write_bytes(b'{"outbox": {"1": {"id": "x"}}}')
    with pytest.raises(StoreError) as err:
        store.actions()
    text = _one_line(err)
    assert text.startswith(f"{store.state_path}: the store file is damaged") and "check Sent" in text
