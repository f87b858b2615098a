"""A small Microsoft Graph mail emulator for tests and the bench (stdlib only).

Written from the Graph v1.0 reference, for the calls inbox-watch makes:

- ``GET /me/mailFolders/{id | well-known name}``, ``GET /me/mailFolders`` (top-level folders) and
  ``GET /me/mailFolders/{id}/childFolders``: ``$select``, ``$filter=displayName eq '...'``,
  ``$top`` (default page 10) with ``@odata.nextLink``;
- ``GET /me/mailFolders/{id}/messages/delta``: a round of pages (``Prefer: odata.maxpagesize``,
  default 10) linked by ``@odata.nextLink`` (``$skiptoken``), ending with ``@odata.deltaLink``
  (``$deltatoken``); the next round returns what changed since, deletions and moves out of the
  folder as ``{"id": ..., "@removed": {"reason": "deleted"}}``. Only ``receivedDateTime ge|gt``
  is accepted as ``$filter``. A forgotten delta token answers 410 ``SyncStateNotFound``, or as
  ``expired_answer`` says (some resources answer 400 ``syncStateNotFound`` / ``resyncRequired``).
  ``internetMessageHeaders`` is returned only when selected; ``Prefer:
  outlook.body-content-type="text"`` turns HTML bodies into text;
- ``GET /me/messages`` and ``GET /me/mailFolders/{id}/messages`` with
  ``$filter=internetMessageId eq '...'``; ``GET /me/messages/{id}`` and ``/$value`` (MIME);
- ``POST /$batch`` (JSON batching, up to 20 requests; each logged as ``BATCHED <method>``);
- ``POST /me/messages`` (JSON, or base64 MIME as ``text/plain``), ``POST .../createReply``,
  ``PATCH /me/messages/{id}`` (``internetMessageId`` / body / recipients only on drafts),
  ``POST .../send`` (202; the draft leaves Drafts, a copy lands in Sent Items), ``DELETE``.

Errors use Graph's body ``{"error": {"code", "message", "innerError"}}``. A bearer token from
``tokens`` is required (401 ``InvalidAuthenticationToken`` otherwise). ``fail_next`` queues
answers such as 429 with ``Retry-After`` (the request is not carried out); ``lose_next_answer``
carries a request out and answers 504 instead. ``outgoing`` lists every message that went out;
with ``file_sent_later`` its copy reaches Sent Items only at ``file_sent()``, as Exchange files
it a moment after accepting it. Every request is logged in ``requests`` for the bench.
"""

from __future__ import annotations

import base64
import email
import email.header
import email.policy
import email.utils
import html
import json
import re
import secrets
import socket
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlencode, urlsplit

WELL_KNOWN = {
    "msgfolderroot": "Top of Information Store",
    "inbox": "Inbox",
    "sentitems": "Sent Items",
    "drafts": "Drafts",
    "deleteditems": "Deleted Items",
}
MESSAGE_FIELDS = (
    "createdDateTime",
    "lastModifiedDateTime",
    "categories",
    "receivedDateTime",
    "sentDateTime",
    "hasAttachments",
    "internetMessageId",
    "subject",
    "bodyPreview",
    "importance",
    "parentFolderId",
    "conversationId",
    "isRead",
    "isDraft",
    "body",
    "from",
    "sender",
    "toRecipients",
    "ccRecipients",
    "bccRecipients",
    "replyTo",
    "meetingMessageType",
)


def _iso(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _now() -> str:
    return _iso(datetime.now(UTC))


def _new_id(prefix: str = "AAMkAGI2") -> str:
    # Graph ids are URL-safe base64 and often end in "=": callers must quote them in paths.
    return prefix + base64.urlsafe_b64encode(secrets.token_bytes(24)).decode() + "="


def _recipient(name: str, address: str) -> dict[str, Any]:
    return {"emailAddress": {"name": name or address, "address": address}}


def _html_to_text(value: str) -> str:
    value = re.sub(r"<(br|/p|/div)[^>]*>", "\n", value, flags=re.I)
    return html.unescape(re.sub(r"<[^>]+>", "", value)).strip()


class GraphError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


@dataclass
class _Round:
    """A delta round in progress (behind a $skiptoken) or finished (behind a $deltatoken)."""

    folder: str
    since_seq: int
    until_seq: int
    select: list[str] | None
    received_after: tuple[str, str] | None  # ("ge" | "gt", iso)
    entries: list[tuple[str, str]] = field(default_factory=list)  # ("message" | "removed", id)
    position: int = 0


class GraphEmulator:
    """Mailbox state plus an HTTP server. ``base_url`` is what ``api_base_url`` should be."""

    def __init__(self, token: str = "emulator-token") -> None:
        self.lock = threading.RLock()
        self.tokens: set[str] = {token}
        self.token = token
        self.folders: dict[str, dict[str, Any]] = {}
        self.well_known: dict[str, str] = {}
        self.messages: dict[str, dict[str, Any]] = {}
        self.seq = 0
        self.tombstones: list[tuple[int, str, str]] = []  # (seq, folder id, message id)
        self.rounds: dict[str, _Round] = {}  # skip tokens
        self.delta_tokens: dict[str, _Round] = {}
        self.requests: list[tuple[str, str, str]] = []  # (method, path, query)
        self.faults: list[tuple[int, dict[str, str], str, str, str]] = []  # ..., path ends with
        self.lost_answers: list[tuple[str, int, str]] = []  # (path ends with, status, code)
        self.outgoing: list[str] = []  # internetMessageId of every message that went out
        self.file_sent_later = False  # hold sent copies back until file_sent()
        self.unfiled: list[dict[str, Any]] = []
        self.expired_answer: tuple[int, str] = (410, "SyncStateNotFound")  # (status, error code)
        for name, display in WELL_KNOWN.items():
            parent = "" if name == "msgfolderroot" else self.well_known["msgfolderroot"]
            self.well_known[name] = self.add_folder(display, parent)
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- state helpers (used by tests directly) --------------------------------------------

    def add_folder(self, display_name: str, parent: str = "") -> str:
        folder_id = _new_id("AAMkAGFo")
        self.folders[folder_id] = {
            "id": folder_id,
            "displayName": display_name,
            "parentFolderId": parent,
        }
        return folder_id

    def folder_id(self, name_or_id: str) -> str:
        folder_id = self.well_known.get(name_or_id.lower(), name_or_id)
        if folder_id not in self.folders:
            raise GraphError(404, "ErrorItemNotFound", "The specified object was not found in the store.")
        return folder_id

    def child(self, parent: str, display_name: str, *, create: bool = True) -> str:
        for folder in self.folders.values():
            if folder["parentFolderId"] == parent and folder["displayName"] == display_name:
                return str(folder["id"])
        if not create:
            raise KeyError(display_name)
        return self.add_folder(display_name, parent)

    def _bump(self) -> int:
        self.seq += 1
        return self.seq

    def _conversation_for(self, refs: list[str]) -> str:
        for message in self.messages.values():
            if message.get("internetMessageId") in refs:
                return str(message["conversationId"])
        return _new_id("AAQkAGI2")

    def store(self, message: dict[str, Any], folder_id: str) -> str:
        """Put a Graph message resource in ``folder_id`` (filling the system fields)."""
        with self.lock:
            message_id = message.get("id") or _new_id()
            message["id"] = message_id
            message["parentFolderId"] = folder_id
            message.setdefault("createdDateTime", _now())
            message["lastModifiedDateTime"] = _now()
            message.setdefault("categories", [])
            message.setdefault("isRead", False)
            message.setdefault("isDraft", False)
            message.setdefault("hasAttachments", False)
            message.setdefault("importance", "normal")
            message.setdefault("ccRecipients", [])
            message.setdefault("bccRecipients", [])
            message.setdefault("replyTo", [])
            message.setdefault("body", {"contentType": "text", "content": ""})
            message["bodyPreview"] = _html_to_text(str(message["body"].get("content", "")))[:255]
            message.setdefault("_headers", [])
            message["_seq"] = self._bump()
            self.messages[message_id] = message
            return str(message_id)

    def deliver_raw(
        self,
        raw: bytes,
        folder: str = "inbox",
        *,
        categories: list[str] | None = None,
        received: datetime | None = None,
        transport: bool | None = None,
    ) -> str:
        """File raw RFC 5322 bytes as Exchange would on delivery (or on sending, for sentitems).

        ``internetMessageHeaders`` is Exchange's PidTagTransportMessageHeaders, which is set only
        when a message arrives over SMTP: by default mail filed in Sent Items or Drafts has none
        (``transport`` overrides). The MIME (``$value``) keeps every header either way.
        """
        if transport is None:
            transport = folder.lower() not in ("sentitems", "drafts")
        parsed = email.message_from_bytes(raw, policy=email.policy.default)

        def text(name: str, value: Any = None) -> str:
            """A header's text; one the email package refuses (CR/LF decoded inside an
            address) is kept as decoded from the wire, as Exchange keeps what it cannot parse."""
            try:
                return str(parsed[name] or "") if value is None else str(value)
            except ValueError:
                found = value or next((v for k, v in parsed.raw_items() if k.lower() == name.lower()), "")
                return str(email.header.make_header(email.header.decode_header(str(found))))

        headers = [{"name": k, "value": text(k, v)} for k, v in parsed.raw_items()]
        plain = parsed.get_body(preferencelist=("plain",))
        rich = parsed.get_body(preferencelist=("html",))
        body = {"contentType": "text", "content": plain.get_content() if plain else ""}
        if not plain and rich:
            body = {"contentType": "html", "content": rich.get_content()}
        when = None
        if parsed["Date"]:
            when = email.utils.parsedate_to_datetime(str(parsed["Date"]))
        sent = _iso(when) if when else _now()
        refs = re.findall(r"<[^>]+>", f"{parsed['In-Reply-To'] or ''} {parsed['References'] or ''}")
        name, address = email.utils.parseaddr(text("From"))
        message: dict[str, Any] = {
            "internetMessageId": str(parsed["Message-ID"] or f"<{secrets.token_hex(8)}@emulator>"),
            "subject": text("Subject"),
            "from": _recipient(name, address),
            "sender": _recipient(name, address),
            "toRecipients": [
                _recipient(n, a) for n, a in email.utils.getaddresses([str(v) for v in parsed.get_all("To", [])])
            ],
            "ccRecipients": [
                _recipient(n, a) for n, a in email.utils.getaddresses([str(v) for v in parsed.get_all("Cc", [])])
            ],
            "sentDateTime": sent,
            "receivedDateTime": _iso(received) if received else sent,
            "body": body,
            "categories": list(categories or []),
            "conversationId": self._conversation_for(refs),
            "_headers": headers,
            "_transport": headers if transport else [],
            "_raw": raw,
        }
        calendar = next((p for p in parsed.walk() if p.get_content_type() == "text/calendar"), None)
        if calendar is not None:
            found = re.search(r"^METHOD:(\w+)", calendar.get_content(), re.M)
            method = found.group(1).upper() if found else ""
            kind = "eventMessageResponse" if method == "REPLY" else "eventMessageRequest"
            message["@odata.type"] = f"#microsoft.graph.{kind}"
            message["meetingMessageType"] = "meetingAccepted" if kind == "eventMessageResponse" else "meetingRequest"
        return self.store(message, self.folder_id(folder))

    def remove_folder(self, folder_id: str) -> None:
        """Delete a folder and its messages (its delta tokens then answer 404)."""
        with self.lock:
            for message in [m for m in self.messages.values() if m["parentFolderId"] == folder_id]:
                self.delete(message["id"])
            del self.folders[folder_id]

    def delete(self, message_id: str) -> None:
        with self.lock:
            message = self.messages.pop(message_id)
            self.tombstones.append((self._bump(), message["parentFolderId"], message_id))

    def move(self, message_id: str, folder: str) -> None:
        with self.lock:
            message = self.messages[message_id]
            self.tombstones.append((self._bump(), message["parentFolderId"], message_id))
            message["parentFolderId"] = self.folder_id(folder)
            message["_seq"] = self._bump()

    def expire_delta_tokens(self) -> None:
        """Forget every delta token: the next round from one answers 410 (syncStateNotFound)."""
        with self.lock:
            self.delta_tokens.clear()

    def fail_next(
        self,
        status: int = 429,
        *,
        count: int = 1,
        retry_after: str | None = "1",
        code: str = "TooManyRequests",
        message: str = "Please retry again later.",
        path_ends_with: str = "",
    ) -> None:
        headers = {"Retry-After": retry_after} if retry_after is not None else {}
        with self.lock:
            self.faults.extend([(status, headers, code, message, path_ends_with)] * count)

    def lose_next_answer(self, path_ends_with: str, status: int = 504, code: str = "GatewayTimeout") -> None:
        """Carry out the next request whose path ends so, then answer ``status`` instead of its
        real answer (a gateway that timed out while the mailbox did the work)."""
        with self.lock:
            self.lost_answers.append((path_ends_with, status, code))

    def file_sent(self) -> None:
        """File the copies held back by ``file_sent_later`` in Sent Items, as Exchange does a
        moment after accepting a send."""
        with self.lock:
            unfiled, self.unfiled = self.unfiled, []
            for message in unfiled:
                self.store(message, self.well_known["sentitems"])

    def in_folder(self, folder: str) -> list[dict[str, Any]]:
        folder_id = self.folder_id(folder)
        return [m for m in self.messages.values() if m["parentFolderId"] == folder_id]

    def render_mime(self, message: dict[str, Any]) -> bytes:
        """The message as ``GET /messages/{id}/$value`` gives it: RFC 5322 bytes."""
        if message.get("_raw") is not None:
            return bytes(message["_raw"])
        out = EmailMessage(policy=email.policy.SMTP)
        sender = (message.get("from") or {}).get("emailAddress") or {}
        out["From"] = email.utils.formataddr((sender.get("name", ""), sender.get("address", "")))

        def addresses(key: str) -> str:
            return ", ".join(r["emailAddress"]["address"] for r in message.get(key) or ())

        if message.get("toRecipients"):
            out["To"] = addresses("toRecipients")
        if message.get("ccRecipients"):
            out["Cc"] = addresses("ccRecipients")
        out["Subject"] = message.get("subject", "")
        when = message.get("sentDateTime") or message.get("lastModifiedDateTime") or _now()
        out["Date"] = email.utils.format_datetime(datetime.fromisoformat(when.replace("Z", "+00:00")))
        out["Message-ID"] = message["internetMessageId"]
        for header in message.get("_headers") or ():
            if header["name"].lower() in ("in-reply-to", "references") or header["name"].lower().startswith("x-"):
                out[header["name"]] = header["value"]
        body = message.get("body") or {}
        content = str(body.get("content", ""))
        if body.get("contentType") == "html":
            out.set_content(content, subtype="html")
        else:
            out.set_content(content)
        return out.as_bytes()

    # -- server -----------------------------------------------------------------------------

    def start(self) -> GraphEmulator:
        emulator = self

        class Handler(_Handler):
            pass

        Handler.emulator = emulator
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    @property
    def base_url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1.0"

    def count(self, method: str | None = None, contains: str = "") -> int:
        return sum(1 for m, path, _q in self.requests if (method is None or m == method) and contains in path)

    # -- request handling -------------------------------------------------------------------

    def handle(
        self, method: str, target: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, dict[str, str], bytes]:
        parts = urlsplit(target)
        path = unquote(parts.path)
        query = {k: v[0] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
        with self.lock:
            self.requests.append((method, path, parts.query))
        method = method.removeprefix("BATCHED ")  # one request of a $batch: logged as such
        with self.lock:
            fault = next((f for f in self.faults if path.endswith(f[4])), None)
            if fault is not None:
                self.faults.remove(fault)
                status, extra, code, message, _path = fault
                return status, extra, _error_body(code, message)
        if headers.get("authorization", "") not in {f"Bearer {t}" for t in self.tokens}:
            return (
                401,
                {"WWW-Authenticate": 'Bearer realm=""'},
                _error_body(
                    "InvalidAuthenticationToken",
                    "Access token validation failure. Invalid audience.",
                ),
            )
        if path == "/v1.0/$batch" and method == "POST":
            return self._batch(headers, body)
        if not path.startswith("/v1.0/me/"):
            return (
                400,
                {},
                _error_body("BadRequest", f"Resource not found for the segment '{path}'."),
            )
        segments = path[len("/v1.0/me/") :].split("/")
        keyed = re.fullmatch(r"(\w+)\('([^']*)'\)", segments[0])
        if keyed:  # OData key syntax, as in Graph's own links: mailFolders('id')
            segments[0:1] = [keyed.group(1), keyed.group(2)]
        segments[0] = {"mailfolders": "mailFolders"}.get(segments[0].lower(), segments[0])
        prefer = _prefer(headers.get("prefer", ""))
        with self.lock:
            lost = next((entry for entry in self.lost_answers if path.endswith(entry[0])), None)
            if lost is not None:
                self.lost_answers.remove(lost)
        try:
            with self.lock:
                answer = self._route(method, segments, query, headers, body, prefer)
        except GraphError as exc:
            return exc.status, {}, _error_body(exc.code, exc.message)
        if lost is not None:
            return lost[1], {}, _error_body(lost[2], "The gateway did not receive a timely response.")
        return answer

    def _batch(self, headers: dict[str, str], body: bytes) -> tuple[int, dict[str, str], bytes]:
        """JSON batching (``POST /$batch``): up to 20 requests, each answered as if sent alone
        (logged in ``requests`` with the method ``BATCHED GET`` ...), in one response."""
        try:
            requests = json.loads(body or b"{}").get("requests")
        except ValueError:
            requests = None
        if not isinstance(requests, list) or not requests:
            return 400, {}, _error_body("BadRequest", "Invalid batch payload format.")
        if len(requests) > 20:
            return 400, {}, _error_body("BadRequest", "Number of batch request steps exceeds the maximum of 20.")
        responses = []
        for request in requests:
            inner = {k.lower(): str(v) for k, v in (request.get("headers") or {}).items()}
            inner["authorization"] = headers.get("authorization", "")
            url = "/v1.0/" + str(request.get("url", "")).lstrip("/")
            content = json.dumps(request["body"]).encode() if "body" in request else b""
            status, extra, data = self.handle("BATCHED " + str(request.get("method", "GET")), url, inner, content)
            try:
                answer: Any = json.loads(data) if data else None
            except ValueError:
                answer = None
            responses.append({"id": request.get("id"), "status": status, "headers": extra, "body": answer})
        return _ok({"responses": responses})

    def _route(
        self,
        method: str,
        seg: list[str],
        query: dict[str, str],
        headers: dict[str, str],
        body: bytes,
        prefer: dict[str, str],
    ) -> tuple[int, dict[str, str], bytes]:
        if seg[0] == "mailFolders":
            if len(seg) == 1 and method == "GET":
                root = self.well_known["msgfolderroot"]
                return self._folder_list(root, query, "me/mailFolders")
            folder_id = self.folder_id(seg[1])
            if len(seg) == 2 and method == "GET":
                return _ok(_project(self.folders[folder_id], query.get("$select")))
            if seg[2:] == ["childFolders"] and method == "GET":
                return self._folder_list(folder_id, query, f"me/mailFolders/{seg[1]}/childFolders")
            if seg[2:] == ["messages", "delta"] and method == "GET":
                return self._delta(folder_id, query, prefer)
            if seg[2:] == ["messages"] and method == "GET":
                return self._list_messages(folder_id, query)
        if seg[0] == "messages":
            if len(seg) == 1 and method == "GET":
                return self._list_messages(None, query)
            if len(seg) == 1 and method == "POST":
                return self._create(headers, body)
            message = self.messages.get(seg[1])
            if message is None:
                raise GraphError(404, "ErrorItemNotFound", "The specified object was not found in the store.")
            if len(seg) == 2 and method == "GET":
                return _ok(self._view(message, query.get("$select"), prefer))
            if len(seg) == 2 and method == "PATCH":
                return self._patch(message, body)
            if len(seg) == 2 and method == "DELETE":
                self.delete(seg[1])
                return 204, {}, b""
            if seg[2:] == ["$value"] and method == "GET":
                return 200, {"Content-Type": "message/rfc822"}, self.render_mime(message)
            if seg[2:] == ["createReply"] and method == "POST":
                return self._create_reply(message, body)
            if seg[2:] == ["send"] and method == "POST":
                return self._send(message)
        raise GraphError(400, "BadRequest", f"Unsupported request {method} /me/{'/'.join(seg)}")

    def _folder_list(self, parent: str, query: dict[str, str], path: str) -> tuple[int, dict[str, str], bytes]:
        found = [f for f in self.folders.values() if f["parentFolderId"] == parent]
        wanted = _eq_filter(query, "displayName")
        if wanted is not None:
            found = [f for f in found if f["displayName"] == wanted]
        found.sort(key=lambda f: f["displayName"])
        return _ok(self._paged(found, query, path, lambda f: _project(f, query.get("$select"))))

    def _paged(self, items: list[Any], query: dict[str, str], path: str, view: Any) -> dict[str, Any]:
        top = int(query.get("$top", "10"))
        skip = int(query.get("$skip", "0"))
        page: dict[str, Any] = {"value": [view(i) for i in items[skip : skip + top]]}
        if skip + top < len(items):
            rest = {k: v for k, v in query.items() if k != "$skip"}
            rest["$skip"] = str(skip + top)
            page["@odata.nextLink"] = f"{self.base_url}/{path}?" + urlencode(rest, safe="$")
        return page

    def _view(
        self,
        message: dict[str, Any],
        select: str | None,
        prefer: dict[str, str],
        wanted: list[str] | None = None,
    ) -> dict[str, Any]:
        fields = wanted if wanted is not None else ([s.strip() for s in select.split(",")] if select else None)
        out: dict[str, Any] = {"@odata.etag": f'W/"{message["_seq"]}"'}
        if "@odata.type" in message:
            out["@odata.type"] = message["@odata.type"]
        names = fields if fields is not None else list(MESSAGE_FIELDS)
        for name in ["id", *names]:
            if name == "internetMessageHeaders":
                if fields is not None and not message.get("isDraft"):  # only when selected
                    out[name] = [dict(h) for h in message.get("_transport") or ()] or None
                continue
            if name in message:
                out[name] = json.loads(json.dumps(message[name]))
        if "body" in out and prefer.get("outlook.body-content-type", "").strip('"') == "text":
            if out["body"].get("contentType") == "html":
                out["body"] = {
                    "contentType": "text",
                    "content": _html_to_text(out["body"]["content"]),
                }
        return out

    def _list_messages(self, folder_id: str | None, query: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
        items = [m for m in self.messages.values() if folder_id is None or m["parentFolderId"] == folder_id]
        wanted = _eq_filter(query, "internetMessageId")
        if wanted is not None:
            items = [m for m in items if m.get("internetMessageId") == wanted]
        items.sort(key=lambda m: m.get("receivedDateTime") or "", reverse=True)
        path = f"me/mailFolders/{folder_id}/messages" if folder_id else "me/messages"
        return _ok(self._paged(items, query, path, lambda m: self._view(m, query.get("$select"), {})))

    def _delta(
        self, folder_id: str, query: dict[str, str], prefer: dict[str, str]
    ) -> tuple[int, dict[str, str], bytes]:
        size = int(prefer.get("odata.maxpagesize", "10"))
        if "$skiptoken" in query:
            state = self.rounds.pop(query["$skiptoken"], None)
            if state is None or state.folder != folder_id:
                raise GraphError(400, "ErrorInvalidUrlQuery", "The skip token is invalid.")
        elif "$deltatoken" in query:
            done = self.delta_tokens.get(query["$deltatoken"])
            if done is None or done.folder != folder_id:
                raise GraphError(
                    *self.expired_answer,
                    "The sync state generation is not found. "
                    "The delta token is expired and data must be synchronized again.",
                )
            state = self._new_round(folder_id, done.until_seq, done.select, done.received_after)
        else:
            select = [s.strip() for s in query["$select"].split(",")] if "$select" in query else None
            after = None
            if "$filter" in query:
                match = re.fullmatch(r"receivedDateTime (ge|gt) (\S+)", query["$filter"].strip())
                if not match:
                    raise GraphError(
                        400,
                        "ErrorInvalidUrlQueryFilter",
                        "The query filter contains one or more invalid nodes.",
                    )
                after = (match.group(1), match.group(2))
            state = self._new_round(folder_id, 0, select, after)
        page_entries = state.entries[state.position : state.position + size]
        state.position += len(page_entries)
        value = []
        for kind, message_id in page_entries:
            message = self.messages.get(message_id)
            if kind == "removed" or message is None or message["parentFolderId"] != folder_id:
                value.append(
                    {
                        "@odata.type": "#microsoft.graph.message",
                        "id": message_id,
                        "@removed": {"reason": "deleted"},
                    }
                )
            else:
                value.append(self._view(message, None, prefer, wanted=state.select))
        link = f"{self.base_url}/me/mailFolders('{folder_id}')/messages/delta?"
        page: dict[str, Any] = {"value": value}
        if state.position < len(state.entries):
            token = secrets.token_urlsafe(24)
            self.rounds[token] = state
            page["@odata.nextLink"] = link + f"$skiptoken={token}"
        else:
            token = secrets.token_urlsafe(24)
            self.delta_tokens[token] = state
            page["@odata.deltaLink"] = link + f"$deltatoken={token}"
        headers = {"Preference-Applied": f"odata.maxpagesize={size}"}
        return 200, headers | {"Content-Type": "application/json"}, json.dumps(page).encode()

    def _new_round(self, folder_id: str, since: int, select: list[str] | None, after: tuple[str, str] | None) -> _Round:
        def received_ok(message: dict[str, Any]) -> bool:
            if after is None:
                return True
            value = message.get("receivedDateTime") or ""
            return value >= after[1] if after[0] == "ge" else value > after[1]

        changed = [
            (m["_seq"], "message", m["id"])
            for m in self.messages.values()
            if m["parentFolderId"] == folder_id and m["_seq"] > since and received_ok(m)
        ]
        live = {m["id"] for m in self.messages.values() if m["parentFolderId"] == folder_id}
        removed = (
            []
            if since == 0
            else [
                (seq, "removed", mid)
                for seq, fid, mid in self.tombstones
                if fid == folder_id and seq > since and mid not in live
            ]
        )
        entries = [(kind, mid) for _seq, kind, mid in sorted(changed + removed)]
        entries = list(dict.fromkeys(entries))
        return _Round(folder_id, since, self.seq, select, after, entries)

    def _create(self, headers: dict[str, str], body: bytes) -> tuple[int, dict[str, str], bytes]:
        drafts = self.well_known["drafts"]
        if headers.get("content-type", "").startswith("text/plain"):
            try:
                raw = base64.b64decode(body, validate=True)
            except ValueError:
                raise GraphError(
                    400,
                    "ErrorMimeContentInvalidBase64String",
                    "Invalid base64 string for MIME content.",
                ) from None
            message_id = self.deliver_raw(raw, "drafts")
            message = self.messages[message_id]
            message.pop("_raw")  # a draft is rendered from its (editable) properties
            message["isDraft"] = True
            message.pop("sentDateTime", None)
            return _created(self._view(message, None, {}))
        data = json.loads(body or b"{}")
        message = {k: v for k, v in data.items() if k in MESSAGE_FIELDS or k == "internetMessageHeaders"}
        custom = message.pop("internetMessageHeaders", None) or []
        if any(not h["name"].lower().startswith("x-") for h in custom):
            raise GraphError(
                400,
                "InvalidInternetMessageHeader",
                "The internet message header name should start with 'x-' or 'X-'.",
            )
        message["_headers"] = custom
        message["isDraft"] = True
        message.setdefault("internetMessageId", f"<{secrets.token_hex(12)}@emulator.outlook.com>")
        message.setdefault("conversationId", _new_id("AAQkAGI2"))
        message_id = self.store(message, drafts)
        return _created(self._view(self.messages[message_id], None, {}))

    def _create_reply(self, original: dict[str, Any], body: bytes) -> tuple[int, dict[str, str], bytes]:
        params = json.loads(body or b"{}")
        if params.get("comment") and (params.get("message") or {}).get("body"):
            raise GraphError(400, "ErrorInvalidRequest", "Specify either comment or message body.")
        refs = [h["value"] for h in original.get("_headers") or () if h["name"].lower() == "references"]
        references = " ".join([*refs, original["internetMessageId"]]).strip()
        quoted = html.escape(str((original.get("body") or {}).get("content", "")))
        draft: dict[str, Any] = {
            "subject": "RE: " + str(original.get("subject", "")),
            "toRecipients": [original["from"]] if original.get("from") else [],
            "body": {
                "contentType": "html",
                "content": f"<html><body>{html.escape(params.get('comment', ''))}<hr><div>{quoted}</div></body></html>",
            },
            "conversationId": original["conversationId"],
            "internetMessageId": f"<{secrets.token_hex(12)}@emulator.outlook.com>",
            "isDraft": True,
            "_headers": [
                {"name": "In-Reply-To", "value": original["internetMessageId"]},
                {"name": "References", "value": references},
            ],
        }
        draft.update({k: v for k, v in (params.get("message") or {}).items() if k in MESSAGE_FIELDS})
        message_id = self.store(draft, self.well_known["drafts"])
        return _created(self._view(self.messages[message_id], None, {}))

    def _patch(self, message: dict[str, Any], body: bytes) -> tuple[int, dict[str, str], bytes]:
        update = json.loads(body or b"{}")
        draft_only = {
            "internetMessageId",
            "body",
            "toRecipients",
            "ccRecipients",
            "bccRecipients",
            "subject",
            "from",
            "replyTo",
        }
        allowed = draft_only | {
            "categories",
            "isRead",
            "importance",
            "flag",
            "inferenceClassification",
            "singleValueExtendedProperties",
        }
        for key in update:
            if key not in allowed:
                raise GraphError(400, "ErrorInvalidPropertySet", f"The property '{key}' cannot be updated.")
            if key in draft_only and not message.get("isDraft"):
                raise GraphError(
                    400,
                    "ErrorInvalidPropertyUpdateSentMessage",
                    "Update operation is not allowed on a sent message.",
                )
        message.update(update)
        message["lastModifiedDateTime"] = _now()
        message["bodyPreview"] = _html_to_text(str(message["body"].get("content", "")))[:255]
        message["_seq"] = self._bump()
        return _ok(self._view(message, None, {}))

    def _send(self, message: dict[str, Any]) -> tuple[int, dict[str, str], bytes]:
        if not message.get("isDraft"):
            raise GraphError(400, "ErrorInvalidOperation", "Only a draft can be sent.")
        if not message.get("toRecipients") and not message.get("ccRecipients"):
            raise GraphError(400, "ErrorInvalidRecipients", "At least one recipient is not valid.")
        self.delete(message["id"])
        sent = {k: v for k, v in message.items() if not k.startswith("_") or k == "_headers"}
        sent.pop("id")
        sent["isDraft"] = False
        sent["isRead"] = True
        sent["sentDateTime"] = sent["receivedDateTime"] = _now()
        self.outgoing.append(str(sent.get("internetMessageId", "")))
        if self.file_sent_later:
            self.unfiled.append(sent)
        else:
            self.store(sent, self.well_known["sentitems"])
        return 202, {}, b""


def _prefer(value: str) -> dict[str, str]:
    out = {}
    for part in value.split(","):
        if "=" in part:
            key, _, val = part.strip().partition("=")
            out[key.strip()] = val.strip()
    return out


def _project(resource: dict[str, Any], select: str | None) -> dict[str, Any]:
    if not select:
        return dict(resource)
    names = {"id", *(s.strip() for s in select.split(","))}
    return {k: v for k, v in resource.items() if k in names}


def _error_body(code: str, message: str) -> bytes:
    return json.dumps(
        {
            "error": {
                "code": code,
                "message": message,
                "innerError": {"date": _now(), "request-id": secrets.token_hex(8)},
            }
        }
    ).encode()


def _ok(data: dict[str, Any]) -> tuple[int, dict[str, str], bytes]:
    return 200, {"Content-Type": "application/json"}, json.dumps(data).encode()


def _created(data: dict[str, Any]) -> tuple[int, dict[str, str], bytes]:
    return 201, {"Content-Type": "application/json"}, json.dumps(data).encode()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    emulator: GraphEmulator

    def setup(self) -> None:
        super().setup()
        # Headers and body go out in two writes: without this, Nagle plus delayed ACK add ~40 ms.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        pass

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        headers = {k.lower(): v for k, v in self.headers.items()}
        status, extra, payload = self.emulator.handle(self.command, self.path, headers, body)
        self.send_response(status)
        if payload and "Content-Type" not in extra:
            extra = {**extra, "Content-Type": "application/json"}
        for key, value in extra.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST = do_PATCH = do_DELETE = _answer


def _eq_filter(query: dict[str, str], field: str) -> str | None:
    """The value of ``$filter=<field> eq '<value>'`` (OData quotes doubled), None without one; any
    other filter is refused as Graph refuses what it cannot parse."""
    flt = query.get("$filter")
    if not flt:
        return None
    match = re.fullmatch(rf"{field} eq '((?:[^']|'')*)'", flt.strip())
    if not match:
        raise GraphError(400, "ErrorInvalidUrlQueryFilter", "The query filter contains one or more invalid nodes.")
    return match.group(1).replace("''", "'")
