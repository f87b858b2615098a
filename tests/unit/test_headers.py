"""inbox_watch.headers: the one place headers are written from received text."""

from __future__ import annotations

import base64
import email
import email.policy

import pytest

from inbox_watch import headers
from inbox_watch.mime import build_email
from inbox_watch.models import OutgoingMessage

PAYLOAD = "x\r\nReply-To: attacker@evil.example\r\nBcc: spy@evil.example"
INNER = "=?utf-8?b?" + base64.b64encode(PAYLOAD.encode()).decode() + "?="


def _message(**changes: object) -> OutgoingMessage:
    values: dict[str, object] = {
        "from_addr": "sam@agency.example",
        "from_name": "Sam Carter",
        "to": ("jane@example.com",),
        "subject": "Re: Interview slots",
        "body": "Hello",
        "message_id": "<m1@agency.example>",
        "in_reply_to": "<c1@example.com>",
        "references": ("<c0@example.com>", "<c1@example.com>"),
        **changes,
    }
    return OutgoingMessage(**values)  # type: ignore[arg-type]


def _parsed(raw: bytes) -> email.message.EmailMessage:
    return email.message_from_bytes(raw, policy=email.policy.default)  # type: ignore[return-value]


def test_an_encoded_word_in_received_text_is_written_as_that_text_and_read_back_once() -> None:
    raw = build_email(_message(subject="Re: " + INNER))
    parsed = _parsed(raw)
    assert set(parsed.keys()) == {
        "From", "To", "Subject", "Date", "Message-ID", "In-Reply-To", "References",
        "Content-Type", "Content-Transfer-Encoding", "MIME-Version",
    }  # fmt: skip
    assert str(parsed["Subject"]) == "Re: " + INNER  # decoded once: the literal text, one line
    assert b"\r\nReply-To:" not in raw and b"\r\nBcc:" not in raw


def test_control_characters_line_breaks_and_bidi_overrides_become_spaces() -> None:
    assert headers.header_text("a\r\nBcc: x\x00\x1b[31m\x85b\u2028c\u202ed\t e") == "a Bcc: x [31m b c d e"
    assert headers.header_text(b"caf\xc3\xa9\r\n") == "café"
    assert len(headers.header_text("y" * 100_000)) == headers.SUBJECT_LIMIT
    message = _message(subject="Hi\r\nBcc: spy@evil.example", from_name="Sam\nX-Injected: 1")
    assert message.subject == "Hi Bcc: spy@evil.example" and message.from_name == "Sam X-Injected: 1"


def test_message_ids_keep_only_a_well_formed_id_and_references_are_bounded() -> None:
    assert headers.message_id_text("<a@b>\r\nBcc: spy@evil.example") == "<a@b>"
    assert headers.message_id_text("no id here") == ""
    assert headers.message_id_text("<a b@c>") == ""
    chain = headers.references_text([f"<r{i}@x>" for i in range(50)] + ["junk", "<r49@x>"])
    assert len(chain) == headers.REFERENCES_KEPT and chain[-1] == "<r49@x>"
    message = _message(in_reply_to="=?x?q?<a@b>?= \r\nX: 1", references=("<a@b>\r\nBcc: z@y", "<a@b>"))
    assert message.in_reply_to == "<a@b>" and message.references == ("<a@b>",)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Sam Carter", "Sam Carter"),
        ('Carter, Sam "the recruiter"', 'Carter, Sam "the recruiter"'),
        ("Zoë Ångström", "Zoë Ångström"),
        (INNER, INNER),
    ],
)
def test_display_names_read_back_as_written(name: str, expected: str) -> None:
    parsed = _parsed(build_email(_message(from_name=name)))
    [address] = parsed["From"].addresses
    assert address.display_name == expected and address.addr_spec == "sam@agency.example"


@pytest.mark.parametrize("bad", ["a@b, c@d", "Eve <e@x>", '"a b"@c', "a@b\r\nBcc: c@d", "nobody", "a@b@c"])
def test_a_recipient_that_is_not_a_plain_address_is_refused(bad: str) -> None:
    with pytest.raises(headers.UnsafeRecipient):
        build_email(_message(to=(bad,)))
