"""Mail that names an odd charset: read without an exception, as text a person can read, in
strings that can always be stored (no unpaired surrogates)."""

from __future__ import annotations

import orjson
import pytest

from inbox_watch.mime import decode_text, parse_bytes
from inbox_watch.models import MailMessage

BODY = b"caf\xc3\xa9 \\u00e9 \\ud800"  # UTF-8 text that an escape codec would turn into a lone surrogate
AS_UTF8 = "café \\u00e9 \\ud800"


def mail(
    content_type: str, body: bytes, *, subject: str = "Interview slots", sender: str = "jane@example.com"
) -> bytes:
    return (
        f"From: {sender}\r\nTo: sam@agency.example\r\nSubject: {subject}\r\n"
        f"Message-ID: <odd@example.com>\r\nMIME-Version: 1.0\r\nContent-Type: {content_type}\r\n\r\n"
    ).encode() + body


def assert_storable(message: MailMessage) -> None:
    orjson.dumps(message.to_dict())  # raises on a string that is not valid Unicode


# Codecs Python knows that are not charsets (they read escapes or domain names, raise on plain
# bytes, or work on bytes only), and names that are no codec at all.
NOT_CHARSETS = [
    "idna",
    "punycode",
    "unicode_escape",
    "raw_unicode_escape",
    "undefined",
    "base64",
    "rot13",
    "utf-8\x00",
    "latin-1 (western)",
    "no-such-charset",
]


@pytest.mark.parametrize("charset", NOT_CHARSETS, ids=repr)
def test_a_body_in_a_charset_that_is_not_one_is_read_as_utf8(charset: str) -> None:
    message = parse_bytes(mail(f"text/plain; charset={charset}", BODY), id="m1")
    assert message.text == AS_UTF8
    assert message.subject == "Interview slots" and message.from_addr == "jane@example.com"
    assert_storable(message)


@pytest.mark.parametrize(
    "param", ["charset*=x\x00''utf-8", "charset*=idna''utf-8", "charset*=unicode_escape''x"], ids=repr
)
def test_an_rfc2231_charset_in_a_codec_that_is_not_a_charset_is_read_as_utf8(param: str) -> None:
    message = parse_bytes(mail(f"text/plain; {param}", BODY))
    assert message.text == AS_UTF8
    assert_storable(message)


@pytest.mark.parametrize(
    ("charset", "body", "text"),
    [
        ("iso-8859-1", b"caf\xe9", "café"),
        ("windows-1252", b"\x93Tuesday\x94", "“Tuesday”"),
        ("shift_jis", "面接".encode("shift_jis"), "面接"),
        ("utf-16", "Réunion".encode("utf-16"), "Réunion"),
        ("utf-7", b"+2AA- Tuesday", "\ufffd Tuesday"),  # UTF-7 can spell a lone surrogate
        ("utf-16-le", b"\x00\xd8T\x00", "\ufffdT"),  # so can UTF-16
        ("utf-8", b"caf\xe9", "caf\ufffd"),  # bytes that do not decode
    ],
)
def test_real_charsets_are_honoured(charset: str, body: bytes, text: str) -> None:
    message = parse_bytes(mail(f"text/plain; charset={charset}", body))
    assert message.text == text
    assert_storable(message)


@pytest.mark.parametrize(
    ("subject", "shown"),
    [
        ("=?unicode_escape?Q?caf=5Cu00e9_=5Cud800?=", "caf\\u00e9 \\ud800"),
        ("=?raw_unicode_escape?Q?=5Cud800?= slots", "\\ud800 slots"),
        ("=?idna?Q?xn--caf-dma?=", "xn--caf-dma"),
        ("=?utf-7?Q?+2AA-?= slots", "\ufffd slots"),
        ("=?iso-8859-1?Q?Caf=E9?= at 10", "Café at 10"),
        ("=?utf-8?B?UsOpdW5pb24=?=", "Réunion"),
    ],
)
def test_encoded_words_in_odd_charsets_still_give_a_subject(subject: str, shown: str) -> None:
    message = parse_bytes(mail("text/plain; charset=utf-8", b"Hello", subject=subject))
    assert message.subject == shown
    assert_storable(message)


def test_a_sender_name_in_an_escape_charset_is_kept_readable() -> None:
    raw = mail("text/plain", b"Hello", sender="=?unicode_escape?Q?Jane_=5Cud800?= <jane@example.com>")
    message = parse_bytes(raw)
    assert (message.from_name, message.from_addr) == ("Jane \\ud800", "jane@example.com")
    assert_storable(message)


def test_every_part_of_a_multipart_in_odd_charsets_is_read() -> None:
    body = (
        b"--b1\r\nContent-Type: text/plain; charset=idna\r\n\r\nThursday at 3pm \xe2\x9c\x93\r\n"
        b"--b1\r\nContent-Type: text/calendar; charset=unicode_escape; method=REQUEST\r\n\r\n"
        b"BEGIN:VCALENDAR\r\nSUMMARY:Interview \\ud800\r\nEND:VCALENDAR\r\n--b1--\r\n"
    )
    message = parse_bytes(mail('multipart/alternative; boundary="b1"', body))
    assert message.text == "Thursday at 3pm ✓"
    assert "SUMMARY:Interview \\ud800" in message.calendar
    assert_storable(message)


def test_decode_text_never_raises() -> None:
    for charset in [*NOT_CHARSETS, None, "", "UTF-8", "x" * 500, "utf-8\udcff", "\u00e9"]:
        assert decode_text(b"ok \xff", charset) == "ok \ufffd"
