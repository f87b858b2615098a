# ruff: noqa: F811 - the server fixtures imported below are named as arguments
"""The send-once contract (``inbox_watch.send_once``), run against all three sending adapters:
IMAP + SMTP (a real Dovecot and a real aiosmtpd), Gmail and Microsoft Graph (the emulators).

Each harness makes the same things happen in its own service's words (a message refused for
good, an answer lost after the service took the message, a "not now", a service that cannot be
reached) and counts what the service really delivered; every test asserts what the recruiter
relies on: nothing goes out twice, nothing is reported sent that was not, and a refusal is final.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

import pytest

from inbox_watch import outbox, retry
from inbox_watch.config import AccountConfig, RecruiterConfig
from inbox_watch.errors import ConnectionFailed, SendOutcomeUnknown, SendRefused
from inbox_watch.models import ActionState, OutgoingMessage
from inbox_watch.provider import MailProvider
from inbox_watch.store import Store
from providers.gmail import GmailProvider
from providers.imap import ImapProvider
from providers.outlook import OutlookProvider
from tests.providers.contract import RECRUITER, chaser_message, make_raw, queue_chaser
from tests.providers.dovecot import Dovecot, dovecot_server  # noqa: F401
from tests.providers.gmail_emulator import GmailEmulator
from tests.providers.graph_emulator import GraphEmulator
from tests.providers.smtp_server import SmtpServer, smtp_server  # noqa: F401
from tests.providers.test_imap import PASSWORD, PASSWORD_ENV, ImapHarness

TOKEN_ENV = "INBOX_WATCH_TEST_SEND_TOKEN"


class Sender(Protocol):
    provider: MailProvider

    def deliveries(self, message_id: str) -> int:
        """How many times the service took a message with this Message-ID for delivery."""
        ...

    def drafts_of(self, message_id: str) -> int: ...
    def put_in_sent(self, message_id: str) -> None: ...
    def refuse_for_good(self) -> None: ...
    def lose_the_answer(self) -> None: ...
    def not_now(self) -> None:
        """The service turns the next send away for now (HTTP 429 once; SMTP 451 until told)."""
        ...

    def back_to_normal(self) -> None: ...
    def unreachable(self) -> MailProvider:
        """The same account pointed at a port where nothing listens."""
        ...


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class ImapSender:
    def __init__(self, dovecot: Dovecot, smtp: SmtpServer) -> None:
        self.mailbox = ImapHarness(dovecot, smtp)
        self.smtp = smtp
        self.provider: MailProvider = self.mailbox.provider

    def deliveries(self, message_id: str) -> int:
        return self.smtp.copies(message_id)

    def drafts_of(self, message_id: str) -> int:
        return sum(1 for raw in self.mailbox.drafts() if f"Message-ID: {message_id}".encode() in raw)

    def put_in_sent(self, message_id: str) -> None:
        self.mailbox.deliver(make_raw(subject="Re: Interview slots", message_id=message_id), folder="sent")

    def refuse_for_good(self) -> None:
        self.smtp.handler.refuse_data = "554 5.6.0 Message refused by policy"

    def lose_the_answer(self) -> None:
        def drop(server: Any) -> None:
            server.transport.close()
            self.smtp.handler.after_taking = None

        self.smtp.handler.after_taking = drop

    def not_now(self) -> None:
        self.smtp.handler.refuse_rcpt["jane.doe@example.com"] = "451 4.7.1 Greylisted, try again later"

    def back_to_normal(self) -> None:
        self.smtp.handler.refuse_rcpt.clear()

    def unreachable(self) -> MailProvider:
        account = replace(self.mailbox.account, smtp_port=closed_port())
        return ImapProvider(account, RecruiterConfig("Sam Carter", (RECRUITER,)))

    def close(self) -> None:
        self.smtp.handler.refuse_data = ""
        self.smtp.handler.refuse_rcpt.clear()
        self.smtp.handler.after_taking = None
        self.mailbox.close()


class GmailSender:
    def __init__(self, emulator: GmailEmulator) -> None:
        self.emulator = emulator
        self.provider: MailProvider = self._provider(emulator.base_url)

    def _provider(self, base_url: str) -> GmailProvider:
        account = AccountConfig(name="work", provider="gmail", api_base_url=base_url, access_token_env=TOKEN_ENV)
        return GmailProvider(account, RecruiterConfig("Sam Carter", (RECRUITER,)))

    def deliveries(self, message_id: str) -> int:
        return sum(1 for raw in self.emulator.raw_with_label("SENT") if f"Message-ID: {message_id}".encode() in raw)

    def drafts_of(self, message_id: str) -> int:
        state = self.emulator.state
        raws = [state.messages[i].raw for i in state.drafts.values() if i in state.messages]
        return sum(1 for raw in raws if f"Message-ID: {message_id}".encode() in raw)

    def put_in_sent(self, message_id: str) -> None:
        self.emulator.insert(make_raw(subject="Re: Interview slots", message_id=message_id), ["SENT"])

    def refuse_for_good(self) -> None:
        self.emulator.fail_next(400, path_contains="/messages/send")

    def lose_the_answer(self) -> None:
        self.emulator.drop_next_answer("/messages/send")

    def not_now(self) -> None:
        self.emulator.fail_next(429, path_contains="/messages/send")

    def back_to_normal(self) -> None:
        pass  # a 429 is played once

    def unreachable(self) -> MailProvider:
        return self._provider(f"http://127.0.0.1:{closed_port()}/")

    def close(self) -> None:
        self.provider.close()


class GraphSender:
    def __init__(self, graph: GraphEmulator) -> None:
        self.graph = graph
        self.provider: MailProvider = self._provider(graph.base_url)

    def _provider(self, base_url: str) -> OutlookProvider:
        account = AccountConfig(name="work", provider="outlook", api_base_url=base_url, access_token_env=TOKEN_ENV)
        return OutlookProvider(account, RecruiterConfig(addresses=(RECRUITER,)))

    def _count(self, folder: str, message_id: str) -> int:
        return sum(1 for m in self.graph.in_folder(folder) if m.get("internetMessageId") == message_id)

    def deliveries(self, message_id: str) -> int:
        return self._count("sentitems", message_id)

    def drafts_of(self, message_id: str) -> int:
        return self._count("drafts", message_id)

    def put_in_sent(self, message_id: str) -> None:
        self.graph.deliver_raw(make_raw(subject="Re: Interview slots", message_id=message_id), "sentitems")

    def refuse_for_good(self) -> None:
        self.graph.fail_next(400, code="ErrorInvalidRecipients", message="Invalid recipient", path_ends_with="/send")

    def lose_the_answer(self) -> None:
        self.graph.lose_next_answer("/send")

    def not_now(self) -> None:
        self.graph.fail_next(429, path_ends_with="/send")

    def back_to_normal(self) -> None:
        pass  # a 429 is played once

    def unreachable(self) -> MailProvider:
        return self._provider(f"http://127.0.0.1:{closed_port()}")

    def close(self) -> None:
        self.provider.close()


@pytest.fixture(autouse=True)
def _no_backoff_sleep() -> Iterator[None]:
    retry.set_testing(True)
    yield
    retry.set_testing(False)


@pytest.fixture(params=["imap", "gmail", "outlook"])
def sender(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[Sender]:
    made: Any
    if request.param == "imap":
        monkeypatch.setenv(PASSWORD_ENV, PASSWORD)
        made = ImapSender(request.getfixturevalue("dovecot_server"), request.getfixturevalue("smtp_server"))
        made.mailbox.deliver(make_raw(subject="Interview slots", message_id="<c1@agency.example>"), folder="sent")
        yield made
        made.close()
    elif request.param == "gmail":
        with GmailEmulator(access_token="ya29.send-once-token") as emulator:
            monkeypatch.setenv(TOKEN_ENV, emulator.access_token)
            emulator.insert(make_raw(subject="Interview slots", message_id="<c1@agency.example>"), ["SENT"])
            made = GmailSender(emulator)
            yield made
            made.close()
    else:
        graph = GraphEmulator().start()
        try:
            monkeypatch.setenv(TOKEN_ENV, graph.token)
            graph.deliver_raw(make_raw(subject="Interview slots", message_id="<c1@agency.example>"), "sentitems")
            made = GraphSender(graph)
            yield made
            made.close()
        finally:
            graph.stop()


def drain(store: Store, provider: MailProvider, now: datetime) -> list[Any]:
    return outbox.drain(store, lambda _name: provider, now, immediate=True)


def message(message_id: str) -> OutgoingMessage:
    return chaser_message(message_id)


def test_a_message_already_in_sent_is_not_handed_over_again(sender: Sender) -> None:
    sender.put_in_sent("<once1@agency.example>")
    before = sender.deliveries("<once1@agency.example>")

    receipt = sender.provider.send(message("<once1@agency.example>"))

    assert receipt.provider_id
    assert sender.deliveries("<once1@agency.example>") == before


def test_a_message_refused_for_good_fails_at_once_and_is_never_tried_again(sender: Sender, tmp_path: Path) -> None:
    store = Store(tmp_path / "store.json")
    now = datetime.now(UTC)
    queue_chaser(store, message("<once2@agency.example>"), now)
    sender.refuse_for_good()

    with pytest.raises(SendRefused):
        sender.provider.send(message("<once2@agency.example>"))
    sender.refuse_for_good()
    [first] = drain(store, sender.provider, now)

    assert first.state is ActionState.FAILED and first.send_started_at is None
    assert first.error.endswith("it will not be tried again")
    assert drain(store, sender.provider, now + timedelta(minutes=5)) == []
    assert sender.deliveries("<once2@agency.example>") == 0


def test_an_answer_lost_after_the_service_took_the_message_is_unknown_and_never_sent_again(
    sender: Sender, tmp_path: Path
) -> None:
    store = Store(tmp_path / "store.json")
    now = datetime.now(UTC)
    queue_chaser(store, message("<once3@agency.example>"), now)
    sender.lose_the_answer()

    [first] = drain(store, sender.provider, now)

    assert first.state is ActionState.QUEUED and first.send_started_at is not None
    assert outbox.outcome(first).startswith("chaser for Jane Doe may have been sent")
    assert sender.deliveries("<once3@agency.example>") == 1
    later = now + outbox.CLAIM_TIMEOUT + timedelta(minutes=1)
    [second] = drain(store, sender.provider, later)
    assert second.state in (ActionState.DONE, ActionState.FAILED)  # found in Sent, or the recruiter is asked
    assert drain(store, sender.provider, later + timedelta(minutes=5)) == []
    assert sender.deliveries("<once3@agency.example>") == 1


def test_the_same_lost_answer_straight_from_the_provider_is_send_outcome_unknown(sender: Sender) -> None:
    sender.lose_the_answer()

    with pytest.raises(SendOutcomeUnknown):
        sender.provider.send(message("<once4@agency.example>"))

    assert sender.deliveries("<once4@agency.example>") == 1


def test_a_not_now_answer_sends_the_message_exactly_once_by_the_next_pass(sender: Sender, tmp_path: Path) -> None:
    store = Store(tmp_path / "store.json")
    now = datetime.now(UTC)
    queue_chaser(store, message("<once5@agency.example>"), now)
    sender.not_now()

    [first] = drain(store, sender.provider, now)
    if first.state is ActionState.QUEUED:  # SMTP 4xx: nothing taken, the next pass sends it
        assert first.send_started_at is None and "for now" in first.error
        sender.back_to_normal()
        [first] = drain(store, sender.provider, now + timedelta(minutes=5))

    assert first.state is ActionState.DONE
    assert sender.deliveries("<once5@agency.example>") == 1


def test_a_service_that_cannot_be_reached_sends_nothing_and_says_so(sender: Sender) -> None:
    provider = sender.unreachable()
    try:
        with pytest.raises(ConnectionFailed):
            provider.send(message("<once6@agency.example>"))
    finally:
        provider.close()
    assert sender.deliveries("<once6@agency.example>") == 0


def test_a_draft_saved_twice_is_one_draft(sender: Sender) -> None:
    first = sender.provider.save_draft(message("<once7@agency.example>"))
    second = sender.provider.save_draft(message("<once7@agency.example>"))

    assert first and second == first
    assert sender.drafts_of("<once7@agency.example>") == 1
