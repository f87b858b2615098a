"""The store: TinyDB behind a small repository API (the embedded default, one recruiter).

``Store`` turns the project's types into records and back; the rest lives beside it:

- ``store_files``: how the two files persist (lock, snapshots, atomic writes, temp files, the
  backup, the schema);
- ``store_records``: the action records and keys both stores share;
- ``store_ranking``: the dashboard's saved table;
- ``store_forget``: the forget list and the erasure of one candidate (the engine decides what
  is theirs).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from tinydb import Query, TinyDB
from tinydb.table import Document

from inbox_watch.errors import StoreError
from inbox_watch.gc_pause import paused_gc
from inbox_watch.models import (
    Action,
    ActionState,
    Candidate,
    Cursor,
    Erasure,
    MailMessage,
    Snooze,
    SyncBatch,
    Touch,
    from_metadata_docs,
    metadata_doc,
)
from inbox_watch.store_files import LOCK_TIMEOUT, SCHEMA_VERSION, StoreFiles, reads
from inbox_watch.store_forget import ForgetKey, ForgetList, erase_mail, erase_outbox
from inbox_watch.store_ranking import RANKING_VERSION, RankingFile
from inbox_watch.store_records import action_from_doc, action_to_doc, message_doc_id, name_key

log = logging.getLogger(__name__)

__all__ = ["LOCK_TIMEOUT", "RANKING_VERSION", "SCHEMA_VERSION", "ForgetList", "Store", "message_doc_id"]


class Store(StoreFiles):
    """Repository API over the TinyDB file at ``path`` (its files: ``StoreFiles``)."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self._ranking = RankingFile(self.ranking_path)
        self._forget_key = ForgetKey(self.key_path)

    # --- candidates ------------------------------------------------------------------------

    @reads("mail")
    def candidates(self) -> list[Candidate]:
        with self.reading() as db:
            return [Candidate.from_dict(d) for d in db.table("candidates").all()]

    def candidate(self, name: str) -> Candidate | None:
        key = name_key(name)
        for candidate in self.candidates():
            if name_key(candidate.name) == key:
                return candidate
        return None

    @reads("mail")
    def upsert_candidates(self, candidates: Iterable[Candidate]) -> tuple[int, int]:
        """Add or update candidates by name; return (added, updated)."""
        added = updated = 0
        roster = list(candidates)
        with self._locked(), self.transaction() as db:
            table = db.table("candidates")
            existing = {name_key(d["name"]): d.doc_id for d in table.all()}
            new_docs = []
            replace_ids = []
            for candidate in roster:
                doc_id = existing.get(name_key(candidate.name))
                if doc_id is None:
                    new_docs.append(candidate.to_dict())
                    existing[name_key(candidate.name)] = -1
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

    @reads("mail")
    def messages_and_classes(self) -> tuple[list[MailMessage], dict[tuple[str, str], Sequence[object]]]:
        """Every stored message, and the classifications kept beside them at sync time, by
        (account, provider id)."""
        with self.reading() as db:
            raw = db.table("messages")._read_table()  # noqa: SLF001 - read-only, no per-document copies
            with paused_gc():
                messages = [MailMessage.from_dict(d) for d in raw.values()]
                classes = {(d["account"], d["id"]): d["class"] for d in raw.values() if "class" in d}
        return messages, classes

    @reads("mail")
    def messages_from(self, addresses: Iterable[str], *, after: datetime) -> list[MailMessage]:
        """Stored messages from any of ``addresses`` (any case) dated after ``after``, oldest first."""
        wanted = {address.strip().lower() for address in addresses if address.strip()}
        if not wanted:
            return []
        with self.reading() as db:
            raw = db.table("messages")._read_table()  # noqa: SLF001 - read-only, no per-document copies
            found = [MailMessage.from_dict(d) for d in raw.values() if d.get("from_addr", "") in wanted]
        return sorted((m for m in found if m.date > after), key=lambda m: m.date)

    @reads("mail")
    def metadata(self) -> list[MailMessage]:
        with self.reading() as db:
            raw = db.table("metadata")._read_table()  # noqa: SLF001 - read-only, no per-document copies
            with paused_gc():
                return from_metadata_docs(raw.values())

    def address_key(self) -> bytes:
        key = self._forget_key.read(create=True)
        assert key is not None  # made when missing
        return key

    def message_count(self) -> int:
        """Every stored message of every account: whole, and kept as metadata."""
        with self.reading() as db:
            return len(db.table("messages")) + len(db.table("metadata"))

    @reads("state")
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
            known = {name_key(d["name"]) for d in db.table("candidates").all()}
            fresh = [Candidate(name=t, source="tag").to_dict() for t in sorted(tags) if name_key(t) not in known]
            if fresh:
                db.table("candidates").insert_multiple(fresh)
        return len(docs) - len(existing & docs.keys()), len(existing & docs.keys())

    @reads("state")
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

    @reads("state")
    def sync_status(self) -> list[dict[str, Any]]:
        with self.state_reading() as db:
            return [dict(d) for d in db.table("sync_status").all()]

    # --- touches, snoozes, pulled -----------------------------------------------------------

    def add_touch(self, touch: Touch) -> None:
        with self.transaction() as db:
            db.table("touches").insert(
                {"candidate": touch.candidate, "channel": touch.channel, "at": touch.at.isoformat(), "note": touch.note}
            )

    @reads("mail")
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
                    "candidate": name_key(snooze.candidate),
                    "name": snooze.candidate,
                    "until": snooze.until.isoformat(),
                    "reason": snooze.reason,
                    "since": snooze.since.isoformat() if snooze.since else None,
                }
            )

    @reads("mail")
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
            table.remove(Query().candidate == name_key(name))
            if pulled:
                table.insert({"candidate": name_key(name), "name": name})

    @reads("mail")
    def pulled(self) -> frozenset[str]:
        with self.reading() as db:
            return frozenset(d["name"] for d in db.table("pulled").all())

    # --- outbox ------------------------------------------------------------------------------

    def add_action(self, action: Action) -> None:
        with self.state_transaction() as db:
            db.table("outbox").insert(action_to_doc(action))

    @reads("state")
    def actions(self, *, state: ActionState | None = None) -> list[Action]:
        with self.state_reading() as db:
            docs = db.table("outbox").all()
        actions = [action_from_doc(d) for d in docs]
        return [a for a in actions if state is None or a.state is state]

    @reads("state")
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
            action = action_from_doc(doc)
            claimable = action.state is ActionState.QUEUED or (
                action.state is ActionState.SENDING
                and (action.claimed_at is None or now - action.claimed_at > stale_after)
            )
            if not claimable:
                return None
            claimed = replace(action, state=ActionState.SENDING, claimed_at=now)
            table.update(action_to_doc(claimed), Query().id == action_id)
            return claimed

    @reads("state")
    def update_action(self, action: Action) -> None:
        with self.state_transaction() as db:
            db.table("outbox").update(action_to_doc(action), Query().id == action.id)

    # --- daemon heartbeat --------------------------------------------------------------------

    def set_heartbeat(self, pid: int, at: datetime) -> None:
        with self.state_transaction() as db:
            db.table("daemon").upsert(Document({"pid": pid, "at": at.isoformat()}, doc_id=1))

    def clear_heartbeat(self) -> None:
        with self.state_transaction() as db:
            db.table("daemon").truncate()

    @reads("state")
    def heartbeat(self) -> tuple[int, datetime] | None:
        with self.state_reading() as db:
            doc = db.table("daemon").get(doc_id=1)
        return (int(doc["pid"]), datetime.fromisoformat(doc["at"])) if doc else None

    # --- the dashboard's last ranking -------------------------------------------------------

    def mail_file_key(self) -> tuple[int, int, int] | None:
        """Which version of the mail file is on disk (inode, size, mtime): take it before a
        read, hand it to ``save_ranking``."""
        return self._snapshots.key_of(self.path)

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
                self._ranking.write(rows, at=at)
        except (StoreError, OSError) as exc:
            log.warning("could not keep the ranking for the next start: %s", exc)
            return False
        return True

    def saved_ranking(self) -> tuple[datetime, list[tuple[str, ...]]] | None:
        """(when it was ranked, rows) as ``save_ranking`` kept them; None when there is none
        or it cannot be read (it is only a head start: the dashboard ranks afresh anyway)."""
        return self._ranking.read()

    # --- forget ------------------------------------------------------------------------------

    def forget(self, erasure: Erasure) -> dict[str, int]:
        """Erase one candidate as ``erasure`` (the engine's decision) says: their roster entry,
        the messages it names, their logs, snoozes, pulled mark and outbox entries, the
        dashboard's saved table, temp files a crashed write left, and the backup's copy. Their
        addresses, tag and those Message-IDs go on the forget list, hashed, so no later sync
        stores their mail again (``forgotten``) until they are imported anew. Returns counts."""
        with self._locked():
            return self._forget(erasure)

    def _forget(self, erasure: Erasure) -> dict[str, int]:
        forget_list = self._forget_list(create=True)
        with self.transaction() as db:
            counts = erase_mail(db, erasure)
            # The dashboard's saved table names everyone: it goes (under the same lock, so no
            # dashboard writes it back from before this change); the next refresh rewrites it.
            try:
                self._ranking.remove()
            except OSError as exc:
                raise StoreError(f"{self.ranking_path}: cannot remove the saved ranking: {exc}") from None
        # The state file after the mail file is written, still under the lock: a failure above
        # leaves both as they were, and running forget again finishes the job.
        with self.state_transaction() as state:
            counts["outbox"] = erase_outbox(state, erasure)
            state.table("forgotten").insert(forget_list.entry(erasure))
        # The backup and any temp copy a crashed write left still hold them.
        if self.backup_path.exists() and not self._keep_backup():
            try:
                self.backup_path.unlink()
            except OSError as exc:
                raise StoreError(f"{self.backup_path}: cannot remove the backup that still holds them: {exc}") from None
        counts["temp files"] = self._clean_temp_files()
        return counts

    def _forget_list(self, *, create: bool = False) -> ForgetList:
        with self.state_reading() as db:
            entries = [dict(d) for d in db.table("forgotten").all()]
        key = self._forget_key.read(create=create)
        if key is None:
            if entries:
                log.warning("%s is missing: the forget list cannot be checked", self.key_path)
            return ForgetList(b"", [])
        return ForgetList(key, entries)

    @reads("state")
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
            hashes = forget_list.hashes_of(candidates)
            ids = [d.doc_id for d in table.all() if hashes & {*d.get("names", []), *d.get("addresses", [])}]
            if ids:
                table.remove(doc_ids=ids)
