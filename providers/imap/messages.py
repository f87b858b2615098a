"""FETCH results -> MailMessage, through :mod:`inbox_watch.mime` (or its proven fast twin).

Each message is read with one section, ``BODY.PEEK[]<0.N>``: its header and the start of its
body, enough for the first text part of nearly every message (measured: one section per
message costs Dovecot about half what ``HEADER.FIELDS`` plus ``TEXT`` cost). Then, for the
few that need it:

- a header longer than the cap: read again as ``HEADER.FIELDS (...)`` plus ``TEXT<0.N>``;
- a multipart message cut off by the cap may hold a calendar invitation (or its text) further
  down: ``BODYSTRUCTURE`` names the parts, and the text/calendar part (and the first text part,
  when the excerpt had none) is fetched by its part number;
- no readable Date header: ``INTERNALDATE`` (when the server received it) is used instead.
"""

from __future__ import annotations

import binascii
import dataclasses
import imaplib
import quopri
import re
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from inbox_watch.mime import CALENDAR_LIMIT, FETCH_HEADERS, TEXT_LIMIT, html_to_text, parse_bytes
from inbox_watch.models import MailMessage

from .fastmime import fast_parse
from .fetch import Fetched, parse_fetch, raw_uid_fetch, stream_bodystructures, stream_uid_fetch

BODY_BYTES = 16384
ITEMS = f"(UID BODY.PEEK[]<0.{BODY_BYTES}>)"
# For a header longer than the cap. The transfer encoding is not kept, but decoding needs it.
FIELDS = (*FETCH_HEADERS, "content-transfer-encoding")
HEADER_SECTION = "HEADER.FIELDS (" + " ".join(h.upper() for h in FIELDS) + ")"
SPLIT_ITEMS = f"(UID BODY.PEEK[{HEADER_SECTION}] BODY.PEEK[TEXT]<0.{BODY_BYTES}>)"
# The first step of a two-step read: the header fields threading and relevance need, no text.
HEADER_ITEMS = f"(UID BODY.PEEK[{HEADER_SECTION}])"
_EPOCH = datetime.fromtimestamp(0, UTC)


def message_id_for(folder: str, uidvalidity: int, uid: int) -> str:
    """The stable provider id of a message: ``folder/uidvalidity/uid``."""
    return f"{folder}/{uidvalidity}/{uid}"


def split_id(provider_id: str) -> tuple[str, int, int]:
    folder, uidvalidity, uid = provider_id.rsplit("/", 2)
    return folder, int(uidvalidity), int(uid)


def _internaldate(fetched: Fetched) -> datetime | None:
    text = fetched.internaldate()
    if not text:
        return None
    try:
        return datetime.strptime(text, "%d-%b-%Y %H:%M:%S %z").astimezone(UTC)
    except ValueError:
        return None


def _pieces(fetched: Fetched) -> tuple[bytes, bytes, bool] | None:
    """(header block with its blank line, body, body cut short) or None if the header was cut."""
    if "HEADER.FIELDS" in fetched.sections:
        header = fetched.sections["HEADER.FIELDS"]
        body = fetched.sections.get("TEXT", b"")
        if not header.endswith(b"\n\n") and not header.endswith(b"\r\n\r\n"):
            header += b"\r\n" if header.endswith(b"\n") else b"\r\n\r\n"
        return header, body, len(body) >= BODY_BYTES
    raw = fetched.sections.get("", b"")
    head, sep, body = raw.partition(b"\r\n\r\n")
    if sep:
        return head + sep, body, len(raw) >= BODY_BYTES
    if len(raw) >= BODY_BYTES:
        return None
    return raw, b"", False  # a message that is all header


def build(
    fetched: Fetched,
    *,
    account: str,
    folder: str,
    uidvalidity: int,
    tags: tuple[str, ...],
    headers_only: bool = False,
) -> tuple[MailMessage, bool] | None:
    """(message, body cut short), or None when the header did not fit in the fetched bytes.
    ``headers_only``: ``fetched`` holds the header fields alone; the message is marked so."""
    pieces = _pieces(fetched)
    if pieces is None:
        return None
    header, body, cut = pieces
    provider_id = message_id_for(folder, uidvalidity, fetched.uid)
    message = fast_parse(
        header,
        body,
        account=account,
        id=provider_id,
        folder=folder,
        tags=tags,
        fallback_date=lambda: None,
        headers_only=headers_only,
    )
    if message is None:
        message = parse_bytes(header + body, account=account, id=provider_id, folder=folder, tags=tags)
        if headers_only:
            message = dataclasses.replace(message, headers_only=True)
    return message, cut


def fetch_messages(
    client: Any,
    uids: Sequence[int],
    *,
    account: str,
    folder: str,
    uidvalidity: int,
    tags: tuple[str, ...],
    progress: Callable[[int], None] | None = None,
    every: int = 2000,
    unreadable: list[str] | None = None,
    headers_only: bool = False,
) -> list[MailMessage]:
    """Read ``uids`` of the selected folder as MailMessages, in UID order (missing UIDs skipped).

    ``headers_only``: read only the header fields (``HEADER_ITEMS``, the first step of a
    two-step sync); the messages come back marked ``headers_only``, with no text.

    ``progress(n)`` is called after every ``every`` messages (and for the rest at the end).
    A message that cannot be read is skipped (or kept as far as it was read) and never stops
    the rest: one line naming its folder, UID, sender and subject goes in ``unreadable``.
    """
    messages: dict[int, MailMessage] = {}
    cut: list[int] = []
    long_header: list[int] = []
    count = 0
    notes = unreadable if unreadable is not None else []

    def read(items: str, wanted: Sequence[int]) -> None:
        nonlocal count
        for fetched in stream_uid_fetch(client._imap, wanted, items):
            try:
                built = build(
                    fetched,
                    account=account,
                    folder=folder,
                    uidvalidity=uidvalidity,
                    tags=tags,
                    headers_only=headers_only,
                )
            except Exception as exc:  # noqa: BLE001 - one message must not stop the sync
                notes.append(unreadable_line(folder, fetched.uid, _raw_header(fetched), None, "skipped", exc))
                continue
            if built is None:
                long_header.append(fetched.uid)
                continue
            messages[fetched.uid], is_cut = built
            if is_cut and messages[fetched.uid].header("content-type").lower().startswith(_MAY_CONTINUE):
                cut.append(fetched.uid)
            count += 1
            if progress is not None and count == every:
                progress(count)
                count = 0

    read(HEADER_ITEMS if headers_only else ITEMS, uids)
    if long_header:
        read(SPLIT_ITEMS, list(long_header))
    if cut:
        try:
            _complete_parts(client, cut, messages)
        except imaplib.IMAP4.abort:
            raise  # the connection is gone: the pass fails, the next one reads these again
        except imaplib.IMAP4.error as exc:  # refused, not dropped: the connection is still usable
            for uid in cut:
                note = unreadable_line(folder, uid, b"", messages[uid], f"read from its first {BODY_BYTES} bytes", exc)
                notes.append(note)
    undated = [uid for uid, m in messages.items() if m.date == _EPOCH]
    if undated:
        found = parse_fetch(raw_uid_fetch(client._imap, undated, "(UID INTERNALDATE)"))
        for uid in undated:
            when = _internaldate(found[uid]) if uid in found else None
            if when is not None:
                messages[uid] = dataclasses.replace(messages[uid], date=when)
    if progress is not None and count:
        progress(count)
    return [messages[uid] for uid in sorted(messages)]


def _raw_header(fetched: Fetched) -> bytes:
    for section in ("", "HEADER.FIELDS"):
        if section in fetched.sections:
            return fetched.sections[section][:BODY_BYTES]
    return b""


_RAW_FIELD = re.compile(rb"^(from|subject):[ \t]*(.*(?:\r?\n[ \t].*)*)", re.I | re.M)


def unreadable_line(
    folder: str, uid: int, raw_header: bytes, message: MailMessage | None, what: str, exc: BaseException
) -> str:
    """The one line that names a message that could not be read: folder, UID, sender, subject
    (as made safe for a header: no control character reaches a log), and why."""
    from inbox_watch.headers import header_text

    if message is not None:
        sender, subject = message.from_addr, message.subject
    else:
        found = {m.group(1).lower(): m.group(2) for m in reversed(list(_RAW_FIELD.finditer(raw_header)))}
        sender = found.get(b"from", b"").decode("utf-8", "replace")
        subject = found.get(b"subject", b"").decode("utf-8", "replace")
    reason = header_text(f"{type(exc).__name__}: {exc}", limit=160)
    return (
        f"unreadable message {what}: folder {header_text(folder, 100)!r}, UID {uid}, "
        f"from {header_text(sender, 100) or '?'}, subject {header_text(subject, 100)!r} ({reason})"
    )


# -- the rest of long multipart messages ---------------------------------------------------------


# A message cut by the partial fetch may hold more of what the engine reads further on: the
# parts after the cut (a calendar, the text), or the rest of a calendar it is itself.
_MAY_CONTINUE = ("multipart/", "text/calendar", "application/ics")


def _whole_calendar(calendar: str) -> bool:
    """A calendar read to its end (a cut one is fetched again by its part number)."""
    return "END:VCALENDAR" in calendar.upper()


def _leaf_parts(body: Any, prefix: str = "") -> list[tuple[str, list[Any]]]:
    """[(part number, BODYSTRUCTURE of a leaf part)] in order; message/rfc822 is not entered.
    ``body`` is a structure as :func:`stream_bodystructures` gives it: a multipart's children
    are the lists it starts with."""
    if not isinstance(body, list):
        return []
    if body and isinstance(body[0], list):
        out: list[tuple[str, list[Any]]] = []
        for index, child in enumerate(_children(body), 1):
            out += _leaf_parts(child, f"{prefix}.{index}" if prefix else str(index))
        return out
    return [(prefix or "1", body)]


def _children(body: list[Any]) -> list[list[Any]]:
    children: list[list[Any]] = []
    for item in body:
        if not isinstance(item, list):
            break
        children.append(item)
    return children


def _field(leaf: list[Any], index: int) -> str:
    return _text(leaf[index]) if len(leaf) > index and isinstance(leaf[index], bytes) else ""


def _text(value: Any) -> str:
    if isinstance(value, bytes):
        return value.decode("ascii", "replace").lower()
    return str(value or "").lower()


def _param(body: list[Any], name: str) -> str:
    params = body[2] if len(body) > 2 and isinstance(body[2], list) else []
    for key, value in zip(params[::2], params[1::2], strict=False):
        if _text(key) == name:
            return _text(value)
    return ""


def _is_attachment(body: list[Any]) -> bool:
    return any(b"attachment" in repr(x).lower().encode() for x in body[7:10] if x)


def _decode(payload: bytes, encoding: str, charset: str) -> str:
    from inbox_watch.mime import decode_text

    try:
        if encoding == "base64":
            payload = binascii.a2b_base64(payload[: len(payload) // 4 * 4] if payload else b"")
        elif encoding == "quoted-printable":
            payload = quopri.decodestring(payload)
    except (binascii.Error, ValueError):
        return ""
    return decode_text(payload, charset)


def _complete_parts(client: Any, uids: list[int], messages: dict[int, MailMessage]) -> None:
    wanted: dict[int, dict[str, tuple[str, str, str, str]]] = {}
    for uid, body in stream_bodystructures(client._imap, uids):
        if uid not in messages:
            continue  # not one asked for here
        parts: dict[str, tuple[str, str, str, str]] = {}
        leaves = _leaf_parts(body)
        for number, leaf in leaves:
            ctype = f"{_field(leaf, 0)}/{_field(leaf, 1)}"
            if ctype in ("text/calendar", "application/ics") and not _whole_calendar(messages[uid].calendar):
                parts["calendar"] = (number, ctype, _field(leaf, 5), _param(leaf, "charset"))
                break
        if not messages[uid].text:
            for want in ("text/plain", "text/html"):
                for number, leaf in leaves:
                    ctype = f"{_field(leaf, 0)}/{_field(leaf, 1)}"
                    if ctype == want and not _is_attachment(leaf):
                        parts["text"] = (number, ctype, _field(leaf, 5), _param(leaf, "charset"))
                        break
                if "text" in parts:
                    break
        if parts:
            wanted[uid] = parts
    # One FETCH for every group of messages whose wanted parts have the same numbers.
    groups: dict[tuple[str, ...], list[int]] = {}
    for uid, parts in wanted.items():
        groups.setdefault(tuple(sorted({p[0] for p in parts.values()})), []).append(uid)
    limit = max(CALENDAR_LIMIT, TEXT_LIMIT * 4)
    for numbers, group in groups.items():
        sections = " ".join(f"BODY.PEEK[{number}]<0.{limit}>" for number in numbers)
        for fetched in stream_uid_fetch(client._imap, group, f"(UID {sections})"):
            if fetched.uid not in wanted:
                continue  # not one asked for here
            message = messages[fetched.uid]
            calendar, text = message.calendar, message.text
            for role, (number, ctype, encoding, charset) in wanted[fetched.uid].items():
                decoded = _decode(fetched.sections.get(number, b""), encoding, charset)
                if role == "calendar":
                    calendar = decoded[:CALENDAR_LIMIT]
                else:
                    text = (html_to_text(decoded) if ctype == "text/html" else decoded)[:TEXT_LIMIT]
            messages[fetched.uid] = dataclasses.replace(message, calendar=calendar, text=text)
