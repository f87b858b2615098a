"""A small local Gmail API emulator for tests and benchmarks (no network, no mocks of the client).

Written from the Gmail API v1 reference: the real google-api-python-client talks to it over HTTP
on 127.0.0.1. It serves the endpoints inbox-watch uses under ``/gmail/v1/users/me/``
(``profile``, ``labels``, ``messages`` list/get/send, ``drafts`` create/list, ``history``), the batch
endpoint ``/batch/gmail/v1`` (multipart/mixed of application/http parts, answered with
``Content-ID: <response-...>`` parts) and an OAuth token endpoint ``/token``.

It counts HTTP requests, calls inside batches and quota units (Google's published per-method
costs), can insert failures (429 with Retry-After, 5xx; or a request carried out whose answer is
lost: ``drop_next_answer``) and answers errors in Google's JSON shape.
"""

from __future__ import annotations

import base64
import email
import email.message
import email.policy
import email.utils
import json
import re
import socket
import threading
import time
import urllib.parse
from collections import Counter
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

# https://developers.google.com/gmail/api/reference/quota
QUOTA_UNITS = {
    "getProfile": 1,
    "labels.list": 1,
    "messages.list": 5,
    "messages.get": 5,
    "messages.send": 100,
    "drafts.create": 10,
    "drafts.list": 5,
    "history.list": 2,
    "messages.attachments.get": 5,
}
SYSTEM_LABELS = (
    "INBOX",
    "SENT",
    "DRAFT",
    "SPAM",
    "TRASH",
    "UNREAD",
    "STARRED",
    "IMPORTANT",
    "CATEGORY_PERSONAL",
    "CATEGORY_PROMOTIONS",
    "CATEGORY_UPDATES",
    "CHAT",
)
STATUS_NAMES = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    503: "UNAVAILABLE",
}
REASONS = {
    400: "badRequest",
    401: "authError",
    403: "forbidden",
    404: "notFound",
    429: "rateLimitExceeded",
    500: "backendError",
    503: "backendError",
}
NOT_FOUND = "Requested entity was not found."
JSON = "application/json; charset=UTF-8"


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii")


def google_error(code: int, message: str) -> dict[str, Any]:
    """Google's error body: {"error": {"code", "message", "errors": [...], "status"}}."""
    domain = "usageLimits" if code == 429 else "global"
    item: dict[str, Any] = {"message": message, "domain": domain, "reason": REASONS.get(code, "x")}
    if code == 401:
        item.update(location="Authorization", locationType="header")
    return {"error": {"code": code, "message": message, "errors": [item], "status": STATUS_NAMES.get(code, "UNKNOWN")}}


class ApiError(Exception):
    def __init__(self, code: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.code, self.message, self.headers = code, message, headers or {}


@dataclass
class StoredMessage:
    id: str
    thread_id: str
    raw: bytes
    label_ids: list[str]
    internal_date: int  # epoch ms
    history_id: int
    message_id: str = ""


@dataclass
class Failure:
    status: int
    path_contains: str = ""
    retry_after: str | None = None
    inside_batch: bool = False


@dataclass
class GmailState:
    email: str = "sam@agency.example"
    messages: dict[str, StoredMessage] = field(default_factory=dict)
    labels: dict[str, str] = field(default_factory=lambda: {n: n for n in SYSTEM_LABELS})
    drafts: dict[str, str] = field(default_factory=dict)  # draft id -> message id
    history: list[dict[str, Any]] = field(default_factory=list)
    history_id: int = 1000
    history_floor: int = 0  # a startHistoryId below this answers 404
    next_id: int = 0x18C0000000000000


class GmailEmulator:
    """Run with ``with GmailEmulator() as gmail:``; ``gmail.base_url`` is the api_base_url."""

    def __init__(self, *, access_token: str = "test-token") -> None:
        self.state = GmailState()
        self.access_token = access_token
        self.lock = threading.RLock()
        self.http_requests: Counter[str] = Counter()  # outer HTTP requests by method name
        self.api_calls: Counter[str] = Counter()  # API calls (inside batches too) by method
        self.failures: list[Failure] = []
        self.dropped_answers: list[tuple[str, str]] = []  # (path part, method): no answer
        self.token_grants: dict[str, str] = {}  # authorization code -> refresh token
        self.refresh_tokens: set[str] = set()
        self.token_requests: list[dict[str, str]] = []
        self.threads: dict[str, str] = {}  # Message-ID -> thread id, to thread replies
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self.server.daemon_threads = True
        self.base_url = f"http://127.0.0.1:{self.server.server_port}/"
        self._thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)

    def __enter__(self) -> GmailEmulator:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    # -- counters --------------------------------------------------------------------------
    def reset_counts(self) -> None:
        self.http_requests.clear()
        self.api_calls.clear()

    @property
    def quota_units(self) -> int:
        return sum(QUOTA_UNITS.get(name, 0) * n for name, n in self.api_calls.items())

    # -- state changes made "by Gmail" (what the harness uses) -----------------------------
    def _new_id(self) -> str:
        self.state.next_id += 1
        return format(self.state.next_id, "016x")

    def _record(self, kind: str, message: StoredMessage, labels: list[str] | None = None) -> None:
        self.state.history_id += 1
        message.history_id = self.state.history_id
        entry = {
            "id": self.state.history_id,
            "kind": kind,
            "message": {"id": message.id, "threadId": message.thread_id, "labelIds": list(message.label_ids)},
        }
        if labels is not None:
            entry["labelIds"] = list(labels)
        self.state.history.append(entry)

    def label_id(self, name: str) -> str:
        """The id of the label called ``name``, creating a user label when needed."""
        with self.lock:
            for label_id, label_name in self.state.labels.items():
                if label_name == name:
                    return label_id
            label_id = f"Label_{len(self.state.labels) - len(SYSTEM_LABELS) + 1}"
            self.state.labels[label_id] = name
            return label_id

    def insert(
        self, raw: bytes, labels: list[str], *, thread_id: str = "", internal_date: int | None = None
    ) -> StoredMessage:
        """Store a message as delivery, send or draft would; label names or ids accepted."""
        with self.lock:
            parsed = email.message_from_bytes(raw, policy=email.policy.compat32)
            message_id = str(parsed.get("Message-ID", "")).strip()
            if not thread_id:  # Gmail threads a reply with the message it references
                refs = re.findall(r"<[^<>\s]+>", f"{parsed.get('In-Reply-To', '')} {parsed.get('References', '')}")
                thread_id = next((self.threads[r] for r in refs if r in self.threads), "")
            new_id = self._new_id()
            if internal_date is None:
                when = email.utils.parsedate_to_datetime(parsed["Date"]) if parsed["Date"] else None
                internal_date = int((when.timestamp() if when else time.time()) * 1000)
            label_ids = [lab if lab in self.state.labels else self.label_id(lab) for lab in labels]
            message = StoredMessage(
                new_id, thread_id or new_id, raw, label_ids, internal_date, self.state.history_id, message_id
            )
            self.state.messages[new_id] = message
            if message_id:
                self.threads.setdefault(message_id, message.thread_id)
            self._record("messageAdded", message)
            return message

    def change_labels(self, message_id: str, add: tuple[str, ...] = (), remove: tuple[str, ...] = ()) -> None:
        with self.lock:
            message = self.state.messages[message_id]
            add_ids = [self.label_id(n) for n in add if self.label_id(n) not in message.label_ids]
            remove_ids = [self.label_id(n) for n in remove if self.label_id(n) in message.label_ids]
            message.label_ids = [x for x in message.label_ids if x not in remove_ids] + add_ids
            if add_ids:
                self._record("labelAdded", message, add_ids)
            if remove_ids:
                self._record("labelRemoved", message, remove_ids)

    def delete(self, message_id: str) -> None:
        with self.lock:
            self._record("messageDeleted", self.state.messages.pop(message_id))

    def expire_history(self) -> None:
        """Forget history: any startHistoryId older than the current id now answers 404."""
        with self.lock:
            self.state.history_floor = self.state.history_id
            self.state.history.clear()

    def fail_next(
        self,
        status: int,
        *,
        path_contains: str = "",
        retry_after: str | None = None,
        inside_batch: bool = False,
        times: int = 1,
    ) -> None:
        for _ in range(times):
            self.failures.append(Failure(status, path_contains, retry_after, inside_batch))

    def drop_next_answer(self, path_contains: str, method: str = "POST") -> None:
        """Carry out the next request (by default a POST) whose path contains this, then close
        the connection without answering (a server that did the work and lost the connection)."""
        with self.lock:
            self.dropped_answers.append((path_contains, method))

    def take_dropped_answer(self, path: str, method: str) -> bool:
        with self.lock:
            for entry in self.dropped_answers:
                if entry[0] in path and entry[1] == method:
                    self.dropped_answers.remove(entry)
                    return True
        return False

    def raw_with_label(self, label: str) -> list[bytes]:
        with self.lock:
            return [m.raw for m in self.state.messages.values() if label in m.label_ids]

    # -- request handling ------------------------------------------------------------------
    def _take_failure(self, path: str, inside_batch: bool) -> Failure | None:
        with self.lock:
            for failure in self.failures:
                if failure.inside_batch == inside_batch and failure.path_contains in path:
                    self.failures.remove(failure)
                    return failure
        return None

    def dispatch(
        self, method: str, target: str, headers: dict[str, str], body: bytes, *, inside_batch: bool = False
    ) -> tuple[int, dict[str, str], bytes]:
        """Answer one API request: (status, headers, body). Used for plain and batched calls."""
        url = urllib.parse.urlsplit(target)
        query = urllib.parse.parse_qs(url.query)
        try:
            self.gate(url.path, headers, inside_batch)
            with self.lock:
                result = self._route(method, url.path, query, body)
            return 200, {"Content-Type": JSON}, json.dumps(result).encode()
        except ApiError as exc:
            return self.error_response(exc)

    def gate(self, path: str, headers: dict[str, str], inside_batch: bool) -> None:
        """Check the bearer token, then play an injected failure if one matches."""
        if headers.get("authorization", "") != f"Bearer {self.access_token}":
            raise ApiError(
                401,
                "Request had invalid authentication credentials. Expected OAuth 2 "
                "access token, login cookie or other valid authentication credential.",
            )
        failure = self._take_failure(path, inside_batch)
        if failure is not None:
            extra = {"Retry-After": failure.retry_after} if failure.retry_after else {}
            message = "User-rate limit exceeded." if failure.status == 429 else "Backend Error"
            raise ApiError(failure.status, message, extra)

    @staticmethod
    def error_response(exc: ApiError) -> tuple[int, dict[str, str], bytes]:
        body = json.dumps(google_error(exc.code, exc.message)).encode()
        return exc.code, {"Content-Type": JSON, **exc.headers}, body

    def _route(self, method: str, path: str, query: dict[str, list[str]], body: bytes) -> Any:
        prefix = "/gmail/v1/users/me/"
        if not path.startswith(prefix):
            raise ApiError(404, NOT_FOUND)
        rest = path[len(prefix) :]
        one = {k: v[0] for k, v in query.items()}
        routes: dict[tuple[str, str], Any] = {
            ("GET", "profile"): ("getProfile", self._profile),
            ("GET", "labels"): ("labels.list", self._labels),
            ("GET", "messages"): ("messages.list", self._list),
            ("POST", "messages/send"): ("messages.send", self._send),
            ("POST", "drafts"): ("drafts.create", self._draft),
            ("GET", "drafts"): ("drafts.list", self._list_drafts),
            ("GET", "history"): ("history.list", self._history),
        }
        if (method, rest) in routes:
            name, handler = routes[(method, rest)]
        elif method == "GET" and re.fullmatch(r"messages/[^/]+/attachments/[^/]+", rest):
            name, handler = "messages.attachments.get", self._attachment
        elif method == "GET" and re.fullmatch(r"messages/[^/]+", rest):
            name, handler = "messages.get", self._get
        else:
            raise ApiError(404, NOT_FOUND)
        self.api_calls[name] += 1
        return handler(rest=rest, one=one, query=query, body=body)

    def _profile(self, **_: Any) -> Any:
        return {
            "emailAddress": self.state.email,
            "messagesTotal": len(self.state.messages),
            "threadsTotal": len({m.thread_id for m in self.state.messages.values()}),
            "historyId": str(self.state.history_id),
        }

    def _labels(self, **_: Any) -> Any:
        return {
            "labels": [
                {"id": i, "name": n, "type": "system" if i == n else "user"} for i, n in self.state.labels.items()
            ]
        }

    def _matches(self, message: StoredMessage, q: str) -> bool:
        for term in q.split():
            if term.startswith("-"):  # Gmail search: -term excludes what term matches
                if self._matches(message, term[1:]):
                    return False
                continue
            key, _, value = term.partition(":")
            value = value.strip('"')
            if key == "newer_than":
                units = {"d": 86400, "m": 30 * 86400, "y": 365 * 86400}
                oldest = time.time() - int(value[:-1]) * units[value[-1]]
                if message.internal_date < oldest * 1000:
                    return False
            elif key == "after":
                if message.internal_date < int(value) * 1000:
                    return False
            elif key == "rfc822msgid":
                if message.message_id.strip("<>") != value.strip("<>"):
                    return False
            elif key == "in":
                label = {"chats": "CHAT"}.get(value.lower(), value.upper())  # Gmail names chats "in:chats"
                if label not in message.label_ids and value != "anywhere":
                    return False
            else:
                raise ApiError(400, f"emulator: unsupported query term {term!r}")
        return True

    def _list(self, query: dict[str, list[str]], one: dict[str, str], **_: Any) -> Any:
        wanted = query.get("labelIds", [])
        hidden = set() if one.get("includeSpamTrash") == "true" else {"SPAM", "TRASH"}
        found = sorted(
            (
                m
                for m in self.state.messages.values()
                if all(lab in m.label_ids for lab in wanted)
                and not hidden & set(m.label_ids)
                and self._matches(m, one.get("q", ""))
            ),
            key=lambda m: (-m.internal_date, m.id),
        )
        size = min(int(one.get("maxResults", 100)), 500)
        start = int(one.get("pageToken", "0") or 0)
        page = found[start : start + size]
        out: dict[str, Any] = {"resultSizeEstimate": len(found)}
        if page:
            out["messages"] = [{"id": m.id, "threadId": m.thread_id} for m in page]
        if start + size < len(found):
            out["nextPageToken"] = str(start + size)
        return out

    def _resource(self, message: StoredMessage, fmt: str, headers: list[str]) -> dict[str, Any]:
        parsed = email.message_from_bytes(message.raw, policy=email.policy.compat32)
        out: dict[str, Any] = {
            "id": message.id,
            "threadId": message.thread_id,
            "labelIds": list(message.label_ids),
            "snippet": "",
            "sizeEstimate": len(message.raw),
            "historyId": str(message.history_id),
            "internalDate": str(message.internal_date),
        }
        if fmt == "raw":
            out["raw"] = b64url(message.raw)
        elif fmt == "metadata":
            keep = {h.lower() for h in headers}
            out["payload"] = {
                "partId": "",
                "mimeType": parsed.get_content_type(),
                "headers": [{"name": k, "value": str(v)} for k, v in parsed.items() if not keep or k.lower() in keep],
            }
        elif fmt == "full":
            out["payload"] = _part(parsed, "", message.id)
        return out

    def _get(self, rest: str, one: dict[str, str], query: dict[str, list[str]], **_: Any) -> Any:
        message = self.state.messages.get(rest.split("/", 1)[1])
        if message is None:
            raise ApiError(404, NOT_FOUND)
        fmt = one.get("format", "full")
        if fmt not in ("full", "metadata", "raw", "minimal"):
            raise ApiError(400, f"Invalid value for format: {fmt}")
        return self._resource(message, fmt, query.get("metadataHeaders", []))

    def _attachment(self, rest: str, **_: Any) -> Any:
        _, message_id, _, attachment_id = rest.split("/")
        message = self.state.messages.get(message_id)
        try:
            owner, part_id = base64.urlsafe_b64decode(attachment_id[6:] + "==").decode().split(":")
        except ValueError:
            raise ApiError(400, "Invalid attachment token") from None
        if message is None or owner != message_id:
            raise ApiError(404, NOT_FOUND)
        part: Any = email.message_from_bytes(message.raw, policy=email.policy.compat32)
        for index in part_id.split(".") if part_id else ():
            part = part.get_payload()[int(index)]
        data = part.get_payload(decode=True) or b""
        return {"attachmentId": attachment_id, "size": len(data), "data": b64url(data)}

    def _decode_raw(self, body: dict[str, Any]) -> tuple[bytes, str]:
        try:
            raw = base64.urlsafe_b64decode(body["raw"] + "=" * (-len(body["raw"]) % 4))
        except (KeyError, TypeError, ValueError):
            raise ApiError(
                400, "'raw' RFC822 payload message string or uploading message via /upload/* URL required"
            ) from None
        thread_id = str(body.get("threadId") or "")
        if thread_id and not any(m.thread_id == thread_id for m in self.state.messages.values()):
            raise ApiError(404, NOT_FOUND)
        return raw, thread_id

    def _send(self, body: bytes, **_: Any) -> Any:
        raw, thread_id = self._decode_raw(json.loads(body or b"{}"))
        message = self.insert(raw, ["SENT"], thread_id=thread_id, internal_date=int(time.time() * 1000))
        return {"id": message.id, "threadId": message.thread_id, "labelIds": message.label_ids}

    def _draft(self, body: bytes, **_: Any) -> Any:
        raw, thread_id = self._decode_raw(json.loads(body or b"{}").get("message") or {})
        message = self.insert(raw, ["DRAFT"], thread_id=thread_id, internal_date=int(time.time() * 1000))
        draft_id = f"r{int(message.id, 16) % 10**18}"
        self.state.drafts[draft_id] = message.id
        return {
            "id": draft_id,
            "message": {"id": message.id, "threadId": message.thread_id, "labelIds": message.label_ids},
        }

    def _list_drafts(self, one: dict[str, str], **_: Any) -> Any:
        found = [
            (draft_id, self.state.messages[message_id])
            for draft_id, message_id in self.state.drafts.items()
            if message_id in self.state.messages and self._matches(self.state.messages[message_id], one.get("q", ""))
        ]
        page = found[: min(int(one.get("maxResults", 100)), 500)]
        out: dict[str, Any] = {"resultSizeEstimate": len(found)}
        if page:
            out["drafts"] = [{"id": d, "message": {"id": m.id, "threadId": m.thread_id}} for d, m in page]
        return out

    def _history(self, one: dict[str, str], query: dict[str, list[str]], **_: Any) -> Any:
        start_text = one.get("startHistoryId", "")
        if not start_text.isdigit():
            raise ApiError(400, "Invalid value at 'start_history_id' (TYPE_UINT64)")
        start = int(start_text)
        if start < self.state.history_floor:
            raise ApiError(404, NOT_FOUND)
        types = set(query.get("historyTypes", [])) or {"messageAdded", "messageDeleted", "labelAdded", "labelRemoved"}
        label = one.get("labelId")
        records = [
            h
            for h in self.state.history
            if h["id"] > start and h["kind"] in types and (not label or label in h["message"]["labelIds"])
        ]
        size = min(int(one.get("maxResults", 100)), 500)
        offset = int(one.get("pageToken", "0") or 0)
        plural = {
            "messageAdded": "messagesAdded",
            "messageDeleted": "messagesDeleted",
            "labelAdded": "labelsAdded",
            "labelRemoved": "labelsRemoved",
        }
        page = []
        for h in records[offset : offset + size]:
            item: dict[str, Any] = {"message": h["message"]}
            if "labelIds" in h:
                item["labelIds"] = h["labelIds"]
            page.append(
                {
                    "id": str(h["id"]),
                    "messages": [{"id": h["message"]["id"], "threadId": h["message"]["threadId"]}],
                    plural[h["kind"]]: [item],
                }
            )
        out: dict[str, Any] = {"historyId": str(self.state.history_id)}
        if page:
            out["history"] = page
        if offset + size < len(records):
            out["nextPageToken"] = str(offset + size)
        return out

    def batch(self, content_type: str, body: bytes) -> tuple[int, dict[str, str], bytes]:
        """Answer a multipart/mixed batch: each part an application/http request."""
        container = email.message_from_bytes(
            b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + body, policy=email.policy.compat32
        )
        parts = container.get_payload() if container.is_multipart() else []
        if not parts or len(parts) > 100:
            return 400, {"Content-Type": JSON}, json.dumps(google_error(400, "A batch holds 1 to 100 calls")).encode()
        boundary = f"batch_{self._new_id()}"
        out = []
        for part in parts:
            content_id = str(part.get("Content-ID", "")).strip()
            text = part.get_payload(decode=False)
            head, _, inner_body = text.replace("\r\n", "\n").partition("\n\n")
            request_line, *header_lines = head.split("\n")
            method, target, _version = request_line.split(" ", 2)
            inner_headers = {}
            for line in header_lines:
                name, _, value = line.partition(":")
                inner_headers[name.strip().lower()] = value.strip()
            status, headers, payload = self.dispatch(
                method, target, inner_headers, inner_body.encode(), inside_batch=True
            )
            header_text = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
            out.append(
                f"--{boundary}\r\nContent-Type: application/http\r\n"
                f"Content-ID: <response-{content_id.strip('<>')}>\r\n\r\n"
                f"HTTP/1.1 {status} {HTTPStatus(status).phrase}\r\n{header_text}"
                f"Content-Length: {len(payload)}\r\n\r\n{payload.decode()}\r\n"
            )
        data = ("".join(out) + f"--{boundary}--\r\n").encode()
        return 200, {"Content-Type": f"multipart/mixed; boundary={boundary}"}, data

    def token(self, form: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
        """OAuth 2.0 token endpoint: authorization_code and refresh_token grants."""
        self.token_requests.append(form)
        grant = form.get("grant_type")
        refresh = ""
        if grant == "authorization_code" and form.get("code") in self.token_grants:
            refresh = self.token_grants.pop(form["code"])
            self.refresh_tokens.add(refresh)
        elif grant == "refresh_token" and form.get("refresh_token") in self.refresh_tokens:
            refresh = form["refresh_token"]
        if not refresh:
            body = {"error": "invalid_grant", "error_description": "Token has been expired or revoked."}
            return 400, {"Content-Type": JSON}, json.dumps(body).encode()
        body = {
            "access_token": self.access_token,
            "expires_in": 3599,
            "token_type": "Bearer",
            "scope": form.get("scope")
            or " ".join(
                ["https://www.googleapis.com/auth/gmail.readonly", "https://www.googleapis.com/auth/gmail.compose"]
            ),
        }
        if grant == "authorization_code":
            body["refresh_token"] = refresh
        return 200, {"Content-Type": JSON}, json.dumps(body).encode()


def _part(message: email.message.Message, part_id: str, owner: str) -> dict[str, Any]:
    """One MessagePart of format=full: headers, mimeType, body.data (base64url) or parts."""
    out: dict[str, Any] = {
        "partId": part_id,
        "mimeType": message.get_content_type(),
        "filename": message.get_filename() or "",
        "headers": [{"name": k, "value": " ".join(str(v).split())} for k, v in message.items()],
    }
    if message.is_multipart():
        children = message.get_payload()
        out["body"] = {"size": 0}
        out["parts"] = [
            _part(child, f"{part_id}.{i}" if part_id else str(i), owner) for i, child in enumerate(children)
        ]
        return out
    data = message.get_payload(decode=True) or b""
    if out["filename"]:
        attachment_id = "ANGjdJ" + b64url(f"{owner}:{part_id}".encode()).rstrip("=")
        out["body"] = {"attachmentId": attachment_id, "size": len(data)}
    else:
        out["body"] = {"size": len(data), "data": b64url(data)} if data else {"size": 0}
    return out


def _handler_for(emulator: GmailEmulator) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def setup(self) -> None:
            super().setup()  # answer at once: no Nagle delay between headers and body
            self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib name
            pass

        def _answer(self, status: int, headers: dict[str, str], body: bytes) -> None:
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def _handle(self, method: str) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            path = urllib.parse.urlsplit(self.path).path
            headers = {k.lower(): v for k, v in self.headers.items()}
            if path == "/token" and method == "POST":
                form = {k: v[0] for k, v in urllib.parse.parse_qs(body.decode()).items()}
                return self._answer(*emulator.token(form))
            emulator.http_requests["batch" if path == "/batch/gmail/v1" else path] += 1
            if path == "/batch/gmail/v1" and method == "POST":
                try:
                    emulator.gate(path, headers, inside_batch=False)
                except ApiError as exc:
                    return self._answer(*emulator.error_response(exc))
                return self._answer(*emulator.batch(headers.get("content-type", ""), body))
            answer = emulator.dispatch(method, self.path, headers, body)
            if emulator.take_dropped_answer(path, method):
                self.close_connection = True  # the work is done; the answer never leaves
                return None
            return self._answer(*answer)

        def do_GET(self) -> None:  # noqa: N802 - stdlib name
            self._handle("GET")

        def do_POST(self) -> None:  # noqa: N802 - stdlib name
            self._handle("POST")

    return Handler
