"""A fast path for the common shapes of mail, giving exactly what ``inbox_watch.mime`` gives.

``email``'s parser costs ~250 microseconds a message: most of a 20,000-message first sync. For
plain ASCII headers and text, HTML, calendar and simple multipart bodies, :func:`fast_parse`
reads the same fields with a few string operations; for anything else (encoded words, 8-bit
headers, RFC 2231 parameters, delivery reports, attached messages, broken structure) it returns
None and the caller uses :func:`inbox_watch.mime.parse_bytes`. ``tests/providers/test_imap.py``
checks the two agree on the shared real-mail corpus, whole and cut short.
"""

from __future__ import annotations

import binascii
import email.utils
import quopri
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone

from inbox_watch.mime import (
    CALENDAR_LIMIT,
    FETCH_HEADERS,
    KEPT_HEADERS,
    TEXT_LIMIT,
    calendar_text,
    decode_text,
    html_to_text,
    message_ids,
    parse_date,
)
from inbox_watch.models import MailMessage, new_mail, normalise_message_id

_SIMPLE = {"text/plain", "text/html", "text/calendar", "application/ics"}
_SLOW_TYPES = ("message/", "text/rfc822-headers", "multipart/digest", "multipart/report")
_CHARSET = re.compile(r';\s*charset\s*=\s*(?:"([^"]*)"|([^\s;]+))', re.I)
_BOUNDARY = re.compile(r';\s*boundary\s*=\s*(?:"([^"]*)"|([^\s;]+))', re.I)
_EPOCH = datetime.fromtimestamp(0, UTC)


class Slow(Exception):
    """This message needs the full parser."""


# A well-formed header block, CRLF line ends (as IMAP servers send): compat32's field names
# are printable ASCII but ":" and space; folded lines start with a space or tab. Anything else
# (a bare CR or LF, a line that is neither a field nor a fold) is left to the full parser.
_BAD_LINE = re.compile(r"\n(?![ \t]|[!-9;-~]+:|\Z)")
_FIRST_LINE = re.compile(r"[!-9;-~]+:")
_WANTED = frozenset((*FETCH_HEADERS, "content-transfer-encoding", "content-disposition"))
_FOLD = (" ", "\t")


def _headers(block: bytes) -> dict[str, str]:
    """Header block -> {lower-case name: whitespace-collapsed value} for the fields read here;
    the first occurrence wins, as with compat32's ``Message.get``."""
    if not block.isascii() or b"=?" in block:
        raise Slow
    text = block.decode("ascii")
    end = text.find("\r\n\r\n")
    text = text[: end + 2] if end >= 0 else text
    lines = text.count("\n")
    if (
        text
        and (not text.endswith("\r\n") or _FIRST_LINE.match(text) is None)
        or lines != text.count("\r")
        or lines != text.count("\r\n")
        or _BAD_LINE.search(text) is not None
    ):
        raise Slow
    out: dict[str, str] = {}
    name = ""  # the field whose folded lines follow, when it is one read here
    for line in text.split("\r\n"):
        if line[:1] in _FOLD:
            if name:
                if name == "content-transfer-encoding":
                    raise Slow  # compat32 compares the raw value: only a clean one-line one is safe
                out[name] += " " + line
            continue
        key, _, value = line.partition(":")
        key = key.lower()
        if key in _WANTED and key not in out:
            name = key
            out[key] = value
            if key == "content-transfer-encoding" and value.lstrip(" \t") != value.strip():
                raise Slow
        else:
            name = ""
    for key, value in out.items():
        if value[:1] == " " and value[-1:] != " " and "  " not in value and value.isprintable():
            out[key] = value[1:]  # the usual "Name: value": nothing to collapse
        else:
            out[key] = " ".join(value.split())
    return out


def _ctype(headers: dict[str, str], default: str = "text/plain") -> str:
    value = headers.get("content-type")
    if value is None:
        return default
    ctype = value.split(";", 1)[0].strip().lower()
    if "*" in value or ctype.count("/") != 1:
        raise Slow  # RFC 2231 parameters or an invalid type: let the full parser decide
    return ctype


def _param(pattern: re.Pattern[str], headers: dict[str, str]) -> str:
    """A Content-Type parameter as ``email`` reads it ("" when absent), or Slow when unsure."""
    value = headers.get("content-type", "")
    match = pattern.search(value)
    if not match:
        return ""  # absent: any such parameter, quoted or not, would have matched
    found = match.group(1) if match.group(1) is not None else match.group(2)
    quotes = value.count('"')
    if (
        # The match may sit inside another parameter's quoted value.
        (quotes and (quotes != 2 or match.group(1) is None))
        # A comment, <angle brackets> or a backslash: email keeps or strips them its own way.
        or "(" in value
        or "<" in value
        or "\\" in value
        # Text after the value, before the next parameter: email keeps it as part of the value.
        or value[match.end() :].split(";", 1)[0].strip()
        or found != "".join(found.split())
    ):
        raise Slow
    return found


def _decode(body: bytes, headers: dict[str, str]) -> str:
    cte = headers.get("content-transfer-encoding", "").lower()
    if cte == "quoted-printable":
        body = quopri.decodestring(body)
    elif cte == "base64":
        if body.strip() and not body.strip().isascii():
            raise Slow
        try:
            body = binascii.a2b_base64(b"".join(body.splitlines()), strict_mode=True)
        except (binascii.Error, ValueError):
            raise Slow from None
    elif cte not in ("", "7bit", "8bit", "binary"):
        raise Slow
    charset = _param(_CHARSET, headers)
    return decode_text(body, charset if charset.isascii() else None)


def _split_multipart(body: bytes, boundary: str) -> list[bytes]:
    """The parts between ``--boundary`` lines; raises Slow when the structure is unusual."""
    if not boundary or not boundary.isascii() or boundary != "".join(boundary.split()):
        raise Slow
    marker = b"--" + boundary.encode("ascii")
    if b"\r" + marker in body:
        raise Slow  # a bare CR ends a line for email: a delimiter may follow one
    parts: list[bytes] = []
    start = -1  # where the current part begins, after a delimiter line
    at = body.find(marker)
    while at >= 0:
        if at and body[at - 1] != 10:  # not at the start of a line
            at = body.find(marker, at + 1)
            continue
        line_end = body.find(b"\n", at)
        if line_end < 0:
            line_end = len(body)
        rest = body[at + len(marker) : line_end]
        rest = rest[:-1] if rest.endswith(b"\r") else rest
        # The line break before a delimiter belongs to the delimiter.
        part = body[start : max(at - 1, start)] if start >= 0 else b""
        # email takes only spaces and tabs after a delimiter as blank (not a form feed, a CR ...).
        if rest[:2] == b"--" and not rest[2:].strip(b" \t"):
            if start < 0:
                raise Slow
            parts.append(part[:-1] if part.endswith(b"\r") else part)
            return parts
        if rest.strip(b" \t"):
            raise Slow  # a longer boundary that starts the same way, or other text after it
        if start >= 0:
            parts.append(part[:-1] if part.endswith(b"\r") else part)
        start = line_end + 1
        at = body.find(marker, start)
    raise Slow  # never closed (cut off by a partial fetch) or broken: the full parser decides


def _split_part(part: bytes) -> tuple[dict[str, str], bytes]:
    if part.startswith(b"\r\n"):
        return {}, part[2:]
    head, found, body = part.partition(b"\r\n\r\n")
    if not found:
        raise Slow
    return _headers(head + b"\r\n"), body


class _Texts:
    __slots__ = ("plain", "html", "calendar")

    def __init__(self) -> None:
        self.plain = ""
        self.html = ""
        self.calendar = ""


def _walk(headers: dict[str, str], body: bytes, found: _Texts, depth: int = 0) -> None:
    ctype = _ctype(headers)
    if ctype.startswith(_SLOW_TYPES) or depth > 4:
        raise Slow
    if ctype.startswith("multipart/"):
        for part in _split_multipart(body, _param(_BOUNDARY, headers)):
            part_headers, part_body = _split_part(part)
            _walk(part_headers, part_body, found, depth + 1)
        return
    if ctype not in _SIMPLE:
        return  # an attachment or image: nothing the engine reads
    attachment = "attachment" in headers.get("content-disposition", "").lower()
    if ctype == "text/plain" and not found.plain and not attachment:
        found.plain = _decode(body, headers)
    elif ctype == "text/html" and not found.html and not attachment:
        found.html = _decode(body, headers)
    elif ctype in ("text/calendar", "application/ics") and not found.calendar:
        found.calendar = calendar_text(_decode(body, headers), headers.get("content-type", ""))[:CALENDAR_LIMIT]


_ATOM = r"[A-Za-z0-9_%+=-]+"
_ADDR = rf"{_ATOM}(?:\.{_ATOM})*@{_ATOM}(?:\.{_ATOM})*"
_NAME = r"[A-Za-z0-9'-]+(?: [A-Za-z0-9'-]+)*"
_ONE_ADDRESS = re.compile(rf"(?:({_NAME}) )?<({_ADDR})>|({_ADDR})")


def address_pairs(value: str) -> list[tuple[str, str]]:
    """``email.utils.getaddresses([value])``, with a quick answer for plain ``Name <a@b>`` lists.

    The quick answer covers only names of letters, digits, spaces, ' and -, and dot-atom
    addresses, where the result is certain; everything else goes to the email package.
    """
    pairs = _quick_pairs(value)
    return pairs if pairs is not None else email.utils.getaddresses([value])


def _quick_pairs(value: str) -> list[tuple[str, str]] | None:
    pairs: list[tuple[str, str]] = []
    for piece in value.split(","):
        match = _ONE_ADDRESS.fullmatch(piece.strip())
        if match is None:
            return None
        pairs.append((match.group(1) or "", match.group(2) or match.group(3)))
    return pairs


_cache: dict[str, tuple[str, ...]] = {}
_from_cache: dict[str, tuple[str, str]] = {}


def _addresses(value: str) -> tuple[str, ...]:
    """inbox_watch.mime's To/Cc reading (lower-case, with @, first occurrence kept), memoised:
    the same recipients come back on message after message."""
    if not value:
        return ()
    cached = _cache.get(value)
    if cached is None:
        found = []
        for _name, addr in address_pairs(value):
            addr = addr.strip().lower()
            if "@" in addr:
                found.append(addr)
        cached = tuple(dict.fromkeys(found))
        if len(_cache) > 50_000:
            _cache.clear()
        _cache[value] = cached
    return cached


def _sender(value: str) -> tuple[str, str]:
    """(name, lower-case address) as inbox_watch.mime reads From, memoised."""
    cached = _from_cache.get(value)
    if cached is None:
        pairs = _quick_pairs(value) if value else None
        name, addr = pairs[0] if pairs and len(pairs) == 1 else email.utils.parseaddr(value)
        cached = (name.strip(), addr.strip().lower())
        if len(_from_cache) > 50_000:
            _from_cache.clear()
        _from_cache[value] = cached
    return cached


_DATE = re.compile(
    r"(?:(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun), )?(\d{1,2}) "
    r"(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) (\d{4}) "
    r"(\d{2}):(\d{2}):(\d{2}) ([+-])(\d{2})(\d{2})"
)
_MONTHS = {m: i for i, m in enumerate("Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split(), 1)}
_ZONES: dict[str, timezone] = {}


def fast_date(value: str) -> datetime | None:
    """``inbox_watch.mime.parse_date`` with a quick path for the usual RFC 5322 form."""
    match = _DATE.fullmatch(value)
    if match is None:
        return parse_date(value)
    day, month, year, hour, minute, second, sign, zh, zm = match.groups()
    zone_key = sign + zh + zm
    zone = _ZONES.get(zone_key)
    if zone is None:
        seconds = int(zh) * 3600 + int(zm) * 60
        try:
            zone = timezone(timedelta(seconds=-seconds if sign == "-" else seconds))
        except ValueError:
            return parse_date(value)
        _ZONES[zone_key] = zone
    try:
        when = datetime(int(year), _MONTHS[month], int(day), int(hour), int(minute), int(second), tzinfo=zone)
    except ValueError:
        return parse_date(value)
    return when.astimezone(UTC)


def fast_parse(
    header: bytes,
    body: bytes,
    *,
    account: str,
    id: str,
    folder: str,
    tags: tuple[str, ...],
    fallback_date: Callable[[], datetime | None],
    headers_only: bool = False,
) -> MailMessage | None:
    """The MailMessage ``parse_bytes(header + body)`` would give, or None when unsure.

    ``fallback_date()`` is called only when the Date header is missing or unreadable.
    ``headers_only``: only the header was read (the first step of a two-step sync); the body
    is not looked at and the message is marked ``headers_only``.
    """
    try:
        headers = _headers(header)
        if "x-failed-recipients" in headers:
            return None
        texts = _Texts()
        if not headers_only:
            _walk(headers, body, texts)
    except (Slow, UnicodeError, ValueError):
        return None
    get = headers.get
    from_name, from_addr = _sender(get("from", ""))
    text = texts.plain or html_to_text(texts.html)
    return new_mail(  # every MailMessage field, in order
        account,
        id,
        normalise_message_id(get("message-id", "")),
        fast_date(get("date", "")) or fallback_date() or _EPOCH,
        from_addr,
        get("subject", ""),
        from_name,
        _addresses(get("to", "")),
        _addresses(get("cc", "")),
        (message_ids(get("in-reply-to", "")) or ("",))[0],
        message_ids(get("references", "")),
        "",  # thread_id: IMAP has none
        folder,
        tags,
        tuple([(name, headers[name]) for name in KEPT_HEADERS if name in headers]),
        text[:TEXT_LIMIT],
        texts.calendar,
        "",  # delivery_status: reports take the full parser
        "",  # original_message_id: likewise
        (),  # failed_recipients: likewise (X-Failed-Recipients sends a message there)
        False,  # is_draft
        headers_only,
    )
