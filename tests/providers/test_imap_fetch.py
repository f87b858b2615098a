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
