"""A sync pass with one broken account: the other accounts sync, the broken one gets one clear
error (its traceback in the log), and the daemon keeps running."""

from __future__ import annotations

import logging
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from inbox_watch.config import AccountConfig, Config
from inbox_watch.daemon import BACK_OFF_EXTRA, next_wait, run_daemon
from inbox_watch.models import Cursor, SyncBatch
from inbox_watch.provider import MailProvider
from inbox_watch.service import Workspace
from inbox_watch.store import Store
from inbox_watch.sync import sync_account, sync_all
from providers.demo import DEMO_RECRUITER, DemoProvider
from tests.builders import SAM, msg


class UnwritableMailProvider(DemoProvider):
    """An adapter with a bug: it hands over a message whose text no JSON file can hold (an
    unpaired surrogate, as ``charset=unicode_escape`` used to give), so storing it fails with a
    TypeError, not an InboxWatchError."""

    def full_sync(self, progress: Any = None) -> SyncBatch:
        bad = replace(msg("2026-11-23 10:00", "jane@example.com", SAM, "Slots", "Tuesday \ud800"), account=self.account)
        return SyncBatch(self.account, (bad,), Cursor(self.account, "c1"), full=True)


def _config(tmp_path: Path, interval: int = 300) -> Config:
    accounts = (AccountConfig(name="broken", provider="demo"), AccountConfig(name="demo", provider="demo"))
    return Config(
        path=None, recruiter=DEMO_RECRUITER, store_path=tmp_path / "store.json", accounts=accounts, interval=interval
    )


def _factory(account: AccountConfig) -> MailProvider:
    kind = UnwritableMailProvider if account.name == "broken" else DemoProvider
    return kind(account, DEMO_RECRUITER)


def test_an_unexpected_error_in_one_account_is_that_accounts_error(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    config = _config(tmp_path)
    store = Store(config.store_path)
    results, errors = sync_all(store, config, factory=_factory)
    assert [r.account for r in results] == ["demo"]  # the other account went on
    [(name, error)] = errors
    assert name == "broken"
    assert str(error).startswith("sync failed with an unexpected error: TypeError: ")
    assert "\n" not in str(error)
    assert store.message_count() == len(DemoProvider(config.accounts[1], DEMO_RECRUITER).full_sync().messages)
    assert {m.account for m in store.messages()} == {"demo"}  # nothing half-stored for "broken"
    assert store.cursor("broken") is None  # so the next pass fetches it all again
    status = {s["account"]: s for s in store.sync_status()}
    assert status["broken"]["last_error"] == str(error) and "last_sync" not in status["broken"]
    # The traceback is kept for --debug; nothing a default run shows carries one.
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING and r.exc_info]
    assert any("broken" in r.getMessage() and r.exc_info for r in caplog.records if r.levelno == logging.DEBUG)


def test_the_daemon_keeps_running_through_an_accounts_unexpected_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    workspace = Workspace.open(_config(tmp_path, interval=0), factory=_factory)
    assert run_daemon(workspace, max_passes=2) == 0
    out, err = capsys.readouterr()
    assert out.count("demo: full sync") == 1 and "demo: incremental sync" in out
    assert err.count("broken: sync failed with an unexpected error: TypeError") == 2  # tried again, said again
    assert "next try in" in err
    assert "stopped" in out
    status = {s["account"]: s for s in workspace.store.sync_status()}
    assert status["broken"]["last_error"].startswith("sync failed with an unexpected error: TypeError")


def test_the_daemon_survives_a_pass_that_fails_unexpectedly(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A failure of the pass itself (not of the adapter) is simulated: the first pass raises,
    # the second runs.
    import inbox_watch.daemon as daemon

    caplog.set_level(logging.DEBUG)

    calls = []

    def flaky_sync_account(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("the store module has a bug\non two lines")
        return sync_account(*args, **kwargs)

    monkeypatch.setattr(daemon, "sync_account", flaky_sync_account)
    config = replace(_config(tmp_path, interval=0), accounts=(AccountConfig(name="demo", provider="demo"),))
    workspace = Workspace.open(config, factory=_factory)
    assert run_daemon(workspace, max_passes=2) == 0
    out, err = capsys.readouterr()
    [line] = [x for x in err.splitlines() if "unexpected error" in x]
    assert "demo: sync failed with an unexpected error: RuntimeError: the store module has a bug on two lines" in line
    assert "next try in" in line
    assert "demo: full sync" in out  # the next pass ran
    assert workspace.store.message_count() > 20
    assert any(r.exc_info is not None for r in caplog.records if r.levelno == logging.DEBUG)  # for --debug
    assert "Traceback" not in err


def test_failed_passes_back_off_with_jitter_up_to_the_interval_plus_half_an_hour() -> None:
    assert next_wait(300, 0) == 300
    for failures in range(1, 16):
        span = min(300 + BACK_OFF_EXTRA, 2.0 * 2 ** (failures - 1))
        waits = [next_wait(300, failures) for _ in range(50)]
        assert all(span / 2 <= w <= span for w in waits), (failures, min(waits), max(waits))
        assert len(set(waits)) > 1  # jittered
    assert max(next_wait(300, 40) for _ in range(200)) <= 300 + BACK_OFF_EXTRA  # capped
    assert min(next_wait(300, 40) for _ in range(200)) >= (300 + BACK_OFF_EXTRA) / 2
    assert next_wait(60, 1, retry_after=120) >= 120  # the server's Retry-After wins
    assert next_wait(60, 1, retry_after=99999) <= 60 + BACK_OFF_EXTRA  # within the cap still


def test_the_heartbeat_is_written_at_the_start_of_a_pass_and_at_each_progress_report(tmp_path: Path) -> None:
    """A long first sync must not look like "no daemon" to the dashboard (which would then
    start a sync of its own beside it)."""
    import os
    import time

    seen: list[Any] = []
    path = tmp_path / "store.json"

    class LongFirstSync(DemoProvider):
        def full_sync(self, progress: Any = None) -> SyncBatch:
            seen.append(Store(path).heartbeat())  # the pass has begun, nothing fetched yet
            time.sleep(1.1)
            progress(500, 1000, "messages")
            seen.append(Store(path).heartbeat())
            return super().full_sync(progress)

    config = replace(_config(tmp_path), accounts=(AccountConfig(name="demo", provider="demo"),))
    workspace = Workspace.open(config, factory=lambda a: LongFirstSync(a, DEMO_RECRUITER))
    assert run_daemon(workspace, max_passes=1) == 0
    first, later = seen
    assert first is not None and first[0] == os.getpid()
    assert later is not None and later[1] > first[1]  # the progress report beat again
