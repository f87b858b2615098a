"""The forget list: what ``forget`` leaves behind so that no later sync stores a forgotten
candidate's mail again, and the TinyDB store's erasure of one candidate.

Which messages are the candidate's is the engine's decision (``engine.state.erasure``, over the
threads as ``evaluate`` assembles them); this module only removes what that ``Erasure`` names and
keeps keyed hashes of it. Both stores use ``ForgetList``; the PostgreSQL store keeps its key in
the database, the TinyDB store in ``store.key`` beside its file (``ForgetKey``).
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from inbox_watch.errors import StoreError
from inbox_watch.models import Candidate, Erasure, MailMessage
from inbox_watch.secrets import write_private
from inbox_watch.store_records import message_doc_id, name_key

if TYPE_CHECKING:
    from tinydb import TinyDB


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
            "names": [self.hash(name_key(erasure.name))],
            "addresses": sorted({self.hash(a.lower()) for a in erasure.addresses}),
            "tags": sorted({self.hash(name_key(t)) for t in erasure.tags}),
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
        if any(self.hash(name_key(t)) in self.tags for t in message.tags):
            return True
        ids = (message.message_id, message.in_reply_to, *message.references)
        return any(self.hash(i) in self.message_ids for i in ids if i)

    def forgotten_tag(self, tag: str) -> bool:
        return bool(self) and self.hash(name_key(tag)) in self.tags

    def hashes_of(self, candidates: Iterable[Candidate]) -> set[str]:
        """The name and address hashes of ``candidates``: an entry holding one of them is a
        candidate imported anew, no longer forgotten."""
        roster = list(candidates)
        hashes = {self.hash(name_key(c.name)) for c in roster}
        return hashes | {self.hash(a.lower()) for c in roster for a in c.emails}


class ForgetKey:
    """The TinyDB store's key of the forget list's hashes: 32 random bytes in a 0600 file."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def read(self, *, create: bool) -> bytes | None:
        try:
            key = self.path.read_bytes()
            if len(key) >= 32:
                return key
        except FileNotFoundError:
            pass
        except OSError as exc:
            raise StoreError(f"{self.path}: cannot read the forget list's key: {exc.strerror or exc}") from None
        if not create:
            return None
        key = secrets.token_bytes(32)
        try:
            write_private(self.path, key)
        except OSError as exc:
            raise StoreError(f"{self.path}: cannot write the forget list's key: {exc.strerror or exc}") from None
        return key


def erase_mail(db: TinyDB, erasure: Erasure) -> dict[str, int]:
    """Remove from the mail file's tables what ``erasure`` names: the candidate's roster entry,
    the messages it lists, their touches, snoozes and pulled mark. Returns counts by table."""
    key = name_key(erasure.name)
    counts: dict[str, int] = {}
    candidates = db.table("candidates")
    docs = [d for d in candidates.all() if name_key(d["name"]) == key]
    candidates.remove(doc_ids=[d.doc_id for d in docs])
    counts["candidates"] = len(docs)
    messages = db.table("messages")
    present = set(messages._read_table())  # noqa: SLF001 - doc ids only, no copies
    gone = [i for i in (message_doc_id(a, m) for a, m in erasure.messages) if str(i) in present]
    messages.remove(doc_ids=gone)
    counts["messages"] = len(gone)
    touches = db.table("touches")
    ids = [d.doc_id for d in touches.all() if name_key(d.get("candidate", "")) == key]
    touches.remove(doc_ids=ids)
    counts["touches"] = len(ids)
    for table_name in ("snoozes", "pulled"):
        table = db.table(table_name)
        ids = [d.doc_id for d in table.all() if d.get("candidate") == key]
        table.remove(doc_ids=ids)
        counts[table_name] = len(ids)
    return counts


def erase_outbox(state: TinyDB, erasure: Erasure) -> int:
    """Remove the candidate's outbox entries from the state file; returns how many."""
    key = name_key(erasure.name)
    outbox = state.table("outbox")
    ids = [d.doc_id for d in outbox.all() if name_key(d.get("candidate", "")) == key]
    outbox.remove(doc_ids=ids)
    return len(ids)
