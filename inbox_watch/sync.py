"""Sync: pull changes from each account, store them with the cursor last, drain the outbox."""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from inbox_watch.config import AccountConfig, Config, RecruiterConfig
from inbox_watch.errors import CursorExpired, InboxWatchError
from inbox_watch.models import Action, Candidate, MailMessage, ProgressCallback, SyncBatch
from inbox_watch.provider import Capability, MailProvider
from inbox_watch.store_api import StoreAPI as Store

if TYPE_CHECKING:
    from inbox_watch.engine.relevance import Relevance

log = logging.getLogger(__name__)

ProviderFactory = Callable[[AccountConfig], MailProvider]


@dataclass(frozen=True, slots=True)
class SyncResult:
    account: str
    full: bool
    new: int
    updated: int
    removed: int
    actions_done: int = 0
    actions_failed: int = 0  # still queued: the next sync takes them up again
    actions_ended: int = 0  # not carried out, and not tried again (failed or cancelled)
    outbox_notes: tuple[str, ...] = ()  # one line per action sent with a warning, not sent, or maybe sent
    unreadable: int = 0  # messages that could not be read: skipped, each named once in a warning
    stopped: str = ""  # why the pass ended before reading everything (the pass deadline)
    actions: tuple[Action, ...] = ()  # the outbox actions this pass carried out, as they ended

    def describe(self) -> str:
        kind = "full sync" if self.full else "incremental sync"
        parts = [f"{self.account}: {kind}, {self.new} new, {self.updated} updated"]
        if self.removed:
            parts.append(f"{self.removed} removed")
        if self.unreadable:
            parts.append(f"{self.unreadable} unreadable message(s) skipped")
        if self.stopped:
            parts.append(self.stopped)
        if self.actions_done:
            parts.append(f"{self.actions_done} outbox action(s) done")
        if self.actions_failed:
            parts.append(f"{self.actions_failed} outbox action(s) waiting to retry")
        if self.actions_ended:
            parts.append(f"{self.actions_ended} outbox action(s) not carried out")
        return ", ".join(parts)


def classify_for_store(messages: Sequence[MailMessage]) -> dict[str, list[object]] | None:
    """Classify new messages once, at sync time, in the compact form the store keeps beside
    them (the dashboard then ranks without reading every message again)."""
    if not messages:
        return None
    from inbox_watch.engine.classify import classify, to_stored  # only when there is mail to read

    return {m.id: to_stored(classify(m, read_dates=False)) for m in messages}


def without_forgotten(store: Store, batch: SyncBatch) -> SyncBatch:
    """``batch`` without the mail of candidates erased by ``forget`` (the forget list: their
    addresses, tag and erased Message-IDs, hashed), whatever kind of pass fetched it: a full
    sync, one forced by an expired position (UIDVALIDITY, Gmail history, Graph delta), any
    provider. A message that also involves someone on the roster stays (without the forgotten
    tag, which would create them again). Importing them anew clears their entry."""
    if not batch.messages:
        return batch
    kept = _not_forgotten(store, batch.messages)
    dropped = len(batch.messages) - len(kept)
    if dropped:
        log.info("%s: %d message(s) of forgotten candidates not stored", batch.account, dropped)
    return replace(batch, messages=tuple(kept))


def _not_forgotten(store: Store, messages: Sequence[MailMessage]) -> Sequence[MailMessage]:
    forgotten = store.forgotten()
    if not forgotten or not messages:
        return messages
    hits = [m for m in messages if forgotten.hits(m)]
    if not hits:
        return messages
    roster = store.candidates()
    addresses = {a.lower() for c in roster for a in c.emails}
    names = {" ".join(c.name.split()).casefold() for c in roster}
    changed: dict[int, MailMessage | None] = {}
    for message in hits:
        people = {message.from_addr, *message.to, *message.cc, *message.failed_recipients}
        tags = tuple(t for t in message.tags if not forgotten.forgotten_tag(t))
        if people & addresses or any(" ".join(t.split()).casefold() in names for t in tags):
            changed[id(message)] = replace(message, tags=tags) if tags != message.tags else message
        else:
            changed[id(message)] = None
    kept = (changed.get(id(m), m) for m in messages)
    return [m for m in kept if m is not None]


class TextSelection:
    """The second step of a two-step read (``Capability.TWO_STEP``): which messages of a pass
    concern someone (``engine.relevance``), judged with the stored mail as context (a new
    message in a candidate's thread is theirs). Only those are read and kept whole; the rest
    is kept as threading metadata (``headers_only``).

    Mail kept as metadata that comes to concern someone later (a candidate imported, a tag
    or an employer contact added, a reply that joins its thread) is read whole on the next
    pass, in one targeted read (``read_text``). An idle pass judges again only when the roster
    changed since the stored mail was last judged (see ``RelevanceMarks``): it costs nothing
    otherwise."""

    def __init__(self, store: Store, recruiter: RecruiterConfig | None) -> None:
        self.store = store
        self.recruiter = tuple(recruiter.addresses) if recruiter is not None else ()
        self.marks = RelevanceMarks(store)
        self._stored: list[MailMessage] | None = None
        self._roster: list[Candidate] | None = None
        self._judged = False  # the stored mark still describes the store
        self._keyed: Callable[[str], str] | None = None

    def stored(self) -> list[MailMessage]:
        """Every stored message of every account: whole, and kept as metadata."""
        if self._stored is None:
            self._stored = [*self.store.messages(), *self.store.metadata()]
        return self._stored

    def keyed(self) -> Callable[[str], str]:
        """The keyed hash addresses of mail kept as metadata are stored as."""
        if self._keyed is None:
            from inbox_watch.engine.relevance import address_hasher

            self._keyed = address_hasher(self.store.address_key())
        return self._keyed

    def roster(self) -> list[Candidate]:
        if self._roster is None:
            self._roster = self.store.candidates()
        return self._roster

    def judge(self, messages: Sequence[MailMessage]) -> Relevance:
        from inbox_watch.engine.relevance import relevance  # only when a pass brought mail

        keys = {(m.account, m.id) for m in messages}
        context = [m for m in self.stored() if (m.account, m.id) not in keys]
        return relevance([*context, *messages], self.roster(), self.recruiter, self.keyed())

    def __call__(self, messages: Sequence[MailMessage]) -> set[str]:
        """The provider ids of ``messages`` (read headers only) whose text to read."""
        wanted = _not_forgotten(self.store, messages)
        chosen = self.judge(wanted).to_read()
        return {m.id for m in wanted if (m.account, m.id) in chosen}

    def settle(self, provider: MailProvider, batch: SyncBatch, progress: ProgressCallback | None) -> SyncBatch:
        """``batch`` as it is stored: whole messages that turn out to concern no one (a delivery
        report about someone else) reduced to their metadata, and stored messages that have
        come to concern someone read whole."""
        from inbox_watch.engine.relevance import metadata

        if not batch.messages and not batch.full and self.marks.unchanged(batch.account, self.roster):
            self._judged = self._roster is None  # the store untouched since: its mark still holds
            return batch
        verdict = self.judge(batch.messages)
        keyed = self.keyed()
        # Mail that concerns someone but whose text a deadline kept from being read stays as
        # read (its text comes with a later pass); the rest of the mail that concerns no one
        # is kept as threading metadata, whatever was read of it.
        kept = tuple(m if (m.account, m.id) in verdict.related else metadata(m, keyed) for m in batch.messages)
        keys = {(m.account, m.id) for m in batch.messages}
        late = [
            m.id
            for m in self.stored()
            if m.headers_only
            and m.account == batch.account
            and (m.account, m.id) in verdict.related
            and (m.account, m.id) not in keys
        ]
        read = getattr(provider, "read_text", None)
        if late and not batch.full and read is not None:
            log.info("%s: reading %d message(s) that now concern someone", batch.account, len(late))
            found = {m.id: m for m in read(late, progress)}
            kept += tuple(found[i] for i in late if i in found)
            # One no longer in the mailbox (expunged meanwhile, or moved away) is dropped, so no
            # later pass looks for it again.
            gone = tuple(i for i in late if i not in found)
            return replace(batch, messages=kept, removed=(*batch.removed, *gone))
        return replace(batch, messages=kept)

    def stored_pass(self, account: str) -> None:
        """After the pass is stored: the roster its mail was judged against."""
        if not self._judged:
            self.marks.judged(account, self.roster())


class RelevanceMarks:
    """Per account, the roster the stored mail was last judged against (a digest of every
    candidate's name and addresses, and of their employer contacts), and the store's data
    version (``mail_file_key``) right after. Kept beside the store (``store.relevance.json``,
    0600, no names or addresses in it): a cache; lost or damaged, the next pass judges again."""

    def __init__(self, store: Store) -> None:
        anchor = Path(store.path)
        self.store = store
        self.path = anchor.with_name(anchor.stem + ".relevance.json")

    def _load(self) -> dict[str, Any]:
        try:
            data = json.loads(self.path.read_bytes())
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    @staticmethod
    def digest(roster: Sequence[Candidate]) -> str:
        import hashlib

        people = sorted(
            (
                " ".join(c.name.split()).casefold(),
                sorted(a.lower() for a in c.emails),
                sorted(a.lower() for a in c.employer_emails),
            )
            for c in roster
        )
        return hashlib.blake2b(json.dumps(people).encode(), digest_size=16).hexdigest()

    def unchanged(self, account: str, roster: Callable[[], Sequence[Candidate]]) -> bool:
        """Whether the roster is the one the stored mail of ``account`` was judged against:
        the store's data untouched since (no roster read), or the same roster digest."""
        mark = self._load().get(account)
        if not isinstance(mark, list) or len(mark) != 2:
            return False
        key = self.store.mail_file_key()
        if key is not None and list(key) == mark[0]:
            return True
        return self.digest(roster()) == mark[1]

    def judged(self, account: str, roster: Sequence[Candidate]) -> None:
        from inbox_watch.secrets import write_private

        marks = self._load()
        key = self.store.mail_file_key()
        marks[account] = [list(key) if key is not None else None, self.digest(roster)]
        try:
            write_private(self.path, json.dumps(marks).encode())
        except OSError as exc:  # a cache: the next pass judges again
            log.debug("could not keep %s: %s", self.path, exc)


def default_factory(config: Config) -> ProviderFactory:
    def factory(account: AccountConfig) -> MailProvider:
        from providers import open_provider

        return open_provider(account, config.recruiter)

    return factory


class PassTimeout(InboxWatchError):
    """Raised for an account when the pass reached its deadline before anything was read."""


class PassDeadline:
    """The deadline of one sync pass (``[daemon] pass_timeout``; ``sync --timeout``).

    Per-read timeouts cannot stop a server that trickles a byte every few seconds; this does.
    When it passes, :meth:`watch` calls the provider's ``interrupt()`` (a provider that has one
    closes its connection under the blocked read): an IMAP incremental pass then returns the
    folders it had finished, whose cursor is stored; the outbox waits for the next pass.
    """

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._at = time.monotonic() + seconds
        self._fired = False  # a timer may wake a hair before the clock reaches the deadline

    def expired(self) -> bool:
        return self._fired or time.monotonic() >= self._at

    def describe(self) -> str:
        return f"stopped at the pass deadline ({self.seconds:g} s, [daemon] pass_timeout)"

    def watch(self, provider: MailProvider) -> threading.Timer | None:
        interrupt = getattr(provider, "interrupt", None)
        if interrupt is None:
            return None

        def fire() -> None:
            self._fired = True
            interrupt()

        timer = threading.Timer(max(self._at - time.monotonic(), 0.0), fire)
        timer.daemon = True
        timer.start()
        return timer


def sync_account(
    store: Store,
    account: AccountConfig,
    provider: MailProvider,
    *,
    progress: ProgressCallback | None = None,
    now: datetime | None = None,
    drain_outbox: bool = True,
    deadline: PassDeadline | None = None,
    recruiter: RecruiterConfig | None = None,
) -> SyncResult:
    """One sync pass for one account. On failure the stored cursor and messages are untouched.

    A provider with ``Capability.TWO_STEP`` reads the text only of mail that concerns someone
    (see ``TextSelection``; ``recruiter`` tells the recruiter's own mail, for candidates known
    only by their tag); the rest is stored as metadata.

    With ``deadline``, a pass still reading when it passes is stopped: what was read (for IMAP,
    the folders finished) is stored with its cursor, the outbox is left for the next pass, and
    the result says so; a pass that had read nothing raises PassTimeout."""
    now = now or datetime.now(UTC)
    timer = deadline.watch(provider) if deadline is not None else None
    try:
        selection = TextSelection(store, recruiter) if Capability.TWO_STEP in provider.capabilities else None
        batch = _read(store, account, provider, progress, now, deadline, selection)
        return _store_and_drain(store, account, provider, batch, now, drain_outbox, deadline, selection)
    finally:
        if timer is not None:
            timer.cancel()


def _read(
    store: Store,
    account: AccountConfig,
    provider: MailProvider,
    progress: ProgressCallback | None,
    now: datetime,
    deadline: PassDeadline | None,
    selection: TextSelection | None = None,
) -> SyncBatch:
    cursor = store.cursor(account.name)
    two_step: Any = provider
    options = {"select": selection} if selection is not None else {}
    try:
        if cursor is None:
            batch = two_step.full_sync(progress, **options)
        else:
            try:
                batch = two_step.incremental_sync(cursor, progress, **options)
            except CursorExpired as exc:
                log.info("%s: sync position expired (%s); running a full sync", account.name, exc)
                batch = two_step.full_sync(progress, **options)
        return selection.settle(provider, batch, progress) if selection is not None else batch
    except InboxWatchError as exc:
        if deadline is not None and deadline.expired():
            late = PassTimeout(f"{deadline.describe()} before anything was read; nothing was changed")
            store.record_sync_error(account.name, str(late), at=now)
            raise late from None
        store.record_sync_error(account.name, str(exc), at=now)
        raise


def _store_and_drain(
    store: Store,
    account: AccountConfig,
    provider: MailProvider,
    batch: SyncBatch,
    now: datetime,
    drain_outbox: bool,
    deadline: PassDeadline | None,
    selection: TextSelection | None = None,
) -> SyncResult:
    stopped = deadline.describe() + "; the rest next pass" if deadline is not None and deadline.expired() else ""
    batch = without_forgotten(store, batch)
    whole = [m for m in batch.messages if not m.headers_only]  # mail that concerns no one is not classified
    new, updated = store.apply_sync(batch, at=now, classes=classify_for_store(whole))
    if selection is not None and not stopped:
        selection.stored_pass(account.name)
    for line in batch.unreadable:  # once: the stored cursor has moved past them
        log.warning("%s: %s", account.name, line)
    done = failed = ended = 0
    notes: list[str] = []
    drained: list[Action] = []
    if drain_outbox and not stopped:
        from inbox_watch import outbox
        from inbox_watch.models import ActionState

        drained = outbox.drain(store, lambda _name: provider, now, account=account.name)
        for action in drained:
            if action.state is ActionState.DONE:
                done += 1
            elif action.state is ActionState.QUEUED:
                failed += 1
            else:
                ended += 1
            retried_later = action.state is ActionState.QUEUED and action.send_started_at is None
            if (action.state is not ActionState.DONE and not retried_later) or action.warning:
                notes.append(f"{account.name}: {outbox.outcome(action)}")
    return SyncResult(
        account.name,
        batch.full,
        new,
        updated,
        len(batch.removed),
        done,
        failed,
        ended,
        tuple(notes),
        len(batch.unreadable),
        stopped,
        tuple(drained),
    )


def sync_all(
    store: Store,
    config: Config,
    *,
    factory: ProviderFactory | None = None,
    only: str | None = None,
    progress: ProgressCallback | None = None,
    timeout: float | None = None,
) -> tuple[list[SyncResult], list[tuple[str, InboxWatchError]]]:
    """Sync every configured account (or ``only`` one); one account's failure does not stop the rest.

    The whole pass has a deadline: ``timeout`` seconds, else ``config.pass_timeout`` (see
    PassDeadline); an account not started by then is one error line, left for the next pass.
    An unexpected exception (a bug, not a mail service's refusal) is logged with its traceback
    and becomes that account's error, recorded in the store like any other.
    """
    factory = factory or default_factory(config)
    deadline = PassDeadline(timeout if timeout is not None else config.pass_timeout)
    results, errors = [], []
    accounts = [config.account(only)] if only else list(config.accounts)
    for account in accounts:
        if deadline.expired():
            errors.append((account.name, PassTimeout(f"not synced: {deadline.describe()}; next pass")))
            continue
        provider = None
        try:
            provider = factory(account)
            results.append(
                sync_account(store, account, provider, progress=progress, deadline=deadline, recruiter=config.recruiter)
            )
        except InboxWatchError as exc:
            errors.append((account.name, exc))
        except Exception as exc:  # noqa: BLE001 - one account's surprise must not stop the others
            errors.append((account.name, _unexpected(store, account.name, exc)))
        finally:
            if provider is not None:
                _close(provider, account.name)
    return results, errors


def _unexpected(store: Store, account: str, exc: Exception) -> InboxWatchError:
    """Log ``exc`` (its traceback with --debug only: the one line is what the recruiter sees); return
    it as one line, also kept as the account's last error."""
    log.debug("%s: unexpected error during sync", account, exc_info=exc)
    detail = " ".join(str(exc).split())
    error = InboxWatchError(f"sync failed with an unexpected error: {type(exc).__name__}: {detail}")
    try:
        store.record_sync_error(account, str(error), at=datetime.now(UTC))
    except InboxWatchError as store_error:
        log.warning("%s: could not record the error: %s", account, store_error)
    return error


def _close(provider: MailProvider, account: str) -> None:
    try:
        provider.close()
    except Exception:  # noqa: BLE001 - a connection that will not close must not stop the other accounts
        log.debug("%s: could not close the connection", account, exc_info=True)
