"""GmailProvider against a local Gmail API emulator, driving the real google-api-python-client."""

from __future__ import annotations

import json
import logging
import os
import stat
import threading
import urllib.parse
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from inbox_watch import outbox, retry
from inbox_watch.config import AccountConfig, RecruiterConfig
from inbox_watch.errors import AuthError, ConnectionFailed, CursorExpired, RateLimited, SendOutcomeUnknown
from inbox_watch.models import ActionState, Cursor, OutgoingMessage
from inbox_watch.store import Store
from providers.gmail import GmailProvider, authenticate
from providers.gmail import provider as gmail_provider
from tests.providers.contract import CANDIDATE, RECRUITER, ProviderContract, chaser_message, make_raw, queue_chaser
from tests.providers.gmail_emulator import GmailEmulator

TOKEN_ENV = "INBOX_WATCH_TEST_GMAIL_TOKEN"
RECRUITER_CONFIG = RecruiterConfig(name="Sam Carter", addresses=(RECRUITER,))


class GmailHarness:
    def __init__(self, emulator: GmailEmulator, provider: GmailProvider) -> None:
        self.emulator = emulator
        self.provider = provider

    def deliver(self, raw: bytes, *, folder: str = "inbox", tag: str = "") -> str:
        labels = ["SENT"] if folder == "sent" else ["INBOX"]
        if tag:
            labels.append(f"Candidates/{tag}")
        return self.emulator.insert(raw, labels).id

    def drafts(self) -> list[bytes]:
        state = self.emulator.state
        return [state.messages[i].raw for i in state.drafts.values() if i in state.messages]

    def sent(self) -> list[bytes]:
        return self.emulator.raw_with_label("SENT")

    def expire_cursor(self) -> None:
        self.emulator.expire_history()


@pytest.fixture(autouse=True)
def _no_backoff_sleep() -> Iterator[None]:
    retry.set_testing(True)
    yield
    retry.set_testing(False)


@pytest.fixture
def emulator() -> Iterator[GmailEmulator]:
    with GmailEmulator(access_token="ya29.test-secret-token-0123456789") as gmail:
        yield gmail


def gmail_account(emulator: GmailEmulator, **overrides: object) -> AccountConfig:
    values: dict[str, object] = {
        "name": "work",
        "provider": "gmail",
        "api_base_url": emulator.base_url,
        "access_token_env": TOKEN_ENV,
    }
    values.update(overrides)
    return AccountConfig(**values)  # type: ignore[arg-type]


@pytest.fixture
def provider(emulator: GmailEmulator, monkeypatch: pytest.MonkeyPatch) -> Iterator[GmailProvider]:
    monkeypatch.setenv(TOKEN_ENV, emulator.access_token)
    gmail = GmailProvider(gmail_account(emulator), RECRUITER_CONFIG)
    yield gmail
    gmail.close()


@pytest.fixture
def harness(emulator: GmailEmulator, provider: GmailProvider) -> GmailHarness:
    return GmailHarness(emulator, provider)


class TestGmailContract(ProviderContract):
    pass


def _reply(n: int, *, days_ago: float = 1) -> bytes:
    return make_raw(
        subject=f"Re: Interview {n}",
        message_id=f"<r{n}@example.com>",
        sender=CANDIDATE,
        to=RECRUITER,
        when=datetime.now(UTC) - timedelta(days=days_ago),
    )


def test_full_sync_follows_list_pages_and_batches(harness: GmailHarness, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(gmail_provider, "LIST_PAGE_SIZE", 3)
    monkeypatch.setattr(gmail_provider, "BATCH_SIZE", 4)
    for n in range(10):
        harness.deliver(_reply(n))
    harness.deliver(_reply(99, days_ago=400))  # outside the 180-day look-back
    seen: list[tuple[int, int | None, str]] = []
    batch = harness.provider.full_sync(lambda d, t, w: seen.append((d, t, w)))
    assert sorted(m.message_id for m in batch.messages) == sorted(f"<r{n}@example.com>" for n in range(10))
    calls = harness.emulator.api_calls
    assert calls["messages.list"] == 4  # one pass over every label: 10 ids at 3 a page
    assert calls["messages.get"] == 10
    assert harness.emulator.http_requests["batch"] == 3  # 4 + 4 + 2
    assert seen[-1] == (10, 10, "messages")


def test_message_fields_tags_and_thread_ids(harness: GmailHarness) -> None:
    first = harness.deliver(make_raw(subject="Slots", message_id="<a1@agency.example>"), folder="sent", tag="Jane Doe")
    harness.deliver(
        make_raw(
            subject="Re: Slots",
            message_id="<a2@example.com>",
            sender=CANDIDATE,
            to=RECRUITER,
            in_reply_to="<a1@agency.example>",
        )
    )
    found = {m.message_id: m for m in harness.provider.full_sync().messages}
    sent, reply = found["<a1@agency.example>"], found["<a2@example.com>"]
    assert sent.id == first and sent.tags == ("Jane Doe",) and sent.folder == "sent"
    assert reply.thread_id == sent.thread_id == harness.emulator.state.messages[first].thread_id
    assert reply.folder == "inbox" and not reply.is_draft
    stored = harness.emulator.state.messages[reply.id]
    assert reply.date == datetime.fromtimestamp(stored.internal_date / 1000, UTC)
    folders = {f.role: f for f in harness.provider.folders()}
    assert folders["candidate"].candidate == "Jane Doe"


def test_html_and_calendar_parts_are_read(harness: GmailHarness) -> None:
    raw = (
        b"From: sam@agency.example\r\nTo: jane.doe@example.com\r\nSubject: Interview\r\n"
        b"Date: Mon, 23 Nov 2026 10:00:00 +0000\r\nMessage-ID: <cal1@agency.example>\r\n"
        b'MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="b1"\r\n\r\n'
        b'--b1\r\nContent-Type: multipart/alternative; boundary="b2"\r\n\r\n'
        b"--b2\r\nContent-Type: text/html; charset=utf-8\r\n"
        b"Content-Transfer-Encoding: quoted-printable\r\n\r\n"
        b"<p>Could you do <b>Tuesday 10:00</b>? Caf=C3=A9 downstairs.</p>\r\n"
        b"--b2\r\nContent-Type: text/calendar; method=REQUEST; charset=utf-8\r\n"
        b"Content-Transfer-Encoding: base64\r\n\r\n"
        b"QkVHSU46VkNBTEVOREFSDQpNRVRIT0Q6UkVRVUVTVA0KRU5EOlZDQUxFTkRBUg0K\r\n"
        b"--b2--\r\n--b1\r\nContent-Type: application/pdf; name=cv.pdf\r\n"
        b"Content-Disposition: attachment; filename=cv.pdf\r\n"
        b"Content-Transfer-Encoding: base64\r\n\r\n"
        b"JVBERi0xLjQK\r\n--b1--\r\n"
    )
    harness.deliver(raw, folder="sent")
    (message,) = harness.provider.full_sync().messages
    assert "Tuesday 10:00" in message.text and "Café" in message.text
    assert "METHOD:REQUEST" in message.calendar
    assert message.header("content-type").startswith("multipart/mixed")


def test_invitation_sent_as_an_attachment_is_fetched(harness: GmailHarness) -> None:
    invite = "BEGIN:VCALENDAR\r\nMETHOD:REQUEST\r\nBEGIN:VEVENT\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    raw = (
        "From: sam@agency.example\r\nTo: jane.doe@example.com\r\nSubject: Invitation\r\n"
        "Date: Mon, 23 Nov 2026 10:00:00 +0000\r\nMessage-ID: <inv1@agency.example>\r\n"
        'MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="b1"\r\n\r\n'
        "--b1\r\nContent-Type: text/plain\r\n\r\nInterview invitation\r\n"
        "--b1\r\nContent-Type: text/calendar; method=REQUEST; name=invite.ics\r\n"
        "Content-Disposition: attachment; filename=invite.ics\r\n\r\n"
        f"{invite}--b1--\r\n"
    ).encode()
    harness.deliver(raw, folder="sent")
    harness.deliver(_reply(1))
    found = {m.message_id: m for m in harness.provider.full_sync().messages}
    assert "METHOD:REQUEST" in found["<inv1@agency.example>"].calendar
    assert harness.emulator.api_calls["messages.attachments.get"] == 1


def test_metadata_and_raw_formats_agree_with_full(provider: GmailProvider, harness: GmailHarness) -> None:
    from inbox_watch import mime
    from providers.gmail.convert import b64url_decode

    message_id = harness.deliver(make_raw(subject="Slots", message_id="<f1@agency.example>"))
    (full,) = provider.full_sync().messages
    messages = provider._users().messages()
    raw = messages.get(userId="me", id=message_id, format="raw").execute()
    parsed = mime.parse_bytes(b64url_decode(raw["raw"]), id=message_id, thread_id=raw["threadId"])
    assert (parsed.message_id, parsed.subject, parsed.text, parsed.to) == (
        full.message_id,
        full.subject,
        full.text,
        full.to,
    )
    meta = messages.get(userId="me", id=message_id, format="metadata", metadataHeaders=["From", "Message-ID"]).execute()
    assert {h["name"] for h in meta["payload"]["headers"]} == {"From", "Message-ID"}


def test_history_paging_tags_and_deletions(harness: GmailHarness, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(gmail_provider, "HISTORY_PAGE_SIZE", 2)
    keep = harness.deliver(_reply(1))
    gone = harness.deliver(_reply(2))
    cursor = harness.provider.full_sync().cursor
    harness.emulator.reset_counts()
    for n in range(3, 8):
        harness.deliver(_reply(n))
    harness.emulator.change_labels(keep, add=("Candidates/Ann Lee",))
    harness.emulator.delete(gone)
    harness.emulator.insert(_reply(50), ["CATEGORY_PROMOTIONS", "SPAM"])  # spam: never fetched
    batch = harness.provider.incremental_sync(cursor)
    assert harness.emulator.api_calls["history.list"] == 4  # 8 records, 2 a page
    got = {m.message_id: m for m in batch.messages}
    assert set(got) == {f"<r{n}@example.com>" for n in (1, 3, 4, 5, 6, 7)}
    assert got["<r1@example.com>"].tags == ("Ann Lee",)
    assert batch.removed == (gone,)
    assert batch.cursor.value == f"{harness.emulator.state.history_id} sam@agency.example"
    harness.emulator.change_labels(keep, remove=("Candidates/Ann Lee",))
    again = harness.provider.incremental_sync(batch.cursor)
    assert [m.tags for m in again.messages] == [()]


def test_reading_or_archiving_fetches_nothing(harness: GmailHarness) -> None:
    read = harness.emulator.insert(_reply(1), ["INBOX", "UNREAD"]).id
    archived = harness.deliver(_reply(2))
    trashed = harness.deliver(_reply(3))
    cursor = harness.provider.full_sync().cursor
    harness.emulator.reset_counts()
    harness.emulator.change_labels(read, remove=("UNREAD",))
    harness.emulator.change_labels(archived, remove=("INBOX",))
    harness.emulator.change_labels(trashed, add=("TRASH",))
    batch = harness.provider.incremental_sync(cursor)
    assert batch.messages == () and batch.removed == (trashed,)
    assert harness.emulator.api_calls == {"history.list": 1}
    harness.emulator.change_labels(trashed, remove=("TRASH",))
    assert [m.id for m in harness.provider.incremental_sync(batch.cursor).messages] == [trashed]


def test_provider_satisfies_the_protocol(harness: GmailHarness) -> None:
    from inbox_watch.provider import MailProvider
    from providers import open_provider

    assert isinstance(harness.provider, MailProvider)
    account = gmail_account(harness.emulator)
    assert isinstance(open_provider(account, RECRUITER_CONFIG), GmailProvider)


def test_idle_poll_is_one_call(harness: GmailHarness) -> None:
    harness.deliver(_reply(1))
    cursor = harness.provider.full_sync().cursor
    harness.emulator.reset_counts()
    idle = harness.provider.incremental_sync(cursor)
    assert idle.messages == () and idle.removed == ()
    assert sum(harness.emulator.http_requests.values()) == 1
    assert harness.emulator.api_calls == {"history.list": 1}


def test_expired_history_is_cursor_expired_then_full_sync_works(harness: GmailHarness) -> None:
    harness.deliver(_reply(1))
    cursor = harness.provider.full_sync().cursor
    harness.deliver(_reply(2))
    harness.emulator.expire_history()
    with pytest.raises(CursorExpired, match="full sync"):
        harness.provider.incremental_sync(cursor)
    full = harness.provider.full_sync()
    assert {m.message_id for m in full.messages} == {"<r1@example.com>", "<r2@example.com>"}
    harness.deliver(_reply(3))
    after = harness.provider.incremental_sync(full.cursor)
    assert [m.message_id for m in after.messages] == ["<r3@example.com>"]


def test_429_then_success_is_retried(harness: GmailHarness) -> None:
    harness.deliver(_reply(1))
    harness.emulator.fail_next(429, path_contains="/profile", retry_after="1")
    harness.emulator.fail_next(429, path_contains="/messages/", inside_batch=True)
    harness.emulator.fail_next(503, path_contains="/batch/")
    batch = harness.provider.full_sync()
    assert [m.message_id for m in batch.messages] == ["<r1@example.com>"]
    assert harness.emulator.failures == []
    assert harness.emulator.http_requests["/gmail/v1/users/me/profile"] == 2


def test_rate_limit_that_never_ends_is_rate_limited(harness: GmailHarness) -> None:
    harness.emulator.fail_next(429, path_contains="/profile", retry_after="7", times=10)
    with pytest.raises(RateLimited) as raised:
        harness.provider.full_sync()
    assert raised.value.retry_after == 7
    assert "\n" not in str(raised.value)


def test_send_is_not_repeated_after_a_server_error(harness: GmailHarness) -> None:
    harness.emulator.fail_next(500, path_contains="/messages/send")
    with pytest.raises(SendOutcomeUnknown, match="HTTP 500"):
        harness.provider.send(ProviderContract()._outgoing("<x1@agency.example>"))
    assert harness.emulator.http_requests["/gmail/v1/users/me/messages/send"] == 1  # no blind retry


def test_a_send_gmail_refuses_as_invalid_fails_at_once_and_is_never_retried(
    harness: GmailHarness, tmp_path: Path
) -> None:
    store = Store(tmp_path / "store.json")
    now = datetime.now(UTC)
    queue_chaser(store, chaser_message("<x400@agency.example>"), now)
    harness.emulator.fail_next(400, path_contains="/messages/send")

    [first] = outbox.drain(store, lambda _name: harness.provider, now, immediate=True)

    assert first.state is ActionState.FAILED and first.send_started_at is None
    assert "Gmail messages.send: HTTP 400" in first.error and first.error.endswith("it will not be tried again")
    assert outbox.drain(store, lambda _name: harness.provider, now + timedelta(minutes=5)) == []
    assert harness.emulator.http_requests["/gmail/v1/users/me/messages/send"] == 1
    assert _copies_in_sent(harness, "<x400@agency.example>") == 0


def _copies_in_sent(harness: GmailHarness, message_id: str) -> int:
    return sum(1 for raw in harness.sent() if f"Message-ID: {message_id}".encode() in raw)


def test_a_send_whose_answer_is_lost_goes_out_once(harness: GmailHarness) -> None:
    # Gmail sends the message, then the connection closes before the answer: httplib2 on its
    # own would take that for a stale connection and post the message a second time.
    harness.emulator.drop_next_answer("/messages/send")
    with pytest.raises(SendOutcomeUnknown, match="closed before the server answered"):
        harness.provider.send(ProviderContract()._outgoing("<x2@agency.example>"))
    assert _copies_in_sent(harness, "<x2@agency.example>") == 1
    # The provider is still usable: the next send goes out normally.
    receipt = harness.provider.send(ProviderContract()._outgoing("<x3@agency.example>"))
    assert harness.provider.find_sent("<x3@agency.example>") == receipt.provider_id


def test_outbox_finds_a_send_with_a_lost_answer_in_sent_and_never_repeats_it(
    harness: GmailHarness, tmp_path: Path
) -> None:
    store = Store(tmp_path / "store.json")
    now = datetime.now(UTC)
    queue_chaser(store, chaser_message("<x4@agency.example>"), now)
    harness.emulator.drop_next_answer("/messages/send")
    [first] = outbox.drain(store, lambda _name: harness.provider, now, immediate=True)
    assert first.state is ActionState.QUEUED
    assert outbox.outcome(first).startswith("chaser for Jane Doe may have been sent (Gmail messages.send: ")

    [second] = outbox.drain(store, lambda _name: harness.provider, now + timedelta(minutes=5))

    assert second.state is ActionState.DONE
    assert _copies_in_sent(harness, "<x4@agency.example>") == 1


def test_drafts_and_sends_are_threaded(harness: GmailHarness) -> None:
    original = harness.deliver(make_raw(subject="Interview slots", message_id="<c1@agency.example>"), folder="sent")
    thread_id = harness.emulator.state.messages[original].thread_id
    outgoing = ProviderContract()._outgoing("<d9@agency.example>")
    draft_id = harness.provider.save_draft(outgoing)  # threadId looked up from In-Reply-To
    draft = harness.emulator.state.messages[harness.emulator.state.drafts[draft_id]]
    assert draft.thread_id == thread_id and draft.label_ids == ["DRAFT"]
    assert b"In-Reply-To: <c1@agency.example>" in draft.raw and b"References: <c1@agency.example>" in draft.raw
    sent_id = harness.provider.send(
        OutgoingMessage(**{**outgoing.to_dict(), "message_id": "<s9@agency.example>", "thread_id": thread_id})
    ).provider_id
    sent = harness.emulator.state.messages[sent_id]
    assert sent.thread_id == thread_id and "SENT" in sent.label_ids
    assert harness.provider.find_sent("<s9@agency.example>") == sent_id
    assert harness.provider.find_sent("<d9@agency.example>") is None  # a draft is not sent


def test_401_is_auth_error_and_token_never_leaks(
    emulator: GmailEmulator, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    secret = "ya29.revoked-token-DO-NOT-LOG-42"
    monkeypatch.setenv(TOKEN_ENV, secret)
    caplog.set_level(logging.DEBUG)
    gmail = GmailProvider(gmail_account(emulator), RECRUITER_CONFIG)
    with pytest.raises(AuthError) as raised:
        gmail.full_sync()
    assert TOKEN_ENV in str(raised.value) and "\n" not in str(raised.value)
    assert secret not in str(raised.value) and secret not in repr(raised.value.__cause__)
    assert secret not in caplog.text


def test_missing_token_and_unreachable_server(emulator: GmailEmulator, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(TOKEN_ENV, raising=False)
    with pytest.raises(AuthError, match=TOKEN_ENV):
        GmailProvider(gmail_account(emulator), RECRUITER_CONFIG).full_sync()
    monkeypatch.setenv(TOKEN_ENV, "x")
    dead = GmailProvider(gmail_account(emulator, api_base_url="http://127.0.0.1:9/"), RECRUITER_CONFIG)
    with pytest.raises(ConnectionFailed, match="cannot reach Gmail"):
        dead.incremental_sync(Cursor("work", "5"))


def test_importing_the_package_does_not_import_google() -> None:
    import subprocess
    import sys

    code = "import sys, providers.gmail; print(any(m.startswith('google') for m in sys.modules))"
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONPATH": os.getcwd()},
    )
    assert out.stdout.strip() == "False"


# -- sign-in --------------------------------------------------------------------------------


@pytest.fixture
def oauth_account(emulator: GmailEmulator, tmp_path, monkeypatch: pytest.MonkeyPatch) -> AccountConfig:
    secrets = tmp_path / "client.json"
    secrets.write_text(
        json.dumps(
            {
                "installed": {
                    "client_id": "123.apps.googleusercontent.com",
                    "client_secret": "client-secret",
                    "auth_uri": emulator.base_url + "auth",
                    "token_uri": emulator.base_url + "token",
                    "redirect_uris": ["http://localhost"],
                }
            }
        )
    )
    monkeypatch.setenv("INBOX_WATCH_SECRETS_FILE", str(tmp_path / "secrets.json"))
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")  # the emulated token endpoint is http
    return gmail_account(emulator, access_token_env="", client_secrets_file=str(secrets))


def test_no_browser_sign_in_stores_grant_privately_and_sync_uses_it(
    emulator: GmailEmulator, oauth_account: AccountConfig, tmp_path
) -> None:
    emulator.token_grants["code-123"] = "1//refresh-abc"
    printed: list[str] = []

    def paste(prompt: str) -> str:
        url = next(line for line in printed if line.startswith(emulator.base_url + "auth"))
        query = urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)
        assert set(query["scope"][0].split()) == {
            "https://www.googleapis.com/auth/gmail.readonly",
            "https://www.googleapis.com/auth/gmail.compose",
        }
        assert query["access_type"] == ["offline"] and "code_challenge" in query
        return f"{query['redirect_uri'][0]}?state={query['state'][0]}&code=code-123&scope=x"

    where = authenticate(oauth_account, no_browser=True, echo=printed.append, read=paste)
    secrets_file = tmp_path / "secrets.json"
    assert where == str(secrets_file)
    assert stat.S_IMODE(os.stat(secrets_file).st_mode) == 0o600
    grant = json.loads(json.loads(secrets_file.read_text())["gmail:work"])
    assert grant["refresh_token"] == "1//refresh-abc" and "access_token" not in grant
    assert emulator.token_requests[0]["code_verifier"]  # PKCE
    gmail = GmailProvider(oauth_account, RECRUITER_CONFIG)
    assert gmail.incremental_sync(Cursor("work", str(emulator.state.history_id))).messages == ()
    assert emulator.token_requests[-1]["grant_type"] == "refresh_token"
    emulator.refresh_tokens.clear()  # the recruiter revoked access
    with pytest.raises(AuthError, match="run `inbox-watch auth work` again") as raised:
        GmailProvider(oauth_account, RECRUITER_CONFIG).full_sync()
    assert "refresh-abc" not in str(raised.value) and "client-secret" not in str(raised.value)


def test_loopback_sign_in(
    emulator: GmailEmulator, oauth_account: AccountConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    emulator.token_grants["code-456"] = "1//refresh-def"

    class Browser:  # plays Google's consent page: redirects to the loopback server with a code
        def open(self, url: str, new: int = 0, autoraise: bool = True) -> bool:
            query = urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)
            target = f"{query['redirect_uri'][0]}?state={query['state'][0]}&code=code-456"
            threading.Thread(target=lambda: urllib.request.urlopen(target, timeout=5).read()).start()
            return True

    monkeypatch.setattr("webbrowser.get", lambda using=None: Browser())
    authenticate(oauth_account, echo=lambda _line: None)
    from inbox_watch.secrets import get_secret

    assert json.loads(get_secret("gmail:work") or "{}")["refresh_token"] == "1//refresh-def"


def test_sign_in_refused_or_unconfigured(emulator: GmailEmulator, oauth_account: AccountConfig) -> None:
    from inbox_watch.errors import ConfigError

    with pytest.raises(AuthError, match="access_denied"):
        authenticate(
            oauth_account,
            no_browser=True,
            echo=lambda _l: None,
            read=lambda _p: "http://localhost:53682/?error=access_denied",
        )
    with pytest.raises(ConfigError, match="client_id"):
        authenticate(gmail_account(emulator, access_token_env=""), no_browser=True)


def test_mail_in_odd_charsets_is_read_and_stored(harness: GmailHarness, tmp_path: Path) -> None:
    """``charset=idna`` used to raise out of the parser; ``unicode_escape`` gave a lone surrogate
    that the store could not write."""
    from inbox_watch.store import Store

    def raw(message_id: str, subject: str, charset: str, body: bytes) -> bytes:
        return (
            f"From: {CANDIDATE}\r\nTo: {RECRUITER}\r\nSubject: {subject}\r\n"
            f"Date: Mon, 23 Nov 2026 10:00:00 +0000\r\nMessage-ID: {message_id}\r\n"
            f"Content-Type: text/plain; charset={charset}\r\n\r\n"
        ).encode() + body

    harness.deliver(raw("<idna@example.com>", "Slots", "idna", b"Caf\xc3\xa9 at 10?"))
    harness.deliver(
        raw("<esc@example.com>", "=?unicode_escape?Q?Re:_Slots_=5Cud800?=", "unicode_escape", b"Yes \\ud800")
    )
    batch = harness.provider.full_sync()
    found = {m.message_id: m for m in batch.messages}
    assert found["<idna@example.com>"].text == "Café at 10?"
    assert (found["<esc@example.com>"].subject, found["<esc@example.com>"].text) == ("Re: Slots \\ud800", "Yes \\ud800")
    Store(tmp_path / "store.json").apply_sync(batch, at=datetime.now(UTC))
    assert sorted(m.message_id for m in Store(tmp_path / "store.json").messages()) == sorted(found)


def test_a_header_with_an_unpaired_surrogate_keeps_its_text() -> None:
    from providers.gmail.convert import to_mail_message

    resource = json.loads(
        '{"id": "m1", "threadId": "t1", "labelIds": ["INBOX", "L1"], "internalDate": "1795000000000",'
        ' "payload": {"mimeType": "text/plain", "headers": [{"name": "Subject", "value": "Re: Slots \\ud800"},'
        ' {"name": "From", "value": "Jane <jane@example.com>"}], "body": {"data": "VHVlc2RheQ"}}}'
    )
    message = to_mail_message(resource, account="work", label_names={"L1": "Candidates/Jane \udc80"})
    assert (message.subject, message.text, message.tags) == ("Re: Slots \ufffd", "Tuesday", ("Jane \ufffd",))


def test_full_sync_reads_archived_mail_as_incremental_sync_keeps_it(harness: GmailHarness) -> None:
    emulator = harness.emulator
    harness.deliver(make_raw(subject="Slots", message_id="<a1@agency.example>"), folder="sent")
    reply = harness.deliver(
        make_raw(subject="Re: Slots", message_id="<a2@example.com>", sender=CANDIDATE, to=RECRUITER),
        tag="Jane Doe",
    )
    cursor = harness.provider.full_sync().cursor
    emulator.change_labels(reply, remove=("INBOX",))  # the recruiter archives the reply
    filtered = emulator.insert(_reply(3), ["CATEGORY_UPDATES"]).id  # a filter skipped the inbox
    emulator.insert(_reply(4), ["INBOX", "SPAM"])
    emulator.insert(_reply(5), ["TRASH"])
    emulator.insert(_reply(6), ["CHAT"])  # an old Hangouts chat log: not mail
    incremental = harness.provider.incremental_sync(cursor)
    assert [m.id for m in incremental.messages] == [filtered] and incremental.removed == ()

    emulator.reset_counts()
    full = {m.message_id: m for m in harness.provider.full_sync().messages}
    assert set(full) == {"<a1@agency.example>", "<a2@example.com>", "<r3@example.com>"}
    assert full["<a2@example.com>"].tags == ("Jane Doe",)
    assert emulator.api_calls == {"getProfile": 1, "labels.list": 1, "messages.list": 1, "messages.get": 3}


def test_a_draft_whose_answer_is_lost_is_made_once(harness: GmailHarness, tmp_path: Path) -> None:
    from inbox_watch.models import ActionKind, ActionMode

    harness.deliver(make_raw(subject="Interview slots", message_id="<c1@agency.example>"), folder="sent")
    store = Store(tmp_path / "store.json")
    now = datetime.now(UTC)
    message = chaser_message("<d7@agency.example>")
    outbox.enqueue(
        store, kind=ActionKind.CHASER, mode=ActionMode.DRAFT, candidate="Jane Doe", account="work",
        message=message, now=now,
    )  # fmt: skip
    # Gmail makes the draft, then the connection closes before the answer: httplib2 on its own
    # would post it again. The unclear answer is followed by a look-up of the Message-ID, which
    # finds the draft at once: done, and never made twice.
    harness.emulator.drop_next_answer("/drafts")
    [first] = outbox.drain(store, lambda _name: harness.provider, now, immediate=True)

    assert first.state is ActionState.DONE
    assert list(harness.emulator.state.drafts) == [first.provider_id]
    assert harness.emulator.http_requests["/gmail/v1/users/me/drafts"] == 3  # list, create; list
    assert outbox.drain(store, lambda _name: harness.provider, now + timedelta(minutes=5)) == []
    assert len(harness.emulator.state.drafts) == 1


def test_deleted_labels_cost_one_labels_list_and_leave_no_stale_tag(
    harness: GmailHarness, emulator: GmailEmulator
) -> None:
    others = [emulator.insert(_reply(n), ["INBOX", "Newsletters"]).id for n in range(5)]
    tagged = harness.deliver(_reply(9), tag="Jane Doe")
    cursor = harness.provider.full_sync().cursor
    # The user deletes both labels: Gmail takes them off every message, then drops them.
    for message_id in others:
        emulator.change_labels(message_id, remove=("Newsletters",))
    emulator.change_labels(tagged, remove=("Candidates/Jane Doe",))
    for label_id, name in list(emulator.state.labels.items()):
        if name in ("Newsletters", "Candidates/Jane Doe"):
            del emulator.state.labels[label_id]
    for gmail in (harness.provider, GmailProvider(gmail_account(emulator), RECRUITER_CONFIG)):
        emulator.reset_counts()
        batch = gmail.incremental_sync(cursor)
        assert emulator.api_calls["labels.list"] <= 1  # none when the old names are known
        assert {m.id: m.tags for m in batch.messages}[tagged] == ()
        gmail.close()


def test_a_cursor_from_another_mailbox_means_a_full_sync(harness: GmailHarness, emulator: GmailEmulator) -> None:
    harness.deliver(_reply(1))
    cursor = harness.provider.full_sync().cursor
    assert cursor.value == f"{emulator.state.history_id} sam@agency.example"
    # Signed in again under the same account name, as another Gmail user.
    emulator.state.email = "alex@agency.example"
    gmail = GmailProvider(gmail_account(emulator), RECRUITER_CONFIG)
    emulator.reset_counts()
    with pytest.raises(CursorExpired, match="alex@agency.example"):
        gmail.incremental_sync(cursor)
    assert emulator.api_calls == {"getProfile": 1}
    assert gmail.full_sync().cursor.value.endswith(" alex@agency.example")
    # A position stored before the address was kept is used, and gets the address.
    legacy = Cursor("work", cursor.value.split()[0])
    assert gmail.incremental_sync(legacy).cursor.value.endswith(" alex@agency.example")
    gmail.close()
