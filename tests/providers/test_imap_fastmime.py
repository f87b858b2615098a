"""The IMAP fast parsing path must give exactly what inbox_watch.mime.parse_bytes gives.

Each message is cut the way the IMAP provider fetches it: the header fields it asks for
(``BODY[HEADER.FIELDS (...)]``, CRLF line ends as a server sends them) and the body, whole or
cut at ``BODY_BYTES`` like ``BODY[TEXT]<0.N>``. Where the fast path answers, its MailMessage
must equal the full parser's, field for field.
"""

from __future__ import annotations

import random
import re
from datetime import UTC, datetime

import pytest

from inbox_watch.mime import parse_bytes
from inbox_watch.models import MailMessage
from providers.imap.fastmime import fast_parse
from providers.imap.messages import BODY_BYTES, FIELDS
from tests.conftest import corpus_files, need_corpus


def as_fetched(raw: bytes, *, all_fields: bool = False) -> tuple[bytes, bytes]:
    """(header block, body) as the provider gets them from a server: the whole header
    (``BODY[]<0.N>``) or only the fields it names (``BODY[HEADER.FIELDS (...)]``)."""
    raw = raw.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
    head, sep, body = raw.partition(b"\r\n\r\n")
    if not sep:
        head, body = raw, b""
    if all_fields:
        return head + b"\r\n\r\n", body
    kept: list[bytes] = []
    keep = False
    for line in head.split(b"\r\n"):
        if line[:1] in (b" ", b"\t"):
            if keep:
                kept.append(line)
            continue
        name = line.split(b":", 1)[0].strip().lower().decode("latin-1")
        keep = b":" in line and name in FIELDS
        if keep:
            kept.append(line)
    header = b"".join(line + b"\r\n" for line in kept) + b"\r\n"
    return header, body


def corpus() -> list[bytes]:
    from bench.imap import _message

    rng, now = random.Random(3), datetime.now(UTC)
    made = [_message(i, rng, now) for i in range(40)]
    real = [p.read_bytes() for p in corpus_files()]
    return real + made


def test_fast_path_agrees_with_the_full_parser() -> None:
    need_corpus()  # real mail is what this comparison is about; the made-up messages alone are too tame
    messages = corpus()
    fallback = datetime(2020, 1, 1, tzinfo=UTC)
    fast_count = total = 0
    for raw, all_fields in [(m, a) for m in messages for a in (True, False)]:
        header, body = as_fetched(raw, all_fields=all_fields)
        for cut in (body, body[:BODY_BYTES], body[:300]):
            total += 1
            kwargs = dict(account="a", id="INBOX/1/1", folder="INBOX", tags=("T",))
            fast = fast_parse(header, cut, fallback_date=lambda: fallback, **kwargs)
            if fast is None:
                continue
            fast_count += 1
            full = parse_bytes(header + cut, fallback_date=fallback, **kwargs)
            assert fast == full, raw[:300]
    assert fast_count >= total // 3  # the fast path is actually used on real mail


def test_quick_address_reading_agrees_with_the_email_package() -> None:
    import email.utils

    from providers.imap.fastmime import address_pairs

    names = ["", "Jane Doe", "O'Brien", "Anne-Marie Li 2", "jane", '"Doe, Jane"', "J. Doe", "Zoë"]
    addrs = ["jane@example.com", "j.doe+x@mail.example.co.uk", "a_b%c=d@x", "x@localhost", "a..b@x"]
    rng = random.Random(5)
    for _ in range(3000):
        pieces = []
        for _ in range(rng.randrange(1, 4)):
            name, addr = rng.choice(names), rng.choice(addrs)
            form = rng.randrange(3)
            pieces.append(f"{name} <{addr}>" if form == 0 else f"<{addr}>" if form == 1 else addr)
        value = rng.choice([", ", ","]).join(pieces)
        assert address_pairs(value) == email.utils.getaddresses([value]), value
        if len(pieces) == 1:
            assert address_pairs(value)[0] == email.utils.parseaddr(value), value


def test_quick_dates_agree_with_the_email_package() -> None:
    from inbox_watch.mime import parse_date
    from providers.imap.fastmime import fast_date

    rng = random.Random(9)
    days = ["", "Mon, ", "Sun, "]
    months = "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split()
    zones = ["+0000", "-0000", "+0130", "-0800", "+1400", "-2359", "+0099", "+2400"]
    for _ in range(3000):
        value = (
            f"{rng.choice(days)}{rng.randrange(0, 33)} {rng.choice(months)} "
            f"{rng.randrange(1969, 2040)} {rng.randrange(0, 25):02d}:{rng.randrange(0, 61):02d}:"
            f"{rng.randrange(0, 62):02d} {rng.choice(zones)}"
        )
        assert fast_date(value) == parse_date(value), value


MUTATIONS: list[tuple[bytes | re.Pattern[bytes], bytes]] = [
    (b"\r\nSubject:", b"\nSubject:"),  # a bare LF
    (b"\r\nSubject:", b"\rSubject:"),  # a bare CR
    (b"\r\nSubject:", b"\r\nsubject :"),  # a space before the colon
    (b"\r\nSubject:", b"\r\nno colon here\r\nSubject:"),  # a line that is not a field
    (b"\r\nSubject:", b"\r\nSUBJECT:\tTabbed\x0b value\r\n\tfolded \r\nSubject:"),  # case, tab, VT
    (b"\r\nDate:", b"\r\nDate:  Mon,  2 Nov 2026  \r\n  10:00:00 +0000\r\nX-Date:"),  # spaces, a fold
    (b"\r\nTo:", b"\r\nTo:\r\n jane@example.com,\r\n\tomar@example.com\r\nX-To:"),  # folded list
    (b"Content-Transfer-Encoding: ", b"Content-Transfer-Encoding:\r\n "),  # a folded encoding
    (b"Content-Transfer-Encoding: 7bit", b"Content-Transfer-Encoding: 7bit "),  # trailing space
    (b'boundary="', b'boundary="x'),  # the boundary no longer matches the parts
    (b"\r\n--", b"\r\n --"),  # a delimiter moved off the start of its line
    (b"--\r\n", b"-- trailing\r\n"),  # text after the close delimiter
    # "charset=" inside another parameter's quoted value
    (b"charset=", b'name="x; charset=latin-1"; charset='),
    # a comment after the charset: email keeps it in the value, so the name is unknown (utf-8)
    (b"charset=", b"charset=latin-1 (western); was="),
    # a form feed after a delimiter: email takes only spaces and tabs there, so no delimiter
    (re.compile(rb"(\r\n--[!-~]+)(\r\n)"), b"\\1\x0c\\2"),
]


def test_fast_path_agrees_on_damaged_headers_and_structure() -> None:
    """Mutations that trip a simple parser: the fast path must give the full parser's answer or
    hand the message over (None), never a different answer."""
    need_corpus()  # the mutations' reach below is counted over real mail
    rng = random.Random(11)
    messages = corpus()
    kwargs = dict(account="a", id="INBOX/1/1", folder="INBOX", tags=())
    fallback = datetime(2020, 1, 1, tzinfo=UTC)
    tried = answered = 0
    for raw in messages:
        header, body = as_fetched(raw, all_fields=True)
        whole = header + body
        for old, new in rng.sample(MUTATIONS, 6):
            if isinstance(old, re.Pattern):
                damaged = old.sub(new, whole, count=1)
            else:
                damaged = whole.replace(old, new, 1)
            if damaged == whole:
                continue
            head, sep, rest = damaged.partition(b"\r\n\r\n")
            tried += 1
            fast = fast_parse(head + sep, rest, fallback_date=lambda: fallback, **kwargs)
            if fast is None:
                continue
            answered += 1
            assert fast == parse_bytes(damaged, fallback_date=fallback, **kwargs), (old, new, raw[:200])
    assert tried >= 200 and answered >= 20  # the mutations did reach messages the fast path reads


def _both(raw: bytes) -> tuple[MailMessage | None, MailMessage]:
    """(the fast path's answer or None, the full parser's) for ``raw`` as a server sends it."""
    header, body = as_fetched(raw, all_fields=True)
    kwargs = dict(account="a", id="INBOX/1/1", folder="INBOX", tags=())
    fallback = datetime(2020, 1, 1, tzinfo=UTC)
    fast = fast_parse(header, body, fallback_date=lambda: fallback, **kwargs)
    return fast, parse_bytes(header + body, fallback_date=fallback, **kwargs)


def _plain(content_type: str, body: bytes, subject: str = "Slots") -> bytes:
    return f"From: jane@example.com\r\nSubject: {subject}\r\nContent-Type: {content_type}\r\n\r\n".encode() + body


@pytest.mark.parametrize(
    "charset",
    ["idna", "punycode", "unicode_escape", "raw_unicode_escape", "undefined", "base64", "utf-8\x00"],
    ids=repr,
)
def test_a_body_in_a_codec_that_is_not_a_charset_reads_the_same_on_the_fast_path(charset: str) -> None:
    fast, full = _both(_plain(f"text/plain; charset={charset}", b"caf\xc3\xa9 \\ud800"))
    assert full.text == "café \\ud800"  # read as UTF-8, and the escape left as written
    assert fast == full  # the fast path reads it too, the same way


@pytest.mark.parametrize(
    ("charset", "body", "text"),
    [("utf-7", b"+2AA- x", "\ufffd x"), ("iso-8859-1", b"caf\xe9", "café"), ("UTF-16LE", b"\x00\xd8T\x00", "\ufffdT")],
)
def test_real_charsets_read_the_same_on_the_fast_path(charset: str, body: bytes, text: str) -> None:
    fast, full = _both(_plain(f"text/plain; charset={charset}", body))
    assert full.text == text
    assert fast == full


def test_an_encoded_word_in_an_escape_charset_reads_the_same_either_way() -> None:
    fast, full = _both(_plain("text/plain", b"Hello", subject="=?unicode_escape?Q?=5Cud800_slots?="))
    assert full.subject == "\\ud800 slots"
    assert fast is None or fast == full


@pytest.mark.parametrize(
    ("content_type", "body", "text"),
    [
        # "charset=" inside another parameter's quoted value is not the charset
        ('text/plain; name="x; charset=latin-1"; charset=utf-8', b"caf\xc3\xa9", "café"),
        # a comment after the charset: email cannot look the name up, so the text is UTF-8
        ("text/plain; charset=latin-1 (western)", b"caf\xe9", "caf\ufffd"),
        # a form feed after a delimiter: email does not take the line as a delimiter
        (
            "multipart/mixed; boundary=BB",
            b"--BB\r\nContent-Type: text/plain\r\n\r\nhello\r\n--BB\x0c\r\nContent-Type: text/plain\r\n\r\n"
            b"second\r\n--BB--\r\n",
            "hello\r\n--BB\x0c\r\nContent-Type: text/plain\r\n\r\nsecond",
        ),
    ],
    ids=["charset in a quoted name", "charset with a comment", "form feed after a delimiter"],
)
def test_parameters_and_delimiters_the_fast_path_used_to_misread(content_type: str, body: bytes, text: str) -> None:
    fast, full = _both(_plain(content_type, body))
    assert full.text == text
    assert fast is None or fast == full
