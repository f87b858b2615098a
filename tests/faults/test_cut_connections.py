# ruff: noqa: F811 - the fixtures imported from dovecot.py / smtp_server.py are named as arguments
"""Faults: connections that drop or stall (issue 10, items 4 and 5), on a real Dovecot.

- A server that drops the connection during LOGIN is a connection error, never "wrong
  password"; only the server's tagged NO is (a fake server for the drop, Dovecot for the NO).
- A server that trickles bytes cannot hold a pass for ever: the pass deadline ends it in one
  line, keeping the folders it finished (a proxy in front of Dovecot trickles).
- A connection cut at any point of a pass fails that pass in one line; the next completes
  with no message lost or doubled (the proxy cuts at evenly spaced byte counts).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from inbox_watch.config import Config, Policy, RecruiterConfig
from inbox_watch.errors import AuthError, ConnectionFailed, InboxWatchError
from inbox_watch.models import Candidate
from inbox_watch.store import Store
from inbox_watch.sync import PassTimeout, sync_all
from providers.imap import ImapProvider, authenticate
from providers.imap import connect as imap_connect
from tests.faults.campaign import campaign_count
from tests.faults.netfaults import FakeImap, FaultyProxy
from tests.providers.contract import CANDIDATE, RECRUITER, make_raw
from tests.providers.dovecot import PASSWORD, Dovecot, dovecot_server  # noqa: F401
from tests.providers.smtp_server import SmtpServer, smtp_server  # noqa: F401
from tests.providers.test_imap import PASSWORD_ENV, ImapHarness, imap_env  # noqa: F401

# -- item 5: a dropped LOGIN is not a wrong password ---------------------------------------------


@pytest.fixture
def fake_close() -> Iterator[FakeImap]:
    server = FakeImap("close")
    yield server
    server.stop()


def _fake_account(harness_account: Any, port: int) -> Any:
    return replace(harness_account, port=port)


def test_a_server_that_drops_login_is_a_connection_error(
    dovecot_server: Dovecot, smtp_server: SmtpServer, imap_env: None, fake_close: FakeImap, figures: Any
) -> None:
    account = _fake_account(ImapHarness(dovecot_server, smtp_server).account, fake_close.port)
    outcomes: list[InboxWatchError] = []
    for attempt in range(campaign_count(2, 10)):
        try:
            if attempt % 2:  # `inbox-watch auth`: asks for the password, checks it, stores it
                authenticate(account, prompt=lambda _: "typed-password-1", echo=lambda _: None)
            else:
                ImapProvider(account).folders()
        except InboxWatchError as exc:
            outcomes.append(exc)
    figures.add("logins dropped", fake_close.logins)
    figures.add("dropped logins reported as wrong password", sum(isinstance(e, AuthError) for e in outcomes))
    assert len(outcomes) == fake_close.logins
    for error in outcomes:
        assert isinstance(error, ConnectionFailed) and not isinstance(error, AuthError), error
        message = str(error)
        assert "lost during login" in message and "password was not checked" in message
        assert PASSWORD not in message and "typed-password-1" not in message and "\n" not in message


def test_only_a_tagged_no_is_a_wrong_password(
    dovecot_server: Dovecot, smtp_server: SmtpServer, imap_env: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    refusing = FakeImap("no")
    try:
        account = _fake_account(ImapHarness(dovecot_server, smtp_server).account, refusing.port)
        with pytest.raises(AuthError, match="wrong user name or password"):
            ImapProvider(account).folders()
    finally:
        refusing.stop()
    real = ImapHarness(dovecot_server, smtp_server)  # and a real Dovecot refusing a bad password
    monkeypatch.setenv(PASSWORD_ENV, "not-the-password")
    with pytest.raises(AuthError, match="wrong user name or password"):
        ImapProvider(real.account).folders()


def test_a_login_that_gets_no_answer_times_out_as_a_connection_error(
    dovecot_server: Dovecot, smtp_server: SmtpServer, imap_env: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(imap_connect, "TIMEOUT", 0.5)
    silent = FakeImap("stall")
    try:
        account = _fake_account(ImapHarness(dovecot_server, smtp_server).account, silent.port)
        with pytest.raises(ConnectionFailed, match="lost during login: timed out"):
            ImapProvider(account).folders()
    finally:
        silent.stop()


# -- item 4: the pass deadline -------------------------------------------------------------------


def _config(harness: ImapHarness, tmp_path: Any, port: int) -> Config:
    return Config(
        path=None,
        recruiter=RecruiterConfig("Sam Carter", (RECRUITER,)),
        policy=Policy(holidays=""),
        store_path=tmp_path / "store.json",
        accounts=(replace(harness.account, port=port),),
    )


@pytest.fixture
def harness(dovecot_server: Dovecot, smtp_server: SmtpServer, imap_env: None) -> Iterator[ImapHarness]:
    h = ImapHarness(dovecot_server, smtp_server)
    yield h
    h.close()


def test_a_trickling_server_ends_the_pass_at_its_deadline_keeping_the_folders_read(
    harness: ImapHarness, tmp_path: Any, figures: Any
) -> None:
    now = datetime.now(UTC)
    harness.deliver(make_raw(subject="Interview slots", message_id="<s1@agency.example>", when=now - timedelta(days=2)))
    harness.deliver(make_raw(subject="Notes", message_id="<n1@agency.example>"), tag="Jane Doe")
    store = Store(tmp_path / "store.json")
    direct = _config(harness, tmp_path, harness.server.port)
    [first], errors = sync_all(store, direct)
    assert first.full and not errors
    harness.deliver(make_raw(subject="Re: slots", message_id="<r1@example.com>", sender=CANDIDATE))
    harness.deliver(
        make_raw(subject="Notes 2", message_id="<n2@agency.example>", body="TRICKLE-FROM-HERE " + "x" * 400),
        tag="Jane Doe",
    )
    proxy = FaultyProxy(harness.server.port, trickle_on=b"TRICKLE-FROM-HERE", trickle_every=2.0)
    try:
        started = time.monotonic()
        results, errors = sync_all(store, _config(harness, tmp_path, proxy.port), timeout=3)
        took = time.monotonic() - started
        assert proxy.trickled >= 1  # the server did trickle
        figures.add("stalled passes tried")
        figures.add("passes past their deadline", int(took > 3 + 2.5))
        assert took < 3 + 2.5, took
        assert not errors
        [stopped] = results
        assert stopped.stopped and "stopped at the pass deadline (3 s" in stopped.describe(), (took, stopped)
        assert stopped.new == 1  # INBOX was finished: its reply is stored, with its cursor
        ids = {m.message_id for m in store.messages()}
        assert "<r1@example.com>" in ids and "<n2@agency.example>" not in ids
        # The next pass (the server well again) reads the rest, and not INBOX a second time.
        [after], errors = sync_all(store, _config(harness, tmp_path, proxy.port), timeout=30)
        assert not errors and after.new == 1 and not after.stopped
        assert "<n2@agency.example>" in {m.message_id for m in store.messages()}
    finally:
        proxy.stop()


def test_a_pass_that_read_nothing_by_its_deadline_is_one_line(harness: ImapHarness, tmp_path: Any) -> None:
    harness.deliver(make_raw(subject="Hello", message_id="<h1@agency.example>", body="TRICKLE-FROM-HERE"))
    store = Store(tmp_path / "store.json")
    store.upsert_candidates([Candidate(name="Jane Doe", emails=(CANDIDATE,))])  # so its text is read
    proxy = FaultyProxy(harness.server.port, trickle_on=b"TRICKLE-FROM-HERE", trickle_every=2.0)
    try:
        results, errors = sync_all(store, _config(harness, tmp_path, proxy.port), timeout=2)
    finally:
        proxy.stop()
    assert results == []
    [(name, error)] = errors
    assert isinstance(error, PassTimeout) and name == "work"
    assert "stopped at the pass deadline (2 s" in str(error) and "\n" not in str(error)
    assert store.cursor("work") is None and store.messages() == []


def test_pass_timeout_is_validated_in_the_config(tmp_path: Any) -> None:
    from inbox_watch.config import load_config
    from inbox_watch.errors import ConfigError

    path = tmp_path / "config.toml"
    path.write_text("[daemon]\npass_timeout = 120\n")
    assert load_config(path).pass_timeout == 120
    path.write_text('[daemon]\npass_timeout = "ten minutes"\n')
    with pytest.raises(ConfigError, match="pass_timeout") as caught:
        load_config(path)
    assert str(path) in str(caught.value)
    path.write_text("[daemon]\n")
    assert load_config(path).pass_timeout == 600


# -- cut connections: every pass fails cleanly, the next recovers --------------------------------


def test_a_connection_cut_anywhere_fails_one_pass_and_the_next_recovers(
    harness: ImapHarness, tmp_path: Any, figures: Any
) -> None:
    now = datetime.now(UTC)
    for n in range(6):
        harness.deliver(make_raw(subject=f"Mail {n}", message_id=f"<c{n}@example.com>", when=now - timedelta(hours=n)))
    harness.deliver(make_raw(subject="Notes", message_id="<cn@agency.example>"), tag="Jane Doe")
    probe = FaultyProxy(harness.server.port, faulty=0)
    try:
        sync_all(Store(tmp_path / "probe.json"), _config(harness, tmp_path, probe.port))
        total = probe.bytes_passed
    finally:
        probe.stop()
    cuts = campaign_count(3, 25)
    not_recovered = 0
    for index in range(cuts):
        at = total * (index + 1) // (cuts + 1)
        store = Store(tmp_path / f"cut{index}.json")
        proxy = FaultyProxy(harness.server.port, cut_after=at)
        try:
            config = _config(harness, tmp_path, proxy.port)
            results, errors = sync_all(store, config)
            for _name, error in errors:
                assert isinstance(error, InboxWatchError) and "\n" not in str(error)
                assert "unexpected error" not in str(error), str(error)
            if errors:
                results, errors = sync_all(store, config)
            ids = [m.message_id for m in store.messages()]
            recovered = not errors and sorted(ids) == sorted({*ids}) and len(ids) == 7
            not_recovered += not recovered
        finally:
            proxy.stop()
        figures.add("connection cuts tried")
    figures.add("passes not recovered", not_recovered)
    assert not_recovered == 0


def _config_file(harness: ImapHarness, tmp_path: Any, port: int, extra: str = "") -> Any:
    path = tmp_path / "config.toml"
    path.write_text(
        f'[recruiter]\nname = "Sam Carter"\naddresses = ["{RECRUITER}"]\n'
        f'[store]\npath = "{tmp_path / "store.json"}"\n[policy]\nholidays = ""\n{extra}'
        f'[[accounts]]\nname = "work"\nprovider = "imap"\nhost = "127.0.0.1"\nport = {port}\n'
        f'security = "none"\nusername = "{harness.user}"\npassword_env = "{PASSWORD_ENV}"\n'
    )
    return path


def _env() -> dict[str, str]:
    import os
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    return {**os.environ, "PYTHONPATH": str(root), PASSWORD_ENV: PASSWORD}


def test_sync_and_the_daemon_end_a_trickled_pass_at_the_deadline_in_one_line(
    harness: ImapHarness, tmp_path: Any, figures: Any
) -> None:
    """The CLI's `sync --timeout` and the daemon's `[daemon] pass_timeout`, as processes."""
    import signal
    import subprocess
    import sys

    # Filed under a candidate, so that its text is read (and trickles)
    harness.deliver(
        make_raw(subject="Hello", message_id="<h2@agency.example>", body="TRICKLE-FROM-HERE"), tag="Jane Doe"
    )
    proxy = FaultyProxy(harness.server.port, faulty=2, trickle_on=b"TRICKLE-FROM-HERE", trickle_every=2.0)
    try:
        config = _config_file(harness, tmp_path, proxy.port, "[daemon]\npass_timeout = 10\n")
        started = time.monotonic()
        sync = subprocess.run(
            [sys.executable, "-m", "inbox_watch", "--config", str(config), "sync", "--timeout", "2"],
            capture_output=True,
            text=True,
            env=_env(),
            timeout=60,
        )
        took = time.monotonic() - started
        figures.add("stalled passes tried")
        figures.add("passes past their deadline", int(took > 2 + 8))
        assert sync.returncode == 1 and took < 2 + 8, (took, sync.stderr)
        [line] = sync.stderr.strip().splitlines()
        assert "work" in line and "stopped at the pass deadline (2 s" in line and "Traceback" not in line

        daemon = subprocess.Popen(
            [sys.executable, "-m", "inbox_watch", "--config", str(config), "daemon"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=_env(),
        )
        started = time.monotonic()
        store = Store(tmp_path / "store.json")
        try:
            while time.monotonic() - started < 40 and not store.messages():
                time.sleep(0.2)
            took = time.monotonic() - started
        finally:
            daemon.send_signal(signal.SIGTERM)
            out, err = daemon.communicate(timeout=20)
        figures.add("stalled passes tried")
        figures.add("passes past their deadline", int(took > 10 + 10))
        assert "stopped at the pass deadline (10 s" in out + err, (out, err)
        assert [m.message_id for m in store.messages()] == ["<h2@agency.example>"]  # the next pass read it
        assert took < 10 + 10, took
    finally:
        proxy.stop()
