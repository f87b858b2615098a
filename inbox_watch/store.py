"""The store: TinyDB behind a small repository API.

Two files: the mail file (candidates, message summaries, the recruiter's logs) and a small
state file beside it (sync positions and status, the outbox, the daemon's heartbeat), so the
frequent small writes of an idle sync never rewrite the bulky mail file.

Safe with two processes (the daemon and the dashboard): every change runs in ``transaction()``,
which takes a file lock, reads the file once, lets TinyDB work in memory, and writes the result
once, atomically (temp file, fsync, rename), with mode 0600. A process killed mid-write leaves
the previous file intact. Readers never see a half-written file.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import logging
import os
import secrets
import stat
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import replace
from datetime import date, datetime, timedelta
from glob import escape as glob_escape
from pathlib import Path
from typing import Any, TypeVar

import orjson
from tinydb import Query, TinyDB
from tinydb.storages import Storage
from tinydb.table import Document

from inbox_watch.errors import StoreError
from inbox_watch.filelock import FileLock, LockTimeout
from inbox_watch.gc_pause import paused_gc
from inbox_watch.models import (
    Action,
    ActionKind,
    ActionMode,
    ActionState,
    Candidate,
    Cursor,
    Erasure,
    MailMessage,
    OutgoingMessage,
    Snooze,
    SyncBatch,
    Touch,
    from_metadata_docs,
    metadata_doc,
)
from inbox_watch.secrets import private_dir, write_private

log = logging.getLogger(__name__)

SCHEMA_VERSION = 1
RANKING_VERSION = 1  # the dashboard's saved table (``save_ranking``): its columns' order
LOCK_TIMEOUT = 30.0
F = TypeVar("F", bound=Callable[..., Any])


def _migrate_0_to_1(db: TinyDB) -> None:
    """Version 0 is an empty file: nothing to change."""


MIGRATIONS = {0: _migrate_0_to_1}
"""Each entry upgrades the store from that version to the next, inside the open transaction."""


class _Snapshots:
    """The last parsed contents of the store file, keyed by its inode, size and mtime.

    Every write replaces the file, and the file kept here stays open: while it is held, its
    inode cannot be given to a newer file (ext4 hands a freed inode straight back), so an
    unchanged key means unchanged contents even where the clock is too coarse to tell two
    writes apart. A process reads the file once per change, not once per question.
    """

    def __init__(self, remedy: Callable[[], str] | None = None) -> None:
        self._key: tuple[int, int, int] | None = None
        self._data: dict[str, Any] | None = None
        self._held: int | None = None  # an open descriptor of the file the snapshot came from
        self.remedy = remedy or (lambda: "restore it from a backup or move it away to start afresh")

    @staticmethod
    def _stat(path: Path) -> tuple[int, int, int] | None:
        try:
            st = os.stat(path)
        except FileNotFoundError:
            return None
        return (st.st_ino, st.st_size, st.st_mtime_ns)

    def load(self, path: Path, *, private: bool = False) -> dict[str, Any] | None:
        """The file's contents; ``private=True`` parses a copy of its own that the caller may
        change (a transaction), leaving the shared snapshot alone."""
        key = self._stat(path)
        if key is None:
            return None
        if key == self._key and self._data is not None and not private:
            return self._data
        try:
            fd = os.open(path, os.O_RDONLY)
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise StoreError(f"{path}: cannot read the store file: {exc.strerror or exc}") from None
        try:
            st = os.fstat(fd)
            key = (st.st_ino, st.st_size, st.st_mtime_ns)  # of the very file read below
            if stat.S_ISDIR(st.st_mode):
                raise StoreError(
                    f"{path}: is a folder, not a store file: move it away, or set [store] path to a file "
                    f"such as {path / 'store.json'}"
                )
            try:
                with open(os.dup(fd), "rb") as handle:
                    raw = handle.read()
            except OSError as exc:  # the path, never the descriptor, in the message
                raise StoreError(f"{path}: cannot read the store file: {exc.strerror or exc}") from None
            if not raw.strip():  # never written so: a file cut short, not a new store
                raise self.damaged(path, "the file is empty")
            try:
                with paused_gc():
                    data = orjson.loads(raw)
            except orjson.JSONDecodeError as exc:
                raise self.damaged(path, str(exc)) from None
            _check_shape(data, path, self.damaged)
            if not private:
                self._keep(key, data, fd)
                fd = -1
            return data
        finally:
            if fd >= 0:
                os.close(fd)

    def damaged(self, path: Path, what: str) -> StoreError:
        what = " ".join(what.split())[:200]
        return StoreError(f"{path}: the store file is damaged ({what}); {self.remedy()}")

    def remember(self, path: Path, data: dict[str, Any]) -> None:
        """After this process wrote ``data`` to ``path``: keep it as the snapshot."""
        try:
            fd = os.open(path, os.O_RDONLY)
        except OSError:
            self.forget()
            return
        st = os.fstat(fd)
        self._keep((st.st_ino, st.st_size, st.st_mtime_ns), data, fd)

    def _keep(self, key: tuple[int, int, int], data: dict[str, Any], fd: int) -> None:
        self.forget()
        self._key, self._data, self._held = key, data, fd

    def forget(self) -> None:
        held, self._held = self._held, None
        self._key = self._data = None
        if held is not None:
            with contextlib.suppress(OSError):
                os.close(held)

    def __del__(self) -> None:
        self.forget()


def _check_shape(data: Any, path: Path, damaged: Callable[[Path, str], StoreError]) -> None:
    """Refuse a file whose JSON is not the store's shape (tables of numbered records), or that a
    newer inbox-watch wrote, before anything reads a field of it: every command then says so in
    one line instead of failing somewhere inside."""
    if not isinstance(data, dict):
        raise damaged(path, f"a JSON {type(data).__name__} where an object of tables belongs")
    for name, table in data.items():
        if not isinstance(table, dict):
            raise damaged(path, f"the table {name!r} is a JSON {type(table).__name__}, not an object")
        for doc_id, doc in table.items():
            if not doc_id.isdigit() or not isinstance(doc, dict):
                raise damaged(path, f"the table {name!r} has an entry {doc_id!r} that is not a numbered record")
    meta = data.get("meta", {}).get("1")
    if meta is not None:
        schema = meta.get("schema")
        if type(schema) is not int:
            raise damaged(path, f"the schema version {schema!r} is not a number")
        if schema > SCHEMA_VERSION:
            raise StoreError(
                f"{path}: the store was written by a newer inbox-watch (schema {schema}, this one reads "
                f"{SCHEMA_VERSION}); upgrade inbox-watch"
            )
    for doc_id, doc in data.get("messages", {}).items():
        what = _message_flaw(doc)
        if what:
            raise damaged(path, f"message record {doc_id} {what}")
    for doc_id, doc in data.get("candidates", {}).items():
        name, emails = doc.get("name"), doc.get("emails", [])
        if not isinstance(name, str) or not name.strip():
            raise damaged(path, f"candidate record {doc_id} has no name")
        if not isinstance(emails, list) or not all(isinstance(e, str) for e in emails):
            raise damaged(path, f"candidate {name!r} has emails that are not a list of addresses")


_TEXT_FIELDS = (
    "account", "id", "message_id", "date", "from_addr", "subject", "from_name", "in_reply_to", "thread_id",
    "folder", "text", "calendar", "delivery_status", "original_message_id",
)  # fmt: skip
_LIST_FIELDS = ("to", "cc", "references", "tags", "failed_recipients")


def _message_flaw(doc: dict[str, Any]) -> str:
    """What is wrong with one stored message's fields ("" when nothing): the engine reads them
    as text and lists of text, so a number or a list in their place is damage, not a crash."""
    get = doc.get
    for field in _TEXT_FIELDS:
        value = get(field, "")
        if value.__class__ is not str:
            return f"has {field} = {value!r:.40}, not text"
    for field in _LIST_FIELDS:
        value = get(field, ())
        if value.__class__ is not list and value != ():
            return f"has {field} = {value!r:.40}, not a list"
        for item in value:
            if item.__class__ is not str:
                return f"has {field} holding {item!r:.40}, not text"
    headers = get("headers", ())
    if headers.__class__ is not list and headers != ():
        return "has headers that are not a list"
    for pair in headers:
        if pair.__class__ is not list or len(pair) != 2 or pair[0].__class__ is not str or pair[1].__class__ is not str:
            return "has a header that is not a name and a value"
    if get("is_draft", False).__class__ is not bool:
        return "has is_draft that is not true or false"
    kept = get("class")
    if kept is not None and kept.__class__ is not list:
        return "has a classification that is not a list"
    return ""


def _reads(which: str) -> Callable[[F], F]:
    """A store method that turns stored records into the project's types: a record with a field
    missing or of the wrong kind is a damaged store (one line naming the file), not a KeyError."""

    def wrap(method: F) -> F:
        @functools.wraps(method)
        def checked(self: Store, *args: Any, **kwargs: Any) -> Any:
            try:
                return method(self, *args, **kwargs)
            except KeyError as exc:
                snapshots, path = self._file(which)
                raise snapshots.damaged(path, f"a record lacks the field {exc.args[0]!r}") from None
            except (TypeError, ValueError, AttributeError) as exc:
                snapshots, path = self._file(which)
                raise snapshots.damaged(path, f"a record has a field of the wrong kind: {exc}") from None

        return checked  # type: ignore[return-value]

    return wrap


class AtomicJSONStorage(Storage):
    """A TinyDB storage that reopens the file on each read and replaces it atomically on write.

    Inside a transaction the store hands TinyDB a cached copy, so many table operations cost
    one read and one write.
    """

    def __init__(self, path: str, snapshots: _Snapshots | None = None, private: bool = False, **_: Any) -> None:
        self.path = Path(path)
        self.cache: dict[str, Any] | None = None
        self.dirty = False
        self.snapshots = snapshots or _Snapshots()
        self.private = private

    def read(self) -> dict[str, Any] | None:
        if self.cache is None:
            self.cache = self.snapshots.load(self.path, private=self.private)
        return self.cache

    def write(self, data: dict[str, Any]) -> None:
        self.cache = data
        self.dirty = True

    def flush(self) -> None:
        if self.dirty and self.cache is not None:
            self.snapshots.forget()
            write_private(self.path, orjson.dumps(self.cache))
            self.snapshots.remember(self.path, self.cache)
        self.dirty = False

    def close(self) -> None:
        self.cache = None


def message_doc_id(account: str, message_id: str) -> int:
    """A stable TinyDB doc id for a provider message (48 bits of a SHA-1)."""
    digest = hashlib.sha1(f"{account}\0{message_id}".encode()).hexdigest()
    return int(digest[:12], 16)


def _key(name: str) -> str:
    return " ".join(name.split()).casefold()


def _dt(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


class Store:
    """Repository API over the TinyDB file at ``path``."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        try:
            private_dir(self.path.parent)
        except OSError as exc:
            raise StoreError(f"{self.path.parent}: cannot create the store folder: {exc.strerror or exc}") from None
        self._lock = FileLock(str(self.path) + ".lock", timeout=LOCK_TIMEOUT)
        self._local = threading.local()
        self.state_path = self.path.with_name(self.path.stem + ".state" + (self.path.suffix or ".json"))
        self.ranking_path = self.path.with_name(self.path.stem + ".ranking" + (self.path.suffix or ".json"))
        self.backup_path = self.path.with_name(self.path.name + ".bak")
        self._snapshots = _Snapshots(self._mail_remedy)
        self._state_snapshots = _Snapshots(self._state_remedy)
        self._temp_checked = False
        if self.stale_temp_files():  # a write was cut short (a crash): its copy holds candidate data
            self._clean_now_if_free()

    def _mail_remedy(self) -> str:
        if self.backup_path.is_file():
            return (
                f"restore the last good copy, kept after the last sync: cp {self.backup_path} {self.path} "
                "(or move the file away to start afresh)"
            )
        return "move it away to start afresh: the next sync reads the mailbox again (import the roster again)"

    def _state_remedy(self) -> str:
        return (
            "move it away to start afresh: the next sync reads the mailbox again "
            "(queued drafts and sends are lost: check Sent before sending again)"
        )

    def _file(self, which: str) -> tuple[_Snapshots, Path]:
        return (self._snapshots, self.path) if which == "mail" else (self._state_snapshots, self.state_path)

    # --- temp files and the backup -----------------------------------------------------------

    def _own_files(self) -> tuple[Path, ...]:
        return (self.path, self.state_path, self.ranking_path, self.backup_path, self.key_path)

    def stale_temp_files(self) -> list[Path]:
        """Temp copies of the store's files (``.store.json.XXXX.tmp``). They are written only
        under the store lock, so while it is held every one found is left by a crashed write."""
        found: list[Path] = []
        for own in self._own_files():
            found.extend(own.parent.glob(f".{glob_escape(own.name)}.*.tmp"))
        return found

    def _clean_temp_files(self) -> int:
        """Remove stale temp files; call with the lock held. Returns how many went."""
        self._temp_checked = True
        removed = 0
        for leftover in self.stale_temp_files():
            try:
                leftover.unlink()
                removed += 1
            except FileNotFoundError:
                continue
            except OSError as exc:
                raise StoreError(f"{leftover}: cannot remove a temp file a crashed write left: {exc}") from None
            log.info("removed %s, left by a write that was cut short", leftover)
        return removed

    def _clean_now_if_free(self) -> None:
        """At open: take the lock if it is free at once and clean; when another process holds
        it (a daemon's pass), the first write of this one cleans instead."""
        lock = FileLock(str(self.path) + ".lock", timeout=0)
        try:
            lock.acquire()
        except (LockTimeout, OSError):
            return
        try:
            self._clean_temp_files()
        except StoreError as exc:
            log.warning("%s", exc)
        finally:
            lock.release()

    def _keep_backup(self) -> bool:
        """Make ``store.json.bak`` a copy of the mail file as it is now (call with the lock held,
        after a successful write). A copy, not a link: an editor that rewrites the file in place
        must not damage the backup with it. The copy carries the file's mtime, so an unchanged
        file is not copied again."""
        try:
            current = os.stat(self.path)
        except FileNotFoundError:
            return False
        try:
            kept = os.stat(self.backup_path)
            if (kept.st_size, kept.st_mtime_ns) == (current.st_size, current.st_mtime_ns):
                return True
        except FileNotFoundError:
            pass
        try:
            self._snapshots.load(self.path)  # only a store that reads back is a good copy
            write_private(self.backup_path, self.path.read_bytes())
            os.utime(self.backup_path, ns=(current.st_atime_ns, current.st_mtime_ns))
        except (StoreError, OSError) as exc:
            log.warning("%s: could not keep the backup: %s", self.backup_path, exc)
            return False
        return True

    # --- transactions ----------------------------------------------------------------------

    @contextmanager
    def transaction(self) -> Iterator[TinyDB]:
        """Lock the store and give one TinyDB view of the mail file (candidates, messages, the
        recruiter's logs); changes are written once, atomically, on success."""
        with self._transaction(self.path, self._snapshots, "db") as db:
            yield db

    @contextmanager
    def state_transaction(self) -> Iterator[TinyDB]:
        """The same for the small state file: sync positions, sync status, the outbox and the
        daemon's heartbeat. An idle sync touches only this file."""
        with self._transaction(self.state_path, self._state_snapshots, "state_db") as db:
            yield db

    @contextmanager
    def _transaction(self, path: Path, snapshots: _Snapshots, slot: str) -> Iterator[TinyDB]:
        current = getattr(self._local, slot, None)
        if current is not None:  # nested: share the outer transaction
            yield current
            return
        with self._locked():
            db = TinyDB(str(path), storage=AtomicJSONStorage, snapshots=snapshots, private=True)
            storage: AtomicJSONStorage = db.storage  # type: ignore[assignment]
            setattr(self._local, slot, db)
            try:
                self._ensure_schema(db, path)
                yield db
                try:
                    storage.flush()
                except OSError as exc:
                    snapshots.forget()
                    raise StoreError(f"{path}: cannot write the store: {exc}") from None
            finally:
                setattr(self._local, slot, None)
                storage.close()

    @contextmanager
    def reading(self) -> Iterator[TinyDB]:
        """A consistent read-only view of the mail file without the lock (files are replaced
        atomically, never written in place)."""
        with self._reading(self.path, self._snapshots, "db") as db:
            yield db

    @contextmanager
    def state_reading(self) -> Iterator[TinyDB]:
        with self._reading(self.state_path, self._state_snapshots, "state_db") as db:
            yield db

    @contextmanager
    def _reading(self, path: Path, snapshots: _Snapshots, slot: str) -> Iterator[TinyDB]:
        current = getattr(self._local, slot, None)
        if current is not None:
            yield current
            return
        db = TinyDB(str(path), storage=AtomicJSONStorage, snapshots=snapshots)
        try:
            yield db
        finally:
            db.storage.close()

    def _ensure_schema(self, db: TinyDB, path: Path) -> None:
        meta = db.table("meta")
        doc = meta.get(doc_id=1)
        version = int(doc["schema"]) if doc else 0
        if version > SCHEMA_VERSION:
            raise StoreError(
                f"{path}: the store was written by a newer inbox-watch (schema {version}); upgrade inbox-watch"
            )
        while version < SCHEMA_VERSION:
            MIGRATIONS[version](db)
            version += 1
            meta.upsert(Document({"schema": version}, doc_id=1))

    # --- candidates ------------------------------------------------------------------------

    @_reads("mail")
    def candidates(self) -> list[Candidate]:
        with self.reading() as db:
            return [Candidate.from_dict(d) for d in db.table("candidates").all()]

    def candidate(self, name: str) -> Candidate | None:
        key = _key(name)
        for candidate in self.candidates():
            if _key(candidate.name) == key:
                return candidate
        return None

    @_reads("mail")
    def upsert_candidates(self, candidates: Iterable[Candidate]) -> tuple[int, int]:
        """Add or update candidates by name; return (added, updated)."""
        added = updated = 0
        roster = list(candidates)
        with self._locked(), self.transaction() as db:
            table = db.table("candidates")
            existing = {_key(d["name"]): d.doc_id for d in table.all()}
            new_docs = []
            replace_ids = []
            for candidate in roster:
                doc_id = existing.get(_key(candidate.name))
                if doc_id is None:
                    new_docs.append(candidate.to_dict())
                    existing[_key(candidate.name)] = -1
                    added += 1
                elif doc_id > 0:
                    replace_ids.append((doc_id, candidate.to_dict()))
                    updated += 1
            if new_docs:
                table.insert_multiple(new_docs)
            if replace_ids:
                table.remove(doc_ids=[i for i, _ in replace_ids])
                table.insert_multiple([Document(d, doc_id=i) for i, d in replace_ids])
        if added or updated:  # after the roster is written: a failure there leaves them forgotten
            self._clear_forgotten(roster)
        return added, updated

    # --- messages and cursors ----------------------------------------------------------------

    def messages(self) -> list[MailMessage]:
        return self.messages_and_classes()[0]

    @_reads("mail")
    def messages_and_classes(self) -> tuple[list[MailMessage], dict[tuple[str, str], Sequence[object]]]:
        """Every stored message, and the classifications kept beside them at sync time, by
        (account, provider id)."""
        with self.reading() as db:
            raw = db.table("messages")._read_table()  # noqa: SLF001 - read-only, no per-document copies
            with paused_gc():
                messages = [MailMessage.from_dict(d) for d in raw.values()]
                classes = {(d["account"], d["id"]): d["class"] for d in raw.values() if "class" in d}
        return messages, classes

    @_reads("mail")
    def messages_from(self, addresses: Iterable[str], *, after: datetime) -> list[MailMessage]:
        """Stored messages from any of ``addresses`` (any case) dated after ``after``, oldest first."""
        wanted = {address.strip().lower() for address in addresses if address.strip()}
        if not wanted:
            return []
        with self.reading() as db:
            raw = db.table("messages")._read_table()  # noqa: SLF001 - read-only, no per-document copies
            found = [MailMessage.from_dict(d) for d in raw.values() if d.get("from_addr", "") in wanted]
        return sorted((m for m in found if m.date > after), key=lambda m: m.date)

    @_reads("mail")
    def metadata(self) -> list[MailMessage]:
        with self.reading() as db:
            raw = db.table("metadata")._read_table()  # noqa: SLF001 - read-only, no per-document copies
            with paused_gc():
                return from_metadata_docs(raw.values())

    def address_key(self) -> bytes:
        key = self._hash_key(create=True)
        assert key is not None  # made when missing
        return key

    def message_count(self) -> int:
        with self.reading() as db:
            return len(db.table("messages"))

    @_reads("state")
    def cursor(self, account: str) -> Cursor | None:
        with self.state_reading() as db:
            doc = db.table("cursors").get(Query().account == account)
            return Cursor(account, doc["value"]) if doc else None

    def apply_sync(
        self, batch: SyncBatch, *, at: datetime, classes: Mapping[str, Sequence[object]] | None = None
    ) -> tuple[int, int]:
        """Store one sync pass: its messages first, then (in the state file) its cursor.

        A crash between the two leaves the old cursor, so the next pass fetches the same
        messages again and stores them in place: nothing is lost and nothing doubled. An idle
        pass (nothing new) writes only the small state file. Returns (new, updated) message
        counts. Candidates tagged in the mailbox (``Candidates/<Name>``) that the roster lacks
        are created. ``classes`` (provider id -> compact classification) is kept beside each
        message so that ranking need not classify it again.
        """
        new = updated = 0
        # Both writes under one hold of the lock: another process's pass (the daemon's and the
        # dashboard's) can then never land between them and leave a cursor past mail it dropped.
        with self._locked():
            if batch.messages or batch.removed or batch.full:
                with self.transaction() as db:
                    new, updated = self._store_messages(db, batch, classes or {})
            # The last good mail file, before the cursor moves past it: restored, it lacks
            # nothing the stored cursor says was fetched.
            self._keep_backup()
            with self.state_transaction() as state:
                self._set_status(state, batch.account, at=at, error="")
                state.table("cursors").upsert(
                    {"account": batch.account, "value": batch.cursor.value}, Query().account == batch.account
                )
        return new, updated

    def _store_messages(self, db: TinyDB, batch: SyncBatch, classes: Mapping[str, Sequence[object]]) -> tuple[int, int]:
        """Whole messages go to the ``messages`` table, mail kept as metadata (``headers_only``)
        to the ``metadata`` table in its compact form; a message moves from one to the other
        when it changes kind (a late candidate's older mail read whole)."""
        docs: dict[int, dict[str, Any]] = {}
        metadata: dict[int, dict[str, Any]] = {}
        for message in batch.messages:
            doc_id = message_doc_id(message.account, message.id)
            if message.headers_only and message.from_addr.startswith("#"):
                metadata[doc_id] = metadata_doc(message)
                continue
            doc = message.to_dict()
            if message.id in classes:
                doc["class"] = list(classes[message.id])
            docs[doc_id] = doc
        existing: set[int] = set()
        for name, account_key in (("messages", "account"), ("metadata", "a")):
            table = db.table(name)
            raw = table._read_table()  # noqa: SLF001 - doc ids only, no copies
            present = set(raw.keys())
            if batch.full:
                keep = docs.keys() | metadata.keys()
                stale = [int(i) for i, d in raw.items() if d.get(account_key) == batch.account and int(i) not in keep]
            else:
                stale = [message_doc_id(batch.account, r) for r in batch.removed]
            again = [i for i in (*docs, *metadata) if str(i) in present]
            existing.update(again)
            to_remove = [i for i in {*stale, *again} if str(i) in present]
            if to_remove:
                table.remove(doc_ids=to_remove)
        if docs:
            db.table("messages").insert_multiple([Document(d, doc_id=i) for i, d in docs.items()])
        if metadata:
            db.table("metadata").insert_multiple([Document(d, doc_id=i) for i, d in metadata.items()])
        docs = {**docs, **metadata}
        tags = {t for m in batch.messages for t in m.tags}
        if tags:
            known = {_key(d["name"]) for d in db.table("candidates").all()}
            fresh = [Candidate(name=t, source="tag").to_dict() for t in sorted(tags) if _key(t) not in known]
            if fresh:
                db.table("candidates").insert_multiple(fresh)
        return len(docs) - len(existing & docs.keys()), len(existing & docs.keys())

    @_reads("state")
    def record_sync_error(self, account: str, error: str, *, at: datetime) -> None:
        with self.state_transaction() as db:
            self._set_status(db, account, at=at, error=error, ok=False)

    def _set_status(self, db: TinyDB, account: str, *, at: datetime, error: str, ok: bool = True) -> None:
        table = db.table("sync_status")
        doc = table.get(Query().account == account)
        values: dict[str, Any] = dict(doc) if isinstance(doc, dict) else {}
        values.update({"account": account, "last_error": error, "last_attempt": at.isoformat()})
        if ok:
            values["last_sync"] = at.isoformat()
        table.upsert(values, Query().account == account)

    @_reads("state")
    def sync_status(self) -> list[dict[str, Any]]:
        with self.state_reading() as db:
            return [dict(d) for d in db.table("sync_status").all()]

    # --- touches, snoozes, pulled -----------------------------------------------------------

    def add_touch(self, touch: Touch) -> None:
        with self.transaction() as db:
            db.table("touches").insert(
                {"candidate": touch.candidate, "channel": touch.channel, "at": touch.at.isoformat(), "note": touch.note}
            )

    @_reads("mail")
    def touches(self) -> list[Touch]:
        with self.reading() as db:
            return [
                Touch(d["candidate"], d["channel"], datetime.fromisoformat(d["at"]), d.get("note", ""))
                for d in db.table("touches").all()
            ]

    def set_snooze(self, snooze: Snooze) -> None:
        """Record a snooze. Earlier ones stay: the engine needs every stretch a snooze held the
        clock, and a later snooze replaces an earlier one from the moment it was set."""
        with self.transaction() as db:
            db.table("snoozes").insert(
                {
                    "candidate": _key(snooze.candidate),
                    "name": snooze.candidate,
                    "until": snooze.until.isoformat(),
                    "reason": snooze.reason,
                    "since": snooze.since.isoformat() if snooze.since else None,
                }
            )

    @_reads("mail")
    def snoozes(self) -> list[Snooze]:
        """Every snooze, in the order they were set."""
        with self.reading() as db:
            return [
                Snooze(
                    d["name"],
                    date.fromisoformat(d["until"]),
                    d.get("reason", ""),
                    datetime.fromisoformat(d["since"]) if d.get("since") else None,
                )
                for d in db.table("snoozes").all()
            ]

    def set_pulled(self, name: str, pulled: bool = True) -> None:
        with self.transaction() as db:
            table = db.table("pulled")
            table.remove(Query().candidate == _key(name))
            if pulled:
                table.insert({"candidate": _key(name), "name": name})

    @_reads("mail")
    def pulled(self) -> frozenset[str]:
        with self.reading() as db:
            return frozenset(d["name"] for d in db.table("pulled").all())

    # --- outbox ------------------------------------------------------------------------------

    def add_action(self, action: Action) -> None:
        with self.state_transaction() as db:
            db.table("outbox").insert(_action_to_doc(action))

    @_reads("state")
    def actions(self, *, state: ActionState | None = None) -> list[Action]:
        with self.state_reading() as db:
            docs = db.table("outbox").all()
        actions = [_action_from_doc(d) for d in docs]
        return [a for a in actions if state is None or a.state is state]

    @_reads("state")
    def claim_action(self, action_id: str, now: datetime, stale_after: timedelta) -> Action | None:
        """Atomically mark a queued action as being carried out by this process and return it;
        None when it is not queued any more (done, cancelled, or claimed by another process
        less than ``stale_after`` ago). This is what keeps the daemon and the dashboard from
        sending the same action twice."""
        with self.state_transaction() as db:
            table = db.table("outbox")
            doc = table.get(Query().id == action_id)
            if not isinstance(doc, dict):
                return None
            action = _action_from_doc(doc)
            claimable = action.state is ActionState.QUEUED or (
                action.state is ActionState.SENDING
                and (action.claimed_at is None or now - action.claimed_at > stale_after)
            )
            if not claimable:
                return None
            claimed = replace(action, state=ActionState.SENDING, claimed_at=now)
            table.update(_action_to_doc(claimed), Query().id == action_id)
            return claimed

    @_reads("state")
    def update_action(self, action: Action) -> None:
        with self.state_transaction() as db:
            db.table("outbox").update(_action_to_doc(action), Query().id == action.id)

    # --- daemon heartbeat --------------------------------------------------------------------

    def set_heartbeat(self, pid: int, at: datetime) -> None:
        with self.state_transaction() as db:
            db.table("daemon").upsert(Document({"pid": pid, "at": at.isoformat()}, doc_id=1))

    def clear_heartbeat(self) -> None:
        with self.state_transaction() as db:
            db.table("daemon").truncate()

    @_reads("state")
    def heartbeat(self) -> tuple[int, datetime] | None:
        with self.state_reading() as db:
            doc = db.table("daemon").get(doc_id=1)
        return (int(doc["pid"]), datetime.fromisoformat(doc["at"])) if doc else None

    # --- the dashboard's last ranking -------------------------------------------------------

    def mail_file_key(self) -> tuple[int, int, int] | None:
        """Which version of the mail file is on disk (inode, size, mtime): take it before a
        read, hand it to ``save_ranking``."""
        return _Snapshots._stat(self.path)

    def save_ranking(
        self, rows: Sequence[Sequence[str]], *, at: datetime, read_from: tuple[int, int, int] | None
    ) -> bool:
        """Keep the table the dashboard last showed (one row of plain column texts per
        candidate) so its next start can paint it at once. Written under the store lock, and
        only while the mail file is still the version it was ranked from (``read_from``): a
        sync or a ``forget`` that landed meanwhile is never painted over. False when skipped."""
        try:
            with self._locked():
                if self.mail_file_key() != read_from:
                    return False
                payload = {"v": RANKING_VERSION, "at": at.isoformat(), "rows": [list(row) for row in rows]}
                write_private(self.ranking_path, orjson.dumps(payload))
        except (StoreError, OSError) as exc:
            log.warning("could not keep the ranking for the next start: %s", exc)
            return False
        return True

    def saved_ranking(self) -> tuple[datetime, list[tuple[str, ...]]] | None:
        """(when it was ranked, rows) as ``save_ranking`` kept them; None when there is none
        or it cannot be read (it is only a head start: the dashboard ranks afresh anyway)."""
        try:
            data = orjson.loads(self.ranking_path.read_bytes())
            if not isinstance(data, dict) or data.get("v") != RANKING_VERSION:
                return None
            rows = [tuple(str(cell) for cell in row) for row in data["rows"]]
            return datetime.fromisoformat(data["at"]), rows
        except (OSError, orjson.JSONDecodeError, KeyError, TypeError, ValueError):
            return None

    @contextmanager
    def _locked(self) -> Iterator[None]:
        try:
            self._lock.acquire()
        except LockTimeout:
            raise StoreError(
                f"{self.path}: another inbox-watch process holds the store lock for over {LOCK_TIMEOUT:.0f}s"
            ) from None
        except OSError as exc:
            raise StoreError(f"{self.path}: cannot lock the store: {exc}") from None
        try:
            if not self._temp_checked:
                self._clean_temp_files()
            yield
        finally:
            self._lock.release()

    # --- forget ------------------------------------------------------------------------------

    @contextmanager
    def exclusive(self) -> Iterator[None]:
        """Hold the store lock across several calls (read, decide, write: ``forget``); this
        process's own transactions inside it go ahead, every other process waits."""
        with self._locked():
            yield

    def forget(self, erasure: Erasure) -> dict[str, int]:
        """Erase one candidate as ``erasure`` (the engine's decision) says: their roster entry,
        the messages it names, their logs, snoozes, pulled mark and outbox entries, the
        dashboard's saved table, temp files a crashed write left, and the backup's copy. Their
        addresses, tag and those Message-IDs go on the forget list, hashed, so no later sync
        stores their mail again (``forgotten``) until they are imported anew. Returns counts."""
        with self._locked():
            return self._forget(erasure)

    def _forget(self, erasure: Erasure) -> dict[str, int]:
        key = _key(erasure.name)
        counts: dict[str, int] = {}
        forget_list = self._forget_list(create=True)
        with self.transaction() as db:
            candidates = db.table("candidates")
            docs = [d for d in candidates.all() if _key(d["name"]) == key]
            candidates.remove(doc_ids=[d.doc_id for d in docs])
            counts["candidates"] = len(docs)
            messages = db.table("messages")
            present = set(messages._read_table())  # noqa: SLF001 - doc ids only, no copies
            gone = [i for i in (message_doc_id(a, m) for a, m in erasure.messages) if str(i) in present]
            messages.remove(doc_ids=gone)
            counts["messages"] = len(gone)
            touches = db.table("touches")
            ids = [d.doc_id for d in touches.all() if _key(d.get("candidate", "")) == key]
            touches.remove(doc_ids=ids)
            counts["touches"] = len(ids)
            for table_name in ("snoozes", "pulled"):
                table = db.table(table_name)
                ids = [d.doc_id for d in table.all() if d.get("candidate") == key]
                table.remove(doc_ids=ids)
                counts[table_name] = len(ids)
            # The dashboard's saved table names everyone: it goes (under the same lock, so no
            # dashboard writes it back from before this change); the next refresh rewrites it.
            try:
                self.ranking_path.unlink(missing_ok=True)
            except OSError as exc:
                raise StoreError(f"{self.ranking_path}: cannot remove the saved ranking: {exc}") from None
        # The state file after the mail file is written, still under the lock: a failure above
        # leaves both as they were, and running forget again finishes the job.
        with self.state_transaction() as state:
            outbox = state.table("outbox")
            ids = [d.doc_id for d in outbox.all() if _key(d.get("candidate", "")) == key]
            outbox.remove(doc_ids=ids)
            counts["outbox"] = len(ids)
            state.table("forgotten").insert(forget_list.entry(erasure))
        # The backup and any temp copy a crashed write left still hold them.
        if self.backup_path.exists() and not self._keep_backup():
            try:
                self.backup_path.unlink()
            except OSError as exc:
                raise StoreError(f"{self.backup_path}: cannot remove the backup that still holds them: {exc}") from None
        counts["temp files"] = self._clean_temp_files()
        return counts

    @property
    def key_path(self) -> Path:
        """The key of the forget list's hashes (0600, beside the store)."""
        return self.path.with_name(self.path.stem + ".key")

    def _hash_key(self, *, create: bool) -> bytes | None:
        try:
            key = self.key_path.read_bytes()
            if len(key) >= 32:
                return key
        except FileNotFoundError:
            pass
        except OSError as exc:
            raise StoreError(f"{self.key_path}: cannot read the forget list's key: {exc.strerror or exc}") from None
        if not create:
            return None
        key = secrets.token_bytes(32)
        try:
            write_private(self.key_path, key)
        except OSError as exc:
            raise StoreError(f"{self.key_path}: cannot write the forget list's key: {exc.strerror or exc}") from None
        return key

    def _forget_list(self, *, create: bool = False) -> ForgetList:
        with self.state_reading() as db:
            entries = [dict(d) for d in db.table("forgotten").all()]
        key = self._hash_key(create=create)
        if key is None:
            if entries:
                log.warning("%s is missing: the forget list cannot be checked", self.key_path)
            return ForgetList(b"", [])
        return ForgetList(key, entries)

    @_reads("state")
    def forgotten(self) -> ForgetList:
        """The forget list: what sync must not store again (see ``ForgetList``)."""
        with self.state_reading() as db:
            if not db.table("forgotten"):
                return ForgetList(b"", [])
        return self._forget_list()

    def _clear_forgotten(self, candidates: Sequence[Candidate]) -> None:
        """Imported anew: a forgotten candidate of the same name or address is not forgotten."""
        with self.state_reading() as db:
            if not db.table("forgotten"):
                return  # (and the state file is not written for nothing)
        with self.state_transaction() as state:
            table = state.table("forgotten")
            if not table:
                return
            forget_list = self._forget_list()
            if not forget_list:
                return
            hashes = {forget_list.hash(_key(c.name)) for c in candidates}
            hashes |= {forget_list.hash(a.lower()) for c in candidates for a in c.emails}
            ids = [d.doc_id for d in table.all() if hashes & {*d.get("names", []), *d.get("addresses", [])}]
            if ids:
                table.remove(doc_ids=ids)


class ForgetList:
    """Forgotten candidates' addresses, tags, names and Message-IDs, as keyed hashes (BLAKE2b
    keyed with ``store.key``): enough to know their mail when it comes back, nothing to read
    an address from."""

    def __init__(self, key: bytes, entries: Sequence[Mapping[str, Any]]) -> None:
        self._key = key
        self.addresses = {h for e in entries for h in e.get("addresses", [])}
        self.tags = {h for e in entries for h in e.get("tags", [])}
        self.message_ids = {h for e in entries for h in e.get("messages", [])}
        self.names = {h for e in entries for h in e.get("names", [])}

    def __bool__(self) -> bool:
        return bool(self._key) and bool(self.addresses or self.tags or self.message_ids)

    def hash(self, value: str) -> str:
        return hashlib.blake2b(value.encode("utf-8", "surrogatepass"), key=self._key, digest_size=16).hexdigest()

    def entry(self, erasure: Erasure) -> dict[str, Any]:
        return {
            "names": [self.hash(_key(erasure.name))],
            "addresses": sorted({self.hash(a.lower()) for a in erasure.addresses}),
            "tags": sorted({self.hash(_key(t)) for t in erasure.tags}),
            "messages": sorted({self.hash(m) for m in erasure.message_ids}),
        }

    def hits(self, message: MailMessage) -> bool:
        """Whether ``message`` is from, to or about a forgotten candidate: one of their
        addresses, their tag, or a reply to (or copy of) a message erased with them."""
        if not self:
            return False
        addresses = (message.from_addr, *message.to, *message.cc, *message.failed_recipients)
        if any(self.hash(a.lower()) in self.addresses for a in addresses if a):
            return True
        if any(self.hash(_key(t)) in self.tags for t in message.tags):
            return True
        ids = (message.message_id, message.in_reply_to, *message.references)
        return any(self.hash(i) in self.message_ids for i in ids if i)

    def forgotten_tag(self, tag: str) -> bool:
        return bool(self) and self.hash(_key(tag)) in self.tags


def _action_to_doc(action: Action) -> dict[str, Any]:
    return {
        "id": action.id,
        "kind": action.kind.value,
        "mode": action.mode.value,
        "candidate": action.candidate,
        "account": action.account,
        "message": action.message.to_dict(),
        "created_at": action.created_at.isoformat(),
        "state": action.state.value,
        "not_before": action.not_before.isoformat() if action.not_before else None,
        "done_at": action.done_at.isoformat() if action.done_at else None,
        "provider_id": action.provider_id,
        "error": action.error,
        "claimed_at": action.claimed_at.isoformat() if action.claimed_at else None,
        "send_started_at": action.send_started_at.isoformat() if action.send_started_at else None,
        "warning": action.warning,
        "refused": list(action.refused),
    }


def _action_from_doc(doc: dict[str, Any]) -> Action:
    return Action(
        id=doc["id"],
        kind=ActionKind(doc["kind"]),
        mode=ActionMode(doc["mode"]),
        candidate=doc["candidate"],
        account=doc["account"],
        message=OutgoingMessage.from_dict(doc["message"]),
        created_at=datetime.fromisoformat(doc["created_at"]),
        state=ActionState(doc["state"]),
        not_before=_dt(doc.get("not_before")),
        done_at=_dt(doc.get("done_at")),
        provider_id=doc.get("provider_id", ""),
        error=doc.get("error", ""),
        claimed_at=_dt(doc.get("claimed_at")),
        send_started_at=_dt(doc.get("send_started_at")),
        warning=doc.get("warning", ""),
        refused=tuple(doc.get("refused") or ()),
    )
