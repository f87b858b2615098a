"""RFC 5322 / MIME in and out: raw bytes -> MailMessage, OutgoingMessage -> raw bytes.

Pure functions shared by every provider that sees raw mail (IMAP, Gmail raw, .eml files).
Parsing never raises on broken MIME: a part that does not decode is skipped, and what could
be read is kept. Every string read from the mail is valid Unicode (no unpaired surrogates),
whatever charset the mail names, so a parsed message can always be stored.
"""

from __future__ import annotations

import codecs
import dataclasses
import email
import email.header
import email.policy
import email.utils
import functools
import re
from datetime import UTC, datetime
from email.message import EmailMessage, Message
from typing import Any

from inbox_watch.models import MailMessage, OutgoingMessage, normalise_message_id

TEXT_LIMIT = 2000
CALENDAR_LIMIT = 20000

# Header fields classification and threading read; providers fetch only these.
KEPT_HEADERS = (
    "auto-submitted",
    "x-autoreply",
    "x-autorespond",
    "precedence",
    "x-auto-response-suppress",
    "x-failed-recipients",
    "content-type",
    "list-id",
    "list-unsubscribe",
    "x-ms-exchange-generated-message-source",
    "return-path",
    "x-php-originating-script",
)
FETCH_HEADERS = (
    "from",
    "to",
    "cc",
    "subject",
    "date",
    "message-id",
    "in-reply-to",
    "references",
    *KEPT_HEADERS,
)

_MSGID = re.compile(r"<[^<>\s]+>")
_TAGS = re.compile(r"<[^>]*>")
_BLOCK_TAGS = re.compile(r"<\s*(br|/p|/div|/tr|/li|/h\d)\b[^>]*>", re.I)
_SCRIPT = re.compile(r"<(script|style)\b.*?</\1\s*>", re.I | re.S)
_WS = re.compile(r"[ \t\r\f\v]+")


def html_to_text(html: str) -> str:
    """A small, fast HTML-to-text conversion good enough for classification excerpts."""
    import html as html_mod

    html = _SCRIPT.sub(" ", html)
    html = _BLOCK_TAGS.sub("\n", html)
    html = _TAGS.sub(" ", html)
    text = html_mod.unescape(html)
    lines = (_WS.sub(" ", line).strip() for line in text.splitlines())
    return "\n".join(line for line in lines if line)


# Codecs Python counts as text encodings that no mail means: they read escape sequences or
# domain names, raise on ordinary bytes, or give unpaired surrogates.
_NOT_MAIL_CHARSETS = frozenset({"idna", "punycode", "unicode-escape", "raw-unicode-escape", "undefined"})


@functools.lru_cache(maxsize=256)
def _codec(charset: str) -> str:
    """The codec to read text declared as ``charset``: its own when it is a real text
    encoding, else utf-8."""
    try:
        info = codecs.lookup(charset)
    except Exception:  # noqa: BLE001 - LookupError, or ValueError for a name with a NUL byte
        return "utf-8"
    if not getattr(info, "_is_text_encoding", True) or info.name in _NOT_MAIL_CHARSETS:
        return "utf-8"  # base64, rot13, idna, unicode_escape ...: not a charset
    return info.name


_CALENDAR_METHOD_PARAM = re.compile(r"""method\s*=\s*"?([A-Za-z-]+)""", re.I)


def calendar_text(text: str, content_type: str) -> str:
    """A calendar part's text, carrying the ``method=`` of its Content-Type when it has no METHOD.

    Some mailers (Lotus Notes among them) name the iTIP method only in the part's Content-Type
    (``text/calendar; method="REQUEST"``); the classifier reads METHOD from the calendar.
    """
    if re.search(r"^METHOD:", text, re.M | re.I):
        return text
    param = _CALENDAR_METHOD_PARAM.search(content_type)
    if not param:
        return text
    method = param.group(1).upper()
    patched, count = re.subn(
        r"^(BEGIN:VCALENDAR[ \t]*\r?\n)", rf"\g<1>METHOD:{method}\r\n", text, count=1, flags=re.M | re.I
    )
    return patched if count else text


def valid_text(text: str) -> str:
    """``text`` with every unpaired surrogate replaced by U+FFFD (a pair spelt as two code
    points becomes its one character), so that it can be written as UTF-8."""
    if text.isascii():
        return text
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")
    return text


def valid_message(message: MailMessage) -> MailMessage:
    """``message`` with :func:`valid_text` applied to every string it carries; the same object
    when they all are valid already. For adapters that build messages from JSON (whose
    ``\\udXXX`` escapes can spell unpaired surrogates) rather than from raw mail."""
    changes: dict[str, Any] = {}
    for field in dataclasses.fields(message):
        value = getattr(message, field.name)
        if isinstance(value, str):
            fixed: Any = valid_text(value)
        elif isinstance(value, tuple):
            fixed = tuple(
                tuple(valid_text(v) for v in item) if isinstance(item, tuple) else valid_text(item) for item in value
            )
        else:
            continue
        if fixed != value:
            changes[field.name] = fixed
    return dataclasses.replace(message, **changes) if changes else message


def decode_text(payload: bytes, charset: str | None) -> str:
    """``payload`` read as text in its declared ``charset``. Never raises.

    Only real text encodings are honoured; an unknown name, a codec that is not a charset
    (``idna``, ``unicode_escape``, ``base64`` ...) or a missing one means utf-8. Bytes that do
    not decode become U+FFFD, and so do unpaired surrogates (which UTF-7, UTF-16 and UTF-32 can
    spell).
    """
    codec = _codec(charset.lower()) if charset else "utf-8"
    try:
        text = payload.decode(codec, errors="replace")
    except Exception:  # noqa: BLE001 - a codec that fails even with errors="replace"
        text = payload.decode("utf-8", errors="replace")
    return valid_text(text) if codec.startswith("utf") and codec != "utf-8" else text


def _decode_header(value: Any) -> str:
    try:
        return str(value) if value is not None else ""
    except Exception:  # noqa: BLE001 - a header that will not decode is read as empty
        return ""


def _addresses(values: list[str]) -> tuple[str, ...]:
    found = []
    for _name, addr in email.utils.getaddresses(values):
        addr = addr.strip().lower()
        if "@" in addr:
            found.append(addr)
    return tuple(dict.fromkeys(found))


def parse_date(value: str) -> datetime | None:
    """Parse an RFC 5322 date into an aware UTC datetime, or None."""
    if not value:
        return None
    try:
        parsed = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if parsed is None:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def message_ids(value: str) -> tuple[str, ...]:
    """Every ``<id>`` in a References / In-Reply-To value, in order."""
    return tuple(_MSGID.findall(value or ""))


def _part_text(part: Message) -> str:
    try:
        payload = part.get_payload(decode=True)
    except Exception:  # noqa: BLE001 - undecodable part
        return ""
    if not isinstance(payload, bytes):
        raw = part.get_payload()
        return raw if isinstance(raw, str) else ""
    try:
        charset = part.get_content_charset()
    except Exception:  # noqa: BLE001 - e.g. an RFC 2231 charset*= in a charset with a NUL byte
        charset = None
    return decode_text(payload, charset)


def _walk(message: Message) -> list[Message]:
    try:
        return list(message.walk())
    except Exception:  # noqa: BLE001 - broken multipart: read the top part only
        return [message]


def parse_bytes(
    raw: bytes,
    *,
    account: str = "",
    id: str = "",
    folder: str = "",
    tags: tuple[str, ...] = (),
    thread_id: str = "",
    is_draft: bool = False,
    fallback_date: datetime | None = None,
) -> MailMessage:
    """Turn raw RFC 5322 bytes into a MailMessage. Never raises on malformed input."""
    message = email.message_from_bytes(raw, policy=email.policy.compat32)
    return from_email_message(
        message,
        account=account,
        id=id,
        folder=folder,
        tags=tags,
        thread_id=thread_id,
        is_draft=is_draft,
        fallback_date=fallback_date,
    )


def _header_str(message: Message, name: str) -> str:
    raw = message.get(name)
    if raw is None:
        return ""
    try:
        parts = email.header.decode_header(str(raw))
        out = []
        for chunk, charset in parts:
            out.append(decode_text(chunk, charset) if isinstance(chunk, bytes) else chunk)
        text = "".join(out)
    except Exception:  # noqa: BLE001 - an undecodable header is kept as its raw text
        text = _decode_header(raw)
    return valid_text(re.sub(r"\s+", " ", text).strip())


def from_email_message(
    message: Message,
    *,
    account: str = "",
    id: str = "",
    folder: str = "",
    tags: tuple[str, ...] = (),
    thread_id: str = "",
    is_draft: bool = False,
    fallback_date: datetime | None = None,
) -> MailMessage:
    plain = ""
    html = ""
    calendar = ""
    delivery_status = ""
    original_headers = ""
    for part in _walk(message):
        try:
            ctype = part.get_content_type()
        except Exception:  # noqa: BLE001
            continue
        if ctype in ("message/delivery-status", "message/global-delivery-status"):
            delivery_status = _delivery_status_text(part)
            continue
        if part.is_multipart():
            continue
        disposition = str(part.get("Content-Disposition") or "").lower()
        if ctype == "text/plain" and not plain and "attachment" not in disposition:
            plain = _part_text(part)
        elif ctype == "text/html" and not html and "attachment" not in disposition:
            html = _part_text(part)
        elif ctype in ("text/calendar", "application/ics") and not calendar:
            calendar = calendar_text(_part_text(part), str(part.get("Content-Type") or ""))[:CALENDAR_LIMIT]
        elif ctype in ("text/rfc822-headers", "message/rfc822-headers") and not original_headers:
            original_headers = _part_text(part)
    # message/rfc822 parts are containers: their headers carry the original Message-ID.
    original_id = ""
    for part in _walk(message):
        try:
            if part.get_content_type() == "message/rfc822":
                inner = part.get_payload()
                if isinstance(inner, list) and inner and isinstance(inner[0], Message):
                    original_id = normalise_message_id(str(inner[0].get("Message-ID", "") or ""))
                    break
        except Exception:  # noqa: BLE001
            continue
    if not original_id and original_headers:
        match = re.search(r"^Message-ID:\s*(<[^>]+>)", original_headers, re.I | re.M)
        if match:
            original_id = match.group(1)
    text = plain or html_to_text(html)
    from_name, from_addr = email.utils.parseaddr(_header_str(message, "From"))
    date = parse_date(_header_str(message, "Date")) or fallback_date or datetime.fromtimestamp(0, UTC)
    headers = tuple((name, _header_str(message, name)) for name in KEPT_HEADERS if message.get(name) is not None)
    failed = _failed_recipients(delivery_status, _header_str(message, "X-Failed-Recipients"))
    return MailMessage(
        account=account,
        id=id,
        message_id=normalise_message_id(_header_str(message, "Message-ID")),
        date=date,
        from_addr=from_addr.strip().lower(),
        from_name=from_name.strip(),
        subject=_header_str(message, "Subject"),
        to=_addresses([_header_str(message, "To")]),
        cc=_addresses([_header_str(message, "Cc")]),
        in_reply_to=(message_ids(_header_str(message, "In-Reply-To")) or ("",))[0],
        references=message_ids(_header_str(message, "References")),
        thread_id=thread_id,
        folder=folder,
        tags=tags,
        headers=headers,
        text=text[:TEXT_LIMIT],
        calendar=calendar,
        delivery_status=delivery_status[:TEXT_LIMIT],
        original_message_id=original_id,
        failed_recipients=failed,
        is_draft=is_draft,
    )


def _delivery_status_text(part: Message) -> str:
    payload = part.get_payload()
    if isinstance(payload, list):  # compat32 parses delivery-status into header blocks
        blocks = []
        for block in payload:
            if not isinstance(block, Message):
                continue
            try:
                blocks.append("\n".join(f"{k}: {v}" for k, v in block.items()))
            except Exception:  # noqa: BLE001
                continue
        return "\n\n".join(blocks)
    return _part_text(part)


_FINAL_RECIPIENT = re.compile(r"^(?:Final|Original)-Recipient:\s*(?:rfc822;)?\s*<?([^\s<>;]+@[^\s<>;]+)>?", re.I | re.M)


def _failed_recipients(delivery_status: str, x_failed: str) -> tuple[str, ...]:
    found = [m.group(1).lower() for m in _FINAL_RECIPIENT.finditer(delivery_status)]
    found += [a for a in _addresses([x_failed])]
    return tuple(dict.fromkeys(found))


def make_message_id(domain: str) -> str:
    """A new, globally unique Message-ID at ``domain``."""
    return email.utils.make_msgid(domain=domain or "inbox-watch.invalid")


def build_email(message: OutgoingMessage, *, date: datetime | None = None) -> bytes:
    """Render an OutgoingMessage as RFC 5322 bytes with threading headers.

    Every header is written by :func:`inbox_watch.headers.render`: one line of text each,
    nothing received re-interpreted; raises ``headers.UnsafeRecipient`` for a recipient that
    is not a plain address. The body's MIME headers come from the email package.
    """
    from inbox_watch import headers

    head = headers.render(
        from_name=message.from_name,
        from_addr=message.from_addr,
        to=message.to,
        cc=message.cc,
        subject=message.subject,
        date=email.utils.format_datetime(date or datetime.now(UTC)),
        message_id=message.message_id,
        in_reply_to=message.in_reply_to,
        references=message.references,
    )
    body = EmailMessage(policy=email.policy.SMTP)
    body.set_content(message.body)
    return head + body.as_bytes()
