"""The interface every mail adapter (providers/imap, gmail, outlook, demo) implements.

A provider does I/O and nothing else: it turns a mail service into :mod:`inbox_watch.models`
values and carries out drafts and sends. It never touches the store; ``inbox_watch.sync``
saves what it returns, cursor last.

Errors: every method raises only :mod:`inbox_watch.errors` types (``AuthError``,
``ConnectionFailed``, ``RateLimited``, ``CursorExpired``, ``CapabilityMissing``,
``SendOutcomeUnknown``, ``ProviderError``); SDK exceptions are translated at the boundary.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Collection, Sequence
from typing import ClassVar, Protocol, runtime_checkable

from inbox_watch.models import (
    Cursor,
    Folder,
    MailMessage,
    OutgoingMessage,
    ProgressCallback,
    SendReceipt,
    SyncBatch,
)

TextSelector = Callable[[Sequence[MailMessage]], Collection[str]]
"""Given every message of a pass as read in the first step (``headers_only``: addresses,
threading, dates, tags, the kept header fields), the provider ids whose text the second step
reads (see ``Capability.TWO_STEP``)."""


class Capability(enum.StrEnum):
    INCREMENTAL = "incremental"  # incremental_sync from a cursor
    DRAFTS = "drafts"  # save_draft
    SEND = "send"  # send
    TAGS = "tags"  # Candidates/<Name> folders, labels or categories
    THREAD_IDS = "thread_ids"  # the service has its own thread ids
    PUSH = "push"  # the service can wake a sync (IMAP IDLE ...)
    TWO_STEP = "two_step"  # full_sync / incremental_sync take select=; read_text (see TwoStepProvider)


@runtime_checkable
class MailProvider(Protocol):
    """One mail account.

    ``capabilities`` is a class attribute; check it before calling an optional method.
    A provider is used from one thread at a time; ``close`` releases its connections.
    """

    capabilities: ClassVar[frozenset[Capability]]
    account: str

    def folders(self) -> list[Folder]:
        """Return the folders/labels watched: inbox, sent, drafts and every ``Candidates/<Name>``.

        Raises AuthError or ConnectionFailed.
        """
        ...

    def full_sync(self, progress: ProgressCallback | None = None) -> SyncBatch:
        """Fetch every watched message within the look-back window; ``SyncBatch.full`` is True.

        ``progress(done, total, what)`` is called as batches arrive. The returned cursor marks
        the position read *before* the messages were fetched, so nothing is missed.
        """
        ...

    def incremental_sync(self, cursor: Cursor, progress: ProgressCallback | None = None) -> SyncBatch:
        """Fetch what changed since ``cursor``; ``SyncBatch.full`` is False.

        Raises CursorExpired when the position is no longer valid (the caller does a full sync).
        An idle poll must be cheap: one status round trip per folder or one API call.
        """
        ...

    def save_draft(self, message: OutgoingMessage) -> str:
        """Save ``message`` as a draft in its thread; return the provider's id for the draft."""
        ...

    def send(self, message: OutgoingMessage) -> SendReceipt:
        """Send ``message`` in its thread and keep a copy in Sent.

        Once the mail service has accepted the message, ``send`` returns: the receipt carries
        the sent copy's id, and a ``warning`` when something after the hand-over failed (no copy
        could be kept in Sent). Raises SendOutcomeUnknown when the message may have gone out
        (the connection was lost, or the service failed or timed out, after the message was
        handed over); any other error means nothing went out, so trying again later is safe.
        Never retries a hand-over whose outcome it could not see.
        """
        ...

    def find_sent(self, message_id: str) -> str | None:
        """Return the provider id of a sent message with this Message-ID, or None.

        The outbox calls it before every send, so a message already in Sent is not sent again.
        """
        ...

    def close(self) -> None:
        """Release connections. Safe to call twice."""
        ...


@runtime_checkable
class PushProvider(MailProvider, Protocol):
    """A provider with ``Capability.PUSH``: the service itself says when mail changed."""

    def wait_for_change(
        self,
        timeout: float,
        *,
        interrupted: Callable[[], bool] | None = None,
        tick: Callable[[], None] | None = None,
    ) -> bool:
        """Block up to ``timeout`` seconds until the service reports a change; True when it did
        (sync then), False when the time ran out or ``interrupted()`` became true (checked at
        least once a second); ``tick()`` is called about once a second while waiting (the
        daemon's heartbeat decides when to beat). Holds no lock of the store. Raises
        ConnectionFailed when the connection drops (the next call reconnects)."""
        ...


@runtime_checkable
class TwoStepProvider(MailProvider, Protocol):
    """A provider with ``Capability.TWO_STEP``: it reads in two steps, so that the text of mail
    that concerns no one is never read (let alone stored).

    ``full_sync(progress, select=...)`` and ``incremental_sync(cursor, progress, select=...)``
    first read, for every message, only what threading and relevance need, then call
    ``select`` once with all of those (``headers_only`` set) and read the text of the ids it
    returns. The batch holds every message: the selected ones whole, the rest ``headers_only``.
    Without ``select`` they read every message whole, as any provider does.
    """

    def full_sync(
        self, progress: ProgressCallback | None = None, *, select: TextSelector | None = None
    ) -> SyncBatch: ...

    def incremental_sync(
        self, cursor: Cursor, progress: ProgressCallback | None = None, *, select: TextSelector | None = None
    ) -> SyncBatch: ...

    def read_text(self, ids: Sequence[str], progress: ProgressCallback | None = None) -> list[MailMessage]:
        """The messages ``ids`` (provider ids from an earlier pass) read whole, in one targeted
        read (IMAP: one FETCH per folder; Gmail and Graph: batched requests). Ids no longer
        in the mailbox are left out. Raises what the sync methods raise."""
        ...
