"""The streaming FETCH reader on server answers Dovecot gives only under races (flag changes by
another client, mail arriving mid-command, a dropped connection). The byte streams below are
what RFC 3501 allows a server to send; the reader runs on a real imaplib.IMAP4 object whose
socket file is replaced by them."""

from __future__ import annotations

import imaplib
import io

import pytest

from providers.imap.fetch import stream_uid_fetch


class Scripted(imaplib.IMAP4):
    """imaplib.IMAP4 without a socket: commands are recorded, answers come from ``script``."""

    def __init__(self, script: bytes) -> None:  # no connect
        self.tagged_commands = {}
        self.tagnum = 1
        self.tagpre = b"T"
        self._encoding = "ascii"
        self.debug = 0
        self.sent: list[bytes] = []
        self.file = io.BufferedReader(io.BytesIO(script))  # type: ignore[assignment]

    def send(self, data: bytes) -> None:
        self.sent.append(data)


def literal(uid: int, body: bytes, after: bytes = b")") -> bytes:
    return b"* %d FETCH (UID %d BODY[]<0> {%d}\r\n" % (uid, uid, len(body)) + body + after + b"\r\n"


def test_common_answers_unsolicited_responses_and_extra_items() -> None:
    script = (
        literal(1, b"Subject: one\r\n\r\nhi")
        + b"* 3 EXISTS\r\n"  # new mail arrived meanwhile
        + b"* 1 FETCH (FLAGS (\\Seen))\r\n"  # another client changed a flag: no UID, dropped
        + literal(2, b"Subject: two\r\n\r\n", after=b" FLAGS (\\Seen))")  # an item after the literal
        + b"* 2 FETCH (UID 3 FLAGS () BODY[]<0> {5}\r\nthree)\r\n"  # items in another order
        + b"T1 OK Fetch completed.\r\n"
    )
    imap = Scripted(script)
    got = list(stream_uid_fetch(imap, [1, 2, 3], "(UID BODY.PEEK[]<0.100>)"))
    assert [(f.uid, f.sections[""]) for f in got] == [
        (1, b"Subject: one\r\n\r\nhi"),
        (2, b"Subject: two\r\n\r\n"),
        (3, b"three"),
    ]
    assert b"FLAGS (\\Seen)" in got[1].text
    assert imap.sent == [b"T1 UID FETCH 1:3 (UID BODY.PEEK[]<0.100>)\r\n"]


def test_a_refused_fetch_reads_every_answer_then_raises() -> None:
    script = literal(1, b"x") + b"T1 NO [SERVERBUG] Internal error\r\n"
    with pytest.raises(imaplib.IMAP4.error, match="SERVERBUG"):
        list(stream_uid_fetch(Scripted(script), [1], "(UID BODY.PEEK[]<0.100>)"))


@pytest.mark.parametrize("cut", [10, 40, 60])
def test_a_connection_closed_mid_answer_is_an_abort(cut: int) -> None:
    script = literal(1, b"Subject: one\r\n\r\n" + b"x" * 40) + b"T1 OK done\r\n"
    with pytest.raises(imaplib.IMAP4.abort):
        list(stream_uid_fetch(Scripted(script[:cut]), [1], "(UID BODY.PEEK[]<0.100>)"))


def test_flag_updates_with_a_uid_are_not_messages_and_commands_may_end_in_any_order() -> None:
    """With QRESYNC (and in Dovecot during UID commands) another client's flag change carries
    the UID: it must not come out as a message with no content. Two pipelined commands may
    also complete in either order."""
    script = (
        literal(1, b"Subject: one\r\n\r\n")
        + b"* 7 FETCH (UID 12 FLAGS (\\Seen) MODSEQ (99))\r\n"
        + b"T2 OK second done\r\n"  # the second command's completion first
        + b"T1 OK first done\r\n"
    )
    imap = Scripted(script)
    got = list(stream_uid_fetch(imap, list(range(1, 6000, 2)), "(UID BODY.PEEK[]<0.100>)"))
    assert len(imap.sent) == 2  # the UID set was split into two pipelined commands
    assert [(f.uid, f.sections[""]) for f in got] == [(1, b"Subject: one\r\n\r\n")]


# -- BODYSTRUCTURE with a bounded parse -----------------------------------------------------------


def test_bodystructure_fields_of_any_length_are_read_past_and_cut() -> None:
    """imaplib refuses a line over 1,000,000 bytes; the bounded reader reads a 1.5 MB quoted
    field, an escaped quote at a chunk boundary and a 200 KB literal, and keeps FIELD_CAP bytes."""
    from providers.imap.fetch import FIELD_CAP, stream_bodystructures

    long_name = b"x" * 65535 + b'\\"' + b"y" * 1_500_000
    literal_name = "é".encode() * 100_000
    script = (
        b"* 2 EXISTS\r\n"
        + b'* 1 FETCH (UID 7 BODYSTRUCTURE (("text" "plain" ("charset" "utf-8") NIL NIL "7bit" 10 1 NIL NIL NIL NIL)'
        + b'("application" "octet-stream" NIL NIL NIL "base64" 4 NIL ("attachment" ("filename" "'
        + long_name
        + b'")) NIL NIL) "mixed" ("boundary" "b1") NIL NIL NIL))\r\n'
        + b'* 2 FETCH (UID 8 BODYSTRUCTURE ("text" "calendar" ("name" {%d}\r\n' % len(literal_name)
        + literal_name
        + b') NIL NIL "base64" 4 1 NIL NIL NIL NIL))\r\n'
        + b"* 3 FETCH (UID 9 FLAGS (\\Seen))\r\n"
        + b"T1 OK Fetch completed.\r\n"
    )
    imap = Scripted(script)
    got = dict(stream_bodystructures(imap, [7, 8]))
    assert imap.sent == [b"T1 UID FETCH 7:8 (UID BODYSTRUCTURE)\r\n"]
    assert sorted(got) == [7, 8]
    text, attachment, subtype = got[7][0], got[7][1], got[7][2]
    assert (text[0], text[1], text[2]) == (b"text", b"plain", [b"charset", b"utf-8"])
    assert subtype == b"mixed"
    name = attachment[8][1][1]
    assert len(name) == FIELD_CAP and name.length == len(long_name) - 1  # the backslash is an escape
    assert got[8][:2] == [b"text", b"calendar"] and got[8][3] is None
    assert got[8][2][1].length == len(literal_name) and len(got[8][2][1]) == FIELD_CAP


def test_bodystructure_refused_or_cut_off() -> None:
    from providers.imap.fetch import stream_bodystructures

    with pytest.raises(imaplib.IMAP4.error, match="SERVERBUG"):
        list(stream_bodystructures(Scripted(b"T1 NO [SERVERBUG] Internal error\r\n"), [1]))
    with pytest.raises(imaplib.IMAP4.abort):
        list(stream_bodystructures(Scripted(b'* 1 FETCH (UID 1 BODYSTRUCTURE ("text" "pla'), [1]))
