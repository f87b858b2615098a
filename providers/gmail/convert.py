"""Gmail API resources -> MailMessage. Pure functions; no Google library is imported here.

A ``users.messages.get(format=full)`` resource carries the MIME tree as JSON: every part's
headers, its ``mimeType``, and the transfer-decoded body as base64url in ``body.data``
(attachments with a file name carry an ``attachmentId`` instead of data). We rebuild an
``email.message.Message`` from that tree and hand it to :func:`inbox_watch.mime.from_email_message`,
so Gmail mail is read by exactly the same rules as IMAP mail and ``.eml`` files.
"""

from __future__ import annotations

import base64
import dataclasses
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from email.message import Message
from typing import Any

from inbox_watch import mime
from inbox_watch.models import MailMessage

CANDIDATE_PREFIX = "Candidates/"
SYSTEM_FOLDERS = (("SENT", "sent"), ("INBOX", "inbox"), ("DRAFT", "drafts"))


def b64url_decode(data: str) -> bytes:
    """Decode Gmail's base64url (padding optional)."""
    return base64.urlsafe_b64decode(data + "=" * (-len(data) % 4))


def b64url_encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii")


def payload_to_email(payload: Mapping[str, Any]) -> Message:
    """Rebuild an ``email.message.Message`` from a ``format=full`` MessagePart tree."""
    message = Message()
    mime_type = str(payload.get("mimeType") or "text/plain")
    has_content_type = False
    for header in payload.get("headers") or ():
        name, value = str(header.get("name", "")), str(header.get("value", ""))
        if not name or name.lower() == "content-transfer-encoding":
            continue  # body.data is already transfer-decoded; we re-encode it below
        has_content_type = has_content_type or name.lower() == "content-type"
        message[name] = mime.valid_text(value)  # JSON may spell an unpaired surrogate
    if not has_content_type:
        message["Content-Type"] = mime_type
    parts = payload.get("parts") or []
    if mime_type.startswith("multipart/") or (parts and mime_type == "message/rfc822"):
        message.set_payload([payload_to_email(part) for part in parts])
        return message
    data = (payload.get("body") or {}).get("data")
    if data:
        try:
            raw = b64url_decode(str(data))
        except (ValueError, TypeError):
            raw = b""
        message["Content-Transfer-Encoding"] = "base64"
        message.set_payload(base64.b64encode(raw).decode("ascii"))
    else:
        message.set_payload("")
    return message


def calendar_parts(payload: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    """Every text/calendar or application/ics part of a MessagePart tree, depth first."""
    if payload.get("mimeType") in ("text/calendar", "application/ics"):
        yield payload
    for part in payload.get("parts") or ():
        yield from calendar_parts(part)


def candidate_tags(label_ids: list[str], label_names: Mapping[str, str]) -> tuple[str, ...]:
    """Candidate names from the ``Candidates/<Name>`` labels among ``label_ids``."""
    tags = []
    for label_id in label_ids:
        name = label_names.get(label_id, "")
        if name.startswith(CANDIDATE_PREFIX) and len(name) > len(CANDIDATE_PREFIX):
            tags.append(name[len(CANDIDATE_PREFIX) :])
    return tuple(sorted(tags))


def folder_of(label_ids: list[str]) -> str:
    for label_id, folder in SYSTEM_FOLDERS:
        if label_id in label_ids:
            return folder
    return ""


def to_mail_message(resource: Mapping[str, Any], *, account: str, label_names: Mapping[str, str]) -> MailMessage:
    """Turn a ``format=full`` Message resource into a MailMessage.

    ``date`` is Gmail's ``internalDate`` (when Google accepted the message, which Google
    documents as more reliable than the Date header); the Date header is the fallback.
    """
    label_ids = [str(x) for x in resource.get("labelIds") or ()]
    internal: datetime | None = None
    try:
        internal = datetime.fromtimestamp(int(resource["internalDate"]) / 1000, UTC)
    except (KeyError, TypeError, ValueError, OverflowError, OSError):
        internal = None
    parsed = mime.from_email_message(
        payload_to_email(resource.get("payload") or {}),
        account=account,
        id=str(resource["id"]),
        folder=folder_of(label_ids),
        tags=candidate_tags(label_ids, label_names),
        thread_id=str(resource.get("threadId", "")),
        is_draft="DRAFT" in label_ids,
        fallback_date=internal,
    )
    if internal is not None and internal.timestamp() > 0:
        parsed = dataclasses.replace(parsed, date=internal)
    return mime.valid_message(parsed)  # label names and ids come from JSON too
