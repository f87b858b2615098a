# ruff: noqa: F811 - the fixtures imported from dovecot.py / smtp_server.py are named as arguments
"""ImapProvider against a real Dovecot (and a real aiosmtpd SMTP server), no mocks of imapclient.

The contract suite runs twice: on a plaintext loopback server with "/" as folder separator, and
on a TLS server (self-signed certificate, verified with ``ca_file``) with "." as separator.
Every test logs in as a new user, so it starts from an empty mailbox.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import pytest

from inbox_watch.config import AccountConfig, RecruiterConfig
from inbox_watch.errors import AuthError, ConfigError, ConnectionFailed, CursorExpired, ProviderError
from inbox_watch.models import OutgoingMessage
from providers.imap import ImapProvider, authenticate
from providers.imap.messages import BODY_BYTES
from tests.providers.contract import CANDIDATE, RECRUITER, ProviderContract, make_raw
from tests.providers.dovecot import PASSWORD, Dovecot, dovecot_server, dovecot_tls_server  # noqa: F401
from tests.providers.smtp_server import SmtpServer, smtp_server  # noqa: F401

PASSWORD_ENV = "INBOX_WATCH_TEST_IMAP_PASSWORD"


class ImapHarness:
    """A provider for a fresh Dovecot user, and a second connection that plays the world."""

    def __init__(self, server: Dovecot, smtp: SmtpServer, *, tls: bool = False, **overrides: Any):
        self.server = server
        self.smtp = smtp
        self.user = server.new_user()
        settings: dict[str, Any] = dict(
            name="work",
            provider="imap",
            host="127.0.0.1",
            port=server.port,
            security="none",
            username=self.user,
            password_env=PASSWORD_ENV,
            smtp_host="127.0.0.1",
            smtp_port=smtp.port,
            smtp_security="none",
        )
        if tls:
            settings.update(security="ssl", port=server.tls_port, ca_file=str(server.cert))
        settings.update(overrides)
        self.account = AccountConfig(**settings)
        self.provider = ImapProvider(self.account, RecruiterConfig("Sam Carter", (RECRUITER,)))
        self._world: Any = None

    @property
    def world(self) -> Any:
        if self._world is None:
            self._world = self.server.client(self.user)
        return self._world

    def folder(self, folder: str = "inbox", tag: str = "") -> str:
        if tag:
            name = f"Candidates{self.server.separator}{tag}"
            if not self.world.folder_exists(name):
                self.world.create_folder(name)
            return name
        return {"inbox": "INBOX", "sent": "Sent", "drafts": "Drafts"}[folder]

    def deliver(self, raw: bytes, *, folder: str = "inbox", tag: str = "") -> None:
        self.world.append(self.folder(folder, tag), raw)

    def read(self, folder: str) -> list[tuple[bytes, tuple[bytes, ...]]]:
        self.world.select_folder(folder, readonly=True)
        uids = self.world.search("ALL")
        if not uids:
            return []
        data = self.world.fetch(uids, ["BODY.PEEK[]", "FLAGS"])
        return [(data[u][b"BODY[]"], data[u][b"FLAGS"]) for u in sorted(data)]

    def drafts(self) -> list[bytes]:
        return [raw for raw, _ in self.read("Drafts")]

    def sent(self) -> list[bytes]:
        return [raw for raw, _ in self.read("Sent")]

    def expire_cursor(self) -> None:
        """A new UIDVALIDITY for every candidate folder (deleted and made again, mail kept)."""
        prefix = f"Candidates{self.server.separator}"
        for _flags, _sep, name in self.world.list_folders():
            if not name.startswith(prefix):
                continue
            kept = [raw for raw, _ in self.read(name)]
            self.world.unselect_folder()
            self.world.delete_folder(name)
            self.world.create_folder(name)
            for raw in kept:
                self.world.append(name, raw)

    def close(self) -> None:
        self.provider.close()
        if self._world is not None:
            try:
                self._world.logout()
            except Exception:  # noqa: BLE001 - the server may have been restarted under it
                pass


@pytest.fixture
def imap_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    monkeypatch.setenv(PASSWORD_ENV, PASSWORD)
    monkeypatch.setenv("INBOX_WATCH_SECRETS_FILE", str(tmp_path / "secrets.json"))


@pytest.fixture
def plain(dovecot_server: Dovecot, smtp_server: SmtpServer, imap_env: None) -> Iterator[ImapHarness]:
    h = ImapHarness(dovecot_server, smtp_server)
    yield h
    h.close()


class TestContractPlaintextSlash(ProviderContract):
    @pytest.fixture
    def harness(self, plain: ImapHarness) -> ImapHarness:
        return plain


class TestContractTlsDot(ProviderContract):
    @pytest.fixture
    def harness(
        self,
        dovecot_tls_server: Dovecot,
        smtp_server: SmtpServer,
        imap_env: None,
    ) -> Iterator[ImapHarness]:
        h = ImapHarness(dovecot_tls_server, smtp_server, tls=True)
        yield h
        h.close()


def _outgoing(message_id: str, subject: str = "Re: Interview slots") -> OutgoingMessage:
    return OutgoingMessage(
        from_addr=RECRUITER,
        from_name="Sam Carter",
        to=(CANDIDATE,),
        subject=subject,
        body="Just checking in on the slots below.",
        message_id=message_id,
        in_reply_to="<c1@agency.example>",
        references=("<c1@agency.example>",),
    )


# -- writing -------------------------------------------------------------------------------------


def test_draft_has_thread_headers_and_draft_seen_flags(plain: ImapHarness) -> None:
    draft_id = plain.provider.save_draft(_outgoing("<dr1@agency.example>"))
    assert draft_id.startswith("Drafts/")
    [(raw, flags)] = plain.read("Drafts")
    assert set(flags) >= {b"\\Draft", b"\\Seen"}
    assert b"Message-ID: <dr1@agency.example>" in raw
    assert b"In-Reply-To: <c1@agency.example>" in raw
    assert b"References: <c1@agency.example>" in raw
    assert b"Subject: Re: Interview slots" in raw
    assert plain.read("Sent") == []


def test_send_goes_out_once_and_is_kept_in_sent(plain: ImapHarness) -> None:
    before = len(plain.smtp.messages)
    receipt = plain.provider.send(_outgoing("<snd1@agency.example>"))
    sent_id = receipt.provider_id
    assert receipt.warning == ""
    mine = [m for m in plain.smtp.messages[before:] if b"<snd1@agency.example>" in m.data]
    assert len(mine) == 1
    assert mine[0].rcpt_tos == [CANDIDATE] and mine[0].mail_from == RECRUITER
    [(raw, flags)] = plain.read("Sent")
    assert b"<snd1@agency.example>" in raw and b"\\Seen" in flags
    assert b"\\Draft" not in flags
    # A retry (the outbox asks find_sent first; send itself checks too) never sends twice.
    assert plain.provider.find_sent("<snd1@agency.example>") == sent_id
    assert plain.provider.send(_outgoing("<snd1@agency.example>")).provider_id == sent_id
    assert len([m for m in plain.smtp.messages if b"<snd1@agency.example>" in m.data]) == 1
    assert len(plain.read("Sent")) == 1
    assert plain.provider.find_sent("<never-sent@agency.example>") is None


def test_an_8bit_body_is_announced_and_an_address_the_server_cannot_take_sends_nothing(
    plain: ImapHarness,
) -> None:
    from dataclasses import replace

    before = len(plain.smtp.messages)
    plain.provider.send(replace(_outgoing("<snd8@agency.example>"), body="Café à 15h ? Très bien."))
    [received] = plain.smtp.messages[before:]
    assert "BODY=8BITMIME" in received.mail_options and "Café à 15h".encode() in received.data
    # An address with a non-ASCII local part goes out with SMTPUTF8 where the server offers it...
    plain.provider.send(replace(_outgoing("<snd9@agency.example>"), to=("josé@example.com",)))
    [received] = plain.smtp.messages[before + 1 :]
    assert received.rcpt_tos == ["josé@example.com"] and "SMTPUTF8" in received.mail_options
    # ... and where it does not, nothing is handed over: a definite failure, one clear line.
    old_server = SmtpServer(smtputf8=False)
    try:
        account = AccountConfig(**{**_fields(plain.account), "smtp_port": old_server.port})
        with pytest.raises(ProviderError, match="does not offer SMTPUTF8"):
            ImapProvider(account).send(replace(_outgoing("<snd10@agency.example>"), to=("josé@example.com",)))
        assert old_server.messages == []
    finally:
        old_server.stop()


# -- reading -------------------------------------------------------------------------------------


def test_reading_never_sets_seen(plain: ImapHarness) -> None:
    plain.deliver(make_raw(subject="Unread", message_id="<u1@example.com>", sender=CANDIDATE))
    first = plain.provider.full_sync()
    plain.deliver(make_raw(subject="Unread 2", message_id="<u2@example.com>", sender=CANDIDATE))
    second = plain.provider.incremental_sync(first.cursor)
    assert [m.message_id for m in second.messages] == ["<u2@example.com>"]
    flags = [set(f) - {b"\\Recent"} for _, f in plain.read("INBOX")]
    assert flags == [set(), set()]  # no \\Seen: only BODY.PEEK was used


def test_ids_are_stable_and_tags_come_from_candidate_folders(plain: ImapHarness) -> None:
    plain.deliver(make_raw(subject="Slots", message_id="<a1@agency.example>"), tag="Ann Lee")
    plain.deliver(make_raw(subject="Hi", message_id="<a2@example.com>", sender=CANDIDATE))
    one = {m.message_id: m for m in plain.provider.full_sync().messages}
    two = {m.message_id: m for m in plain.provider.full_sync().messages}
    assert {k: m.id for k, m in one.items()} == {k: m.id for k, m in two.items()}
    ann = one["<a1@agency.example>"]
    assert ann.tags == ("Ann Lee",) and ann.folder == "Candidates/Ann Lee"
    assert ann.id.startswith("Candidates/Ann Lee/") and ann.id.split("/")[-1] == "1"
    assert one["<a2@example.com>"].folder == "INBOX" and one["<a2@example.com>"].tags == ()
    roles = {f.role for f in plain.provider.folders()}
    assert roles == {"inbox", "sent", "drafts", "candidate"}


def test_a_folder_inside_a_candidate_folder_is_theirs_and_deleted_mail_is_not_read(plain: ImapHarness) -> None:
    plain.deliver(make_raw(subject="Old slots", message_id="<a3@agency.example>"), tag="Ann Lee/Archive")
    plain.deliver(make_raw(subject="Bin me", message_id="<a4@example.com>", sender=CANDIDATE))
    plain.world.select_folder("INBOX")
    plain.world.add_flags(plain.world.search(["ALL"]), [b"\\Deleted"])  # marked, not yet expunged
    batch = plain.provider.full_sync()
    assert [(m.message_id, m.tags) for m in batch.messages] == [("<a3@agency.example>", ("Ann Lee",))]


def test_look_back_window_skips_old_mail(plain: ImapHarness) -> None:
    old = datetime.now(UTC) - timedelta(days=400)
    plain.world.append("INBOX", make_raw(subject="Old", message_id="<old@example.com>", when=old), msg_time=old)
    plain.deliver(make_raw(subject="New", message_id="<new@example.com>"))
    ids = [m.message_id for m in plain.provider.full_sync().messages]
    assert ids == ["<new@example.com>"]


def test_new_candidate_folder_is_read_by_incremental_sync(plain: ImapHarness) -> None:
    first = plain.provider.full_sync()
    plain.deliver(make_raw(subject="For Bob", message_id="<b1@agency.example>"), tag="Bob Ray")
    batch = plain.provider.incremental_sync(first.cursor)
    assert [(m.message_id, m.tags) for m in batch.messages] == [("<b1@agency.example>", ("Bob Ray",))]


def test_idle_poll_is_one_status_per_folder_and_no_fetch(plain: ImapHarness) -> None:
    plain.deliver(make_raw(subject="x", message_id="<x1@example.com>"), tag="Ann Lee")
    cursor = plain.provider.full_sync().cursor
    plain.provider.incremental_sync(cursor)  # connection already open: count one pass only
    imap = plain.provider._client._imap  # type: ignore[union-attr]
    sent: list[str] = []
    original = imap._command

    def spy(name: str, *args: Any) -> Any:
        sent.append(name.upper() if name.upper() != "UID" else f"UID {args[0]}".upper())
        return original(name, *args)

    imap._command = spy
    try:
        idle = plain.provider.incremental_sync(cursor)
    finally:
        del imap._command
    assert idle.messages == () and idle.removed == ()
    assert sent == ["LIST", "STATUS", "STATUS", "STATUS"]  # INBOX, Sent, Candidates/Ann Lee


def test_expunged_messages_come_back_as_removed(plain: ImapHarness) -> None:
    plain.deliver(make_raw(subject="keep", message_id="<k1@example.com>"))
    plain.deliver(make_raw(subject="drop", message_id="<k2@example.com>"))
    first = plain.provider.full_sync()
    dropped = next(m.id for m in first.messages if m.message_id == "<k2@example.com>")
    plain.world.select_folder("INBOX")
    plain.world.delete_messages([2])
    plain.world.expunge()
    batch = plain.provider.incremental_sync(first.cursor)
    assert batch.messages == () and batch.removed == (dropped,)
    assert plain.provider.incremental_sync(batch.cursor).removed == ()


def test_new_mail_and_an_expunge_in_one_pass(plain: ImapHarness) -> None:
    """New mail is read (a folder selected), then the expunge is looked up: the extension that
    reports it must be switched on outside any selected folder, or every pass fails."""
    plain.deliver(make_raw(subject="keep", message_id="<n1@example.com>"))
    plain.deliver(make_raw(subject="drop", message_id="<n2@example.com>"))
    first = plain.provider.full_sync()
    dropped = next(m.id for m in first.messages if m.message_id == "<n2@example.com>")
    plain.deliver(make_raw(subject="new", message_id="<n3@example.com>"))
    plain.world.select_folder("INBOX")
    plain.world.delete_messages([2])
    plain.world.expunge()
    batch = plain.provider.incremental_sync(first.cursor)
    assert [m.message_id for m in batch.messages] == ["<n3@example.com>"] and batch.removed == (dropped,)


def test_uidvalidity_change_expires_the_cursor_then_full_sync_recovers(plain: ImapHarness) -> None:
    plain.deliver(make_raw(subject="v1", message_id="<v1@agency.example>"), tag="Cy Park")
    first = plain.provider.full_sync()
    old_id = next(m.id for m in first.messages if m.message_id == "<v1@agency.example>")
    name = plain.folder(tag="Cy Park")
    plain.world.delete_folder(name)
    plain.world.create_folder(name)
    plain.deliver(make_raw(subject="v2", message_id="<v2@agency.example>"), tag="Cy Park")
    with pytest.raises(CursorExpired, match="UIDVALIDITY"):
        plain.provider.incremental_sync(first.cursor)
    again = plain.provider.full_sync()
    assert again.full
    ids = {m.message_id: m.id for m in again.messages}
    assert "<v1@agency.example>" not in ids and ids["<v2@agency.example>"] != old_id
    assert plain.provider.incremental_sync(again.cursor).messages == ()


def test_long_multipart_message_still_gets_its_calendar(plain: ImapHarness) -> None:
    when = format_datetime(datetime.now(UTC) - timedelta(hours=3))
    filler = ("Please find the interview details below. " * 40 + "\r\n") * 30  # ~50 KB
    ics = "BEGIN:VCALENDAR\r\nMETHOD:REQUEST\r\nBEGIN:VEVENT\r\nSUMMARY:Interview\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    raw = (
        f"From: {RECRUITER}\r\nTo: {CANDIDATE}\r\nSubject: Invitation: Interview\r\n"
        f"Date: {when}\r\n"
        "Message-ID: <cal1@agency.example>\r\nMIME-Version: 1.0\r\n"
        'Content-Type: multipart/alternative; boundary="b1"\r\n\r\n'
        f"--b1\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{filler}\r\n"
        "--b1\r\nContent-Type: text/calendar; method=REQUEST; charset=utf-8\r\n\r\n"
        f"{ics}\r\n--b1--\r\n"
    ).encode()
    assert len(raw) > 2 * BODY_BYTES  # the calendar lies beyond the partial fetch
    plain.deliver(raw, folder="sent")
    [message] = plain.provider.full_sync().messages
    assert "METHOD:REQUEST" in message.calendar
    assert message.text.startswith("Please find the interview details")


@pytest.mark.parametrize("shape", ["cut inside the calendar part", "a calendar alone, longer than the fetch"])
def test_a_calendar_cut_by_the_partial_fetch_is_read_whole(plain: ImapHarness, shape: str) -> None:
    when = format_datetime(datetime.now(UTC) - timedelta(hours=3))
    zone = "BEGIN:VTIMEZONE\r\nTZID:Europe/London\r\n" + "X-PAD:" + "z" * 70 + "\r\n"
    ics = (
        "BEGIN:VCALENDAR\r\nMETHOD:REQUEST\r\n" + zone * 150 + "END:VTIMEZONE\r\n"
        "BEGIN:VEVENT\r\nSUMMARY:Interview\r\nDTSTART:20261201T100000Z\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    )
    head = (
        f"From: {RECRUITER}\r\nTo: {CANDIDATE}\r\nSubject: Invitation: Interview\r\nDate: {when}\r\n"
        "Message-ID: <cal2@agency.example>\r\nMIME-Version: 1.0\r\n"
    )
    if shape.startswith("cut"):
        raw = (
            head + 'Content-Type: multipart/alternative; boundary="b1"\r\n\r\n'
            "--b1\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nInterview invitation.\r\n"
            "--b1\r\nContent-Type: text/calendar; method=REQUEST; charset=utf-8\r\n\r\n"
            f"{ics}\r\n--b1--\r\n"
        )
    else:
        raw = head + "Content-Type: text/calendar; method=REQUEST; charset=utf-8\r\n\r\n" + ics
    assert len(raw) > BODY_BYTES and raw.index("BEGIN:VCALENDAR") < BODY_BYTES  # cut inside it
    plain.deliver(raw.encode(), folder="sent")
    [message] = plain.provider.full_sync().messages
    assert "SUMMARY:Interview" in message.calendar and message.calendar.rstrip().endswith("END:VCALENDAR")


def test_long_header_and_missing_date_are_read_right(plain: ImapHarness) -> None:
    received = "".join(
        f"Received: from relay{i}.example.net by mx.example.com; hop {i}\r\n" for i in range(400)
    )  # ~24 KB of header: more than one partial fetch
    long_header = (
        f"{received}From: {CANDIDATE}\r\nTo: {RECRUITER}\r\nSubject: Re: Slots\r\n"
        f"Date: {format_datetime(datetime.now(UTC) - timedelta(hours=2))}\r\n"
        "Message-ID: <long@example.com>\r\n\r\nThursday 3pm is fine.\r\n"
    ).encode()
    undated = (
        f"From: {CANDIDATE}\r\nTo: {RECRUITER}\r\nSubject: No date\r\nMessage-ID: <nodate@example.com>\r\n\r\nHello\r\n"
    ).encode()
    arrived = datetime(2026, 1, 5, 9, 30, tzinfo=UTC)
    plain.deliver(long_header)
    plain.world.append("INBOX", undated, msg_time=arrived)
    plain.provider.config = AccountConfig(**{**_fields(plain.account), "lookback_days": 36500})
    found = {m.message_id: m for m in plain.provider.full_sync().messages}
    assert found["<long@example.com>"].subject == "Re: Slots"
    assert found["<long@example.com>"].from_addr == CANDIDATE
    assert "Thursday 3pm" in found["<long@example.com>"].text
    assert found["<nodate@example.com>"].date == arrived


def test_push_wakes_on_new_mail(plain: ImapHarness) -> None:
    import threading
    import time

    cursor = plain.provider.full_sync().cursor
    other = plain.server.client(plain.user)  # a second connection delivers while we IDLE
    timer = threading.Timer(0.2, other.append, ("INBOX", make_raw(subject="ping", message_id="<p1@example.com>")))
    timer.start()
    started = time.monotonic()
    try:
        assert plain.provider.wait_for_change(timeout=10) is True
    finally:
        timer.join()
        other.logout()
    assert time.monotonic() - started < 5
    batch = plain.provider.incremental_sync(cursor)
    assert [m.message_id for m in batch.messages] == ["<p1@example.com>"]


# -- failures ------------------------------------------------------------------------------------


def _write_maildir(harness: ImapHarness, first: int, count: int) -> None:
    """Put ``count`` ~9 KB messages straight into the user's INBOX (Maildir cur/): big enough
    that a FETCH response cannot sit whole in the socket buffers when the server dies."""
    import os
    import time

    cur = harness.server.maildir(harness.user) / "cur"
    filler = ("Some words about the interview and the role. " * 20 + "\r\n") * 10
    for i in range(first, first + count):
        raw = make_raw(subject=f"bulk {i}", message_id=f"<bulk{i}@example.com>", body=filler)
        (cur / f"{int(time.time())}.M{i}P{os.getpid()}.test:2,").write_bytes(raw)
    harness.server.chown_tree(cur)


def test_server_killed_mid_fetch_then_next_pass_completes_without_duplicates(
    plain: ImapHarness,
) -> None:
    plain.world.select_folder("INBOX")  # Dovecot made the Maildir; files can go in now
    _write_maildir(plain, 0, 1000)
    plain.provider.batch_size = 100  # progress every 100 messages, mid-response

    def kill_at_first_progress(done: int, total: int | None, what: str) -> None:
        if done:
            plain.server.kill()

    try:
        with pytest.raises(ConnectionFailed) as caught:
            plain.provider.full_sync(kill_at_first_progress)
        assert "lost" in str(caught.value)
        assert "\n" not in str(caught.value) and PASSWORD not in str(caught.value)
        with pytest.raises(ConnectionFailed, match="cannot reach"):
            plain.provider.full_sync()  # still down: one clear line, no hang
    finally:
        plain.server.start()
    plain._world = None  # that connection died with the server
    batch = plain.provider.full_sync()
    ids = [m.id for m in batch.messages]
    assert len(ids) == len(set(ids)) == 1000
    # The same for an incremental pass: the cursor stays valid across the failure.
    _write_maildir(plain, 1000, 1000)
    try:
        with pytest.raises(ConnectionFailed):
            plain.provider.incremental_sync(batch.cursor, kill_at_first_progress)
    finally:
        plain.server.start()
    new = plain.provider.incremental_sync(batch.cursor)
    got = [m.message_id for m in new.messages]
    assert len(got) == len(set(got)) == 1000
    assert set(got) == {f"<bulk{i}@example.com>" for i in range(1000, 2000)}
    assert not set(ids) & {m.id for m in new.messages}


def test_plaintext_to_a_remote_host_is_refused_before_any_network_use(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def no_network(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("a network call was attempted")

    monkeypatch.setattr(socket, "create_connection", no_network)
    monkeypatch.setattr(socket, "getaddrinfo", no_network)
    account = AccountConfig(name="w", provider="imap", host="imap.example.com", security="none")
    with pytest.raises(ConfigError, match="unencrypted to imap.example.com") as caught:
        ImapProvider(account)
    assert "\n" not in str(caught.value)
    with pytest.raises(ConfigError):
        authenticate(account, prompt=lambda _: "x", echo=lambda _: None)
    smtp_plain = AccountConfig(
        name="w",
        provider="imap",
        host="imap.example.com",
        smtp_host="smtp.example.com",
        smtp_security="none",
    )
    with pytest.raises(ConfigError, match="smtp_security"):
        ImapProvider(smtp_plain)
    smtp_on_imap_host = AccountConfig(name="w", provider="imap", host="imap.example.com", smtp_security="none")
    with pytest.raises(ConfigError, match="unencrypted to imap.example.com"):
        ImapProvider(smtp_on_imap_host)  # smtp_host defaults to the IMAP host
    ImapProvider(
        AccountConfig(name="w", provider="imap", host="10.0.0.5", security="none", allow_insecure=True)
    )  # allowed, and still no I/O


def test_wrong_password_is_a_clear_auth_error(plain: ImapHarness, monkeypatch: pytest.MonkeyPatch) -> None:
    wrong = "not-the-password-93x"
    monkeypatch.setenv(PASSWORD_ENV, wrong)
    provider = ImapProvider(plain.account)
    with pytest.raises(AuthError) as caught:
        provider.full_sync()
    message = str(caught.value)
    assert "refused" in message and plain.user in message
    assert wrong not in message and PASSWORD not in message and "\n" not in message


def test_a_wrong_password_with_accents_is_the_same_clear_auth_error(
    plain: ImapHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    wrong = "pässwörd-ünïcode"
    monkeypatch.setenv(PASSWORD_ENV, wrong)
    with pytest.raises(AuthError) as caught:
        ImapProvider(plain.account).full_sync()
    message = str(caught.value)
    assert "refused" in message and "ä" not in message and "position" not in message


def test_authenticate_checks_and_stores_the_password(plain: ImapHarness, monkeypatch: pytest.MonkeyPatch) -> None:
    account = AccountConfig(**{**_fields(plain.account), "password_env": ""})
    with pytest.raises(AuthError) as caught:
        ImapProvider(account).folders()
    assert "inbox-watch auth work" in str(caught.value)
    with pytest.raises(AuthError) as caught:
        authenticate(account, prompt=lambda _: "bad-guess-1", echo=lambda _: None)
    assert "bad-guess-1" not in str(caught.value)
    lines: list[str] = []
    done = authenticate(account, prompt=lambda _: PASSWORD, echo=lines.append)
    assert "\n" not in done and PASSWORD not in done and "stored in" in done
    assert PASSWORD not in " ".join(lines)
    assert ImapProvider(account).folders()[0].role == "inbox"  # password now from the store


def test_unreachable_server_and_untrusted_certificate_are_connection_failures(
    dovecot_tls_server: Dovecot,
    imap_env: None,
) -> None:
    server = dovecot_tls_server
    base = dict(
        name="w",
        provider="imap",
        host="127.0.0.1",
        username=server.new_user(),
        password_env=PASSWORD_ENV,
    )
    closed = AccountConfig(**base, port=_closed_port(), security="none")
    with pytest.raises(ConnectionFailed, match="cannot reach IMAP server 127.0.0.1"):
        ImapProvider(closed).folders()
    untrusted = AccountConfig(**base, port=server.tls_port, security="ssl")  # system trust store
    with pytest.raises(ConnectionFailed, match="TLS with 127.0.0.1.*certificate") as caught:
        ImapProvider(untrusted).folders()
    assert "\n" not in str(caught.value)
    starttls = AccountConfig(**base, port=server.port, security="starttls", ca_file=str(server.cert))
    assert [f.role for f in ImapProvider(starttls).folders()][:1] == ["inbox"]
    starttls_untrusted = AccountConfig(**base, port=server.port, security="starttls")
    with pytest.raises(ConnectionFailed, match="TLS"):
        ImapProvider(starttls_untrusted).folders()


def _closed_port() -> int:
    from tests.providers.dovecot import free_port

    return free_port()


def _fields(account: AccountConfig) -> dict[str, Any]:
    import dataclasses

    return {f.name: getattr(account, f.name) for f in dataclasses.fields(account)}


# -- end to end ----------------------------------------------------------------------------------


def test_reply_appended_between_two_syncs_turns_silent_into_replied(plain: ImapHarness, tmp_path: Any) -> None:
    """Real Dovecot -> ImapProvider -> inbox_watch.sync -> store -> engine."""
    from inbox_watch.config import Policy
    from inbox_watch.engine.state import Inputs, evaluate
    from inbox_watch.models import Candidate, Status
    from inbox_watch.store import Store
    from inbox_watch.sync import sync_account

    now = datetime.now(UTC)
    store = Store(tmp_path / "store.json")
    store.upsert_candidates([Candidate(name="Jane Doe", emails=(CANDIDATE,), employer="Acme")])
    plain.deliver(
        make_raw(
            subject="Interview slots with Acme",
            message_id="<slots@agency.example>",
            body="Hi Jane,\n\nAcme can interview you on Tuesday at 10:00 or Wednesday at 14:00. "
            "Which suits you?\n\nSam",
            when=now - timedelta(days=6),
        ),
        folder="sent",
    )

    def status() -> Status:
        inputs = Inputs(
            candidates=store.candidates(),
            messages=store.messages(),
            recruiter=RecruiterConfig("Sam Carter", (RECRUITER,)),
            policy=Policy(holidays=""),
        )
        [state] = evaluate(inputs, now)
        return state.status

    first = sync_account(store, plain.account, plain.provider, drain_outbox=False)
    assert first.full and first.new == 1
    assert status() is Status.SILENT
    plain.deliver(
        make_raw(
            subject="Re: Interview slots with Acme",
            message_id="<answer@example.com>",
            sender=CANDIDATE,
            to=RECRUITER,
            in_reply_to="<slots@agency.example>",
            body="Wednesday at 14:00 is perfect, thank you.",
            when=now - timedelta(hours=1),
        )
    )
    second = sync_account(store, plain.account, plain.provider, drain_outbox=False)
    assert not second.full and second.new == 1
    assert status() is Status.REPLIED


# -- mail in odd charsets --------------------------------------------------------------------------


def test_mail_in_odd_charsets_is_synced_by_the_daemon(plain: ImapHarness, tmp_path: Any) -> None:
    """Real Dovecot -> ``inbox-watch daemon`` -> store. A message naming ``charset=idna`` used to
    fail every sync of its account; one naming ``unicode_escape`` made the daemon exit (70) on
    writing the store, and again at every restart."""
    import base64
    import os
    import signal
    import subprocess
    import sys
    import time
    from pathlib import Path

    from inbox_watch.store import Store

    date = format_datetime(datetime.now(UTC) - timedelta(hours=2))

    def raw(message_id: str, subject: str, content_type: str, body: bytes) -> bytes:
        return (
            f"From: {CANDIDATE}\r\nTo: {RECRUITER}\r\nSubject: {subject}\r\nDate: {date}\r\n"
            f"Message-ID: {message_id}\r\nMIME-Version: 1.0\r\nContent-Type: {content_type}\r\n\r\n"
        ).encode() + body

    attachment = base64.encodebytes(bytes(range(256)) * 160).replace(b"\n", b"\r\n")  # ~55 KB
    plain.deliver(raw("<idna@example.com>", "Slots", "text/plain; charset=idna", b"Caf\xc3\xa9 at 10?\r\n"))
    plain.deliver(
        raw(
            "<escape@example.com>",
            "=?unicode_escape?Q?Re:_Slots_=5Cud800?=",
            "text/plain; charset=unicode_escape",
            b"Tuesday works \\ud800\r\n",
        )
    )
    plain.deliver(  # its text and invitation lie beyond the first partial fetch: read by part number
        raw(
            "<long@example.com>",
            "Invitation: Interview",
            'multipart/mixed; boundary="b1"',
            b"--b1\r\nContent-Type: application/pdf\r\nContent-Transfer-Encoding: base64\r\n\r\n"
            + attachment
            + b"--b1\r\nContent-Type: text/plain; charset=unicode_escape\r\n\r\nSee you Thursday \\udc80\r\n"
            b"--b1\r\nContent-Type: text/calendar; charset=idna; method=REQUEST\r\n\r\n"
            b"BEGIN:VCALENDAR\r\nMETHOD:REQUEST\r\nSUMMARY:Interview \xe2\x9c\x93\r\nEND:VCALENDAR\r\n--b1--\r\n",
        )
    )
    assert len(attachment) > 2 * BODY_BYTES
    config = tmp_path / "config.toml"
    config.write_text(
        '[recruiter]\naddresses = ["sam@agency.example"]\n[store]\npath = "store.json"\n[daemon]\ninterval = 5\n'
        f'[[accounts]]\nname = "work"\nprovider = "imap"\nhost = "127.0.0.1"\nport = {plain.server.port}\n'
        f'security = "none"\nusername = "{plain.user}"\npassword_env = "{PASSWORD_ENV}"\n'
    )
    from inbox_watch.models import Candidate

    # Mail of a candidate on the roster: its text is read (the text of mail that concerns no
    # one is not).
    Store(tmp_path / "store.json").upsert_candidates([Candidate(name="Jane Doe", emails=(CANDIDATE,))])
    root = Path(__file__).resolve().parents[2]
    proc = subprocess.Popen(
        [sys.executable, "-m", "inbox_watch", "--config", str(config), "daemon"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(root)},
    )
    store = Store(tmp_path / "store.json")
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and proc.poll() is None:
        if store.heartbeat() is not None and store.message_count() == 3:
            break
        time.sleep(0.1)
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert "work: full sync, 3 new" in out and not err.strip(), (out, err)
    found = {m.message_id: m for m in store.messages()}
    assert found["<idna@example.com>"].text == "Café at 10?\r\n"  # not a real charset: read as UTF-8
    assert found["<escape@example.com>"].subject == "Re: Slots \\ud800"  # the escape as written
    assert found["<escape@example.com>"].text == "Tuesday works \\ud800\r\n"
    assert found["<long@example.com>"].text.startswith("See you Thursday \\udc80")
    assert "SUMMARY:Interview ✓" in found["<long@example.com>"].calendar
