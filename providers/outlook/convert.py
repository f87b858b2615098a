"""Graph message JSON -> MailMessage, and the calendar / report cases that need the MIME.

Graph gives most of what the engine needs as JSON fields. Two kinds of message are read from
their MIME instead (``GET /me/messages/{id}/$value``, parsed by
:func:`inbox_watch.mime.parse_bytes`), because their essential part has no JSON field:

- meeting messages (``@odata.type`` ``#microsoft.graph.eventMessage*``): the ``text/calendar``
  part with its ``METHOD`` (REQUEST / REPLY / CANCEL) and the ``VEVENT``;
- delivery reports (non-delivery reports): the ``message/delivery-status`` part and the
  original Message-ID.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from inbox_watch.mime import KEPT_HEADERS, TEXT_LIMIT, html_to_text, message_ids, valid_message
from inbox_watch.models import MailMessage, normalise_message_id

CANDIDATE_PREFIX = "Candidates/"

# Only what the engine reads; internetMessageHeaders is returned only when selected.
SELECT_FIELDS = (
    "id",
    "internetMessageId",
    "conversationId",
    "subject",
    "from",
    "toRecipients",
    "ccRecipients",
    "receivedDateTime",
    "sentDateTime",
    "categories",
    "isDraft",
    "body",
    "internetMessageHeaders",
)

_REPORT_SUBJECT = re.compile(
    r"^\s*(undeliverable|undelivered mail|delivery status notification|mail delivery failed|"
    r"returned mail|delivery has failed|failure notice|non remis|unzustellbar)",
    re.I,
)
_REPORT_SENDER = re.compile(r"^(mailer-daemon|postmaster|microsoftexchange[0-9a-f]*)@", re.I)


def candidate_from_category(category: str) -> str:
    """``Candidates/Ann Lee`` -> ``Ann Lee``; anything else -> ""."""
    if category[: len(CANDIDATE_PREFIX)].lower() == CANDIDATE_PREFIX.lower():
        return category[len(CANDIDATE_PREFIX) :].strip()
    return ""


def parse_graph_datetime(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    text = value.strip().replace("Z", "+00:00")
    # Graph may send 7 fractional digits; fromisoformat in 3.11 accepts at most 6.
    text = re.sub(r"(\.\d{6})\d+", r"\1", text)
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def _address(recipient: Any) -> tuple[str, str]:
    if not isinstance(recipient, dict):
        return "", ""
    email = recipient.get("emailAddress") or {}
    if not isinstance(email, dict):
        return "", ""
    return str(email.get("name") or "").strip(), str(email.get("address") or "").strip().lower()


def _addresses(recipients: Any) -> tuple[str, ...]:
    found = []
    for recipient in recipients or ():
        _name, addr = _address(recipient)
        if "@" in addr:
            found.append(addr)
    return tuple(dict.fromkeys(found))


def _headers(item: dict[str, Any]) -> dict[str, str]:
    """internetMessageHeaders as {lower-case name: first value}."""
    out: dict[str, str] = {}
    for header in item.get("internetMessageHeaders") or ():
        if isinstance(header, dict):
            name = str(header.get("name") or "").strip().lower()
            if name and name not in out:
                out[name] = re.sub(r"\s+", " ", str(header.get("value") or "")).strip()
    return out


def is_meeting_message(item: dict[str, Any]) -> bool:
    return "eventmessage" in str(item.get("@odata.type") or "").lower()


def is_delivery_report(item: dict[str, Any]) -> bool:
    _name, sender = _address(item.get("from"))
    return bool(_REPORT_SUBJECT.match(str(item.get("subject") or ""))) or bool(_REPORT_SENDER.match(sender))


def needs_mime(item: dict[str, Any]) -> bool:
    """Whether this message must be read from its MIME (invitations, delivery reports)."""
    return is_meeting_message(item) or is_delivery_report(item)


def tags_for(item: dict[str, Any], folder_candidate: str) -> tuple[str, ...]:
    names = [folder_candidate] if folder_candidate else []
    for category in item.get("categories") or ():
        name = candidate_from_category(str(category))
        if name:
            names.append(name)
    return tuple(dict.fromkeys(names))


def to_mail_message(item: dict[str, Any], *, account: str, folder: str, folder_candidate: str = "") -> MailMessage:
    """A Graph message (the fields of SELECT_FIELDS) as a MailMessage.

    Exchange keeps text as UTF-16, which may hold an unpaired surrogate; Graph sends it as a
    ``\\udXXX`` escape. Such a character is replaced by U+FFFD, so the message can be stored.
    """
    headers = _headers(item)
    from_name, from_addr = _address(item.get("from"))
    when = (
        parse_graph_datetime(item.get("sentDateTime"))
        or parse_graph_datetime(item.get("receivedDateTime"))
        or datetime.fromtimestamp(0, UTC)
    )
    body = item.get("body") or {}
    text = ""
    if isinstance(body, dict):
        text = str(body.get("content") or "")
        if str(body.get("contentType") or "").lower() == "html":
            text = html_to_text(text)
    if not text:
        text = str(item.get("bodyPreview") or "")
    references = message_ids(headers.get("references", ""))
    in_reply_to = (message_ids(headers.get("in-reply-to", "")) or ("",))[0]
    message = MailMessage(
        account=account,
        id=str(item.get("id") or ""),
        message_id=normalise_message_id(str(item.get("internetMessageId") or headers.get("message-id") or "")),
        date=when,
        from_addr=from_addr,
        from_name=from_name,
        subject=str(item.get("subject") or ""),
        to=_addresses(item.get("toRecipients")),
        cc=_addresses(item.get("ccRecipients")),
        in_reply_to=in_reply_to,
        references=references,
        thread_id=str(item.get("conversationId") or ""),
        folder=folder,
        tags=tags_for(item, folder_candidate),
        headers=tuple((name, headers[name]) for name in KEPT_HEADERS if name in headers),
        text=text[:TEXT_LIMIT],
        is_draft=bool(item.get("isDraft")),
    )
    return valid_message(message)
