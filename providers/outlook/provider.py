"""OutlookProvider: Microsoft 365 / Outlook.com through Microsoft Graph (plain httpx, no SDK).

Sync reads each watched folder with a delta query (``/me/mailFolders/{id}/messages/delta``):
Inbox, Sent Items and every child folder of a folder named ``Candidates``. The cursor keeps one
``@odata.deltaLink`` per folder, so an idle poll is one GET per folder. The Candidates folder's
children are listed again (one GET) at least hourly and whenever a pass sees a message go (it
may have been filed into a new candidate folder): a new candidate folder is read in full at
once; a known one deleted, renamed or moved away raises CursorExpired. A delta token Graph has forgotten
(HTTP 410, or 400 syncStateNotFound / resyncRequired) raises CursorExpired and the sync layer
answers with a full sync. An ``@removed`` entry is a removal only if the message is in no watched
folder now (``GET me/messages/{id}``): a reply filed into Candidates/<Name> while a pass runs may
have been missed by that folder's round, and is then reported there.

Drafts are made with ``createReply`` on the message being answered (Graph threads them and sets
``In-Reply-To`` / ``References``; never repeated on an unclear answer, and deleted again if the
next step fails), then PATCHed with the text, the recipients and the outbox's
Message-ID (``internetMessageId`` may be set while ``isDraft`` is true). Sending is
``POST /me/messages/{draft}/send``; ``find_sent`` looks the Message-ID up in Sent Items.
"""

from __future__ import annotations

import base64
import dataclasses
import json
import logging
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import quote

from inbox_watch import send_once
from inbox_watch.errors import (
    AuthError,
    CursorExpired,
    InboxWatchError,
    ProviderError,
)
from inbox_watch.mime import build_email, parse_bytes
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
from providers.outlook.convert import SELECT_FIELDS, needs_mime, to_mail_message
from providers.outlook.graph import GraphClient, GraphNotFound

if TYPE_CHECKING:
    from collections.abc import Callable

    from inbox_watch.config import AccountConfig, RecruiterConfig

log = logging.getLogger(__name__)

DEFAULT_API_BASE_URL = "https://graph.microsoft.com/v1.0"
CANDIDATES_FOLDER = "Candidates"
CURSOR_VERSION = 1
FOLDER_REFRESH_SECONDS = 3600.0  # the candidate folders are listed again at least this often
# Ids that survive a move between folders, so a move is never "removed" plus an unknown "new".
IMMUTABLE_IDS = 'IdType="ImmutableId"'
HEADER_FIELDS = tuple(f for f in SELECT_FIELDS if f != "body")  # the first step of a two-step read
BATCH_LIMIT = 20  # requests in one JSON $batch: Graph's limit


@dataclass(frozen=True, slots=True)
class _Watched:
    """One folder whose messages are synced, with its delta link once a round has finished."""

    id: str
    name: str
    role: str = ""
    candidate: str = ""
    delta: str = ""

    def folder(self) -> Folder:
        return Folder(id=self.id, name=self.name, role=self.role, candidate=self.candidate)


def _odata_string(value: str) -> str:
    """A value as an OData string literal (single quotes doubled)."""
    return "'" + value.replace("'", "''") + "'"


def _recipients(addresses: tuple[str, ...]) -> list[dict[str, Any]]:
    from inbox_watch.headers import plain_address  # raises UnsafeRecipient: nothing written

    return [{"emailAddress": {"address": plain_address(a)}} for a in addresses]


class OutlookProvider:
    """One Microsoft 365 / Outlook.com mailbox. See the module docstring for the Graph calls."""

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

    def __init__(
        self,
        account: AccountConfig,
        recruiter: RecruiterConfig,
        *,
        token_cache_path: Path | None = None,
        page_size: int = 200,
        now: Callable[[], datetime] | None = None,
    ) -> None:
        self.account = account.name
        self.config = account
        self.recruiter = recruiter
        self.page_size = page_size
        self._now = now or (lambda: datetime.now(UTC))
        self._headers_only = False  # a first delta round selects no body (the first of two steps)
        self._folder_of: dict[str, _Watched] = {}  # this pass's messages read headers only, by id
        self._token_source, refresh = self._make_token_source(token_cache_path)
        self._client = GraphClient(
            account.api_base_url or DEFAULT_API_BASE_URL,
            self._token_source,
            refresh=refresh,
            account=account.name,
            auth_hint=self._auth_hint(),
            verify=account.ca_file or True,
        )

    # -- sign-in ---------------------------------------------------------------------------

    def _auth_hint(self) -> str:
        if self.config.access_token_env:
            return f"check the bearer token in ${self.config.access_token_env}"
        return f"run `inbox-watch auth {self.account}` to sign in again"

    def _make_token_source(self, cache_path: Path | None) -> tuple[Callable[[], str], Callable[[], str]]:
        """(token, refresh): ``refresh`` gets a new token after Graph refused one (401)."""
        env = self.config.access_token_env
        if env:

            def from_env() -> str:
                token = os.environ.get(env, "").strip()
                if not token:
                    raise AuthError(f"account {self.account!r}: access_token_env names ${env}, which is empty or unset")
                return token

            return from_env, from_env
        from providers.outlook.auth import MsalTokens  # msal itself is imported on first use

        tokens = MsalTokens(self.config, cache_path)
        return tokens, tokens.refresh

    # -- folders ---------------------------------------------------------------------------

    def _well_known(self, name: str, role: str) -> _Watched:
        data = self._client.get_json(f"me/mailFolders/{name}", params={"$select": "id,displayName"})
        return _Watched(id=str(data["id"]), name=str(data.get("displayName") or name), role=role)

    def _candidates_root(self) -> dict[str, Any] | None:
        params = {
            "$filter": f"displayName eq {_odata_string(CANDIDATES_FOLDER)}",
            "$select": "id,displayName",
        }
        for parent in ("me/mailFolders", "me/mailFolders/inbox/childFolders"):
            found = self._client.get_json(parent, params=params).get("value") or []
            if found:
                return dict(found[0])
        return None

    def _children(self, root_id: str) -> list[_Watched]:
        """The child folders of the Candidates folder ``root_id``, each one a candidate."""
        found: list[_Watched] = []
        path = f"me/mailFolders/{quote(root_id, safe='')}/childFolders"
        params = {"$select": "id,displayName", "$top": "100"}
        for page in self._client.pages(path, params=params):
            for child in page.get("value") or ():
                name = str(child.get("displayName") or "").strip()
                if name:
                    found.append(
                        _Watched(
                            id=str(child["id"]), name=f"{CANDIDATES_FOLDER}/{name}", role="candidate", candidate=name
                        )
                    )
        return found

    def _candidate_folders(self, root_id: str = "") -> tuple[list[_Watched], str]:
        """The candidate folders and the Candidates folder's id ("" when there is none).

        With ``root_id`` (from the cursor) this is one request; without it, or when that folder
        is gone, the Candidates folder is looked up by name first.
        """
        if root_id:
            try:
                return self._children(root_id), root_id
            except GraphNotFound:
                pass
        root = self._candidates_root()
        if root is None:
            return [], ""
        return self._children(str(root["id"])), str(root["id"])

    def _watched(self) -> tuple[list[_Watched], str]:
        """Inbox, Sent Items and the children of the Candidates folder; and that folder's id."""
        candidates, root = self._candidate_folders()
        return [self._well_known("inbox", "inbox"), self._well_known("sentitems", "sent"), *candidates], root

    def _relist(self, folders: list[_Watched], root_id: str) -> tuple[list[_Watched], str]:
        """The cursor's folders brought up to date with the candidate folders as they are now.

        A new candidate folder gets a first round (all of it is read). A known one that was
        deleted, renamed or moved out of Candidates raises CursorExpired: the full sync that
        follows drops or re-tags what the store holds from it.
        """
        listed, root_id = self._candidate_folders(root_id)
        now = {w.id: w for w in listed}
        for folder in folders:
            if folder.role != "candidate":
                continue
            current = now.get(folder.id)
            if current is None:
                raise CursorExpired(
                    f"account {self.account!r}: the folder {folder.name} was deleted "
                    f"or moved out of {CANDIDATES_FOLDER}"
                )
            if current.name != folder.name:
                raise CursorExpired(f"account {self.account!r}: the folder {folder.name} was renamed to {current.name}")
        known = {f.id: f for f in folders}
        fixed = [f for f in folders if f.role != "candidate"]
        return fixed + [known.get(w.id, w) for w in listed], root_id

    def folders(self) -> list[Folder]:
        self._client.authorize()
        listed = [w.folder() for w in self._watched()[0]]
        drafts = self._well_known("drafts", "drafts")
        return listed[:2] + [drafts.folder()] + listed[2:]

    # -- sync ------------------------------------------------------------------------------

    def _delta_headers(self) -> dict[str, str]:
        return {"Prefer": (f'odata.maxpagesize={self.page_size}, outlook.body-content-type="text", ' + IMMUTABLE_IDS)}

    def _first_delta_params(self) -> dict[str, str]:
        since = self._now() - timedelta(days=self.config.lookback_days)
        return {
            "$select": ",".join(HEADER_FIELDS if self._headers_only else SELECT_FIELDS),
            "$filter": f"receivedDateTime ge {since.strftime('%Y-%m-%dT%H:%M:%SZ')}",
        }

    def _delta_round(
        self, folder: _Watched, progress: ProgressCallback, done: int
    ) -> tuple[list[MailMessage], list[str], _Watched]:
        """One delta round for ``folder``: from its delta link, or from scratch when it has none."""
        if folder.delta:
            start, params = folder.delta, None
        else:
            start = f"me/mailFolders/{quote(folder.id, safe='')}/messages/delta"
            params = self._first_delta_params()
        messages: list[MailMessage] = []
        removed: list[str] = []
        delta_link = ""
        for page in self._client.pages(start, params=params, headers=self._delta_headers()):
            for item in page.get("value") or ():
                if not isinstance(item, dict) or not item.get("id"):
                    continue
                if "@removed" in item:
                    removed.append(str(item["id"]))
                    continue
                messages.append(self._message(item, folder))
            delta_link = str(page.get("@odata.deltaLink") or "")
            progress(done + len(messages), None, folder.name)
        if not delta_link:
            raise ProviderError(
                f"account {self.account!r}: Microsoft Graph ended a delta round for {folder.name} without a deltaLink"
            )
        return (
            messages,
            removed,
            _Watched(
                id=folder.id,
                name=folder.name,
                role=folder.role,
                candidate=folder.candidate,
                delta=delta_link,
            ),
        )

    def _message(self, item: dict[str, Any], folder: _Watched) -> MailMessage:
        message = to_mail_message(item, account=self.account, folder=folder.name, folder_candidate=folder.candidate)
        if "body" not in item:  # the first step of a two-step read ($select without the body)
            self._folder_of[message.id] = folder
            return dataclasses.replace(message, headers_only=True)
        if not needs_mime(item):
            return message
        # Invitations and delivery reports: their calendar / delivery-status part is in the MIME.
        response = self._client.request(
            "GET",
            f"me/messages/{quote(message.id, safe='')}/$value",
            headers={"Accept": "message/rfc822, */*", "Prefer": IMMUTABLE_IDS},
        )
        parsed = parse_bytes(
            response.content,
            account=self.account,
            id=message.id,
            folder=message.folder,
            tags=message.tags,
            thread_id=message.thread_id,
            is_draft=message.is_draft,
            fallback_date=message.date,
        )
        return parsed

    def _sync(
        self,
        folders: list[_Watched],
        progress: ProgressCallback | None,
        relist: Callable[[list[_Watched]], list[_Watched]] | None = None,
    ) -> tuple[list[MailMessage], list[str], list[_Watched]]:
        """One delta round per folder. ``relist``, when given, is called once if anything was
        removed: it lists the folders again, and any new one gets its first round here."""
        report = progress or no_progress
        messages: list[MailMessage] = []
        removed: list[str] = []
        updated: list[_Watched] = []
        for folder in folders:
            try:
                got, gone, folder_now = self._delta_round(folder, report, len(messages))
            except CursorExpired:
                if folder.delta:
                    raise  # the caller answers with a full sync
                # A first round whose skip token went stale mid-way: start it once more.
                got, gone, folder_now = self._delta_round(folder, report, len(messages))
            except GraphNotFound:
                if folder.delta:
                    # The folder was deleted or renamed away: the folder list is out of date.
                    raise CursorExpired(f"account {self.account!r}: the folder {folder.name} is gone") from None
                raise
            messages += got
            removed += gone
            updated.append(folder_now)
        seen = {m.id for m in messages}
        # A message moved between watched folders shows as removed from one, added to another.
        removed = list(dict.fromkeys(r for r in removed if r not in seen))
        if removed and relist is not None:  # perhaps moved into a folder made since the listing
            known = {f.id for f in updated}
            for folder in relist(updated):
                if folder.id not in known:
                    got, gone, folder_now = self._delta_round(folder, report, len(messages))
                    messages += got
                    removed += gone
                    updated.append(folder_now)
            seen = {m.id for m in messages}
            removed = list(dict.fromkeys(r for r in removed if r not in seen))
        # ... but the other folder's round may have come before the move (this pass or the last
        # one): a removal is reported only if the message is in no watched folder now.
        watched = {f.id: f for f in updated}
        really_gone: list[str] = []
        for message_id in removed:
            where = self._where_now(message_id)
            now_in = watched.get(str(where.get("parentFolderId") or "")) if where else None
            if where is None or now_in is None:
                really_gone.append(message_id)
            else:
                messages.append(self._message(where, now_in))
        return messages, really_gone, updated

    def _where_now(self, message_id: str) -> dict[str, Any] | None:
        """The message with ``message_id`` as a delta round gives it (and its folder), or None."""
        try:
            return self._client.get_json(
                f"me/messages/{quote(message_id, safe='')}",
                params={"$select": ",".join((*SELECT_FIELDS, "parentFolderId"))},
                headers={"Prefer": 'outlook.body-content-type="text", ' + IMMUTABLE_IDS},
            )
        except GraphNotFound:
            return None

    def _cursor(self, folders: list[_Watched], root_id: str, listed_at: float) -> Cursor:
        value = {
            "v": CURSOR_VERSION,
            "root": root_id,
            "listed": listed_at,
            "base": self._client.base_url,
            "folders": [
                {
                    "id": f.id,
                    "name": f.name,
                    "role": f.role,
                    "candidate": f.candidate,
                    "delta": f.delta,
                }
                for f in folders
            ],
        }
        return Cursor(self.account, json.dumps(value, separators=(",", ":")))

    def _parse_cursor(self, cursor: Cursor) -> tuple[list[_Watched], str, float]:
        try:
            data = json.loads(cursor.value)
            if (
                not isinstance(data, dict)
                or data.get("v") != CURSOR_VERSION
                or data.get("base") != self._client.base_url
            ):
                raise ValueError("not an Outlook cursor of this version and endpoint")
            folders = [
                _Watched(
                    id=str(f["id"]),
                    name=str(f["name"]),
                    role=str(f.get("role", "")),
                    candidate=str(f.get("candidate", "")),
                    delta=str(f["delta"]),
                )
                for f in data["folders"]
            ]
            if not folders or not all(f.delta and self._client.same_origin(f.delta) for f in folders):
                raise ValueError("a folder without a usable delta link")
            return folders, str(data.get("root") or ""), float(data.get("listed") or 0.0)
        except (ValueError, KeyError, TypeError) as exc:
            raise CursorExpired(
                f"account {self.account!r}: the stored Outlook sync position is unusable ({exc})"
            ) from None

    def _wholes(self, wanted: list[tuple[str, _Watched | None]], progress: ProgressCallback) -> dict[str, MailMessage]:
        """The second step: the messages ``wanted`` (id, its folder when known) whole, by
        ``GET me/messages/{id}`` requests in JSON ``$batch`` requests of 20. A message gone (404)
        or in no watched folder is left out; one the batch could not answer (429, 5xx) is read
        on its own, with the usual retries."""
        found: dict[str, MailMessage] = {}
        folders: dict[str, _Watched] | None = None
        fields = ",".join((*SELECT_FIELDS, "parentFolderId"))
        prefer = 'outlook.body-content-type="text", ' + IMMUTABLE_IDS
        for start in range(0, len(wanted), BATCH_LIMIT):
            chunk = wanted[start : start + BATCH_LIMIT]
            requests = [
                {
                    "id": str(n),
                    "method": "GET",
                    "url": f"/me/messages/{quote(message_id, safe='')}?$select={fields}",
                    "headers": {"Prefer": prefer},
                }
                for n, (message_id, _folder) in enumerate(chunk)
            ]
            answer = self._client.post_json("$batch", {"requests": requests})
            by_id = {str(r.get("id")): r for r in answer.get("responses") or () if isinstance(r, dict)}
            for n, (message_id, folder) in enumerate(chunk):
                response = by_id.get(str(n)) or {}
                status = int(response.get("status") or 0)
                if status == 404:
                    continue
                item = response.get("body") if status == 200 else self._where_now(message_id)
                if not isinstance(item, dict) or not item.get("id"):
                    continue
                if folder is None:
                    if folders is None:
                        folders = {f.id: f for f in self._watched()[0]}
                    folder = folders.get(str(item.get("parentFolderId") or ""))
                    if folder is None:
                        continue  # moved out of every watched folder
                found[message_id] = self._message(item, folder)
            progress(min(start + BATCH_LIMIT, len(wanted)), len(wanted), "text")
        return found

    def _two_step(
        self, messages: list[MailMessage], select: TextSelector | None, progress: ProgressCallback | None
    ) -> list[MailMessage]:
        """Messages read headers only, with the text of those ``select`` picks (without
        ``select``: of every one, as a provider without two steps reads them) read in."""
        heads = [m for m in messages if m.headers_only]
        if not heads:
            return messages
        chosen = set(select(heads)) if select is not None else {m.id for m in heads}
        wanted = [(m.id, self._folder_of.get(m.id)) for m in heads if m.id in chosen]
        whole = self._wholes(wanted, progress or no_progress) if wanted else {}
        return [
            whole.get(m.id) or dataclasses.replace(m, headers_only=False) if m.id in chosen else m for m in messages
        ]

    def read_text(self, ids: Sequence[str], progress: ProgressCallback | None = None) -> list[MailMessage]:
        """The messages ``ids`` whole, in ``$batch`` requests of 20 (see TwoStepProvider)."""
        if not ids:
            return []
        self._client.authorize()
        found = self._wholes([(i, None) for i in ids], progress or no_progress)
        return [found[i] for i in ids if i in found]

    def full_sync(self, progress: ProgressCallback | None = None, *, select: TextSelector | None = None) -> SyncBatch:
        self._client.authorize()
        watched, root_id = self._watched()
        self._headers_only, self._folder_of = select is not None, {}
        try:
            messages, _removed, folders = self._sync(watched, progress)
        finally:
            self._headers_only = False
        messages = self._two_step(messages, select, progress)
        return SyncBatch(
            account=self.account,
            messages=tuple(messages),
            cursor=self._cursor(folders, root_id, time.time()),
            full=True,
        )

    def incremental_sync(
        self, cursor: Cursor, progress: ProgressCallback | None = None, *, select: TextSelector | None = None
    ) -> SyncBatch:
        """A delta link keeps the fields of the round that made it: after a two-step full
        sync, new messages come without their body and are read as ``_two_step`` says."""
        folders, root_id, listed_at = self._parse_cursor(cursor)
        self._folder_of = {}
        self._client.authorize()

        # The candidate folders are listed again (one request) when a pass sees a message go
        # (it may have been filed into a new Candidates/<Name> folder: it must not look deleted)
        # and at least hourly (a renamed folder must not keep its old name for long). An idle
        # poll stays one GET per folder.
        def relist(current: list[_Watched]) -> list[_Watched]:
            nonlocal root_id, listed_at
            fresh, root_id = self._relist(current, root_id)
            listed_at = time.time()
            return fresh

        if time.time() - listed_at > FOLDER_REFRESH_SECONDS:
            folders = relist(folders)
        self._headers_only = select is not None  # for a folder new since the cursor
        try:
            messages, removed, updated = self._sync(folders, progress, relist=relist)
        finally:
            self._headers_only = False
        messages = self._two_step(messages, select, progress)
        return SyncBatch(
            account=self.account,
            messages=tuple(messages),
            cursor=self._cursor(updated, root_id, listed_at),
            removed=tuple(removed),
            full=False,
        )

    # -- drafts and sending ----------------------------------------------------------------

    def _find(self, internet_message_id: str, folder: str = "") -> str | None:
        """The Graph id of the message with this Message-ID (in ``folder`` if given), or None."""
        if not internet_message_id:
            return None
        where = f"me/mailFolders/{folder}/messages" if folder else "me/messages"
        data = self._client.get_json(
            where,
            params={
                "$filter": f"internetMessageId eq {_odata_string(internet_message_id)}",
                "$select": "id",
                "$top": "1",
            },
            headers={"Prefer": IMMUTABLE_IDS},
        )
        found = data.get("value") or []
        return str(found[0]["id"]) if found else None

    def _create_draft(self, message: OutgoingMessage) -> str:
        to, cc = _recipients(message.to), _recipients(message.cc)  # checked before anything is made
        original = message.reply_to_id or self._find(message.in_reply_to)
        headers = {"Prefer": IMMUTABLE_IDS}
        if original:
            # createReply makes a new draft each time it is carried out: it is never repeated on
            # an unclear answer (a repeat would leave an extra draft). The outbox's Message-ID
            # goes in with it, so a draft made behind a lost answer is found and finished.
            draft_id = send_once.find_or_make(
                lambda: self._find(message.message_id, "drafts"),
                lambda: str(
                    self._client.request(
                        "POST",
                        f"me/messages/{quote(original, safe='')}/createReply",
                        json={"message": {"internetMessageId": message.message_id}},
                        headers=headers,
                        once="creating the reply draft",
                    ).json()["id"]
                ),
                look_first=False,
            )
            update: dict[str, Any] = {
                "subject": message.subject,
                "body": {"contentType": "text", "content": message.body},
                "toRecipients": to,
                "ccRecipients": cc,
                "internetMessageId": message.message_id,
            }
            if self.config.from_address:  # createReply drafts as the mailbox; send as the account's own address
                update["from"] = {"emailAddress": {"address": message.from_addr, "name": message.from_name}}
            try:
                self._client.request("PATCH", f"me/messages/{quote(draft_id, safe='')}", json=update, headers=headers)
            except InboxWatchError:
                self._discard(draft_id)  # a half-made draft (empty, quoting the original) must not stay
                raise
            return draft_id
        # No message to answer in this mailbox: create the draft from MIME, which carries the
        # Message-ID, In-Reply-To and References exactly as the outbox fixed them. Not repeated
        # on an unclear answer either; the Message-ID finds a draft made behind a lost answer.
        raw = base64.b64encode(build_email(message, date=self._now()))
        return send_once.find_or_make(
            lambda: self._find(message.message_id, "drafts"),
            lambda: str(
                self._client.request(
                    "POST",
                    "me/messages",
                    content=raw,
                    headers={"Content-Type": "text/plain", **headers},
                    once="creating the draft",
                ).json()["id"]
            ),
            look_first=False,
        )

    def _discard(self, draft_id: str) -> None:
        """Delete a draft this provider made but could not finish (best effort, logged)."""
        try:
            self._client.request("DELETE", f"me/messages/{quote(draft_id, safe='')}")
        except GraphNotFound:
            pass
        except InboxWatchError as exc:
            log.warning("%s: could not delete the unfinished draft %s: %s", self.account, draft_id, exc)

    def save_draft(self, message: OutgoingMessage) -> str:
        self._client.authorize()
        return send_once.find_or_make(
            lambda: self._find(message.message_id, "drafts"), lambda: self._create_draft(message)
        )

    def send(self, message: OutgoingMessage) -> SendReceipt:
        """Find or make the draft, then ``POST .../send`` once (``send_once``: a send without
        a clear answer is never repeated here, since Exchange may have taken it; a 429 is
        retried, Graph refused it unread; a 400 / 413 is refused for good)."""
        self._client.authorize()
        return send_once.send_unless_sent(
            lambda: self._find(message.message_id, "sentitems"), lambda: self._send(message)
        )

    def _send(self, message: OutgoingMessage) -> SendReceipt:
        # Making the draft with no clear answer is a ProviderError (find_or_make): nothing went
        # out, so the send may be tried again.
        draft_id = send_once.find_or_make(
            lambda: self._find(message.message_id, "drafts"), lambda: self._create_draft(message)
        )
        self._client.request(
            "POST",
            f"me/messages/{quote(draft_id, safe='')}/send",
            headers={"Prefer": IMMUTABLE_IDS},
            once="sending the message",
        )
        # The copy in Sent Items gets its own id; Exchange may file it a moment later. The
        # message has gone: a failure to look the copy up must not make it look unsent.
        try:
            return SendReceipt(self._find(message.message_id, "sentitems") or draft_id)
        except ProviderError as exc:
            log.info("%s: sent %s; looking up its copy in Sent Items failed: %s", self.account, message.message_id, exc)
            return SendReceipt(draft_id)

    def find_sent(self, message_id: str) -> str | None:
        self._client.authorize()
        return self._find(message_id, "sentitems")

    def close(self) -> None:
        self._client.close()
