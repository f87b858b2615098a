"""The daemon's per-account schedule against the Gmail and Graph emulators: one cheap call per
poll (history.list; one delta GET per folder), every ``poll_interval``, the connection kept
between polls, Retry-After honoured, and one slow account never delaying another."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from inbox_watch import retry
from inbox_watch.config import AccountConfig, Config, RecruiterConfig, parse_config
from inbox_watch.daemon import run_daemon
from inbox_watch.errors import ConfigError
from inbox_watch.models import ProgressCallback, SyncBatch
from inbox_watch.provider import MailProvider
from inbox_watch.service import Workspace
from providers import open_provider
from providers.demo import DemoProvider
from tests.providers.contract import CANDIDATE, RECRUITER, make_raw
from tests.providers.gmail_emulator import GmailEmulator
from tests.providers.graph_emulator import GraphEmulator

GMAIL_TOKEN = "INBOX_WATCH_TEST_GMAIL_TOKEN"
GRAPH_TOKEN = "INBOX_WATCH_TEST_GRAPH_TOKEN"
RECRUITER_CONFIG = RecruiterConfig("Sam Carter", (RECRUITER,))


@pytest.fixture(autouse=True)
def _no_backoff_sleep() -> Iterator[None]:
    retry.set_testing(True)
    yield
    retry.set_testing(False)


class Timed:
    """The real provider, with the moment of each pass written down."""

    def __init__(self, inner: MailProvider, passes: list[float]) -> None:
        self._inner = inner
        self._passes = passes

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def full_sync(self, progress: ProgressCallback | None = None, **options: Any) -> SyncBatch:
        self._passes.append(time.monotonic())
        return self._inner.full_sync(progress, **options)  # type: ignore[call-arg]

    def incremental_sync(self, cursor: Any, progress: ProgressCallback | None = None, **options: Any) -> SyncBatch:
        self._passes.append(time.monotonic())
        return self._inner.incremental_sync(cursor, progress, **options)  # type: ignore[call-arg]


def _workspace(tmp_path: Path, *accounts: AccountConfig, passes: dict[str, list[float]]) -> Workspace:
    config = Config(path=None, recruiter=RECRUITER_CONFIG, store_path=tmp_path / "store.json", accounts=accounts)

    def factory(account: AccountConfig) -> MailProvider:
        return Timed(open_provider(account, RECRUITER_CONFIG), passes.setdefault(account.name, []))  # type: ignore[return-value]

    return Workspace.open(config, factory=factory)


def _reply(n: int) -> bytes:
    return make_raw(
        subject=f"Re: Interview {n}",
        message_id=f"<r{n}@example.com>",
        sender=CANDIDATE,
        to=RECRUITER,
        when=datetime.now(UTC) - timedelta(hours=1),
    )


def test_gmail_is_polled_every_poll_interval_with_one_history_list(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with GmailEmulator(access_token="ya29.test-token") as gmail:
        monkeypatch.setenv(GMAIL_TOKEN, gmail.access_token)
        gmail.insert(_reply(1), ["INBOX"])
        account = AccountConfig(
            name="gmail", provider="gmail", api_base_url=gmail.base_url, access_token_env=GMAIL_TOKEN, poll_interval=1
        )
        passes: dict[str, list[float]] = {}
        workspace = _workspace(tmp_path, account, passes=passes)
        assert run_daemon(workspace, max_passes=4) == 0
    calls = dict(gmail.api_calls)
    assert calls["history.list"] == 3  # the three polls after the first (full) sync: one call each
    assert calls.get("users.getProfile", 0) <= 1  # the connection and what it learnt are kept
    gaps = [b - a for a, b in zip(passes["gmail"], passes["gmail"][1:], strict=False)]
    assert len(gaps) == 3 and all(0.9 <= g < 2.5 for g in gaps), gaps


def test_gmail_retry_after_is_honoured_before_the_next_poll(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with GmailEmulator(access_token="ya29.test-token") as gmail:
        monkeypatch.setenv(GMAIL_TOKEN, gmail.access_token)
        account = AccountConfig(
            name="gmail", provider="gmail", api_base_url=gmail.base_url, access_token_env=GMAIL_TOKEN, poll_interval=1
        )
        # Every attempt of the second pass is told to come back in 3 s (the provider retries
        # 5 times without sleeping in tests, then gives up with the server's Retry-After).
        gmail.fail_next(429, path_contains="/history", retry_after="3", times=5)
        passes: dict[str, list[float]] = {}
        workspace = _workspace(tmp_path, account, passes=passes)
        assert run_daemon(workspace, max_passes=3) == 0
        status = {s["account"]: s for s in workspace.store.sync_status()}
    times = passes["gmail"]
    assert len(times) == 3
    assert times[2] - times[1] >= 2.9  # not the 1-2 s of a plain back-off: the server said 3 s
    assert status["gmail"]["last_error"] == ""  # the third pass succeeded


def test_outlook_is_polled_with_one_delta_get_per_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    graph = GraphEmulator().start()
    try:
        monkeypatch.setenv(GRAPH_TOKEN, graph.token)
        graph.deliver_raw(_reply(1), "inbox")
        account = AccountConfig(
            name="outlook",
            provider="outlook",
            api_base_url=graph.base_url,
            access_token_env=GRAPH_TOKEN,
            poll_interval=1,
        )
        passes: dict[str, list[float]] = {}
        workspace = _workspace(tmp_path, account, passes=passes)
        seen: list[int] = []
        original = Timed.incremental_sync

        def counted(self: Timed, cursor: Any, progress: Any = None, **options: Any) -> SyncBatch:
            before = len(graph.requests)
            try:
                return original(self, cursor, progress, **options)
            finally:
                seen.append(len(graph.requests) - before)

        monkeypatch.setattr(Timed, "incremental_sync", counted)
        assert run_daemon(workspace, max_passes=3) == 0
    finally:
        graph.stop()
    assert seen == [2, 2]  # Inbox and Sent Items: one delta GET each, each poll
    gaps = [b - a for a, b in zip(passes["outlook"], passes["outlook"][1:], strict=False)]
    assert all(0.9 <= g < 2.5 for g in gaps), gaps


class SlowProvider(DemoProvider):
    """An account whose server takes 4 s to answer."""

    def full_sync(self, progress: ProgressCallback | None = None) -> SyncBatch:
        time.sleep(4)
        return super().full_sync(progress)


def test_a_slow_account_never_delays_another(tmp_path: Path) -> None:
    slow = AccountConfig(name="slow", provider="demo", poll_interval=1)
    quick = AccountConfig(name="quick", provider="demo", poll_interval=1)
    config = Config(path=None, recruiter=RECRUITER_CONFIG, store_path=tmp_path / "store.json", accounts=(slow, quick))
    moments: list[float] = []

    def factory(account: AccountConfig) -> MailProvider:
        if account.name == "slow":
            return SlowProvider(account, RECRUITER_CONFIG)
        return Timed(DemoProvider(account, RECRUITER_CONFIG), moments)  # type: ignore[return-value]

    started = time.monotonic()
    assert run_daemon(Workspace.open(config, factory=factory), max_passes=3) == 0
    quick_done = moments[-1] - started
    assert len(moments) == 3 and quick_done < 4, moments  # its three passes while "slow" was still in its first


def test_poll_interval_is_per_account_and_refused_under_15_seconds(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    base = '[[accounts]]\nname = "g"\nprovider = "gmail"\n'
    assert parse_config(base, path).poll_interval(parse_config(base, path).accounts[0]) == 60
    tuned = parse_config(base + "poll_interval = 120\n", path)
    assert tuned.poll_interval(tuned.accounts[0]) == 120
    imap = parse_config('[daemon]\ninterval = 240\n[[accounts]]\nname = "i"\nprovider = "imap"\nhost = "h"\n', path)
    assert imap.poll_interval(imap.accounts[0]) == 240  # IDLE brings new mail; the interval reads the rest
    with pytest.raises(ConfigError) as error:
        parse_config(base + "poll_interval = 10\n", path)
    assert str(error.value) == (
        f"{path}: accounts[0].poll_interval = 10 is invalid: expected a whole number from 15 to 86400"
    )
