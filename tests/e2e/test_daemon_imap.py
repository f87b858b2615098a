# ruff: noqa: F811 - the notifications fixture imported from notifications_server.py is named as an argument
"""The real daemon process against a real Dovecot: a reply shows within seconds with the default
schedule (IDLE, not the 300 s interval), a restart of the server is survived, SIGTERM in IDLE
ends it in under two seconds, and a second daemon on the same store refuses."""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from inbox_watch import notify
from inbox_watch.config import load_config
from inbox_watch.service import Workspace
from inbox_watch.store import Store
from tests.notifications_server import NotificationsServer, notifications  # noqa: F401
from tests.providers.contract import make_raw
from tests.providers.dovecot import PASSWORD, Dovecot, running_dovecot

ROOT = Path(__file__).resolve().parents[2]
RECRUITER = "sam@agency.example"
PASSWORD_ENV = "INBOX_WATCH_TEST_IMAP_PASSWORD"


@pytest.fixture(scope="module")
def server() -> Iterator[Dovecot]:
    yield from running_dovecot()  # this module's own: one test restarts it


class Mailbox:
    """A Dovecot user with a config, a roster of two candidates and their scheduling emails."""

    def __init__(self, server: Dovecot, tmp_path: Path, extra: str = "") -> None:
        self.server = server
        self.user = server.new_user()
        self.tmp = tmp_path
        self.started: dict[int, datetime] = {}
        self.config = tmp_path / "config.toml"
        self.config.write_text(
            f'[recruiter]\nname = "Sam Carter"\naddresses = ["{RECRUITER}"]\n'
            f'[store]\npath = "{tmp_path / "store.json"}"\n'
            '[policy]\nholidays = ""\n'
            + extra
            + f'[[accounts]]\nname = "work"\nprovider = "imap"\nhost = "127.0.0.1"\nport = {server.port}\n'
            f'security = "none"\nusername = "{self.user}"\npassword_env = "{PASSWORD_ENV}"\n'
        )
        roster = tmp_path / "roster.csv"
        roster.write_text("name,email\nTom Becker,tom@example.com\nAnn Lee,ann@example.com\n")
        cli("candidates", "import", str(roster), config=self.config)
        world = server.client(self.user)
        when = datetime.now(UTC) - timedelta(days=3)
        for who, first in (("tom@example.com", "Tom"), ("ann@example.com", "Ann")):
            world.append(
                "Sent",
                make_raw(
                    subject=f"Interview slots for {first}",
                    message_id=f"<slots-{first.lower()}@agency.example>",
                    sender=RECRUITER,
                    to=who,
                    body=f"Hi {first}, could you do an interview on Monday at 10:00 or Tuesday at 14:00?",
                    when=when,
                ),
            )
        world.logout()

    def reply(self, first: str, body: str) -> None:
        world = self.server.client(self.user)
        world.append(
            "INBOX",
            make_raw(
                subject=f"Re: Interview slots for {first}",
                message_id=f"<reply-{first.lower()}-{time.monotonic_ns()}@example.com>",
                sender=f"{first.lower()}@example.com",
                to=RECRUITER,
                in_reply_to=f"<slots-{first.lower()}@agency.example>",
                body=body,
                when=datetime.now(UTC),
            ),
        )
        world.logout()

    def status(self, name: str) -> str | None:
        workspace = Workspace.open(load_config(self.config))
        for row in workspace.report(datetime.now(UTC))["candidates"]:
            if row["candidate"] == name:
                return str(row["status"])
        return None

    def wait_for(self, name: str, status: str, within: float) -> float:
        """Seconds until ``name`` shows ``status``; fails after ``within`` seconds."""
        started = time.monotonic()
        while time.monotonic() - started < within:
            if self.status(name) == status:
                return time.monotonic() - started
            time.sleep(0.1)
        raise AssertionError(f"{name} did not show {status!r} within {within}s (shows {self.status(name)!r})")

    def daemon(self) -> subprocess.Popen[str]:
        started = datetime.now(UTC)
        proc = subprocess.Popen(
            [sys.executable, "-m", "inbox_watch", "--config", str(self.config), "daemon"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env(),
        )
        self.started[proc.pid] = started
        return proc


def env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT), PASSWORD_ENV: PASSWORD}


def cli(*args: str, config: Path) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [sys.executable, "-m", "inbox_watch", "--config", str(config), *args],
        capture_output=True,
        text=True,
        env=env(),
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return result


def wait_until_idle(mailbox: Mailbox, proc: subprocess.Popen[str]) -> None:
    """Until this daemon's first pass is stored (it then waits in IDLE)."""
    store = Store(mailbox.tmp / "store.json")
    started = mailbox.started[proc.pid]
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.communicate()
        beat = store.heartbeat() if store.state_path.exists() else None
        synced = [datetime.fromisoformat(s["last_sync"]) for s in store.sync_status() if s.get("last_sync")]
        if beat and beat[0] == proc.pid and synced and max(synced) >= started:
            time.sleep(0.3)  # into IDLE
            return
        time.sleep(0.1)
    raise AssertionError("the daemon's first pass did not land")


def stop(proc: subprocess.Popen[str]) -> tuple[float, str, str]:
    started = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=30)
    return time.monotonic() - started, out, err


def test_a_reply_shows_within_seconds_survives_a_restart_and_sigterm_in_idle_is_quick(
    server: Dovecot, tmp_path: Path
) -> None:
    mailbox = Mailbox(server, tmp_path)
    proc = mailbox.daemon()
    try:
        wait_until_idle(mailbox, proc)
        # The default schedule: IMAP polls every 300 s, but IDLE brings the reply at once.
        mailbox.reply("Tom", "Monday at 10 works for me")
        assert mailbox.wait_for("Tom Becker", "replied", within=8) < 8
        report = json.loads(cli("report", "--json", config=mailbox.config).stdout)
        assert {r["candidate"]: r["status"] for r in report["candidates"]}["Tom Becker"] == "replied"

        server.restart()  # the IDLE connection drops; the daemon reconnects with back-off
        time.sleep(0.5)
        mailbox.reply("Ann", "Tuesday suits me")
        assert mailbox.wait_for("Ann Lee", "replied", within=20) < 20
        assert proc.poll() is None  # still running

        time.sleep(0.5)  # back in IDLE
        took, out, err = stop(proc)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, err
    assert took < 2.0, f"SIGTERM in IDLE took {took:.2f}s"
    assert "stopped" in out
    assert "reconnecting" in err or "next try" in err  # the restart was seen, and said in one line
    assert "Traceback" not in err
    # The log file: in the user state dir, private, the passes in it, no password, no mail text.
    log = Path(os.environ["XDG_STATE_HOME"]) / "inbox-watch" / "daemon.log"
    assert stat.S_IMODE(log.stat().st_mode) == 0o600
    assert stat.S_IMODE(log.parent.stat().st_mode) == 0o700
    text = log.read_text()
    assert "work: incremental sync, 1 new" in text
    assert "notice: Tom Becker replied" in text
    assert PASSWORD not in text and "Monday at 10 works" not in text


def test_a_second_daemon_on_the_same_store_refuses_naming_the_first(server: Dovecot, tmp_path: Path) -> None:
    mailbox = Mailbox(server, tmp_path)
    first = mailbox.daemon()
    try:
        wait_until_idle(mailbox, first)
        second = mailbox.daemon()
        out, err = second.communicate(timeout=30)
        assert second.returncode == 3, err
        assert f"another inbox-watch daemon (pid {first.pid}) is already running" in err
        assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
        assert first.poll() is None  # the first goes on
    finally:
        took, _out, err = stop(first)
    assert first.returncode == 0, err
    # Once it stopped, a new one may start.
    again = mailbox.daemon()
    try:
        wait_until_idle(mailbox, again)
    finally:
        stop(again)
    assert again.returncode == 0


def test_sigterm_in_the_middle_of_a_long_first_sync_stops_quickly_and_loses_nothing(
    server: Dovecot, tmp_path: Path
) -> None:
    mailbox = Mailbox(server, tmp_path)
    cur = server.maildir(mailbox.user) / "cur"
    filler = ("Some words about the interview and the role. " * 20 + "\r\n") * 4
    count = 4000
    for i in range(count):
        raw = make_raw(subject=f"bulk {i}", message_id=f"<bulk{i}@example.com>", sender="x@example.org", body=filler)
        (cur / f"{int(time.time())}.M{i}P{os.getpid()}.test:2,S").write_bytes(raw)
    server.chown_tree(cur)
    store = Store(tmp_path / "store.json")
    proc = mailbox.daemon()
    try:
        deadline = time.monotonic() + 30
        while not (store.state_path.exists() and store.heartbeat()) and time.monotonic() < deadline:
            time.sleep(0.02)  # the beat at the start of the first pass: the fetch is under way
        time.sleep(0.3)
        took, out, err = stop(proc)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, err
    assert took < 2.0, f"SIGTERM mid-fetch took {took:.2f}s"
    assert "Traceback" not in err
    assert store.heartbeat() is None
    assert store.message_count() == 0  # it was stopped mid-fetch: nothing of the pass stored
    # Nothing half-written: the next run reads everything, once.
    again = mailbox.daemon()
    try:
        wait_until_idle(mailbox, again)
    finally:
        stop(again)
    assert store.message_count() == count + 2


def test_the_recruiter_is_told_on_the_desktop_when_a_candidate_replies(
    server: Dovecot, tmp_path: Path, notifications: NotificationsServer
) -> None:
    mailbox = Mailbox(server, tmp_path, extra='[notify]\nquiet_hours = ""\n')
    proc = mailbox.daemon()  # the private session bus is in its environment
    try:
        wait_until_idle(mailbox, proc)
        assert notifications.calls == []  # the first pass is not news
        mailbox.reply("Tom", "Monday at 10 works for me\n\nOn Mon, Sam wrote:\n> Could you do Monday?")
        [call] = notifications.wait_for(1, within=10)
    finally:
        stop(proc)
    assert call == {"app": "inbox-watch", "summary": "Tom Becker replied", "body": "Monday at 10 works for me"}
    kept = notify.kept_notices(tmp_path / "store.json")  # for the dashboard
    assert [n.line for _number, n in kept] == ["Tom Becker replied: 'Monday at 10 works for me'"]
