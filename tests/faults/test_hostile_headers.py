# ruff: noqa: F811 - the fixtures imported from dovecot.py / smtp_server.py are named as arguments
"""Fault: header injection through received text (issue 10, item 2), on every provider.

An employer contact (or anyone spoofing them) writes about the candidate with a hostile
Subject, Message-ID, References or display name. The product syncs it, and the employer update
is saved as a draft and sent (the `update-employer` path: Workspace.employer_draft -> queue ->
run_actions) through IMAP/SMTP (real Dovecot, aiosmtpd captures the bytes sent), Gmail (the
emulator keeps the raw message) and Outlook (Graph gets JSON fields; the MIME path too). No
header may arrive that the product did not mean to write, and every value stays one line.
"""

from __future__ import annotations

import base64
import email
import email.policy
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import pytest

from inbox_watch import retry
from inbox_watch.config import AccountConfig, Config, Policy, RecruiterConfig
from inbox_watch.models import ActionMode, ActionState, Candidate
from inbox_watch.service import Workspace
from inbox_watch.sync import sync_all
from providers.gmail import GmailProvider
from providers.imap import ImapProvider
from providers.outlook import OutlookProvider
from tests.faults.campaign import campaign_count
from tests.providers.contract import CANDIDATE, RECRUITER, make_raw
from tests.providers.dovecot import Dovecot, dovecot_server  # noqa: F401
from tests.providers.gmail_emulator import GmailEmulator
from tests.providers.graph_emulator import GraphEmulator
from tests.providers.smtp_server import SmtpServer, smtp_server  # noqa: F401
from tests.providers.test_imap import ImapHarness, imap_env  # noqa: F401

EMPLOYER = "boss@employer.example"
ATTACKER = "attacker@evil.example"
INJECTED = ("reply-to", "bcc", "x-injected", "cc", "resent-to", "content-disposition")
WRITTEN = {
    "from",
    "to",
    "subject",
    "date",
    "message-id",
    "in-reply-to",
    "references",
    "content-type",
    "content-transfer-encoding",
    "mime-version",
}
PAYLOAD = f"x\r\nReply-To: {ATTACKER}\r\nBcc: spy@evil.example\r\nX-Injected: yes\r\n\r\nbody"


def _b64word(text: str) -> str:
    return "=?utf-8?b?" + base64.b64encode(text.encode()).decode() + "?="


# Each case: the employer's message headers, as they arrive on the wire.
CASES: dict[str, dict[str, str]] = {
    "subject encoded twice": {"Subject": _b64word(_b64word(PAYLOAD))},
    "subject with encoded CR LF": {"Subject": "=?utf-8?q?Jane_Doe=0D=0ABcc:_spy@evil.example=0D=0AX-Injected:_1?="},
    "message-id with encoded CR LF": {
        "Message-ID": "=?utf-8?q?<m1@employer.example>=0D=0ABcc:_spy@evil.example?=",
    },
    "references with encoded headers": {
        "Message-ID": "<m2@employer.example>",
        "References": "<r1@employer.example> =?utf-8?q?=0D=0AX-Injected:_yes?= <r2@employer.example>",
    },
    "display name with encoded CR LF": {
        "From": f"=?utf-8?q?Boss=0D=0ABcc:_spy@evil.example?= <{EMPLOYER}>",
        "Subject": "=?utf-8?b?"
        + base64.b64encode("Jane Doe\u2028Bcc: spy@evil.example\u202e".encode()).decode()
        + "?=",
    },
    "subject of 100,000 characters": {"Subject": "=?utf-8?b?" + base64.b64encode(b"J" * 100_000).decode() + "?="},
}
QUICK = ("subject encoded twice", "references with encoded headers")


def employer_mail(case: dict[str, str]) -> bytes:
    fields = {
        "From": f"Pat Boss <{EMPLOYER}>",
        "To": RECRUITER,
        "Subject": "About Jane Doe",
        "Date": format_datetime(datetime.now(UTC) - timedelta(hours=3)),
        "Message-ID": "<m0@employer.example>",
        **case,
    }
    head = "".join(f"{k}: {v}\r\n" for k, v in fields.items())
    return (
        head + "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
        "Any news on Jane Doe? We need an answer by Friday.\r\n"
    ).encode()


@dataclass
class Target:
    """A provider under test, how to put mail in, and what it wrote (raw bytes or JSON)."""

    account: AccountConfig
    make: Callable[[], Any]
    deliver: Callable[[bytes, str], None]
    written: Callable[[], list[tuple[str, bytes | dict[str, Any]]]]
    recipients: Callable[[], list[list[str]]] = lambda: []


@pytest.fixture(autouse=True)
def _no_backoff_sleep() -> Iterator[None]:
    retry.set_testing(True)
    yield
    retry.set_testing(False)


@pytest.fixture
def imap_target(dovecot_server: Dovecot, smtp_server: SmtpServer, imap_env: None) -> Iterator[Target]:
    h = ImapHarness(dovecot_server, smtp_server)
    before = len(smtp_server.messages)

    def written() -> list[tuple[str, bytes | dict[str, Any]]]:
        out: list[tuple[str, bytes | dict[str, Any]]] = [("imap draft", raw) for raw in h.drafts()]
        out += [("smtp send", m.data) for m in smtp_server.messages[before:]]
        out += [("imap sent copy", raw) for raw in h.sent() if b"<slots@agency.example>" not in raw]
        return out

    def deliver(raw: bytes, folder: str) -> None:
        h.deliver(raw, folder=folder)

    yield Target(
        h.account,
        lambda: ImapProvider(h.account, RecruiterConfig("Sam Carter", (RECRUITER,))),
        deliver,
        written,
        lambda: [m.rcpt_tos for m in smtp_server.messages[before:]],
    )
    h.close()


@pytest.fixture
def gmail_target(monkeypatch: pytest.MonkeyPatch) -> Iterator[Target]:
    with GmailEmulator(access_token="ya29.hostile-headers-token") as gmail:
        monkeypatch.setenv("INBOX_WATCH_TEST_GMAIL_TOKEN", gmail.access_token)
        account = AccountConfig(
            name="work", provider="gmail", api_base_url=gmail.base_url, access_token_env="INBOX_WATCH_TEST_GMAIL_TOKEN"
        )
        delivered: set[str] = set()

        def deliver(raw: bytes, folder: str) -> None:
            delivered.add(gmail.insert(raw, ["SENT"] if folder == "sent" else ["INBOX"]).id)

        def written() -> list[tuple[str, bytes | dict[str, Any]]]:
            state = gmail.state
            out: list[tuple[str, bytes | dict[str, Any]]] = [
                ("gmail draft", state.messages[i].raw) for i in state.drafts.values() if i in state.messages
            ]
            out += [
                ("gmail send", m.raw)
                for i, m in state.messages.items()
                if i not in delivered and i not in state.drafts.values()
            ]
            return out

        yield Target(
            account, lambda: GmailProvider(account, RecruiterConfig("Sam Carter", (RECRUITER,))), deliver, written
        )


@pytest.fixture
def outlook_target(monkeypatch: pytest.MonkeyPatch) -> Iterator[Target]:
    graph = GraphEmulator().start()
    monkeypatch.setenv("INBOX_WATCH_TEST_GRAPH_TOKEN", graph.token)
    account = AccountConfig(
        name="work", provider="outlook", api_base_url=graph.base_url, access_token_env="INBOX_WATCH_TEST_GRAPH_TOKEN"
    )
    delivered: set[str] = set()

    def deliver(raw: bytes, folder: str) -> None:
        delivered.add(graph.deliver_raw(raw, "sentitems" if folder == "sent" else "inbox"))

    def written() -> list[tuple[str, bytes | dict[str, Any]]]:
        out: list[tuple[str, bytes | dict[str, Any]]] = []
        for folder in ("drafts", "sentitems"):
            for message in graph.in_folder(folder):
                if message["id"] in delivered:
                    continue
                # The JSON fields Graph was given: it renders MIME from them itself.
                out.append((f"graph {folder} fields", {k: v for k, v in message.items() if not k.startswith("_")}))
        return out

    try:
        yield Target(
            account, lambda: OutlookProvider(account, RecruiterConfig("Sam Carter", (RECRUITER,))), deliver, written
        )
    finally:
        graph.stop()


def _injected_raw(raw: bytes) -> list[str]:
    """Header fields of ``raw`` the product did not mean to write, and values spanning lines."""
    head = raw.split(b"\r\n\r\n", 1)[0]
    problems = []
    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    for name in parsed.keys():
        if name.lower() not in WRITTEN:
            problems.append(f"header {name}")
    for name, value in parsed.items():
        text = str(value)
        if "\r" in text or "\n" in text or ATTACKER in text and name.lower() not in ("subject",):
            problems.append(f"{name} spans lines or names the attacker: {text[:80]!r}")
    for line in head.split(b"\r\n"):
        if (
            line[:1] not in (b" ", b"\t")
            and line.split(b":", 1)[0].strip().lower().decode("ascii", "replace") in INJECTED
        ):
            problems.append(f"line {line[:60]!r}")
    return problems


def _injected_fields(fields: dict[str, Any]) -> list[str]:
    problems = []
    for key in ("subject",):
        if any(c in str(fields.get(key, "")) for c in "\r\n\u2028"):
            problems.append(f"{key} spans lines")
    addresses = [
        r["emailAddress"]["address"]
        for key in ("toRecipients", "ccRecipients", "bccRecipients", "replyTo")
        for r in fields.get(key) or ()
    ]
    if addresses != [EMPLOYER]:
        problems.append(f"recipients {addresses}")
    headers = fields.get("internetMessageHeaders") or []
    if any(h.get("name", "").lower() in INJECTED for h in headers):
        problems.append("internetMessageHeaders")
    return problems


def _cases() -> list[str]:
    return list(CASES) if campaign_count(0, 1) else list(QUICK)


@pytest.mark.parametrize("case", _cases())
@pytest.mark.parametrize("kind", ["imap", "gmail", "outlook"])
def test_hostile_received_headers_never_become_headers(
    kind: str, case: str, request: pytest.FixtureRequest, tmp_path: Any, figures: Any
) -> None:
    target: Target = request.getfixturevalue(f"{kind}_target")
    now = datetime.now(UTC)
    target.deliver(
        make_raw(
            subject="Interview slots",
            message_id="<slots@agency.example>",
            body="Hi Jane, Acme can interview you on Tuesday at 10:00 or Wednesday at 14:00. Which suits you?",
            when=now - timedelta(days=4),
        ),
        "sent",
    )
    target.deliver(employer_mail(CASES[case]), "inbox")
    config = Config(
        path=None,
        recruiter=RecruiterConfig("Sam Carter", (RECRUITER,)),
        policy=Policy(holidays=""),
        store_path=tmp_path / "store.json",
        accounts=(target.account,),
    )
    workspace = Workspace.open(config, factory=lambda _account: target.make())
    workspace.store.upsert_candidates(
        [Candidate(name="Jane Doe", emails=(CANDIDATE,), employer="Acme", employer_emails=(EMPLOYER,))]
    )
    results, errors = sync_all(workspace.store, config, factory=workspace.factory)
    assert not errors, errors
    states, threads = workspace.evaluate_with_threads(now)
    [state] = states
    draft = workspace.employer_draft(state, now, threads, [s.candidate for s in states])
    assert draft.to == (EMPLOYER,)
    for mode in (ActionMode.DRAFT, ActionMode.SEND):
        action = workspace.queue(state, draft, mode, now)
        [done] = workspace.run_actions({action.id}, now)
        assert done.state is ActionState.DONE, (mode, done.error)
    written = target.written()
    assert len(written) >= 2
    found = {
        where: _injected_raw(item) if isinstance(item, bytes) else _injected_fields(item) for where, item in written
    }
    found.update({f"envelope {i}": [f"to {r}"] for i, r in enumerate(target.recipients()) if r != [EMPLOYER]})
    figures.add("hostile headers tried", len(written))
    figures.add("injected", sum(1 for problems in found.values() if problems))
    assert not any(found.values()), found
