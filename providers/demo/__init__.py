"""The demo provider: a built-in mailbox of realistic recruiting threads, anchored to now.

No account and no network. Every status the dashboard knows appears (silent, awaiting, replied,
out_of_office, bounced, idle), with employers chasing, chasers already sent, a calendar
invitation, and threads that cross a weekend and a public holiday. Addresses are example.com /
.example only. Candidates come from the mailbox's own ``Candidates/<Name>`` tags.
"""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime
from typing import ClassVar

from inbox_watch.config import AccountConfig, RecruiterConfig
from inbox_watch.errors import CursorExpired
from inbox_watch.mime import build_email, parse_bytes
from inbox_watch.models import (
    Candidate,
    Cursor,
    Folder,
    MailMessage,
    OutgoingMessage,
    ProgressCallback,
    SendReceipt,
    SyncBatch,
)
from inbox_watch.provider import Capability
from providers.demo.mailbox import DEMO_RECRUITER, build_mailbox, demo_candidates

__all__ = ["DEMO_RECRUITER", "DemoProvider", "demo_candidates"]


class DemoProvider:
    """A MailProvider over the built-in sample mailbox. Drafts and sends stay in memory."""

    capabilities: ClassVar[frozenset[Capability]] = frozenset(
        {Capability.INCREMENTAL, Capability.DRAFTS, Capability.SEND, Capability.TAGS}
    )
    _outgoing: ClassVar[dict[str, list[MailMessage]]] = {}
    _lock: ClassVar[threading.Lock] = threading.Lock()

    def __init__(self, account: AccountConfig, recruiter: RecruiterConfig, now: datetime | None = None) -> None:
        self.account = account.name
        self.recruiter = recruiter
        self.now = now
        self._mailbox: list[MailMessage] | None = None

    def _messages(self) -> list[MailMessage]:
        if self._mailbox is None:
            self._mailbox = build_mailbox(self.account, self.now or datetime.now(UTC))
        with self._lock:
            return self._mailbox + list(self._outgoing.get(self.account, []))

    def folders(self) -> list[Folder]:
        names = sorted({t for m in self._messages() for t in m.tags})
        return [
            Folder("INBOX", "INBOX", "inbox"),
            Folder("Sent", "Sent", "sent"),
            Folder("Drafts", "Drafts", "drafts"),
            *(Folder(f"Candidates/{n}", f"Candidates/{n}", "candidate", n) for n in names),
        ]

    def _cursor(self, count: int) -> Cursor:
        return Cursor(self.account, json.dumps({"demo": 1, "seen": count}))

    def full_sync(self, progress: ProgressCallback | None = None) -> SyncBatch:
        messages = self._messages()
        if progress:
            progress(len(messages), len(messages), "demo mailbox")
        return SyncBatch(self.account, tuple(messages), self._cursor(len(messages)), full=True)

    def incremental_sync(self, cursor: Cursor, progress: ProgressCallback | None = None) -> SyncBatch:
        try:
            seen = int(json.loads(cursor.value)["seen"])
        except (ValueError, KeyError, TypeError):
            raise CursorExpired("the demo sync position is not valid") from None
        messages = self._messages()
        if seen > len(messages):
            raise CursorExpired("the demo mailbox was rebuilt")
        return SyncBatch(self.account, tuple(messages[seen:]), self._cursor(len(messages)))

    def _record(self, message: OutgoingMessage, *, draft: bool) -> str:
        raw = build_email(message, date=datetime.now(UTC))
        with self._lock:
            outgoing = self._outgoing.setdefault(self.account, [])
            provider_id = f"demo/out/{len(outgoing) + 1}"
            parsed = parse_bytes(
                raw, account=self.account, id=provider_id, folder="Drafts" if draft else "Sent", is_draft=draft
            )
            outgoing.append(parsed)
        return provider_id

    def save_draft(self, message: OutgoingMessage) -> str:
        return self._record(message, draft=True)

    def send(self, message: OutgoingMessage) -> SendReceipt:
        return SendReceipt(self._record(message, draft=False))

    def find_sent(self, message_id: str) -> str | None:
        with self._lock:
            for message in self._outgoing.get(self.account, []):
                if message.message_id == message_id and not message.is_draft:
                    return message.id
        return None

    def close(self) -> None:
        """Nothing to release."""

    def roster(self) -> list[Candidate]:
        """Details of the demo candidates (role, employer, phone) a real roster would hold."""
        return demo_candidates()
