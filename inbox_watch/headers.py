"""Every header the product writes from text it received, built here and nowhere else.

Subjects, display names, recipients, In-Reply-To and References come from mail, and mail is
hostile input. Each value is made safe once, as text (:func:`header_text` and friends: every
control character, CR and LF included, becomes a space; the length is bounded), and written
once (:func:`render`): a value that holds ``=?`` or non-ASCII is carried inside RFC 2047
encoded words made here, so a reader decodes it exactly once and sees the same text. Encoded
words in received text are never decoded again: a subject whose decoded text is itself an
encoded word (carrying ``\\r\\nReply-To: ...``) stays that literal text, on one line.

:class:`inbox_watch.models.OutgoingMessage` applies the text rules when it is made, so the
Graph JSON fields (Outlook) are as clean as the MIME headers (IMAP/SMTP, Gmail).
"""

from __future__ import annotations

import email.header
import email.utils
import re
import unicodedata
from collections.abc import Iterable
from typing import Any

from inbox_watch.errors import ActionRefused

SUBJECT_LIMIT = 250
NAME_LIMIT = 100
ADDRESS_LIMIT = 254  # RFC 5321's longest path
MESSAGE_ID_LIMIT = 250
REFERENCES_KEPT = 20  # the newest ids of a long References chain (RFC 5322 allows trimming)

# Controls (C0, DEL, C1), line and paragraph separators, and the bidirectional overrides
# that can make a subject read backwards: none belongs in a header.
_BIDI = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
_UNSAFE = re.compile(f"[\\x00-\\x1f\\x7f-\\x9f\\u2028\\u2029{_BIDI}]")
_SPACES = re.compile(r"\s+")
_MESSAGE_ID = re.compile(r"<[!-;=?-~]+>")  # printable ASCII, no spaces, no < or > inside
_ADDRESS = re.compile(r"[^\s<>()\[\]\\,;:\"@]+@[^\s<>()\[\]\\,;:\"@]+")


def header_text(value: object, limit: int = SUBJECT_LIMIT) -> str:
    """``value`` as one line of text for a header: decoded (bytes as UTF-8), every control
    character and line break a space, runs of space one, at most ``limit`` characters.
    Encoded words are left as the text they are."""
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    text = value if isinstance(value, str) else ("" if value is None else str(value))
    if not text.isascii() or not text.isprintable():
        text = unicodedata.normalize("NFC", _UNSAFE.sub(" ", text))
    text = _SPACES.sub(" ", text).strip()
    if len(text) > limit:
        text = text[:limit].rstrip()
    return text


def message_id_text(value: object) -> str:
    """One ``<id>`` safe to write in Message-ID / In-Reply-To / References, or "" when
    ``value`` holds none (text around the first ``<...>`` is dropped)."""
    match = _MESSAGE_ID.search(header_text(value, limit=4 * MESSAGE_ID_LIMIT))
    if match is None or len(match.group()) > MESSAGE_ID_LIMIT:
        return ""
    return match.group()


def references_text(values: Iterable[object]) -> tuple[str, ...]:
    """The safe ids of a References chain, in order, each once, the newest ``REFERENCES_KEPT``."""
    ids = [message_id_text(v) for v in values]
    return tuple(dict.fromkeys(i for i in ids if i))[-REFERENCES_KEPT:]


def address_text(value: object) -> str:
    """An address as one bounded line with no spaces; :func:`plain_address` checks its form."""
    return header_text(value, limit=ADDRESS_LIMIT).replace(" ", "")


def is_plain_address(address: str) -> bool:
    """True for a bare ``local@domain`` with nothing that could start another address,
    a display name, a comment or a header (no spaces, quotes, brackets, commas ...)."""
    return len(address) <= ADDRESS_LIMIT and _ADDRESS.fullmatch(address) is not None


class UnsafeRecipient(ActionRefused):
    """A recipient that is not a plain address; nothing is written with it."""


def plain_address(value: object) -> str:
    """The address, checked; raises UnsafeRecipient for anything but ``local@domain``."""
    address = address_text(value)
    if not is_plain_address(address):
        raise UnsafeRecipient(f"{address[:80]!r} is not a plain email address; nothing was written to it")
    return address


def _encoded(name: str, text: str) -> str:
    """``text`` for header ``name``: plain (folded at spaces) when it is ASCII with no ``=?``,
    else RFC 2047 encoded words (UTF-8) that decode to exactly ``text``."""
    if text.isascii() and "=?" not in text:
        return email.header.Header(text, "us-ascii", header_name=name).encode(linesep="\r\n")
    return email.header.Header(text, "utf-8", header_name=name).encode(linesep="\r\n")


def _mailbox(name: str, address: str) -> str:
    address = plain_address(address)
    name = header_text(name, limit=NAME_LIMIT)
    if not name:
        return address
    if name.isascii() and "=?" not in name:
        return email.utils.formataddr((name, address))  # quoted only when it must be
    # One encoded word (the name is short): readers put a space where a phrase was folded.
    encoded = email.header.Header(name, "utf-8").encode(maxlinelen=0)
    return f"{encoded} <{address}>"


def render(
    *,
    from_name: str,
    from_addr: str,
    to: Iterable[str],
    cc: Iterable[str],
    subject: str,
    date: str,
    message_id: str,
    in_reply_to: str,
    references: Iterable[str],
) -> bytes:
    """The header block (CRLF line ends, no blank line) of a message the product writes.
    Raises UnsafeRecipient when an address is not a plain one."""
    recipients = [plain_address(a) for a in to]
    copies = [plain_address(a) for a in cc]
    if not recipients:
        raise UnsafeRecipient("no recipient: nothing was written")
    lines = [
        ("From", _mailbox(from_name, from_addr)),
        ("To", ",\r\n ".join(recipients)),
    ]
    if copies:
        lines.append(("Cc", ",\r\n ".join(copies)))
    lines += [
        ("Subject", _encoded("Subject", header_text(subject))),
        ("Date", header_text(date)),
        ("Message-ID", message_id_text(message_id)),
    ]
    reply = message_id_text(in_reply_to)
    if reply:
        lines.append(("In-Reply-To", reply))
    chain = references_text(references)
    if chain:
        lines.append(("References", "\r\n ".join(chain)))
    # ASCII but for a non-ASCII address, which goes as UTF-8 (RFC 6532, sent with SMTPUTF8).
    return "".join(f"{name}: {value}\r\n" for name, value in lines).encode("utf-8")


def outgoing_fields(
    *,
    from_addr: str,
    to: Iterable[str],
    cc: Iterable[str],
    subject: str,
    from_name: str,
    in_reply_to: str,
    references: Iterable[str],
) -> dict[str, Any]:
    """The text fields of an outgoing message, made safe (see the module docstring); the
    addresses keep their form here and are checked when written."""
    return {
        "from_addr": address_text(from_addr),
        "to": tuple(address_text(a) for a in to),
        "cc": tuple(address_text(a) for a in cc),
        "subject": header_text(subject),
        "from_name": header_text(from_name, limit=NAME_LIMIT),
        "in_reply_to": message_id_text(in_reply_to),
        "references": references_text(references),
    }
