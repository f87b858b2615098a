"""ImapProvider: any IMAP server (imapclient) plus SMTP (smtplib) for sending.

Watched folders: INBOX, Sent (found by SPECIAL-USE, else by its usual names) and every folder
under ``Candidates/`` (messages there carry the candidate's name as a tag). Drafts is found the
same way as Sent and used for ``save_draft``.

Cursor: a JSON object holding, per watched folder, ``[UIDVALIDITY, UIDNEXT, HIGHESTMODSEQ,
MESSAGES]`` (HIGHESTMODSEQ 0 without CONDSTORE). An incremental pass costs one LIST plus one
STATUS per folder when nothing changed. New UIDs are read; with QRESYNC, messages expunged since
the cursor come back in ``SyncBatch.removed``. A changed UIDVALIDITY, or a watched folder that
disappeared, raises CursorExpired: the caller answers with a full sync, which replaces
everything stored for the account. A new ``Candidates/`` folder is read in full.
"""

from __future__ import annotations

import contextlib
import dataclasses
import imaplib
import json
import logging
import re
import select
import socket
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from inbox_watch import send_once
from inbox_watch.errors import ConnectionFailed, CursorExpired, InboxWatchError, ProviderError
from inbox_watch.models import (
    Cursor,
    Folder,
    OutgoingMessage,
    ProgressCallback,
    SendReceipt,
    SyncBatch,
    no_progress,
)
from inbox_watch.provider import Capability, TextSelector

from .connect import check_security, connect, password_for, translated

if TYPE_CHECKING:
    import imapclient

    from inbox_watch.config import AccountConfig, RecruiterConfig
    from inbox_watch.models import MailMessage

log = logging.getLogger(__name__)
T = TypeVar("T")
CANDIDATES = "Candidates"
SENT_NAMES = ("sent", "sent items", "sent mail", "sent messages", "[gmail]/sent mail")
DRAFTS_NAMES = ("drafts", "draft", "[gmail]/drafts")
_APPENDUID = re.compile(rb"APPENDUID (\d+) (\d+)")
_CURSOR_VERSION = 1
_LIVE = ("NOT", "DELETED")  # a message marked \\Deleted (and not yet expunged) is not read


@dataclass(frozen=True, slots=True)
class FolderState:
    uidvalidity: int
    uidnext: int
    highestmodseq: int = 0
    messages: int = 0


@dataclass(frozen=True, slots=True)
class Mailboxes:
    """What LIST told us: the watched folders, and where drafts and sent copies go."""

    watched: tuple[Folder, ...]
    sent: str | None
    drafts: str | None
    delimiter: str


def encode_cursor(states: dict[str, FolderState]) -> str:
    return json.dumps(
        {
            "v": _CURSOR_VERSION,
            "folders": {name: [s.uidvalidity, s.uidnext, s.highestmodseq, s.messages] for name, s in states.items()},
        },
        separators=(",", ":"),
        sort_keys=True,
    )


def decode_cursor(value: str) -> dict[str, FolderState]:
    """Parse a cursor value; anything unexpected raises CursorExpired."""
    try:
        data = json.loads(value)
        if data["v"] != _CURSOR_VERSION:
            raise ValueError("other cursor version")
        return {str(name): FolderState(*(int(x) for x in values)) for name, values in data["folders"].items()}
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        raise CursorExpired(f"the saved IMAP sync position is unreadable ({exc}); a full sync follows") from None


def _flag_set(flags: Any) -> set[str]:
    return {(f.decode() if isinstance(f, bytes) else str(f)).lower() for f in flags}


def discover(client: imapclient.IMAPClient) -> Mailboxes:
    """One LIST: INBOX, Sent and Drafts (SPECIAL-USE first, then usual names), Candidates/*."""
    entries = client.list_folders()
    delimiter = next((d.decode() if isinstance(d, bytes) else d for _, d, _ in entries if d), "/")
    sent = drafts = inbox = None
    by_lower: dict[str, str] = {}
    candidates: list[Folder] = []
    for flags, delim, name in entries:
        name = name.decode() if isinstance(name, bytes) else name
        names = _flag_set(flags)
        if "\\noselect" in names or "\\nonexistent" in names:
            continue
        by_lower.setdefault(name.lower(), name)
        if name.upper() == "INBOX":
            inbox = name
        if "\\sent" in names and sent is None:
            sent = name
        if "\\drafts" in names and drafts is None:
            drafts = name
        d = delim.decode() if isinstance(delim, bytes) else (delim or delimiter)
        for prefix in (f"{CANDIDATES}{d}", f"INBOX{d}{CANDIDATES}{d}"):
            if name.startswith(prefix) and len(name) > len(prefix):
                tag = name[len(prefix) :].split(d)[0]  # Candidates/Ann/Archive is Ann's too
                candidates.append(Folder(id=name, name=name, role="candidate", candidate=tag))
                break
    for wanted, names_list in (("sent", SENT_NAMES), ("drafts", DRAFTS_NAMES)):
        if (sent if wanted == "sent" else drafts) is not None:
            continue
        for common in names_list:
            found = by_lower.get(common) or by_lower.get(f"inbox{delimiter}{common}")
            if found:
                if wanted == "sent":
                    sent = found
                else:
                    drafts = found
                break
    watched = [Folder(id=inbox or "INBOX", name=inbox or "INBOX", role="inbox")]
    if sent:
        watched.append(Folder(id=sent, name=sent, role="sent"))
    watched += sorted(candidates, key=lambda f: f.name)
    return Mailboxes(tuple(watched), sent, drafts, delimiter)


class ImapProvider:
    """A mail account on an IMAP server; see the module docstring for folders and cursors.

    Methods raise only inbox_watch.errors types: ConfigError (plaintext to a remote host),
    AuthError (wrong password), ConnectionFailed (unreachable, TLS failure, dropped connection:
    the next call reconnects), CursorExpired, ProviderError (the server refused a command),
    SendOutcomeUnknown (``send`` only: the SMTP connection was lost after the hand-over).
    """

    capabilities: ClassVar[frozenset[Capability]] = frozenset(
        {
            Capability.INCREMENTAL,
            Capability.DRAFTS,
            Capability.SEND,
            Capability.TAGS,
            Capability.PUSH,
            Capability.TWO_STEP,
        }
    )
    batch_size: int = 2000  # messages between progress reports

    def __init__(self, account: AccountConfig, recruiter: RecruiterConfig | None = None) -> None:
        check_security(account)  # refuses plaintext to a remote host before any I/O
        self.config = account
        self.account = account.name
        self.recruiter = recruiter
        self._client: imapclient.IMAPClient | None = None
        self._password: str | None = None
        self._capabilities: frozenset[str] = frozenset()
        self._enabled: set[str] = set()
        self._unreadable: list[str] = []  # this pass's unreadable messages (SyncBatch.unreadable)
        self._interrupted = False  # interrupt() was called during this pass
        self._inbox: tuple[str, FolderState] | None = None  # INBOX as the last sync read it

    # -- connection ----------------------------------------------------------------------------

    def _connection(self) -> imapclient.IMAPClient:
        if self._client is None:
            if self._password is None:
                self._password = password_for(self.config)
            self._client = connect(self.config, self._password)
            self._enabled = set()
            with translated(self.config, "reading capabilities"):
                self._capabilities = frozenset(c.decode().upper() for c in self._client.capabilities())
        return self._client

    def interrupt(self) -> None:
        """Stop the call under way, from another thread (the sync pass deadline): the socket is
        shut, so a read blocked on a server that trickles bytes ends at once. An incremental
        pass then returns the folders it had finished (see ``incremental_sync``)."""
        self._interrupted = True
        client = self._client
        sock = getattr(getattr(client, "_imap", None), "sock", None)
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    def _drop(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            with contextlib.suppress(Exception):
                client.shutdown()

    def _run(self, what: str, work: Callable[[imapclient.IMAPClient], T]) -> T:
        """Run ``work`` on a live connection; translate errors; drop a broken connection."""
        try:
            client = self._connection()
            with translated(self.config, what):
                return work(client)
        except CursorExpired:
            raise  # raised between commands: the connection is in a clean state
        except BaseException:
            # Anything else may have left a response half read (a dropped connection, an
            # interrupt mid-FETCH): start the next call on a fresh connection.
            self._drop()
            raise

    def _enable(self, client: imapclient.IMAPClient, extension: str) -> bool:
        if extension in self._enabled:
            return True
        if extension not in self._capabilities or "ENABLE" not in self._capabilities:
            return False
        self._leave_folder(client)  # ENABLE is refused while a folder is selected (RFC 5161)
        client.enable(extension)
        self._enabled.add(extension)
        return True

    def close(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            with contextlib.suppress(Exception):
                client.logout()
            with contextlib.suppress(Exception):
                client.shutdown()

    def __enter__(self) -> ImapProvider:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- reading -------------------------------------------------------------------------------

    def folders(self) -> list[Folder]:
        def work(client: imapclient.IMAPClient) -> list[Folder]:
            boxes = discover(client)
            out = list(boxes.watched)
            if boxes.drafts:
                out.insert(2 if boxes.sent else 1, Folder(boxes.drafts, boxes.drafts, "drafts"))
            return out

        return self._run("listing folders", work)

    def _status(self, client: imapclient.IMAPClient, folder: str) -> FolderState:
        items = ["UIDVALIDITY", "UIDNEXT", "MESSAGES"]
        if "CONDSTORE" in self._capabilities:
            items.append("HIGHESTMODSEQ")
        status = client.folder_status(folder, items)
        return FolderState(
            uidvalidity=int(status[b"UIDVALIDITY"]),
            uidnext=int(status[b"UIDNEXT"]),
            highestmodseq=int(status.get(b"HIGHESTMODSEQ", 0)),
            messages=int(status.get(b"MESSAGES", 0)),
        )

    def _since(self) -> date:
        return date.today() - timedelta(days=self.config.lookback_days or 180)

    def _read(
        self,
        client: imapclient.IMAPClient,
        folder: Folder,
        uidvalidity: int,
        uids: list[int],
        progress: Callable[[int], None],
        *,
        headers_only: bool = False,
    ) -> list[MailMessage]:
        from .messages import fetch_messages

        tags = (folder.candidate,) if folder.candidate else ()
        return fetch_messages(
            client,
            uids,
            account=self.account,
            folder=folder.name,
            uidvalidity=uidvalidity,
            tags=tags,
            progress=progress,
            every=self.batch_size,
            unreadable=self._unreadable,
            headers_only=headers_only,
        )

    def _texts(
        self,
        client: imapclient.IMAPClient,
        folders: dict[str, Folder],
        ids: Sequence[str],
        progress: ProgressCallback,
    ) -> dict[str, MailMessage]:
        """The second step of a two-step read: the messages ``ids`` (``folder/uidvalidity/uid``)
        read whole, one FETCH per folder, by provider id. A folder gone or recreated since
        (another UIDVALIDITY), or a UID expunged, leaves its ids out."""
        from .messages import split_id

        by_folder: dict[tuple[str, int], list[int]] = {}
        for provider_id in ids:
            try:
                folder, uidvalidity, uid = split_id(provider_id)
            except ValueError:
                continue  # not an id this provider gave out
            by_folder.setdefault((folder, uidvalidity), []).append(uid)
        total = sum(len(uids) for uids in by_folder.values())
        done = 0
        progress(0, total, "text")

        def step(count: int) -> None:
            nonlocal done
            done += count
            progress(done, total, "text")

        found: dict[str, MailMessage] = {}
        for (name, uidvalidity), uids in sorted(by_folder.items()):
            folder = folders.get(name)
            if folder is None:
                continue
            selected = client.select_folder(name, readonly=True)
            if int(selected[b"UIDVALIDITY"]) != uidvalidity:
                continue
            for message in self._read(client, folder, uidvalidity, sorted(set(uids)), step):
                found[message.id] = message
        return found

    def _two_step(
        self,
        client: imapclient.IMAPClient,
        folders: dict[str, Folder],
        messages: list[MailMessage],
        select: TextSelector,
        progress: ProgressCallback,
    ) -> list[MailMessage]:
        """``messages`` (read headers only) with the text of those ``select`` picks read in."""
        chosen = set(select(messages))
        wanted = [m.id for m in messages if m.id in chosen]
        if not wanted:
            return messages
        whole = self._texts(client, folders, wanted, progress)
        return [_whole(m, whole, chosen) for m in messages]

    def read_text(self, ids: Sequence[str], progress: ProgressCallback | None = None) -> list[MailMessage]:
        """The messages ``ids`` read whole: one FETCH per folder (see TwoStepProvider)."""
        report = progress or no_progress

        def work(client: imapclient.IMAPClient) -> list[MailMessage]:
            self._unreadable = []
            self._leave_folder(client)
            folders = {f.name: f for f in discover(client).watched}
            found = self._texts(client, folders, ids, report)
            return [found[i] for i in ids if i in found]

        return self._run("reading mail", work)

    def _leave_folder(self, client: imapclient.IMAPClient) -> None:
        if getattr(client._imap, "state", "") == "SELECTED":
            if "UNSELECT" in self._capabilities:
                client.unselect_folder()
            else:
                client.close_folder()  # read-only (EXAMINE): CLOSE expunges nothing

    def _examine(self, client: imapclient.IMAPClient, folder: str, expected: int) -> None:
        selected = client.select_folder(folder, readonly=True)
        if int(selected[b"UIDVALIDITY"]) != expected:
            raise CursorExpired(f"folder {folder!r} was recreated during the sync; a full sync follows")

    def full_sync(self, progress: ProgressCallback | None = None, *, select: TextSelector | None = None) -> SyncBatch:
        report = progress or no_progress

        def work(client: imapclient.IMAPClient) -> SyncBatch:
            self._unreadable = []
            self._leave_folder(client)  # STATUS of the selected folder can be stale
            boxes = discover(client)
            states: dict[str, FolderState] = {}
            plan: list[tuple[Folder, list[int]]] = []
            since = self._since()
            for folder in boxes.watched:
                state = self._status(client, folder.name)  # the position, read before fetching
                states[folder.name] = state
                self._examine(client, folder.name, state.uidvalidity)
                uids = sorted(u for u in client.search(["SINCE", since, *_LIVE]) if u < state.uidnext)
                plan.append((folder, uids))
            total = sum(len(uids) for _, uids in plan)
            done = 0
            report(0, total, "messages")

            def step(count: int) -> None:
                nonlocal done
                done += count
                report(done, total, "messages")

            messages: list[MailMessage] = []
            for folder, uids in plan:
                if not uids:
                    continue
                self._examine(client, folder.name, states[folder.name].uidvalidity)
                uidvalidity = states[folder.name].uidvalidity
                messages += self._read(client, folder, uidvalidity, uids, step, headers_only=select is not None)
            if select is not None:
                messages = self._two_step(client, {f.name: f for f in boxes.watched}, messages, select, report)
            cursor = Cursor(self.account, encode_cursor(states))
            self._remember_inbox(states)
            return SyncBatch(self.account, tuple(messages), cursor, full=True, unreadable=tuple(self._unreadable))

        try:
            return self._run("reading mail", work)
        except CursorExpired:  # a folder was recreated between STATUS and FETCH: start over
            try:
                return self._run("reading mail", work)
            except CursorExpired as exc:
                raise ProviderError(f"{exc}; the folders keep changing, try again later") from None

    def incremental_sync(
        self, cursor: Cursor, progress: ProgressCallback | None = None, *, select: TextSelector | None = None
    ) -> SyncBatch:
        old_states = decode_cursor(cursor.value)
        report = progress or no_progress

        def work(client: imapclient.IMAPClient) -> SyncBatch:
            self._unreadable = []
            self._leave_folder(client)  # STATUS of the selected folder can be stale
            boxes = discover(client)
            names = {f.name for f in boxes.watched}
            gone = sorted(set(old_states) - names)
            if gone:
                raise CursorExpired(f"folder {gone[0]!r} is gone; a full sync follows")
            boxes_by_name = {f.name: f for f in boxes.watched}
            states: dict[str, FolderState] = {}
            todo: list[tuple[Folder, FolderState, FolderState | None]] = []
            for folder in boxes.watched:
                state = self._status(client, folder.name)
                states[folder.name] = state
                old = old_states.get(folder.name)
                if old is not None and old.uidvalidity != state.uidvalidity:
                    raise CursorExpired(f"UIDVALIDITY of {folder.name!r} changed; a full sync follows")
                if old is None or state != old:
                    todo.append((folder, state, old))
            messages: list[MailMessage] = []
            removed: list[str] = []
            done = 0

            def step(count: int) -> None:
                nonlocal done
                done += count
                report(done, None, "messages")

            def stopped(index: int, where: str) -> None:
                # Stopped by the pass deadline: keep the folders finished; the others keep
                # their old position (a folder new since the cursor is read next time).
                for _folder, _state, unfinished in todo[index:]:
                    if unfinished is None:
                        states.pop(_folder.name, None)
                    else:
                        states[_folder.name] = unfinished
                log.info("%s: pass stopped in folder %r; %d folder(s) finished", self.account, where, index)

            read: list[tuple[list[MailMessage], list[str]]] = []
            for index, (folder, state, old) in enumerate(todo):
                try:
                    read.append(self._folder_changes(client, folder, state, old, step, select is not None))
                except Exception:
                    if not self._interrupted:
                        raise
                    stopped(index, folder.name)
                    break
            chosen = set(select([m for got, _ in read for m in got])) if select is not None and read else set()
            for index, (got, gone_ids) in enumerate(read):
                wanted = [m.id for m in got if m.id in chosen]
                if wanted:  # the second step, folder by folder: a deadline keeps the folders done
                    try:
                        whole = self._texts(client, boxes_by_name, wanted, lambda d, t, w: report(d, None, w))
                    except Exception:
                        if not self._interrupted:
                            raise
                        stopped(index, todo[index][0].name)
                        break
                    got = [_whole(m, whole, chosen) for m in got]
                messages += got
                removed += gone_ids
            self._remember_inbox(states)
            return SyncBatch(
                self.account,
                tuple(messages),
                Cursor(self.account, encode_cursor(states)),
                removed=tuple(removed),
                unreadable=tuple(self._unreadable),
            )

        self._interrupted = False
        batch = self._run("reading new mail", work)
        if self._interrupted:
            self._drop()  # its socket was shut under it
        return batch

    def _folder_changes(
        self,
        client: imapclient.IMAPClient,
        folder: Folder,
        state: FolderState,
        old: FolderState | None,
        step: Callable[[int], None],
        headers_only: bool = False,
    ) -> tuple[list[MailMessage], list[str]]:
        """What changed in one folder since ``old``: (new messages, ids expunged)."""
        if old is None:  # a folder new since the cursor: read it whole
            self._examine(client, folder.name, state.uidvalidity)
            uids = sorted(u for u in client.search(["SINCE", self._since(), *_LIVE]) if u < state.uidnext)
            return self._read(client, folder, state.uidvalidity, uids, step, headers_only=headers_only), []
        messages: list[MailMessage] = []
        new: list[int] = []
        if state.uidnext > old.uidnext:
            self._examine(client, folder.name, state.uidvalidity)
            found = client.search(["UID", f"{old.uidnext}:{state.uidnext - 1}", *_LIVE])
            new = sorted(u for u in found if old.uidnext <= u < state.uidnext)
            messages = self._read(client, folder, state.uidvalidity, new, step, headers_only=headers_only)
        removed: list[str] = []
        if old.messages + len(new) > state.messages:  # something was expunged
            removed = self._vanished(client, folder.name, state, old)
        return messages, removed

    def _vanished(self, client: imapclient.IMAPClient, folder: str, state: FolderState, old: FolderState) -> list[str]:
        """Ids of messages expunged since ``old`` (QRESYNC only; without it, none are known)."""
        from .fetch import raw_uid_fetch
        from .messages import message_id_for

        if not old.highestmodseq or not self._enable(client, "QRESYNC"):
            return []
        self._examine(client, folder, state.uidvalidity)
        imap = client._imap
        imap.untagged_responses.pop("VANISHED", None)
        raw_uid_fetch(
            imap,
            range(1, max(old.uidnext, 2)),
            "(UID)",
            f"(CHANGEDSINCE {old.highestmodseq} VANISHED)",
        )
        uids: list[int] = []
        for line in imap.untagged_responses.pop("VANISHED", []):
            text = line.decode() if isinstance(line, bytes) else str(line)
            text = text.replace("(EARLIER)", "").strip()
            for part in text.split(","):
                if not part.strip():
                    continue
                low, _, high = part.strip().partition(":")
                uids += range(int(low), int(high or low) + 1)
        return [message_id_for(folder, state.uidvalidity, uid) for uid in uids if uid < old.uidnext]

    # -- writing -------------------------------------------------------------------------------

    def _append(self, client: imapclient.IMAPClient, folder: str, raw: bytes, flags: tuple[str, ...]) -> str:
        from .messages import message_id_for

        response = client.append(folder, raw, flags=flags)
        match = _APPENDUID.search(response if isinstance(response, bytes) else b"")
        if match:
            return message_id_for(folder, int(match.group(1)), int(match.group(2)))
        return ""

    def _folder_for(self, client: imapclient.IMAPClient, role: str) -> str:
        boxes = discover(client)
        name = boxes.sent if role == "sent" else boxes.drafts
        if name is None:  # no Sent / Drafts folder at all: make the usual one
            name = "Sent" if role == "sent" else "Drafts"
            client.create_folder(name)
        return name

    def save_draft(self, message: OutgoingMessage) -> str:
        from inbox_watch.mime import build_email

        raw = build_email(message)

        def work(client: imapclient.IMAPClient) -> str:
            drafts = self._folder_for(client, "drafts")
            return send_once.find_or_make(
                lambda: self._search_id(client, drafts, message.message_id),
                lambda: (
                    self._append(client, drafts, raw, ("\\Draft", "\\Seen"))
                    or self._search_id(client, drafts, message.message_id)
                    or drafts
                ),
            )

        return self._run("saving a draft", work)

    def send(self, message: OutgoingMessage) -> SendReceipt:
        """Send by SMTP, then keep a copy in Sent (``\\Seen``). A message whose Message-ID is
        already in Sent is not sent again: its id is returned.

        Once the SMTP server has accepted the message, a failure to keep the copy (a full
        mailbox, a connection that drops twice) is returned as the receipt's warning, never
        raised: raising would make the message look unsent, and a retry would send it again.
        """
        from inbox_watch.mime import build_email

        raw = build_email(message)
        return send_once.send_unless_sent(lambda: self.find_sent(message.message_id), lambda: self._send(message, raw))

    def _send(self, message: OutgoingMessage, raw: bytes) -> SendReceipt:
        from .smtp import send_smtp

        send_smtp(self.config, message, raw, imap_password=self._imap_password)

        def work(client: imapclient.IMAPClient) -> str:
            sent = self._folder_for(client, "sent")
            return (
                self._append(client, sent, raw, ("\\Seen",))
                or self._search_id(client, sent, message.message_id)
                or sent
            )

        try:
            try:
                return SendReceipt(self._run("saving the copy", work))
            except ConnectionFailed:  # a dropped connection gets a second attempt on a fresh one
                return SendReceipt(self._run("saving the copy", work))
        except InboxWatchError as exc:
            log.warning("%s: %s went out, but no copy could be kept in Sent: %s", self.account, message.message_id, exc)
            return SendReceipt("", warning=f"no copy could be kept in Sent: {exc}")

    def _imap_password(self) -> str:
        if self._password is None:
            self._password = password_for(self.config)
        return self._password

    def _search_id(self, client: imapclient.IMAPClient, folder: str, message_id: str) -> str | None:
        from .messages import message_id_for

        if not message_id.strip():
            return None
        selected = client.select_folder(folder, readonly=True)
        uids = client.search(["HEADER", "Message-ID", message_id.strip()])
        if not uids:
            return None
        return message_id_for(folder, int(selected[b"UIDVALIDITY"]), max(uids))

    def find_sent(self, message_id: str) -> str | None:
        def work(client: imapclient.IMAPClient) -> str | None:
            sent = discover(client).sent
            if sent is None:
                return None
            return self._search_id(client, sent, message_id)

        return self._run("looking for a sent message", work)

    # -- push ----------------------------------------------------------------------------------

    def wait_for_change(
        self,
        timeout: float,
        *,
        interrupted: Callable[[], bool] | None = None,
        tick: Callable[[], None] | None = None,
    ) -> bool:
        """Block up to ``timeout`` seconds in IMAP IDLE on INBOX (RFC 2177); True when the server
        reported a change (sync then), or INBOX already differs from what the last sync read
        (mail that came between that sync and this IDLE). Without IDLE, sleeps and returns True.

        IDLE is re-issued every ``IDLE_RENEW`` seconds (servers may end an IDLE after 30
        minutes). ``interrupted()`` is checked, and ``tick()`` called, about once a second (the
        caller decides how often a tick does anything). A dropped connection raises
        ConnectionFailed."""
        stop = interrupted or (lambda: False)
        end = time.monotonic() + max(0.0, timeout)

        def ticked() -> None:
            if tick is not None:
                tick()

        def work(client: imapclient.IMAPClient) -> bool:
            if "IDLE" not in self._capabilities:
                while (left := end - time.monotonic()) > 0 and not stop():
                    time.sleep(min(1.0, left))
                    ticked()
                return not stop()
            inbox = self._inbox[0] if self._inbox else "INBOX"
            selected = client.select_folder(inbox, readonly=True)
            if self._inbox_moved(selected):
                return True
            while not stop() and time.monotonic() < end:
                renew_at = min(end, time.monotonic() + IDLE_RENEW)
                client.idle()
                changed = False
                try:
                    while not changed and not stop() and (left := renew_at - time.monotonic()) > 0:
                        changed = _changes(_idle_responses(client, min(1.0, left)))
                        ticked()
                finally:
                    _text, late = client.idle_done()
                if changed or _changes(late):
                    return True
            return False

        return self._run("waiting for new mail", work)

    def _remember_inbox(self, states: dict[str, FolderState]) -> None:
        """What a sync read of INBOX, so the next IDLE can tell mail that came in between."""
        for name, state in states.items():
            if name.upper() == "INBOX":
                self._inbox = (name, state)

    def _inbox_moved(self, selected: dict[bytes, Any]) -> bool:
        if self._inbox is None:
            return False
        seen = self._inbox[1]
        try:
            uidnext = int(selected.get(b"UIDNEXT", seen.uidnext))
            exists = int(selected.get(b"EXISTS", seen.messages))
        except (TypeError, ValueError):
            return False
        return uidnext != seen.uidnext or exists != seen.messages


def _whole(message: MailMessage, whole: dict[str, MailMessage], chosen: set[str]) -> MailMessage:
    """``message`` (read headers only) as the second step left it: read whole when it was
    chosen; a chosen message whose text could not be read (named in the pass's unreadable
    lines) is kept as far as it was read, no longer marked for a text read, so no later pass
    stumbles on it again."""
    if message.id not in chosen:
        return message
    found = whole.get(message.id)
    return found if found is not None else dataclasses.replace(message, headers_only=False)


IDLE_RENEW = 25 * 60.0  # seconds: RFC 2177 asks clients to re-issue IDLE at least every 29 minutes


def _idle_responses(client: imapclient.IMAPClient, timeout: float) -> list[Any]:
    """The untagged responses that arrive within ``timeout`` seconds of IDLE.

    ``idle_check`` takes a closed connection for "nothing yet" (it swallows the EOF, and its
    poll then returns at once, forever): here a socket that keeps showing readable with
    nothing to read is a connection the server closed (a restart), raised as an abort."""
    sock = client.socket()
    for _attempt in range(3):
        readable, _, _ = select.select([sock], [], [], timeout)
        if not readable:
            return []
        responses = client.idle_check(timeout=0)
        if responses:
            return list(responses)
        timeout = 0.05  # a TLS record in halves looks the same for a moment: look again
    raise imaplib.IMAP4.abort("the server closed the connection")


def _changes(responses: Any) -> bool:
    """Whether untagged responses read in IDLE report new or removed mail (EXISTS, EXPUNGE,
    VANISHED), not a flag change or a keep-alive such as Dovecot's ``* OK Still here``."""
    for response in responses or ():
        parts = response if isinstance(response, tuple) else (response,)
        for part in parts:
            word = part.upper() if isinstance(part, bytes) else str(part).upper().encode()
            if word in (b"EXISTS", b"EXPUNGE", b"VANISHED"):
                return True
    return False
