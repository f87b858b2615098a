"""Bulk reads from the selected folder: UID sets, a raw ``UID FETCH`` and its light parser.

imapclient's ``fetch`` parses every response token into Python objects (about 1.5 s for 20,000
messages' headers) and, in 4.x, cannot take "1:*". The sync path instead sends ``UID FETCH`` through
imapclient's underlying imaplib connection with a compact UID set, and reads the literals
straight out of imaplib's response list: a handful of regular expressions per message.
Only ``BODY.PEEK`` sections are ever requested, so reading never sets ``\\Seen``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

_START = re.compile(rb"^\d+ \(")
_UID = re.compile(rb"\bUID (\d+)")
_SECTION = re.compile(rb"BODY\[([^\] ]*)[^\]]*\](?:<\d+>)? \{\d+\}$")
_INTERNALDATE = re.compile(rb'INTERNALDATE "([^"]+)"')


def uid_set(uids: Iterable[int]) -> str:
    """``[1, 2, 3, 7, 9, 10]`` -> ``"1:3,7,9:10"`` (short commands, no 64k line limit trouble)."""
    parts: list[str] = []
    start = prev = -2
    for uid in sorted(uids):
        if uid == prev + 1:
            prev = uid
            continue
        if start >= 0:
            parts.append(str(start) if start == prev else f"{start}:{prev}")
        start = prev = uid
    if start >= 0:
        parts.append(str(start) if start == prev else f"{start}:{prev}")
    return ",".join(parts)


def chunks(items: Sequence[int], size: int) -> Iterator[Sequence[int]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


class Fetched:
    """One message's FETCH response: its UID, the literal of each BODY section, and the
    response text outside the literals (FLAGS, INTERNALDATE ...)."""

    __slots__ = ("uid", "sections", "text")

    def __init__(self) -> None:
        self.uid = 0
        self.sections: dict[str, bytes] = {}
        self.text = b""

    def internaldate(self) -> str:
        match = _INTERNALDATE.search(self.text)
        return match.group(1).decode("ascii", "replace") if match else ""


def raw_uid_fetch(imap: Any, uids: Iterable[int], items: str, modifiers: str = "") -> list[Any]:
    """Send ``UID FETCH <set> <items> [modifiers]`` on an imaplib connection; return imaplib's
    untagged FETCH data. Raises imaplib errors (the caller translates them)."""
    args = ["FETCH", uid_set(uids), items]
    if modifiers:
        args.append(modifiers)
    tag = imap._command("UID", *args)
    typ, data = imap._command_complete("FETCH", tag)
    if typ != "OK":
        raise imap.error(f"FETCH failed: {data[0]!r}")
    typ, data = imap._untagged_response(typ, data, "FETCH")
    return [d for d in data if d is not None]


def parse_fetch(data: list[Any]) -> dict[int, Fetched]:
    """imaplib's FETCH data -> {uid: Fetched}. Unsolicited responses without a UID are dropped."""
    found: dict[int, Fetched] = {}
    current: Fetched | None = None
    for item in data:
        if isinstance(item, tuple):
            head, literal = item[0], item[1]
        else:
            head, literal = item, None
        if not isinstance(head, bytes):
            continue
        if _START.match(head):
            current = Fetched()
        if current is None:
            continue
        current.text += head
        if not current.uid:
            match = _UID.search(head)
            if match:
                current.uid = int(match.group(1))
                found[current.uid] = current
        if literal is not None:
            section = _SECTION.search(head)
            if section:
                current.sections[section.group(1).decode("ascii").upper()] = literal
    return found


_LITERAL = re.compile(rb"\{(\d+)\}\r\n$")
MAX_SET_CHARS = 8000  # UID set text per command: well under Dovecot's 64 KB line limit


def uid_groups(uids: Sequence[int], max_chars: int = MAX_SET_CHARS) -> list[str]:
    """UID set strings of at most ~``max_chars`` each, covering ``uids`` in order."""
    groups: list[str] = []
    current: list[int] = []
    length = 0
    for uid in sorted(uids):
        current.append(uid)
        length += len(str(uid)) + 1
        if length >= max_chars:
            groups.append(uid_set(current))
            current, length = [], 0
    if current:
        groups.append(uid_set(current))
    return groups


# The usual answer to a one-section FETCH: its UID, section name and literal size.
_COMMON = re.compile(rb"\* \d+ FETCH \(UID (\d+) BODY\[([^\] ]*)\](?:<\d+>)? \{(\d+)\}\r\n")


def _readers(imap: Any) -> tuple[Callable[[int], bytes], Callable[[int], bytes]]:
    """(readline, read) for the connection. When imaplib's own are the plain wrappers around
    the socket file's (they are for TCP and TLS connections), the file's methods are called
    directly: a function call less per line, on a path that reads tens of thousands of them.
    ``readline(limit)`` returns at most ``limit`` bytes, like imaplib's."""
    import imaplib

    file: Any = getattr(imap, "file", None)
    if (
        type(imap).readline is imaplib.IMAP4.readline
        and type(imap).read is imaplib.IMAP4.read
        and hasattr(file, "readline")
        and hasattr(file, "read")
    ):
        return file.readline, file.read
    return lambda limit: imap.readline(), imap.read


def stream_uid_fetch(imap: Any, uids: Sequence[int], items: str) -> Iterator[Fetched]:
    """``UID FETCH`` read straight off imaplib's connection, one Fetched per message as it
    arrives, so the caller's parsing overlaps the server's work.

    Every command (one per ~8,000 characters of UID set) is sent up front (pipelined); the
    responses are read in order. imaplib's response reader costs about as much per literal as
    the rest of the sync; this one reads each line and literal once and keeps only FETCH
    responses that carry a UID and a requested section (unsolicited EXISTS and flag updates,
    with or without a UID, are skipped). Raises
    ``imap.abort`` when the connection closes, ``imap.error`` when the server answers NO / BAD
    (after reading every pending response, so the connection stays usable) or sends a line
    longer than imaplib allows.
    """
    if not uids:
        return
    import imaplib

    pending: list[bytes] = []
    for group in uid_groups(uids):
        tag = imap._new_tag()
        imap.tagged_commands.pop(tag, None)  # the tagged response is read here, not by imaplib
        imap.send(tag + b" UID FETCH " + group.encode("ascii") + b" " + items.encode("ascii") + b"\r\n")
        pending.append(tag)
    readline, read = _readers(imap)
    longest: int = getattr(imaplib, "_MAXLINE", 1_000_000)  # imaplib's own cap on a line
    limit = longest + 1

    def next_line() -> bytes:
        line = readline(limit)
        if not line:
            raise imap.abort("the server closed the connection")
        if len(line) >= limit:
            raise imap.error(f"got more than {longest} bytes")
        return line

    failure = ""
    while pending:
        line = next_line()
        current = Fetched()
        text = [line]
        common = _COMMON.fullmatch(line)
        if common is not None:  # "* 12 FETCH (UID 34 BODY[]<0> {567}", the literal, ")"
            size = int(common.group(3))
            data = read(size)
            if len(data) != size:
                raise imap.abort("the server closed the connection")
            current.sections[common.group(2).decode("ascii").upper()] = data
            line = next_line()
            text.append(line)
            if line == b")\r\n":  # nearly always: nothing else in the response
                if not failure:
                    current.uid = int(common.group(1))
                    current.text = text[0] + line
                    yield current
                continue
        elif (tag := line.split(b" ", 1)[0]) in pending:  # a command done (in any order)
            status = line[len(tag) + 1 :].split(b" ", 1)[0].upper()
            if status != b"OK" and not failure:
                failure = line.decode("utf-8", "replace").strip()
            pending.remove(tag)
            continue
        elif not line.startswith(b"* ") or b"FETCH" not in line[:40]:
            while (literal := _LITERAL.search(line)) is not None:  # skip whatever it carries
                read(int(literal.group(1)))
                line = next_line()
            continue
        while (literal := _LITERAL.search(line)) is not None:
            data = read(int(literal.group(1)))
            section = _SECTION.search(line, 0, len(line) - 2)
            if section:
                current.sections[section.group(1).decode("ascii").upper()] = data
            line = next_line()
            text.append(line)
        current.text = b"".join(text)
        match = _UID.search(current.text)
        # Only answers that carry a requested section: another client's flag change comes as
        # "* 3 FETCH (UID 12 FLAGS (\\Seen))" (with the UID in a UID command), no message.
        if match and current.sections and not failure:
            current.uid = int(match.group(1))
            yield current
    if failure:
        raise imap.error(f"FETCH failed: {failure}")


# -- BODYSTRUCTURE, read with a bounded parse ----------------------------------------------------

FIELD_CAP = 1024
"""Bytes kept of any one string in a BODYSTRUCTURE answer. A part's type, encoding and charset
are short; a longer field (a 1 MB attachment name folded over 76-character lines passes any
MTA, and imaplib refuses any line over its ``_MAXLINE`` of 1,000,000 bytes) is read past and
cut here: it costs one pass over its bytes and ``FIELD_CAP`` of memory."""
_CHUNK = 65536
_MAX_DEPTH = 64  # nesting kept; anything deeper is read past (no MIME tree is that deep)
_TOKEN = re.compile(rb'[ \t]*(?:(\()|(\))|(")|\{(\d+)\}\r\n|(\r\n)|([^ \t()"\r\n{]+|\{))')
_QUOTED = re.compile(rb'[^"\\]*')


class BodyField(bytes):
    """A BODYSTRUCTURE string; ``length`` is its size on the wire (larger when it was cut)."""

    length: int = 0


class _BoundedReader:
    """Tokens of IMAP responses off ``readline`` / ``read``, with no line limit and every
    string or literal cut to ``cap`` bytes."""

    def __init__(self, imap: Any, cap: int) -> None:
        self.imap = imap
        self.readline, self.read = _readers(imap)
        self.cap = cap
        self.buf = b""
        self.pos = 0

    def _more(self) -> None:
        chunk = self.readline(_CHUNK)
        if not chunk:
            raise self.imap.abort("the server closed the connection")
        self.buf = self.buf[self.pos :] + chunk
        self.pos = 0

    def _quoted(self) -> BodyField:
        kept = bytearray()
        length = 0
        while True:
            match = _QUOTED.match(self.buf, self.pos)
            assert match is not None  # the pattern matches the empty string
            text = match.group()
            length += len(text)
            if len(kept) < self.cap:
                kept += text[: self.cap - len(kept)]
            self.pos = match.end()
            if self.pos >= len(self.buf):
                self._more()
                continue
            if self.buf[self.pos] == 0x22:  # the closing quote
                self.pos += 1
                break
            if self.pos + 1 >= len(self.buf):  # a backslash at the end of what was read
                self._more()
            escaped = self.buf[self.pos + 1 : self.pos + 2]
            self.pos += 2
            length += 1
            if len(kept) < self.cap:
                kept += escaped
        field = BodyField(kept)
        field.length = length
        return field

    def _literal(self, size: int) -> BodyField:
        kept = bytearray()
        rest = self.buf[self.pos :]
        self.buf, self.pos = b"", 0
        taken = rest[:size]
        kept += taken[: self.cap]
        self.buf = rest[size:]
        left = size - len(taken)
        while left > 0:
            data = self.read(min(left, _CHUNK))
            if not data:
                raise self.imap.abort("the server closed the connection")
            left -= len(data)
            if len(kept) < self.cap:
                kept += data[: self.cap - len(kept)]
        field = BodyField(kept)
        field.length = size
        return field

    def response(self) -> list[Any]:
        """One whole response (to its final CRLF) as nested lists of fields; NIL is None."""
        top: list[Any] = []
        stack: list[list[Any]] = [top]
        deep = 0  # levels read past, beyond _MAX_DEPTH
        while True:
            if self.pos >= len(self.buf):
                self._more()
                continue
            match = _TOKEN.match(self.buf, self.pos)
            if match is None or match.end() == len(self.buf):
                if not self.buf.endswith(b"\n"):  # a token may go on in the next chunk
                    self._more()
                    continue
                if match is None:  # a stray byte (a bare CR or LF): read past it
                    self.pos += 1
                    continue
            self.pos = match.end()
            opened, closed, quote, literal, end, atom = match.groups()
            if end is not None:
                if len(stack) == 1 and not deep:
                    return top
                continue  # a line break inside a list: not IMAP, read past it
            if opened is not None:
                if len(stack) > _MAX_DEPTH or deep:
                    deep += 1
                    continue
                child: list[Any] = []
                stack[-1].append(child)
                stack.append(child)
                continue
            if closed is not None:
                if deep:
                    deep -= 1
                elif len(stack) > 1:
                    stack.pop()
                continue
            value: Any
            if quote is not None:
                value = self._quoted()
            elif literal is not None:
                value = self._literal(int(literal))
            else:
                value = None if atom.upper() == b"NIL" else BodyField(atom[: self.cap])
            if not deep:
                stack[-1].append(value)


def stream_bodystructures(imap: Any, uids: Sequence[int], cap: int = FIELD_CAP) -> Iterator[tuple[int, list[Any]]]:
    """``UID FETCH <set> (UID BODYSTRUCTURE)``, read with a bounded parse: (uid, structure as
    nested lists, every string cut to ``cap`` bytes) per message, whatever the length of its
    fields. Raises ``imap.abort`` when the connection closes, ``imap.error`` when the server
    answers NO / BAD (after reading every pending response)."""
    if not uids:
        return
    pending: list[bytes] = []
    for group in uid_groups(uids):
        tag = imap._new_tag()
        imap.tagged_commands.pop(tag, None)
        imap.send(tag + b" UID FETCH " + group.encode("ascii") + b" (UID BODYSTRUCTURE)\r\n")
        pending.append(tag)
    reader = _BoundedReader(imap, cap)
    failure = ""
    while pending:
        tokens = reader.response()
        head = bytes(tokens[0]) if tokens and isinstance(tokens[0], bytes) else b""
        if head in pending:
            status = bytes(tokens[1]).upper() if len(tokens) > 1 and isinstance(tokens[1], bytes) else b""
            if status != b"OK" and not failure:
                words = [bytes(t).decode("utf-8", "replace") for t in tokens if isinstance(t, bytes)]
                failure = " ".join(words)[:300]
            pending.remove(head)
            continue
        if len(tokens) < 4 or head != b"*" or tokens[2] is None or bytes(tokens[2]).upper() != b"FETCH":
            continue  # EXISTS, EXPUNGE, a flag change ...
        items = tokens[3] if isinstance(tokens[3], list) else []
        found: dict[bytes, Any] = {}
        for key, value in zip(items[::2], items[1::2], strict=False):
            if isinstance(key, bytes):
                found[bytes(key).upper()] = value
        uid = found.get(b"UID")
        structure = found.get(b"BODYSTRUCTURE")
        if isinstance(uid, bytes) and uid.isdigit() and isinstance(structure, list) and not failure:
            yield int(uid), structure
    if failure:
        raise imap.error(f"FETCH failed: {failure}")
