"""GmailProvider: the Gmail API (google-api-python-client) behind :class:`MailProvider`.

Full sync: ``users.getProfile`` (the history id, read first, and the mailbox's address become the
cursor), ``labels.list``, one ``messages.list`` pass over every message in the look-back window
but spam and trash (archived mail too, as incremental sync keeps it; 500 ids a page), then
``messages.get(format=full)`` in batch requests of 50.
``format=full`` gives headers and the text/calendar parts in one call per message, without
attachment bytes (``format=raw`` would download every CV). In two steps (``select``, see
``TwoStepProvider``): ``format=metadata`` with only the header fields threading and relevance
need for every message, then ``format=full`` only for the ids ``select`` picks, both batched.

Incremental sync: ``history.list`` from the stored history id; an idle poll is that one call
(plus one ``getProfile`` the first time a provider object syncs, to check the cursor is this
mailbox's). A 404 means the id is older than Gmail keeps, and a cursor from another mailbox is
useless: CursorExpired, and the sync layer does a full sync. ``labels.list`` is read at most
once per pass; a message that loses a label Gmail no longer lists (a deleted label, perhaps a
``Candidates/`` one) is read again so its tags are right.

Every error leaves as an :mod:`inbox_watch.errors` type. What a failure means (retry, give up,
refused, or outcome unknown) is the shared send-once policy's decision (:mod:`inbox_watch.send_once`);
this adapter only says what Gmail answered. ``messages.send`` and ``drafts.create`` also go over
a transport that refuses httplib2's own silent second attempt (:mod:`providers.gmail.transport`);
both look their Message-ID up first (Sent, Drafts), so a retry after a lost answer makes no
second draft and sends nothing twice.
"""

from __future__ import annotations

import dataclasses
import json
import logging
from collections.abc import Callable, Iterable, Sequence
from functools import partial
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from inbox_watch import mime, send_once
from inbox_watch.config import AccountConfig, RecruiterConfig
from inbox_watch.errors import (
    AuthError,
    ConnectionFailed,
    CursorExpired,
    ProviderError,
    RateLimited,
)
from inbox_watch.models import (
    Cursor,
    Folder,
    MailMessage,
    OutgoingMessage,
    ProgressCallback,
    SendReceipt,
    SyncBatch,
    no_progress,
)
from inbox_watch.provider import Capability, TextSelector
from inbox_watch.send_once import Answer, Fault, Verdict, Wording
from providers.gmail.auth import load_credentials, reauth_hint
from providers.gmail.convert import (
    CANDIDATE_PREFIX,
    b64url_encode,
    calendar_parts,
    candidate_tags,
    to_mail_message,
)
from providers.redact import redact

if TYPE_CHECKING:
    from googleapiclient.errors import HttpError

log = logging.getLogger(__name__)
T = TypeVar("T")

DEFAULT_API_BASE_URL = "https://gmail.googleapis.com/"
BATCH_SIZE = 50  # Google: "larger batches are likely to trigger rate limiting"
LIST_PAGE_SIZE = 500  # the most messages.list returns per page
HISTORY_PAGE_SIZE = 500
HISTORY_TYPES = ["messageAdded", "messageDeleted", "labelAdded", "labelRemoved"]
WATCHED_SYSTEM_LABELS = frozenset({"INBOX", "SENT"})
GONE_LABELS = frozenset({"TRASH", "SPAM", "CHAT"})  # not mail the recruiter watches (chats are Hangouts logs)
SYSTEM_LABELS = frozenset({"DRAFT", "UNREAD", "STARRED", "IMPORTANT", "CHAT"})
RATE_LIMIT_REASONS = frozenset({"rateLimitExceeded", "userRateLimitExceeded"})
QUOTA_REASONS = frozenset({"dailyLimitExceeded", "quotaExceeded"})
HTTP_TIMEOUT = 60
ATTEMPTS = 5  # tries of a request the service did not act on (429, 5xx, no connection)
CALENDAR_MAX_BYTES = 1 << 20  # an invitation bigger than this is not fetched


class _NotFound(ProviderError):
    """Gmail answered 404 (the caller decides what that means)."""


def _given_up(fault: Fault) -> ProviderError:
    """Gmail's words for a request that did not go through (``send_once.Verdict.GIVE_UP``)."""
    if fault.answer is Answer.THROTTLED:
        return RateLimited(f"{fault}; Gmail is still rate limiting, try again later", fault.retry_after)
    if fault.answer is Answer.NONE:
        return ConnectionFailed(str(fault))
    if fault.answer is Answer.UNAVAILABLE:
        return ProviderError(f"{fault}; Gmail kept failing, try again later")
    return ProviderError(str(fault))


WORDING = Wording(refused=lambda fault: f"{fault}; Gmail refused the message", given_up=_given_up)


def _error_details(exc: HttpError) -> tuple[str, str]:
    """(message, reason) from Google's JSON error body; never the request's credentials."""
    try:
        body = json.loads(exc.content.decode("utf-8", "replace"))
        error = body["error"]
        reasons = [e.get("reason", "") for e in error.get("errors") or ()]
        return str(error.get("message", "")), (reasons[0] if reasons else str(error.get("status", "")))
    except (ValueError, KeyError, TypeError, AttributeError):
        return "", ""


REFUSED_FOR_GOOD = frozenset({400, 413})
"""Answers to ``messages.send`` that say the message itself is wrong (an invalid recipient or
header, too large): sending it again would be refused again, so the outbox fails it at once."""


class GmailProvider:
    """One Gmail mailbox. See the module docstring for the calls each operation makes."""

    capabilities: ClassVar[frozenset[Capability]] = frozenset(
        {
            Capability.INCREMENTAL,
            Capability.DRAFTS,
            Capability.SEND,
            Capability.TAGS,
            Capability.THREAD_IDS,
            Capability.TWO_STEP,
        }
    )

    def __init__(self, account: AccountConfig, recruiter: RecruiterConfig) -> None:
        self.account = account.name
        self._config = account
        self._recruiter = recruiter
        base = account.api_base_url or DEFAULT_API_BASE_URL
        self._base_url = base if base.endswith("/") else base + "/"
        self._batch_uri = self._base_url + "batch/gmail/v1"
        self._service: Any = None
        self._credentials: Any = None
        self._send_http: Any = None  # sends each request at most once (messages.send)
        self._labels: dict[str, str] | None = None  # label id -> name
        self._labels_fresh = False  # labels.list already read during this sync pass
        self._deleted_labels: dict[str, str] = {}  # id -> name of labels gone since we read them
        self._mailbox: str | None = None  # getProfile's emailAddress, read once per provider

    # -- plumbing ---------------------------------------------------------------------------

    def _users(self) -> Any:
        if self._service is None:
            import google_auth_httplib2
            import httplib2
            from googleapiclient.discovery import build

            self._credentials = load_credentials(self._config)
            http = google_auth_httplib2.AuthorizedHttp(self._credentials, http=httplib2.Http(timeout=HTTP_TIMEOUT))
            self._service = build(
                "gmail",
                "v1",
                http=http,
                static_discovery=True,
                cache_discovery=False,
                client_options={"api_endpoint": self._base_url},
            )
        return self._service.users()

    def _auth_error(self) -> AuthError:
        if self._config.access_token_env:
            return AuthError(
                f"Gmail rejected the access token in ${self._config.access_token_env} for account "
                f"{self.account!r} (expired or revoked): set a fresh one"
            )
        return AuthError(
            f"Gmail sign-in for account {self.account!r} has expired or was revoked: {reauth_hint(self.account)}"
        )

    def _translate(self, exc: HttpError, what: str) -> Fault | ProviderError:
        """An HttpError as a ``send_once.Fault`` (429, 5xx, a message refused for good) for the
        shared policy to judge, or as this adapter's own error."""
        from inbox_watch.retry import parse_retry_after

        status = int(exc.resp.status)
        message, reason = _error_details(exc)
        message = redact(message, getattr(self._credentials, "token", None))
        detail = f"Gmail {what}: HTTP {status}" + (f" {message}" if message else "")
        if status == 429 or (status == 403 and reason in RATE_LIMIT_REASONS):
            return Fault(Answer.THROTTLED, detail, retry_after=parse_retry_after(exc.resp.get("retry-after")))
        if status >= 500:
            return Fault(Answer.UNAVAILABLE, detail, retry_after=parse_retry_after(exc.resp.get("retry-after")))
        if status == 401:
            return self._auth_error()
        if status == 403 and reason in QUOTA_REASONS:
            return RateLimited(f"{detail}; the daily Gmail quota is spent, try again tomorrow")
        if status == 403 and reason == "insufficientPermissions":
            return AuthError(f"{detail}; {reauth_hint(self.account)} and allow every permission")
        if status == 404:
            return _NotFound(detail)
        if status in REFUSED_FOR_GOOD:
            return Fault(Answer.REFUSED, detail)
        return ProviderError(detail)

    def _fault_of(self, what: str) -> Callable[[Exception], Fault | None]:
        """How a failed exchange looks to the send-once policy (``inbox_watch.send_once``);
        an error of this adapter's own (an expired sign-in, a 404) is raised as it is."""
        import ssl

        import httplib2
        from google.auth.exceptions import RefreshError, TransportError
        from googleapiclient.errors import HttpError

        from providers.gmail.transport import RepeatRefused

        never_sent = (
            ConnectionRefusedError,
            httplib2.ServerNotFoundError,
            ssl.SSLCertVerificationError,
            TransportError,  # google-auth: getting a token failed, before the request
        )

        def fault_of(exc: Exception) -> Fault | None:
            if isinstance(exc, HttpError):
                error = self._translate(exc, what)
                if isinstance(error, Fault):
                    return error
                raise error from None
            if isinstance(exc, RefreshError):
                raise self._auth_error() from None
            if isinstance(exc, RepeatRefused):
                return Fault(Answer.NONE, f"Gmail {what}: {exc}")
            if isinstance(exc, (OSError, httplib2.HttpLib2Error, TransportError)):
                return Fault(
                    Answer.NONE,
                    f"cannot reach Gmail at {self._base_url} ({type(exc).__name__})",
                    reached=not isinstance(exc, never_sent),
                    unclear=f"Gmail {what}: no answer ({type(exc).__name__}) after the request went out",
                )
            return None

        return fault_of

    def _call(self, request: Any, what: str) -> Any:
        """One request, retried under the shared policy (429, 5xx, a connection lost)."""
        return send_once.run(
            request.execute, once=False, attempts=ATTEMPTS, wording=WORDING, fault_of=self._fault_of(what)
        )

    def _call_once(self, request: Any, what: str) -> Any:
        """``_call`` for ``messages.send`` and ``drafts.create``: one HTTP attempt (over :class:`OneAttemptHttp`),
        retried only when Gmail surely did not act on it (``inbox_watch.send_once``)."""
        if self._send_http is None:
            import google_auth_httplib2

            from providers.gmail.transport import OneAttemptHttp

            self._users()  # loads the credentials
            self._send_http = google_auth_httplib2.AuthorizedHttp(
                self._credentials, http=OneAttemptHttp(timeout=HTTP_TIMEOUT)
            )
        return send_once.run(
            partial(request.execute, http=self._send_http),
            once=True,
            attempts=ATTEMPTS,
            wording=WORDING,
            fault_of=self._fault_of(what),
        )

    def _label_names(self, *, refresh: bool = False) -> dict[str, str]:
        """Label id -> name; ``refresh`` reads labels.list again, at most once per sync pass."""
        if self._labels is None or (refresh and not self._labels_fresh):
            response = self._call(self._users().labels().list(userId="me"), "labels.list")
            names = {str(label["id"]): str(label.get("name", "")) for label in response.get("labels", ())}
            for label_id, name in (self._labels or {}).items():
                if label_id not in names:
                    self._deleted_labels[label_id] = name
            self._labels = names
            self._labels_fresh = True
        return self._labels

    def _new_pass(self) -> None:
        """A sync pass starts: the next unknown label id may read labels.list again (once)."""
        self._labels_fresh = False

    # -- reading ----------------------------------------------------------------------------

    def folders(self) -> list[Folder]:
        self._new_pass()
        names = self._label_names(refresh=True)
        found = [
            Folder(id="INBOX", name="INBOX", role="inbox"),
            Folder(id="SENT", name="SENT", role="sent"),
            Folder(id="DRAFT", name="DRAFT", role="drafts"),
        ]
        for label_id, name in sorted(names.items(), key=lambda item: item[1]):
            tags = candidate_tags([label_id], names)
            if tags:
                found.append(Folder(id=label_id, name=name, role="candidate", candidate=tags[0]))
        return found

    def _list_ids(self, query: str) -> Iterable[tuple[str, str]]:
        """(message id, thread id) for every message matching ``query``, whatever its labels."""
        page_token: str | None = None
        while True:
            params: dict[str, Any] = {"userId": "me", "maxResults": LIST_PAGE_SIZE, "q": query}
            if page_token:
                params["pageToken"] = page_token
            response = self._call(self._users().messages().list(**params), "messages.list")
            for item in response.get("messages", ()):
                yield str(item["id"]), str(item.get("threadId", ""))
            page_token = response.get("nextPageToken")
            if not page_token:
                return

    def _run_batch(self, calls: dict[str, Callable[[], Any]], what: str) -> tuple[dict[str, Any], list[str]]:
        """Run up to BATCH_SIZE API calls as one batch request.

        ``calls`` maps a key to a function building the request. Returns (answers by key, keys
        Gmail no longer has). Calls that fail with 429 / 5xx are sent again, alone, after the
        back-off; answers already received are kept.
        """
        from googleapiclient.http import BatchHttpRequest

        got: dict[str, Any] = {}
        gone: list[str] = []
        outstanding = list(calls)

        def attempt() -> None:
            nonlocal outstanding
            errors: dict[str, HttpError] = {}

            def collect(key: str, response: Any, exception: Any) -> None:
                if exception is None:
                    got[key] = response
                else:
                    errors[key] = exception

            batch = BatchHttpRequest(batch_uri=self._batch_uri)
            for key in outstanding:
                batch.add(calls[key](), callback=collect, request_id=key)
            batch.execute()
            again: list[str] = []
            last: Fault | None = None
            for key, exc in errors.items():
                error = self._translate(exc, what)
                if isinstance(error, _NotFound):
                    gone.append(key)
                elif isinstance(error, Fault) and send_once.judge(error, once=False) is Verdict.RETRY:
                    again.append(key)
                    last = error
                elif isinstance(error, Fault):
                    raise WORDING.given_up(error)
                else:
                    raise error
            outstanding = again
            if last is not None:
                raise last

        send_once.run(attempt, once=False, attempts=ATTEMPTS, wording=WORDING, fault_of=self._fault_of(f"batch {what}"))
        return got, gone

    def _get_batch(self, ids: list[str], *, headers_only: bool = False) -> tuple[list[dict[str, Any]], list[str]]:
        """``messages.get(format=full)`` for up to BATCH_SIZE ids: (resources, ids gone).
        ``headers_only``: ``format=metadata`` with the header fields of ``mime.FETCH_HEADERS``."""
        messages = self._users().messages()
        options: dict[str, Any] = (
            {"format": "metadata", "metadataHeaders": list(mime.FETCH_HEADERS)} if headers_only else {"format": "full"}
        )
        calls: dict[str, Callable[[], Any]] = {
            message_id: partial(messages.get, userId="me", id=message_id, **options) for message_id in ids
        }
        got, gone = self._run_batch(calls, "messages.get")
        return [got[i] for i in ids if i in got], gone

    def _fetch_calendar_attachments(self, resources: list[dict[str, Any]]) -> None:
        """Fill in invitations Gmail returned as attachments (``attachmentId``, no data).

        Classification needs the text/calendar part; most invitations carry it inline, and only
        messages whose every calendar part is an attachment cost one more call each.
        """
        wanted: list[tuple[str, dict[str, Any]]] = []  # (message id, part body)
        for resource in resources:
            parts = list(calendar_parts(resource.get("payload") or {}))
            if parts and not any(p.get("body", {}).get("data") for p in parts):
                body = parts[0].get("body") or {}
                if body.get("attachmentId") and int(body.get("size", 0)) <= CALENDAR_MAX_BYTES:
                    wanted.append((str(resource["id"]), body))
        attachments = self._users().messages().attachments()
        for start in range(0, len(wanted), BATCH_SIZE):
            chunk = dict(enumerate(wanted[start : start + BATCH_SIZE]))
            calls: dict[str, Callable[[], Any]] = {
                f"a{n}": partial(attachments.get, userId="me", messageId=message_id, id=body["attachmentId"])
                for n, (message_id, body) in chunk.items()
            }
            got, _gone = self._run_batch(calls, "messages.attachments.get")
            for n, (_message_id, body) in chunk.items():
                if f"a{n}" in got:
                    body["data"] = got[f"a{n}"].get("data", "")

    def _fetch(
        self, ids: list[str], progress: ProgressCallback, *, headers_only: bool = False, what: str = "messages"
    ) -> tuple[list[MailMessage], list[str]]:
        resources: list[dict[str, Any]] = []
        gone: list[str] = []
        for start in range(0, len(ids), BATCH_SIZE):
            found, missing = self._get_batch(ids[start : start + BATCH_SIZE], headers_only=headers_only)
            resources += found
            gone += missing
            progress(min(start + BATCH_SIZE, len(ids)), len(ids), what)
        if not resources:
            return [], gone
        if not headers_only:
            self._fetch_calendar_attachments(resources)
        names = self._label_names()
        if any(lid not in names for r in resources for lid in r.get("labelIds", ())):
            names = self._label_names(refresh=True)  # a label made since we last looked
        messages = [to_mail_message(r, account=self.account, label_names=names) for r in resources]
        if headers_only:
            messages = [dataclasses.replace(m, headers_only=True) for m in messages]
        return messages, gone

    def _two_step(
        self, ids: list[str], progress: ProgressCallback, select: TextSelector | None
    ) -> tuple[list[MailMessage], list[str]]:
        """Every message of ``ids``: whole, or (with ``select``) headers first, then whole only
        for those ``select`` picks."""
        if select is None:
            return self._fetch(ids, progress)
        heads, gone = self._fetch(ids, progress, headers_only=True)
        chosen = set(select(heads))
        wanted = [m.id for m in heads if m.id in chosen]
        if not wanted:
            return heads, gone
        whole, also_gone = self._fetch(wanted, progress, what="text")
        found = {m.id: m for m in whole}
        kept = [found.get(m.id) or (dataclasses.replace(m, headers_only=False) if m.id in chosen else m) for m in heads]
        return [m for m in kept if m.id not in also_gone], gone + also_gone

    def read_text(self, ids: Sequence[str], progress: ProgressCallback | None = None) -> list[MailMessage]:
        """The messages ``ids`` whole: ``format=full`` in batches of 50 (see TwoStepProvider)."""
        if not ids:
            return []
        self._new_pass()
        messages, _gone = self._fetch(list(ids), progress or no_progress, what="text")
        return messages

    def full_sync(self, progress: ProgressCallback | None = None, *, select: TextSelector | None = None) -> SyncBatch:
        progress = progress or no_progress
        self._new_pass()
        profile = self._profile()
        history_id = str(profile["historyId"])  # read first: nothing after it is missed
        # Every message in the window, archived ones too (incremental sync keeps an archived
        # reply, so a full sync must find it): one list pass, not one per label.
        query = f"newer_than:{self._config.lookback_days}d -in:spam -in:trash -in:chats"
        ids: dict[str, None] = {}
        for message_id, _thread in self._list_ids(query):
            ids.setdefault(message_id)
            if len(ids) % LIST_PAGE_SIZE == 0:
                progress(len(ids), None, "listing")
        progress(len(ids), None, "listing")
        self._label_names(refresh=True)  # label names for the tags, read once
        messages, _gone = self._two_step(list(ids), progress, select)
        log.info("gmail %s: full sync read %d messages", self.account, len(messages))
        return SyncBatch(
            account=self.account,
            messages=tuple(messages),
            cursor=self._cursor(history_id),
            full=True,
        )

    def _profile(self) -> dict[str, Any]:
        profile: dict[str, Any] = self._call(self._users().getProfile(userId="me"), "getProfile")
        self._mailbox = str(profile.get("emailAddress", "")).lower()
        return profile

    def _cursor(self, history_id: str) -> Cursor:
        """The sync position: the history id and the mailbox it belongs to ("<id> <address>")."""
        return Cursor(self.account, f"{history_id} {self._mailbox}" if self._mailbox else history_id)

    def _is_candidate(self, label_ids: Iterable[str], *, unknown: bool = False) -> bool:
        """True when any of ``label_ids`` is a Candidates/ label (labels.list again if unknown).

        With ``unknown``, an id Gmail no longer lists and we never saw counts too: a message that
        lost it may have lost a candidate tag (its label was deleted), so it is read again.
        """
        labels = {
            lid
            for lid in label_ids
            if lid not in SYSTEM_LABELS | WATCHED_SYSTEM_LABELS | GONE_LABELS and not lid.startswith("CATEGORY_")
        }
        if not labels:
            return False
        names = self._label_names()
        if labels - set(names):
            names = self._label_names(refresh=True)  # a label made (or deleted) since we last looked
        for lid in labels:
            name = names.get(lid, self._deleted_labels.get(lid))
            if (name is None and unknown) or (name or "").startswith(CANDIDATE_PREFIX):
                return True
        return False

    @staticmethod
    def _watched(label_ids: Iterable[str]) -> bool:
        """Every message but spam, trash and chats is kept, as the full sync lists them."""
        return not set(label_ids) & GONE_LABELS

    def incremental_sync(
        self, cursor: Cursor, progress: ProgressCallback | None = None, *, select: TextSelector | None = None
    ) -> SyncBatch:
        progress = progress or no_progress
        self._new_pass()
        start, _, mailbox = cursor.value.strip().partition(" ")
        if not start.isdigit():
            raise CursorExpired(f"account {self.account!r}: the stored Gmail position is unreadable")
        if self._mailbox is None:
            self._profile()  # once per provider: whose mailbox these credentials open
        mailbox = mailbox.strip().lower()
        if mailbox and mailbox != self._mailbox:
            # A history id means nothing in another mailbox (signed in again as someone else).
            # A position from before the address was kept is taken as is, and gets it now.
            raise CursorExpired(
                f"account {self.account!r}: the stored Gmail position belongs to {mailbox}, "
                f"but the account now opens {self._mailbox}; a full sync is needed"
            )
        fetch: dict[str, None] = {}
        removed: dict[str, None] = {}
        new_history_id = ""
        page_token: str | None = None
        while True:
            params: dict[str, Any] = {
                "userId": "me",
                "startHistoryId": start,
                "historyTypes": HISTORY_TYPES,
                "maxResults": HISTORY_PAGE_SIZE,
            }
            if page_token:
                params["pageToken"] = page_token
            try:
                response = self._call(self._users().history().list(**params), "history.list")
            except _NotFound:
                raise CursorExpired(
                    f"account {self.account!r}: Gmail no longer has history from id {start}; a full sync is needed"
                ) from None
            new_history_id = new_history_id or str(response.get("historyId", start))
            for record in response.get("history", ()):
                self._apply_history(record, fetch, removed)
            page_token = response.get("nextPageToken")
            if not page_token:
                break
        messages, gone = self._two_step(list(fetch), progress, select) if fetch else ([], [])
        for message_id in gone:
            removed.setdefault(message_id)
        return SyncBatch(
            account=self.account,
            messages=tuple(messages),
            cursor=self._cursor(new_history_id),
            removed=tuple(removed),
        )

    def _apply_history(self, record: dict[str, Any], fetch: dict[str, None], removed: dict[str, None]) -> None:
        """Fold one history record into the ids to (re)fetch and the ids removed."""
        for item in record.get("messagesAdded", ()):
            message = item["message"]
            if self._watched(message.get("labelIds", ())):
                fetch.setdefault(message["id"])
                removed.pop(message["id"], None)
        for item in record.get("labelsAdded", ()):
            message, added = item["message"], set(item.get("labelIds", ()))
            if added & GONE_LABELS:  # trashed or marked as spam: gone from the watched mail
                fetch.pop(message["id"], None)
                removed.setdefault(message["id"])
            elif (added & WATCHED_SYSTEM_LABELS or self._is_candidate(added)) and self._watched(
                message.get("labelIds", ())
            ):  # came into view, or a candidate tag was added: read it again
                fetch.setdefault(message["id"])
                removed.pop(message["id"], None)
        for item in record.get("labelsRemoved", ()):
            message, dropped = item["message"], set(item.get("labelIds", ()))
            if self._is_candidate(dropped, unknown=True) or (
                dropped & GONE_LABELS and self._watched(message.get("labelIds", ()))
            ):  # a candidate tag was removed, or the message came back from trash / spam
                fetch.setdefault(message["id"])
                removed.pop(message["id"], None)
            # Reading (UNREAD removed) or archiving (INBOX removed) changes nothing we keep; a
            # deleted label (unknown id) may have been a candidate tag, so that message is read again.
        for item in record.get("messagesDeleted", ()):
            fetch.pop(item["message"]["id"], None)
            removed.setdefault(item["message"]["id"])

    # -- writing ----------------------------------------------------------------------------

    def _thread_for(self, message: OutgoingMessage) -> str:
        """Gmail's threadId for the message being answered (one messages.list if not given)."""
        if message.thread_id or not message.in_reply_to:
            return message.thread_id
        found = self._find(message.in_reply_to, sent_only=False)
        return found[1] if found else ""

    def _raw_body(self, message: OutgoingMessage) -> dict[str, str]:
        body = {"raw": b64url_encode(mime.build_email(message))}
        thread_id = self._thread_for(message)
        if thread_id:
            body["threadId"] = thread_id
        return body

    def save_draft(self, message: OutgoingMessage) -> str:
        """``drafts.create``, made at most once per Message-ID (``send_once.find_or_make``).

        It goes over the one-attempt transport (httplib2 would post it again after a lost
        answer); a draft with this Message-ID is looked for first (``drafts.list``, one call),
        and again when the answer to making it was lost.
        """

        def make() -> str:
            request = self._users().drafts().create(userId="me", body={"message": self._raw_body(message)})
            return str(self._call_once(request, "drafts.create")["id"])

        return send_once.find_or_make(lambda: self._find_draft(message.message_id), make)

    def _find_draft(self, message_id: str) -> str | None:
        """The id of a draft whose Message-ID is ``message_id``, if there is one."""
        bare = message_id.strip().strip("<>")
        if not bare:
            return None
        request = self._users().drafts().list(userId="me", q=f"rfc822msgid:{bare}", maxResults=1)
        response = self._call(request, "drafts.list")
        for item in response.get("drafts", ()):
            return str(item["id"])
        return None

    def send(self, message: OutgoingMessage) -> SendReceipt:
        def hand_over() -> SendReceipt:
            request = self._users().messages().send(userId="me", body=self._raw_body(message))
            return SendReceipt(str(self._call_once(request, "messages.send")["id"]))

        return send_once.send_unless_sent(lambda: self.find_sent(message.message_id), hand_over)

    def _find(self, message_id: str, *, sent_only: bool) -> tuple[str, str] | None:
        bare = message_id.strip().strip("<>")
        if not bare:
            return None
        params: dict[str, Any] = {"userId": "me", "q": f"rfc822msgid:{bare}", "maxResults": 1}
        if sent_only:
            params["labelIds"] = ["SENT"]
        response = self._call(self._users().messages().list(**params), "messages.list")
        for item in response.get("messages", ()):
            return str(item["id"]), str(item.get("threadId", ""))
        return None

    def find_sent(self, message_id: str) -> str | None:
        found = self._find(message_id, sent_only=True)
        return found[0] if found else None

    def close(self) -> None:
        send_http, self._send_http = self._send_http, None
        service, self._service = self._service, None
        for what, resource in (("send connection", send_http), ("service", service)):
            if resource is not None:
                try:
                    resource.close()
                except Exception:  # noqa: BLE001 - closing must never fail
                    log.debug("closing the Gmail %s failed", what, exc_info=True)
