"""The store's files on disk: how the TinyDB store persists, whatever it holds.

Two files: the mail file (candidates, message summaries, the recruiter's logs) and a small
state file beside it (sync positions and status, the outbox, the daemon's heartbeat), so the
frequent small writes of an idle sync never rewrite the bulky mail file.

Safe with two processes (the daemon and the dashboard): every change runs in ``transaction()``,
which takes a file lock, reads the file once, lets TinyDB work in memory, and writes the result
once, atomically (temp file, fsync, rename), with mode 0600. A process killed mid-write leaves
the previous file intact. Readers never see a half-written file. Each process keeps the last
parsed contents of each file (``Snapshots``) and parses again only when the file changed.

:class:`StoreFiles` holds this (paths, lock, snapshots, transactions, temp files, the backup,
the schema); :class:`inbox_watch.store.Store` is the repository API on top of it.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import os
import stat
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from glob import escape as glob_escape
from pathlib import Path
from typing import Any, TypeVar

import orjson
from tinydb import TinyDB
from tinydb.storages import Storage
from tinydb.table import Document

from inbox_watch.errors import StoreError
from inbox_watch.filelock import FileLock, LockTimeout
from inbox_watch.gc_pause import paused_gc
from inbox_watch.secrets import private_dir, write_private

log = logging.getLogger(__name__)

SCHEMA_VERSION = 1
LOCK_TIMEOUT = 30.0
F = TypeVar("F", bound=Callable[..., Any])


def _migrate_0_to_1(db: TinyDB) -> None:
    """Version 0 is an empty file: nothing to change."""


MIGRATIONS = {0: _migrate_0_to_1}
"""Each entry upgrades the store from that version to the next, inside the open transaction."""


class Snapshots:
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
    def key_of(path: Path) -> tuple[int, int, int] | None:
        """Which version of the file at ``path`` is on disk (inode, size, mtime); None: none."""
        try:
            st = os.stat(path)
        except FileNotFoundError:
            return None
        return (st.st_ino, st.st_size, st.st_mtime_ns)

    def load(self, path: Path, *, private: bool = False) -> dict[str, Any] | None:
        """The file's contents; ``private=True`` parses a copy of its own that the caller may
        change (a transaction), leaving the shared snapshot alone."""
        key = self.key_of(path)
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
            check_shape(data, path, self.damaged)
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


def check_shape(data: Any, path: Path, damaged: Callable[[Path, str], StoreError]) -> None:
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


def reads(which: str) -> Callable[[F], F]:
    """A store method that turns stored records into the project's types: a record with a field
    missing or of the wrong kind is a damaged store (one line naming the file), not a KeyError."""

    def wrap(method: F) -> F:
        @functools.wraps(method)
        def checked(self: StoreFiles, *args: Any, **kwargs: Any) -> Any:
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

    def __init__(self, path: str, snapshots: Snapshots | None = None, private: bool = False, **_: Any) -> None:
        self.path = Path(path)
        self.cache: dict[str, Any] | None = None
        self.dirty = False
        self.snapshots = snapshots or Snapshots()
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


class StoreFiles:
    """The TinyDB store's files at ``path`` and beside it, its lock and its transactions."""

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
        self._snapshots = Snapshots(self._mail_remedy)
        self._state_snapshots = Snapshots(self._state_remedy)
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

    def _file(self, which: str) -> tuple[Snapshots, Path]:
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
    def _transaction(self, path: Path, snapshots: Snapshots, slot: str) -> Iterator[TinyDB]:
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
    def _reading(self, path: Path, snapshots: Snapshots, slot: str) -> Iterator[TinyDB]:
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

    @contextmanager
    def exclusive(self) -> Iterator[None]:
        """Hold the store lock across several calls (read, decide, write: ``forget``); this
        process's own transactions inside it go ahead, every other process waits."""
        with self._locked():
            yield

    @property
    def key_path(self) -> Path:
        """The key of the forget list's hashes (0600, beside the store)."""
        return self.path.with_name(self.path.stem + ".key")
