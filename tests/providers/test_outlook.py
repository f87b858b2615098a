"""The Outlook adapter against a local Microsoft Graph emulator (real HTTP through httpx).

The contract suite runs unchanged; the Outlook-specific tests cover delta paging and rounds,
410 (syncStateNotFound), throttling with Retry-After, createReply / PATCH / send, the cost of an
idle poll, 401, categories and Candidates folders, invitations read from MIME, and the msal
sign-in paths that can run offline (against tests/providers/login_emulator.py).
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from inbox_watch import outbox, retry
from inbox_watch.config import AccountConfig, RecruiterConfig
from inbox_watch.errors import AuthError, CursorExpired, ProviderError, RateLimited
from inbox_watch.models import ActionState, Cursor, OutgoingMessage
from inbox_watch.store import Store
from providers.outlook import OutlookProvider
from tests.providers.contract import CANDIDATE, RECRUITER, ProviderContract, make_raw, queue_chaser
from tests.providers.graph_emulator import GraphEmulator

TOKEN_ENV = "INBOX_WATCH_TEST_GRAPH_TOKEN"


@pytest.fixture(autouse=True)
def _no_sleeping() -> Iterator[None]:
    retry.set_testing(True)
    yield
    retry.set_testing(False)


@pytest.fixture(scope="module")
def server() -> Iterator[GraphEmulator]:
    emulator = GraphEmulator().start()
    yield emulator
    emulator.stop()


@pytest.fixture
def graph(server: GraphEmulator) -> GraphEmulator:
    """A fresh mailbox on the running server (the HTTP server is shared, the state is not)."""
    fresh = GraphEmulator()
    server.__dict__.update({k: v for k, v in fresh.__dict__.items() if not k.startswith("_")})
    return server


class OutlookHarness:
    def __init__(self, graph: GraphEmulator, provider: OutlookProvider) -> None:
        self.graph = graph
        self.provider = provider

    def deliver(self, raw: bytes, *, folder: str = "inbox", tag: str = "") -> None:
        name = {"inbox": "inbox", "sent": "sentitems"}[folder]
        self.graph.deliver_raw(raw, name, categories=[f"Candidates/{tag}"] if tag else [])

    def drafts(self) -> list[bytes]:
        return [self.graph.render_mime(m) for m in self.graph.in_folder("drafts")]

    def sent(self) -> list[bytes]:
        return [self.graph.render_mime(m) for m in self.graph.in_folder("sentitems")]

    def expire_cursor(self) -> None:
        self.graph.expire_delta_tokens()


def make_provider(graph: GraphEmulator, monkeypatch: pytest.MonkeyPatch, **kwargs: object) -> OutlookProvider:
    monkeypatch.setenv(TOKEN_ENV, graph.token)
    account = AccountConfig(name="work", provider="outlook", api_base_url=graph.base_url, access_token_env=TOKEN_ENV)
    return OutlookProvider(account, RecruiterConfig(addresses=(RECRUITER,)), **kwargs)  # type: ignore[arg-type]


@pytest.fixture
def provider(graph: GraphEmulator, monkeypatch: pytest.MonkeyPatch) -> Iterator[OutlookProvider]:
    p = make_provider(graph, monkeypatch, page_size=3)
    yield p
    p.close()


@pytest.fixture
def harness(graph: GraphEmulator, provider: OutlookProvider) -> OutlookHarness:
    return OutlookHarness(graph, provider)


class TestOutlookContract(ProviderContract):
    pass


def _deliver_many(graph: GraphEmulator, n: int, folder: str = "inbox", prefix: str = "m") -> None:
    for i in range(n):
        graph.deliver_raw(
            make_raw(
                subject=f"Note {i}",
                message_id=f"<{prefix}{i}@example.com>",
                sender=CANDIDATE,
                to=RECRUITER,
            ),
            folder,
        )


def test_delta_pages_then_a_second_round(graph: GraphEmulator, provider: OutlookProvider) -> None:
    _deliver_many(graph, 7)
    graph.requests.clear()
    first = provider.full_sync()
    assert len(first.messages) == 7
    # Inbox: 7 messages at 3 a page = 3 delta GETs; Sent Items: 1.
    assert graph.count("GET", "/messages/delta") == 3 + 1
    delta_queries = [q for m, p, q in graph.requests if p.endswith("/messages/delta")]
    assert "%24select=" in delta_queries[0] or "$select=" in delta_queries[0]
    assert "body" in delta_queries[0] and "receivedDateTime" in delta_queries[0]
    assert all("skiptoken" in q for q in delta_queries[1:3])

    victim = next(m.id for m in first.messages if m.message_id == "<m0@example.com>")
    graph.delete(victim)
    _deliver_many(graph, 1, prefix="late")
    second = provider.incremental_sync(first.cursor)
    assert [m.message_id for m in second.messages] == ["<late0@example.com>"]
    assert second.removed == (victim,)
    assert provider.incremental_sync(second.cursor).messages == ()


def an_hour_on(cursor: Cursor) -> Cursor:
    """The cursor as it stands an hour after the folders were last listed."""
    value = json.loads(cursor.value)
    value["listed"] -= 3601
    return Cursor(cursor.account, json.dumps(value))


def test_idle_poll_is_one_get_per_folder_and_the_folders_are_listed_hourly(
    graph: GraphEmulator, provider: OutlookProvider
) -> None:
    candidates = graph.add_folder("Candidates", graph.well_known["msgfolderroot"])
    graph.add_folder("Ann Lee", candidates)
    _deliver_many(graph, 4)
    batch = provider.full_sync()
    graph.requests.clear()
    idle = provider.incremental_sync(batch.cursor)
    assert idle.messages == () and idle.removed == ()
    # Inbox, Sent Items, Candidates/Ann Lee: one delta GET each, nothing else.
    assert len(graph.requests) == 3
    assert all(p.endswith("/messages/delta") and "deltatoken" in q for _m, p, q in graph.requests)
    graph.requests.clear()
    later = provider.incremental_sync(an_hour_on(idle.cursor))
    assert later.messages == ()
    assert len(graph.requests) == 4  # an hour on: the candidate folders are listed once too
    assert graph.requests[0][1].endswith(f"/mailFolders/{candidates}/childFolders")
    graph.requests.clear()
    provider.incremental_sync(later.cursor)
    assert len(graph.requests) == 3  # and not again for another hour


def test_stale_delta_token_is_cursor_expired_then_full_sync(graph: GraphEmulator, provider: OutlookProvider) -> None:
    _deliver_many(graph, 2)
    batch = provider.full_sync()
    graph.expire_delta_tokens()
    with pytest.raises(CursorExpired):
        provider.incremental_sync(batch.cursor)
    fresh = provider.full_sync()
    assert fresh.full and len(fresh.messages) == 2
    assert provider.incremental_sync(fresh.cursor).messages == ()


def test_cursor_from_another_endpoint_is_expired(provider: OutlookProvider) -> None:
    batch = provider.full_sync()
    moved = batch.cursor.value.replace("127.0.0.1", "graph.example.invalid")
    with pytest.raises(CursorExpired):
        provider.incremental_sync(Cursor(provider.account, moved))


def test_throttling_honours_retry_after_then_succeeds(
    graph: GraphEmulator, provider: OutlookProvider, monkeypatch: pytest.MonkeyPatch
) -> None:
    waits: list[float] = []
    monkeypatch.setattr(retry, "_testing", False)
    real_retry = retry.retry

    def recording_retry(call, **kwargs):  # type: ignore[no-untyped-def]
        return real_retry(call, **kwargs, sleep=waits.append)

    monkeypatch.setattr("inbox_watch.send_once.retry", recording_retry)  # the shared policy backs off
    _deliver_many(graph, 1)
    graph.fail_next(429, retry_after="7")
    graph.fail_next(503, retry_after="2", code="ServiceUnavailable", message="busy")
    batch = provider.full_sync()
    assert len(batch.messages) == 1
    assert waits == [7.0, 2.0]


def test_throttling_without_end_is_rate_limited(graph: GraphEmulator, provider: OutlookProvider) -> None:
    graph.fail_next(429, count=10, retry_after="30")
    with pytest.raises(RateLimited) as info:
        provider.full_sync()
    assert info.value.retry_after == 30.0


def test_401_is_auth_error_without_the_token(
    graph: GraphEmulator, provider: OutlookProvider, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(TOKEN_ENV, "revoked-token-value")
    with pytest.raises(AuthError) as info:
        provider.full_sync()
    assert "revoked-token-value" not in str(info.value)
    assert "InvalidAuthenticationToken" in str(info.value)


def test_other_errors_name_graph_code_and_message(graph: GraphEmulator, provider: OutlookProvider) -> None:
    graph.fail_next(400, retry_after=None, code="ErrorInvalidRequest", message="Bad things.")
    with pytest.raises(ProviderError) as info:
        provider.full_sync()
    assert "ErrorInvalidRequest" in str(info.value) and "Bad things." in str(info.value)
    assert graph.token not in str(info.value)


def test_unreachable_graph_is_connection_failed(monkeypatch: pytest.MonkeyPatch) -> None:
    import socket

    from inbox_watch.errors import ConnectionFailed

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setenv(TOKEN_ENV, "x")
    account = AccountConfig(
        name="work",
        provider="outlook",
        access_token_env=TOKEN_ENV,
        api_base_url=f"http://127.0.0.1:{port}/v1.0",
    )
    with pytest.raises(ConnectionFailed):
        OutlookProvider(account, RecruiterConfig()).full_sync()


def test_categories_and_candidate_folders_tag(graph: GraphEmulator, provider: OutlookProvider) -> None:
    candidates = graph.add_folder("Candidates", graph.well_known["msgfolderroot"])
    bo = graph.add_folder("Bo Chen", candidates)
    graph.deliver_raw(make_raw(subject="Slots", message_id="<f1@agency.example>"), bo)
    graph.deliver_raw(
        make_raw(subject="Hi", message_id="<f2@agency.example>"),
        "sentitems",
        categories=["Candidates/Ann Lee", "Red category"],
    )
    batch = provider.full_sync()
    by_id = {m.message_id: m for m in batch.messages}
    assert by_id["<f1@agency.example>"].tags == ("Bo Chen",)
    assert by_id["<f1@agency.example>"].folder == "Candidates/Bo Chen"
    assert by_id["<f2@agency.example>"].tags == ("Ann Lee",)
    folders = provider.folders()
    assert [f.role for f in folders] == ["inbox", "sent", "drafts", "candidate"]
    assert folders[-1].candidate == "Bo Chen"


def test_threading_and_auto_reply_headers(graph: GraphEmulator, provider: OutlookProvider) -> None:
    graph.deliver_raw(make_raw(subject="Slots", message_id="<a1@agency.example>"), "sentitems")
    raw = make_raw(
        subject="Automatic reply: Slots",
        message_id="<a2@example.com>",
        sender=CANDIDATE,
        to=RECRUITER,
        in_reply_to="<a1@agency.example>",
    )
    raw = raw.replace(
        b"MIME-Version",
        b"Auto-Submitted: auto-replied\r\nX-Auto-Response-Suppress: All\r\nMIME-Version",
    )
    graph.deliver_raw(raw)
    by_id = {m.message_id: m for m in provider.full_sync().messages}
    reply = by_id["<a2@example.com>"]
    assert reply.header("auto-submitted") == "auto-replied"
    assert reply.header("x-auto-response-suppress") == "All"
    assert reply.references == ("<a1@agency.example>",)
    assert reply.thread_id and reply.thread_id == by_id["<a1@agency.example>"].thread_id


def test_invitation_is_read_from_mime(graph: GraphEmulator, provider: OutlookProvider) -> None:
    ics = (
        "BEGIN:VCALENDAR\r\nMETHOD:REQUEST\r\nBEGIN:VEVENT\r\nUID:1\r\n"
        "DTSTART:20261201T100000Z\r\nSUMMARY:Interview\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    )
    raw = (
        f"From: {RECRUITER}\r\nTo: {CANDIDATE}\r\nSubject: Interview\r\n"
        "Date: Mon, 23 Nov 2026 10:00:00 +0000\r\nMessage-ID: <inv1@agency.example>\r\n"
        "MIME-Version: 1.0\r\nContent-Type: multipart/alternative; boundary=b\r\n\r\n"
        "--b\r\nContent-Type: text/plain\r\n\r\nInterview on Tuesday\r\n"
        f"--b\r\nContent-Type: text/calendar; method=REQUEST\r\n\r\n{ics}--b--\r\n"
    ).encode()
    graph.deliver_raw(raw, "sentitems")
    graph.requests.clear()
    (invite,) = provider.full_sync().messages
    assert "METHOD:REQUEST" in invite.calendar
    assert invite.thread_id and invite.folder == "Sent Items"
    assert graph.count("GET", "/$value") == 1


def test_html_body_becomes_text(graph: GraphEmulator, provider: OutlookProvider) -> None:
    raw = make_raw(
        subject="Hi",
        message_id="<h1@example.com>",
        sender=CANDIDATE,
        to=RECRUITER,
        body="<p>Tuesday&nbsp;works</p>",
    ).replace(b"text/plain", b"text/html")
    graph.deliver_raw(raw)
    (message,) = provider.full_sync().messages
    assert "Tuesday" in message.text and "<p>" not in message.text


def test_lookback_window_is_a_received_filter(graph: GraphEmulator, provider: OutlookProvider) -> None:
    old = datetime.now(UTC) - timedelta(days=400)
    graph.deliver_raw(make_raw(subject="Old", message_id="<old@example.com>", when=old), received=old)
    graph.deliver_raw(make_raw(subject="New", message_id="<new@example.com>"))
    assert [m.message_id for m in provider.full_sync().messages] == ["<new@example.com>"]


def _outgoing(message_id: str, **kwargs: object) -> OutgoingMessage:
    values: dict[str, object] = dict(
        from_addr=RECRUITER,
        to=(CANDIDATE,),
        subject="Re: Interview slots",
        body="Just checking in.",
        message_id=message_id,
        in_reply_to="<c1@agency.example>",
        references=("<c1@agency.example>",),
    )
    values.update(kwargs)
    return OutgoingMessage(**values)  # type: ignore[arg-type]


def test_create_reply_patch_and_send_in_emulator_state(graph: GraphEmulator, provider: OutlookProvider) -> None:
    original = graph.deliver_raw(make_raw(subject="Interview slots", message_id="<c1@agency.example>"), "sentitems")
    graph.requests.clear()
    draft_id = provider.save_draft(_outgoing("<d9@agency.example>", reply_to_id=original))
    calls = [(m, p.rsplit("/", 1)[-1]) for m, p, _q in graph.requests]
    assert ("POST", "createReply") in calls and ("PATCH", draft_id) in calls
    draft = graph.messages[draft_id]
    assert draft["isDraft"] and draft["internetMessageId"] == "<d9@agency.example>"
    assert draft["body"] == {"contentType": "text", "content": "Just checking in."}
    assert draft["conversationId"] == graph.messages[original]["conversationId"]
    # Saving again finds the draft instead of making a second one.
    assert provider.save_draft(_outgoing("<d9@agency.example>", reply_to_id=original)) == draft_id
    assert len(graph.in_folder("drafts")) == 1

    graph.requests.clear()
    sent_id = provider.send(_outgoing("<d9@agency.example>", reply_to_id=original)).provider_id
    assert graph.in_folder("drafts") == []
    assert ("POST", "send") in [(m, p.rsplit("/", 1)[-1]) for m, p, _q in graph.requests]
    assert ("POST", "createReply") not in [(m, p.rsplit("/", 1)[-1]) for m, p, _q in graph.requests]
    assert graph.messages[sent_id]["internetMessageId"] == "<d9@agency.example>"
    assert provider.find_sent("<d9@agency.example>") == sent_id
    # A retried send finds the sent copy and sends nothing.
    graph.requests.clear()
    assert provider.send(_outgoing("<d9@agency.example>", reply_to_id=original)).provider_id == sent_id
    assert graph.count("POST") == 0


def _queue_chaser(store: Store, message_id: str, now: datetime) -> None:
    queue_chaser(store, _outgoing(message_id), now)


def test_a_send_answered_504_is_not_retried_and_never_goes_out_twice(
    graph: GraphEmulator, provider: OutlookProvider, tmp_path: Path
) -> None:
    # Exchange took the send, but the gateway answered 504; the copy reaches Sent Items later.
    graph.file_sent_later = True
    graph.lose_next_answer("/send")
    store = Store(tmp_path / "store.json")
    now = datetime.now(UTC)
    _queue_chaser(store, "<g504@agency.example>", now)

    [first] = outbox.drain(store, lambda _name: provider, now, immediate=True)

    assert graph.outgoing == ["<g504@agency.example>"]
    assert graph.count("POST", "/send") == 1  # no blind retry
    assert first.state is ActionState.QUEUED and first.send_started_at is not None
    assert outbox.outcome(first) == (
        "chaser for Jane Doe may have been sent (account 'work': Microsoft Graph gave no clear answer when "
        "sending the message (HTTP 504 GatewayTimeout)); it will not be sent again: the next sync looks for it in Sent"
    )
    # The next sync comes before Exchange has filed the copy: it does not send a second one.
    [second] = outbox.drain(store, lambda _name: provider, now + timedelta(minutes=5))
    assert second.state is ActionState.FAILED and "may have gone out" in second.error
    graph.file_sent()
    assert outbox.drain(store, lambda _name: provider, now + timedelta(minutes=10)) == []
    assert graph.outgoing == ["<g504@agency.example>"]
    assert len(graph.in_folder("sentitems")) == 1


def test_a_send_with_a_lost_answer_is_found_in_sent_items_by_the_next_sync(
    graph: GraphEmulator, provider: OutlookProvider, tmp_path: Path
) -> None:
    graph.lose_next_answer("/send", status=503, code="ServiceUnavailable")
    store = Store(tmp_path / "store.json")
    now = datetime.now(UTC)
    _queue_chaser(store, "<g503@agency.example>", now)
    [first] = outbox.drain(store, lambda _name: provider, now, immediate=True)
    assert first.state is ActionState.QUEUED and "HTTP 503" in first.error

    [second] = outbox.drain(store, lambda _name: provider, now + timedelta(minutes=5))

    assert second.state is ActionState.DONE
    assert second.provider_id == graph.in_folder("sentitems")[0]["id"]
    assert graph.outgoing == ["<g503@agency.example>"]


def test_a_throttled_send_is_retried_graph_did_not_take_it(graph: GraphEmulator, provider: OutlookProvider) -> None:
    original = graph.deliver_raw(make_raw(subject="Interview slots", message_id="<c1@agency.example>"), "sentitems")
    provider.save_draft(_outgoing("<t429@agency.example>", reply_to_id=original))
    graph.fail_next(429, count=2, path_ends_with="/send")  # refused unread, twice
    receipt = provider.send(_outgoing("<t429@agency.example>", reply_to_id=original))
    assert graph.count("POST", "/send") == 3
    assert graph.outgoing == ["<t429@agency.example>"]
    assert receipt.provider_id == graph.in_folder("sentitems")[-1]["id"]


def test_a_send_graph_refuses_as_invalid_fails_at_once_and_is_never_retried(
    graph: GraphEmulator, provider: OutlookProvider, tmp_path: Path
) -> None:
    store = Store(tmp_path / "store.json")
    now = datetime.now(UTC)
    _queue_chaser(store, "<bad400@agency.example>", now)
    graph.fail_next(
        400,
        retry_after=None,
        code="ErrorInvalidRecipients",
        message="At least one recipient is not valid.",
        path_ends_with="/send",
    )

    [first] = outbox.drain(store, lambda _name: provider, now, immediate=True)

    assert first.state is ActionState.FAILED and first.send_started_at is None
    assert "HTTP 400 ErrorInvalidRecipients: At least one recipient is not valid." in first.error
    assert first.error.endswith("it will not be tried again") and "\n" not in first.error
    assert outbox.drain(store, lambda _name: provider, now + timedelta(minutes=5)) == []
    assert graph.count("POST", "/send") == 1 and graph.outgoing == []


def test_an_account_with_a_from_address_sends_from_it(graph: GraphEmulator, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(TOKEN_ENV, graph.token)
    account = AccountConfig(
        name="work",
        provider="outlook",
        api_base_url=graph.base_url,
        access_token_env=TOKEN_ENV,
        from_address="bookings@agency.example",
    )
    provider = OutlookProvider(account, RecruiterConfig(addresses=(RECRUITER,)))
    try:
        original = graph.deliver_raw(make_raw(subject="Interview slots", message_id="<c1@agency.example>"), "sentitems")
        message = _outgoing(
            "<from1@agency.example>", reply_to_id=original, from_addr="bookings@agency.example", from_name="Sam Carter"
        )
        sent_id = provider.send(message).provider_id
    finally:
        provider.close()
    assert graph.messages[sent_id]["from"]["emailAddress"]["address"] == "bookings@agency.example"


def test_draft_without_original_is_created_from_mime(graph: GraphEmulator, provider: OutlookProvider) -> None:
    draft_id = provider.save_draft(
        _outgoing("<d2@agency.example>", in_reply_to="<gone@x.example>", references=("<gone@x.example>",))
    )
    raw = graph.render_mime(graph.messages[draft_id])
    assert b"Message-ID: <d2@agency.example>" in raw
    assert b"In-Reply-To: <gone@x.example>" in raw


def test_importing_the_adapter_does_not_import_msal() -> None:
    code = "import sys, providers.outlook; assert 'msal' not in sys.modules, 'msal imported'"
    root = Path(__file__).resolve().parents[2]
    subprocess.run(
        [sys.executable, "-c", code],
        check=True,
        cwd=root,
        env={**os.environ, "PYTHONPATH": str(root)},
    )


def test_capabilities() -> None:
    from inbox_watch.provider import Capability

    assert OutlookProvider.capabilities == frozenset(
        {
            Capability.INCREMENTAL,
            Capability.DRAFTS,
            Capability.SEND,
            Capability.TAGS,
            Capability.THREAD_IDS,
            Capability.TWO_STEP,
        }
    )


def test_factory_builds_outlook(monkeypatch: pytest.MonkeyPatch) -> None:
    from providers import open_provider

    monkeypatch.setenv(TOKEN_ENV, "x")
    account = AccountConfig(name="o", provider="outlook", access_token_env=TOKEN_ENV)
    provider = open_provider(account, RecruiterConfig())
    assert isinstance(provider, OutlookProvider)
    provider.close()
    provider.close()


# -- msal sign-in, offline against a local HTTPS authority -----------------------------------

CLIENT_ID = "11111111-2222-3333-4444-555555555555"


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    from tests.providers.certificates import make_certificate

    return make_certificate(tmp_path_factory.mktemp("tls"))


@pytest.fixture
def login(certificate: tuple[Path, Path], graph: GraphEmulator, monkeypatch: pytest.MonkeyPatch) -> Iterator[object]:
    from tests.providers.login_emulator import LoginEmulator

    # requests (inside msal) lets these override msal's verify=: point them at our certificate.
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(certificate[0]))
    monkeypatch.setenv("CURL_CA_BUNDLE", str(certificate[0]))
    monkeypatch.setenv("NO_PROXY", "localhost,127.0.0.1")
    emulator = LoginEmulator(*certificate, client_id=CLIENT_ID).start()
    emulator.on_token = graph.tokens.add
    yield emulator
    emulator.stop()


def _msal_account(graph: GraphEmulator, login: object) -> AccountConfig:
    return AccountConfig(
        name="work",
        provider="outlook",
        api_base_url=graph.base_url,
        client_id=CLIENT_ID,
        tenant="organizations",
        authority_url=login.base_url,  # type: ignore[attr-defined]
    )


def test_device_flow_end_to_end_then_silent_from_cache(graph: GraphEmulator, login: object, tmp_path: Path) -> None:
    from providers.outlook import authenticate

    cache = tmp_path / "data" / "outlook-work.msal-cache.json"
    shown: list[str] = []
    account = _msal_account(graph, login)
    summary = authenticate(account, no_browser=True, echo=shown.append, cache_path=cache)
    assert "sam@agency.example" in summary and str(cache) in summary
    assert any("ABCD-EFGH" in line for line in shown)
    assert login.token_requests("device_code") == 2  # type: ignore[attr-defined]  # pending, then ok
    assert stat.S_IMODE(cache.stat().st_mode) == 0o600
    assert "refresh_token" not in summary

    before = login.token_requests()  # type: ignore[attr-defined]
    provider = OutlookProvider(account, RecruiterConfig(), token_cache_path=cache)
    graph.deliver_raw(make_raw(subject="Slots", message_id="<x1@agency.example>"), "sentitems")
    assert len(provider.full_sync().messages) == 1
    assert login.token_requests() == before  # type: ignore[attr-defined]  # from the cache
    provider.close()


def test_expired_token_is_refreshed_and_cache_saved(graph: GraphEmulator, login: object, tmp_path: Path) -> None:
    from providers.outlook import authenticate

    cache = tmp_path / "cache.json"
    login.expires_in = 60  # type: ignore[attr-defined]  # msal refreshes within 5 minutes of expiry
    account = _msal_account(graph, login)
    authenticate(account, no_browser=True, echo=lambda _line: None, cache_path=cache)
    saved = cache.read_text()
    provider = OutlookProvider(account, RecruiterConfig(), token_cache_path=cache)
    provider.full_sync()
    assert login.token_requests("refresh_token") == 1  # type: ignore[attr-defined]
    assert cache.read_text() != saved  # the new refresh token was written back
    assert stat.S_IMODE(cache.stat().st_mode) == 0o600
    provider.close()


def test_failed_refresh_is_auth_error_naming_the_fix(graph: GraphEmulator, login: object, tmp_path: Path) -> None:
    from providers.outlook import authenticate

    cache = tmp_path / "cache.json"
    login.expires_in = 60  # type: ignore[attr-defined]
    account = _msal_account(graph, login)
    authenticate(account, no_browser=True, echo=lambda _line: None, cache_path=cache)
    login.revoke_refresh_tokens()  # type: ignore[attr-defined]
    provider = OutlookProvider(account, RecruiterConfig(), token_cache_path=cache)
    with pytest.raises(AuthError) as info:
        provider.full_sync()
    message = str(info.value)
    assert "inbox-watch auth work" in message and "invalid_grant" in message
    assert "\n" not in message


def test_unreachable_authority_is_auth_error(graph: GraphEmulator, login: object, tmp_path: Path) -> None:
    from providers.outlook import authenticate

    cache = tmp_path / "cache.json"
    login.expires_in = 60  # type: ignore[attr-defined]
    account = _msal_account(graph, login)
    authenticate(account, no_browser=True, echo=lambda _line: None, cache_path=cache)
    login.stop()  # type: ignore[attr-defined]
    provider = OutlookProvider(account, RecruiterConfig(), token_cache_path=cache)
    with pytest.raises(AuthError) as info:
        provider.full_sync()
    assert "inbox-watch auth work" in str(info.value)


def test_never_signed_in_is_auth_error(graph: GraphEmulator, tmp_path: Path) -> None:
    account = AccountConfig(name="work", provider="outlook", api_base_url=graph.base_url, client_id=CLIENT_ID)
    provider = OutlookProvider(account, RecruiterConfig(), token_cache_path=tmp_path / "none.json")
    with pytest.raises(AuthError, match="inbox-watch auth work"):
        provider.full_sync()
    assert graph.requests == []


def test_deleted_candidate_folder_is_cursor_expired(graph: GraphEmulator, provider: OutlookProvider) -> None:
    candidates = graph.add_folder("Candidates", graph.well_known["msgfolderroot"])
    ann = graph.add_folder("Ann Lee", candidates)
    graph.deliver_raw(make_raw(subject="Slots", message_id="<g1@agency.example>"), ann)
    batch = provider.full_sync()
    graph.remove_folder(ann)
    with pytest.raises(CursorExpired):
        provider.incremental_sync(batch.cursor)
    assert provider.full_sync().messages == ()


def test_access_denied_is_auth_error(graph: GraphEmulator, provider: OutlookProvider) -> None:
    graph.fail_next(403, retry_after=None, code="ErrorAccessDenied", message="Access is denied.")
    with pytest.raises(AuthError, match="consent"):
        provider.full_sync()


def test_stale_skip_token_in_a_first_round_restarts_it(graph: GraphEmulator, provider: OutlookProvider) -> None:
    _deliver_many(graph, 5)
    original = graph._delta
    calls = {"n": 0}

    def flaky(folder_id, query, prefer):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        if calls["n"] == 2:  # the first nextLink
            return 410, {}, b'{"error": {"code": "SyncStateNotFound", "message": "gone"}}'
        return original(folder_id, query, prefer)

    graph._delta = flaky  # type: ignore[method-assign]
    try:
        batch = provider.full_sync()
    finally:
        del graph._delta
    assert len(batch.messages) == 5
    assert len({m.id for m in batch.messages}) == 5


def test_empty_token_env_is_auth_error(graph: GraphEmulator, monkeypatch: pytest.MonkeyPatch) -> None:
    provider = make_provider(graph, monkeypatch)
    monkeypatch.setenv(TOKEN_ENV, "")
    with pytest.raises(AuthError, match=TOKEN_ENV):
        provider.full_sync()


def test_delivery_report_is_read_from_mime(graph: GraphEmulator, provider: OutlookProvider) -> None:
    raw = (
        b"From: Microsoft Outlook <postmaster@agency.example>\r\nTo: sam@agency.example\r\n"
        b"Subject: Undeliverable: Interview slots\r\nDate: Mon, 23 Nov 2026 10:00:00 +0000\r\n"
        b"Message-ID: <ndr1@agency.example>\r\nMIME-Version: 1.0\r\n"
        b"Content-Type: multipart/report; report-type=delivery-status; boundary=r\r\n\r\n"
        b"--r\r\nContent-Type: text/plain\r\n\r\nDelivery has failed.\r\n"
        b"--r\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; x\r\n\r\n"
        b"Final-Recipient: rfc822; gone@example.com\r\nAction: failed\r\nStatus: 5.1.1\r\n\r\n"
        b"--r\r\nContent-Type: text/rfc822-headers\r\n\r\nMessage-ID: <c1@agency.example>\r\n"
        b"--r--\r\n"
    )
    graph.deliver_raw(raw)
    graph.requests.clear()
    (report,) = provider.full_sync().messages
    assert graph.count("GET", "/$value") == 1
    # The MIME went through inbox_watch.mime.parse_bytes: the original Message-ID is read.
    # (failed_recipients stays empty here: mime.py skips message/delivery-status parts, which
    # compat32 parses as multipart -- a core issue reported, not worked around in the adapter.)
    assert report.original_message_id == "<c1@agency.example>"
    assert report.from_addr == "postmaster@agency.example"


def test_links_to_another_host_are_refused(graph: GraphEmulator, provider: OutlookProvider) -> None:
    _deliver_many(graph, 4)
    original = graph._delta

    def hijacked(folder_id, query, prefer):  # type: ignore[no-untyped-def]
        status, headers, body = original(folder_id, query, prefer)
        return status, headers, body.replace(b"http://127.0.0.1", b"http://evil.example")

    graph._delta = hijacked  # type: ignore[method-assign]
    try:
        with pytest.raises(ProviderError, match="another host"):
            provider.full_sync()
    finally:
        del graph._delta
    assert not any("evil" in p for _m, p, _q in graph.requests)


def test_candidate_folders_beyond_one_page(graph: GraphEmulator, provider: OutlookProvider) -> None:
    candidates = graph.add_folder("Candidates", graph.well_known["inbox"])  # under the Inbox
    for i in range(101):
        graph.add_folder(f"Person {i:03d}", candidates)
    names = [f.candidate for f in provider.folders() if f.role == "candidate"]
    assert len(names) == 101 and names[-1] == "Person 100"
    assert graph.count("GET", "/childFolders") == 3  # Candidates lookup under Inbox + 2 pages


def test_text_with_an_unpaired_surrogate_is_stored_readable(
    graph: GraphEmulator, provider: OutlookProvider, tmp_path: Path
) -> None:
    """Exchange keeps text as UTF-16, which may hold an unpaired surrogate; Graph's JSON spells it
    ``\\ud800``. It becomes U+FFFD, so the store can write the message."""
    from inbox_watch.store import Store

    message_id = graph.deliver_raw(
        make_raw(subject="Slots", message_id="<u1@example.com>", sender=CANDIDATE, to=RECRUITER, body="Tuesday")
    )
    graph.messages[message_id]["subject"] = "Re: Slots \ud800"
    graph.messages[message_id]["body"] = {"contentType": "text", "content": "Tuesday \udc80 works"}
    graph.messages[message_id]["categories"] = ["Candidates/Jane \U0001f600"]  # a paired one is kept
    batch = provider.full_sync()
    [message] = batch.messages
    assert message.subject == "Re: Slots \ufffd" and message.text == "Tuesday \ufffd works"
    assert message.tags == ("Jane 😀",)
    store = Store(tmp_path / "store.json")
    store.apply_sync(batch, at=datetime.now(UTC))
    assert Store(tmp_path / "store.json").messages() == [message]


# -- moves between folders, candidate folders listed on every pass -----------------------------


def _reply(graph: GraphEmulator, folder: str = "inbox", message_id: str = "<r1@example.com>") -> str:
    raw = make_raw(subject="Re: Interview", message_id=message_id, sender=CANDIDATE, to=RECRUITER)
    return graph.deliver_raw(raw, folder)


def _candidates(graph: GraphEmulator) -> str:
    return graph.add_folder("Candidates", graph.well_known["msgfolderroot"])


def test_a_reply_filed_mid_pass_is_not_removed_next_pass(
    graph: GraphEmulator, provider: OutlookProvider, monkeypatch: pytest.MonkeyPatch
) -> None:
    jane = graph.add_folder("Jane Doe", _candidates(graph))
    reply = _reply(graph)
    first = provider.full_sync()
    original = OutlookProvider._delta_round

    def filed_after_the_inbox_round(self, folder, progress, done):  # type: ignore[no-untyped-def]
        out = original(self, folder, progress, done)
        if folder.role == "inbox" and graph.messages[reply]["parentFolderId"] != jane:
            graph.move(reply, jane)  # the recruiter files the reply while the pass runs
        return out

    monkeypatch.setattr(OutlookProvider, "_delta_round", filed_after_the_inbox_round)
    second = provider.incremental_sync(first.cursor)
    assert [(m.id, m.folder) for m in second.messages] == [(reply, "Candidates/Jane Doe")]
    monkeypatch.setattr(OutlookProvider, "_delta_round", original)
    # Now Inbox reports it @removed and Candidates/Jane Doe reports nothing: it is still there.
    third = provider.incremental_sync(second.cursor)
    assert third.removed == ()
    assert [(m.id, m.folder, m.tags) for m in third.messages] == [(reply, "Candidates/Jane Doe", ("Jane Doe",))]
    assert provider.incremental_sync(third.cursor).messages == ()


def test_a_message_moved_out_of_every_watched_folder_is_removed(
    graph: GraphEmulator, provider: OutlookProvider
) -> None:
    reply = _reply(graph)
    first = provider.full_sync()
    graph.move(reply, "deleteditems")
    assert provider.incremental_sync(first.cursor).removed == (reply,)


def test_a_reply_filed_into_a_new_candidate_folder_is_kept(graph: GraphEmulator, provider: OutlookProvider) -> None:
    candidates = _candidates(graph)
    reply = _reply(graph)
    first = provider.full_sync()
    jane = graph.add_folder("Jane Doe", candidates)
    graph.move(reply, jane)
    second = provider.incremental_sync(first.cursor)
    assert second.removed == ()
    assert [(m.id, m.folder, m.tags) for m in second.messages] == [(reply, "Candidates/Jane Doe", ("Jane Doe",))]
    assert [f.name for f in provider.folders()][-1] == "Candidates/Jane Doe"
    assert provider.incremental_sync(second.cursor).messages == ()


def test_a_candidates_folder_made_after_the_full_sync_is_found(graph: GraphEmulator, provider: OutlookProvider) -> None:
    reply = _reply(graph)
    first = provider.full_sync()
    jane = graph.add_folder("Jane Doe", _candidates(graph))
    graph.move(reply, jane)
    second = provider.incremental_sync(first.cursor)
    assert second.removed == () and [m.folder for m in second.messages] == ["Candidates/Jane Doe"]


def test_a_renamed_candidate_folder_is_cursor_expired_then_retagged(
    graph: GraphEmulator, provider: OutlookProvider
) -> None:
    jane = graph.add_folder("Jane Doe", _candidates(graph))
    _reply(graph, jane)
    first = provider.full_sync()
    graph.folders[jane]["displayName"] = "Jane Smith"
    with pytest.raises(CursorExpired, match="renamed to Candidates/Jane Smith"):
        provider.incremental_sync(an_hour_on(first.cursor))  # seen at the hourly listing
    assert [m.tags for m in provider.full_sync().messages] == [("Jane Smith",)]


def test_a_candidate_folder_moved_out_of_candidates_is_cursor_expired(
    graph: GraphEmulator, provider: OutlookProvider
) -> None:
    jane = graph.add_folder("Jane Doe", _candidates(graph))
    _reply(graph, jane)
    first = provider.full_sync()
    graph.folders[jane]["parentFolderId"] = graph.well_known["msgfolderroot"]
    with pytest.raises(CursorExpired, match="moved out of Candidates"):
        provider.incremental_sync(an_hour_on(first.cursor))  # seen at the hourly listing
    assert provider.full_sync().messages == ()


@pytest.mark.parametrize("code", ["syncStateNotFound", "resyncRequired", "SyncStateInvalid"])
def test_a_400_resync_code_is_cursor_expired(graph: GraphEmulator, provider: OutlookProvider, code: str) -> None:
    graph.expired_answer = (400, code)
    _deliver_many(graph, 2)
    batch = provider.full_sync()
    graph.expire_delta_tokens()
    with pytest.raises(CursorExpired, match=code):
        provider.incremental_sync(batch.cursor)


# -- drafts: createReply and POST me/messages are never repeated -----------------------------


def test_a_lost_create_reply_answer_leaves_one_finished_draft(graph: GraphEmulator, provider: OutlookProvider) -> None:
    original = graph.deliver_raw(make_raw(subject="Interview slots", message_id="<c1@agency.example>"), "sentitems")
    graph.lose_next_answer("createReply", 504)
    draft_id = provider.save_draft(_outgoing("<d1@agency.example>"))
    drafts = graph.in_folder("drafts")
    assert [d["id"] for d in drafts] == [draft_id]
    assert drafts[0]["internetMessageId"] == "<d1@agency.example>"
    assert drafts[0]["body"] == {"contentType": "text", "content": "Just checking in."}
    assert drafts[0]["conversationId"] == graph.messages[original]["conversationId"]
    assert graph.count("POST", "createReply") == 1


def test_a_lost_mime_draft_answer_leaves_one_draft(graph: GraphEmulator, provider: OutlookProvider) -> None:
    graph.lose_next_answer("/me/messages", 502)
    draft_id = provider.save_draft(_outgoing("<d2@agency.example>", in_reply_to=""))
    assert [d["id"] for d in graph.in_folder("drafts")] == [draft_id]
    assert graph.count("POST", "/me/messages") == 1


def test_a_failed_patch_deletes_the_half_made_draft(
    graph: GraphEmulator, provider: OutlookProvider, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.providers.graph_emulator import GraphError

    graph.deliver_raw(make_raw(subject="Interview slots", message_id="<c1@agency.example>"), "sentitems")

    def refuse(message, body):  # type: ignore[no-untyped-def]
        raise GraphError(400, "ErrorInvalidRequest", "The request is invalid.")

    monkeypatch.setattr(graph, "_patch", refuse)
    with pytest.raises(ProviderError, match="ErrorInvalidRequest"):
        provider.save_draft(_outgoing("<d3@agency.example>"))
    assert graph.in_folder("drafts") == []
    assert graph.count("DELETE") == 1


def test_an_unclear_create_reply_during_send_is_not_an_unclear_send(
    graph: GraphEmulator, provider: OutlookProvider
) -> None:
    from inbox_watch.errors import SendOutcomeUnknown

    graph.deliver_raw(make_raw(subject="Interview slots", message_id="<c1@agency.example>"), "sentitems")
    graph.fail_next(503, retry_after=None, code="ServiceUnavailable", path_ends_with="createReply")
    with pytest.raises(ProviderError) as info:
        provider.send(_outgoing("<d4@agency.example>"))
    assert not isinstance(info.value, SendOutcomeUnknown)
    assert graph.outgoing == [] and graph.in_folder("drafts") == []
    provider.send(_outgoing("<d4@agency.example>"))
    assert graph.outgoing == ["<d4@agency.example>"]


# -- msal: the user of the last sign-in; a refused token is renewed once ----------------------


def test_signing_in_again_as_another_user_replaces_the_first(
    graph: GraphEmulator, login: object, tmp_path: Path
) -> None:
    from providers.outlook import authenticate
    from providers.outlook.auth import MsalTokens

    cache = tmp_path / "cache.json"
    account = _msal_account(graph, login)
    authenticate(account, no_browser=True, echo=lambda _line: None, cache_path=cache)
    login.user_oid = "00000000-0000-0000-aaaa-000000000002"  # type: ignore[attr-defined]
    login.username = "recruiting@agency.example"  # type: ignore[attr-defined]
    login.pending_polls = 0  # type: ignore[attr-defined]
    summary = authenticate(account, no_browser=True, echo=lambda _line: None, cache_path=cache)
    assert "recruiting@agency.example" in summary
    token = MsalTokens(account, cache)()
    assert login.issued[token] == "recruiting@agency.example"  # type: ignore[attr-defined]


def test_a_token_refused_mid_sync_is_renewed_once(graph: GraphEmulator, login: object, tmp_path: Path) -> None:
    from providers.outlook import authenticate

    cache = tmp_path / "cache.json"
    account = _msal_account(graph, login)
    authenticate(account, no_browser=True, echo=lambda _line: None, cache_path=cache)
    _deliver_many(graph, 2)
    provider = OutlookProvider(account, RecruiterConfig(), token_cache_path=cache)
    first = provider.full_sync()
    graph.tokens.clear()  # Graph no longer takes the token msal still holds as valid
    _deliver_many(graph, 1, prefix="late")
    second = provider.incremental_sync(first.cursor)
    assert [m.message_id for m in second.messages] == ["<late0@example.com>"]
    assert login.token_requests("refresh_token") == 1  # type: ignore[attr-defined]
    graph.tokens.clear()
    login.revoke_refresh_tokens()  # type: ignore[attr-defined]
    with pytest.raises(AuthError, match="inbox-watch auth work"):
        provider.incremental_sync(second.cursor)
    provider.close()
