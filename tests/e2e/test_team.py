# ruff: noqa: F811 - the fixtures imported from dovecot.py and smtp_server.py are named as arguments
"""Team mode through the command line: two recruiters, each with a mailbox of their own on a real
Dovecot, one real SMTP server, and one real PostgreSQL they share."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from tests.providers.dovecot import PASSWORD, Dovecot, dovecot_server, free_port  # noqa: F401
from tests.providers.postgres import Postgres
from tests.providers.smtp_server import SmtpServer, smtp_server  # noqa: F401

ROOT = Path(__file__).resolve().parents[2]
LONDON = ZoneInfo("Europe/London")
IMAP_ENV = "INBOX_WATCH_TEST_IMAP_PASSWORD"
DB_ENV = "INBOX_WATCH_TEST_DB_PASSWORD"
SAM, ALEX = "sam@agency.example", "alex@agency.example"


def _monday() -> datetime:
    """Monday 09:00 London of a week that has passed (the mail is within the sync's look-back)."""
    today = datetime.now(LONDON).replace(hour=9, minute=0, second=0, microsecond=0)
    return today - timedelta(days=today.weekday() + 14)


MONDAY = _monday()
WEDNESDAY = MONDAY + timedelta(days=2, hours=1)  # 10:00: two business days after Monday's emails


def raw(sender: str, to: str, subject: str, body: str, when: datetime, message_id: str, reply_to: str = "") -> bytes:
    lines = [
        f"From: {sender}",
        f"To: {to}",
        f"Subject: {subject}",
        f"Date: {format_datetime(when)}",
        f"Message-ID: {message_id}",
    ]
    if reply_to:
        lines += [f"In-Reply-To: {reply_to}", f"References: {reply_to}"]
    lines += ["MIME-Version: 1.0", "Content-Type: text/plain; charset=utf-8", "", body, ""]
    return "\r\n".join(lines).encode()


def slots(name: str) -> str:
    return f"Hi {name},\n\nAcme can interview you on Thursday at 10:00 or Friday at 14:00. Which suits you?\n\nThanks"


@dataclass
class Recruiter:
    name: str
    address: str
    user: str  # the Dovecot login
    config: Path

    def run(self, *args: str, check: bool = True, now: datetime | None = None) -> subprocess.CompletedProcess[str]:
        extra = ["--now", now.isoformat()] if now is not None else []
        result = subprocess.run(
            [sys.executable, "-m", "inbox_watch", "--config", str(self.config), *args, *extra],
            capture_output=True,
            text=True,
            env=_env(),
            timeout=120,
        )
        if check:
            assert result.returncode == 0, result.stderr
        return result

    def start(self, *args: str, now: datetime) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [sys.executable, "-m", "inbox_watch", "--config", str(self.config), *args, "--now", now.isoformat()],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=_env(),
        )


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT), IMAP_ENV: PASSWORD, DB_ENV: "team-secret-Pw9"}


def _config(
    tmp_path: Path, name: str, address: str, user: str, server: Dovecot, smtp: SmtpServer, url: str, extra: str = ""
) -> Path:
    folder = tmp_path / name.split()[0].lower()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "config.toml"
    path.write_text(
        f'[recruiter]\nname = "{name}"\naddresses = ["{address}"]\n'
        f'[store]\nurl = "{url}"\npassword_env = "{DB_ENV}"\n{extra}'
        '[[accounts]]\nname = "work"\nprovider = "imap"\nhost = "127.0.0.1"\n'
        f'port = {server.port}\nsecurity = "none"\nusername = "{user}"\npassword_env = "{IMAP_ENV}"\n'
        f'smtp_host = "127.0.0.1"\nsmtp_port = {smtp.port}\nsmtp_security = "none"\n'
    )
    return path


@pytest.fixture
def team(
    tmp_path: Path, dovecot_server: Dovecot, smtp_server: SmtpServer, postgres_server: Postgres
) -> Iterator[tuple[Recruiter, Recruiter]]:
    url = postgres_server.new_database()
    sam_user, alex_user = dovecot_server.new_user(), dovecot_server.new_user()
    sam = Recruiter(
        "Sam Carter", SAM, sam_user, _config(tmp_path, "Sam Carter", SAM, sam_user, dovecot_server, smtp_server, url)
    )
    alex = Recruiter(
        "Alex Moore",
        ALEX,
        alex_user,
        _config(tmp_path, "Alex Moore", ALEX, alex_user, dovecot_server, smtp_server, url),
    )
    # Sam emailed Sophie and Tom the slots on Monday; Alex emailed Ruby. Tom answered Alex, not Sam.
    with dovecot_server.client(sam_user) as box:
        box.append(
            "Sent",
            raw(SAM, "sophie@example.com", "Interview at Acme", slots("Sophie"), MONDAY, "<s1@agency.example>"),
            [b"\\Seen"],
        )
        box.append(
            "Sent",
            raw(SAM, "tom@example.com", "Interview with Acme", slots("Tom"), MONDAY, "<t1@agency.example>"),
            [b"\\Seen"],
        )
    with dovecot_server.client(alex_user) as box:
        box.append(
            "Sent",
            raw(
                ALEX,
                "ruby@example.com",
                "Interview at Fabrikam",
                slots("Ruby"),
                MONDAY + timedelta(hours=1),
                "<r1@agency.example>",
            ),
            [b"\\Seen"],
        )
        box.append(
            "INBOX",
            raw(
                "tom@example.com",
                ALEX,
                "Acme interview",
                "Hi Alex, Thursday at 10 works for me. Tom",
                MONDAY + timedelta(days=1),
                "<t2@home.example>",
            ),
        )
    roster = tmp_path / "sam.csv"
    roster.write_text(
        "name,email,phone,role,employer,employer_email,stage\n"
        "Sophie Turner,sophie@example.com,,Analyst,Acme,hr@acme.example,\nTom Becker,tom@example.com,,Engineer,Acme,,\n"
    )
    theirs = tmp_path / "alex.csv"  # Alex's roster has Sophie too, under another address as well
    theirs.write_text(
        "name,email,phone,role,employer,employer_email,stage\n"
        "Ruby Evans,ruby@example.com,,Designer,Fabrikam,,\nSophie Turner,sophie@example.com;s.turner@home.example,,,,,\n"
    )
    created = sam.run("store", "init")
    from inbox_watch.store_pg import SCHEMA_VERSION

    assert created.stdout.strip().endswith(f": schema created (version {SCHEMA_VERSION})")
    assert (
        alex.run("store", "init").stdout.strip().endswith(f"schema already at version {SCHEMA_VERSION}; nothing to do")
    )
    assert "team-secret" not in created.stdout + created.stderr
    sam.run("candidates", "import", str(roster))
    alex.run("candidates", "import", str(theirs))
    sam.run("sync")
    alex.run("sync")
    yield sam, alex


def _rows(recruiter: Recruiter, *args: str) -> dict[str, dict[str, object]]:
    report = json.loads(recruiter.run("report", "--json", *args, now=WEDNESDAY).stdout)
    return {row["candidate"]: row for row in report["candidates"]}


def test_the_team_shares_candidates_and_state_from_everyones_mail(team: tuple[Recruiter, Recruiter]) -> None:
    sam, alex = team
    for recruiter in (sam, alex):
        rows = _rows(recruiter)
        assert set(rows) == {"Sophie Turner", "Tom Becker", "Ruby Evans"}  # one row per person
        assert rows["Sophie Turner"]["emails"] == ["sophie@example.com", "s.turner@home.example"]
        assert rows["Sophie Turner"]["status"] == "silent" and rows["Sophie Turner"]["owner"] == "Sam Carter"
        assert rows["Tom Becker"]["status"] == "replied"  # his answer to Alex ends Sam's wait
        assert rows["Ruby Evans"]["status"] == "silent" and rows["Ruby Evans"]["owner"] == "Alex Moore"
    mine = json.loads(sam.run("report", "--json", "--mine", now=WEDNESDAY).stdout)["candidates"]
    assert [(r["rank"], r["candidate"]) for r in mine] == [(1, "Sophie Turner"), (2, "Tom Becker")]
    assert [
        r["candidate"] for r in json.loads(alex.run("report", "--json", "--mine", now=WEDNESDAY).stdout)["candidates"]
    ] == ["Ruby Evans"]
    text = alex.run("report", now=WEDNESDAY).stdout.splitlines()
    assert "owner" in text[0]
    assert any("Sophie Turner" in line and "Sam Carter" in line for line in text[1:])


def test_a_teammates_chaser_is_refused_with_who_and_when_and_force_overrides(
    team: tuple[Recruiter, Recruiter], smtp_server: SmtpServer
) -> None:
    sam, alex = team
    before = len(smtp_server.messages)
    sent = sam.run("chase", "Sophie Turner", "--send", now=WEDNESDAY)
    assert "chaser for Sophie Turner sent" in sent.stdout
    assert len(smtp_server.messages) == before + 1
    refused = alex.run("chase", "Sophie", "--send", check=False, now=WEDNESDAY + timedelta(minutes=30))
    assert refused.returncode == 3
    assert refused.stderr.strip() == (
        "inbox-watch: Sam Carter chased Sophie Turner at 10:00; wait a business day or send anyway with "
        "`inbox-watch chase 'Sophie Turner' --send --force`"
    )
    assert len(smtp_server.messages) == before + 1
    # Once Sam's Sent is synced, the chaser (dated by the real clock) is in the team's mail too.
    sam.run("sync")
    rows = {r["candidate"]: r for r in json.loads(alex.run("report", "--json").stdout)["candidates"]}
    assert rows["Sophie Turner"]["chasers_sent"] == 1
    forced = alex.run("chase", "Sophie", "--send", "--force", now=WEDNESDAY + timedelta(minutes=31))
    assert "chaser for Sophie Turner sent" in forced.stdout
    assert len(smtp_server.messages) == before + 2
    # A business day later the guard lets a chaser through again.
    later = sam.run("chase", "Sophie", "--send", check=False, now=WEDNESDAY + timedelta(days=1, hours=1))
    assert later.returncode == 0, later.stderr


def test_a_teammates_employer_update_is_refused_naming_the_command_that_overrides_it(
    team: tuple[Recruiter, Recruiter], smtp_server: SmtpServer
) -> None:
    sam, alex = team
    before = len(smtp_server.messages)
    sent = sam.run("update-employer", "Sophie Turner", "--send", now=WEDNESDAY)
    assert "employer update for Sophie Turner sent" in sent.stdout
    refused = alex.run("update-employer", "sophie", "--send", check=False, now=WEDNESDAY + timedelta(minutes=20))
    assert refused.returncode == 3
    [line] = refused.stderr.strip().splitlines()
    assert line == (
        "inbox-watch: Sam Carter sent Sophie Turner's employer an update at 10:00; wait a business day or send "
        "anyway with `inbox-watch update-employer 'Sophie Turner' --send --force`"
    )
    assert len(smtp_server.messages) == before + 1
    way_out = shlex.split(line.split("send anyway with `")[1].rstrip("`"))
    assert way_out[0] == "inbox-watch"
    forced = alex.run(*way_out[1:], now=WEDNESDAY + timedelta(minutes=21))  # the command it names, as given
    assert "employer update for Sophie Turner sent" in forced.stdout
    assert [m.rcpt_tos for m in smtp_server.messages[before:]] == [["hr@acme.example"], ["hr@acme.example"]]


def test_two_recruiters_pressing_send_at_the_same_instant_send_one_message(
    team: tuple[Recruiter, Recruiter], smtp_server: SmtpServer
) -> None:
    sam, alex = team
    before = len(smtp_server.messages)
    pressed = [r.start("chase", "Ruby Evans", "--send", now=WEDNESDAY) for r in (sam, alex, sam, alex)]
    outcomes = [(p.wait(timeout=120), p.stderr.read() if p.stderr else "") for p in pressed]
    codes = sorted(code for code, _ in outcomes)
    assert codes == [0, 3, 3, 3], outcomes
    assert all("chased Ruby Evans at 10:00" in err for code, err in outcomes if code == 3)
    to_ruby = [m for m in smtp_server.messages[before:] if "ruby@example.com" in m.rcpt_tos]
    assert len(to_ruby) == 1


def test_database_down_at_start_and_mid_way(tmp_path: Path, dovecot_server: Dovecot, smtp_server: SmtpServer) -> None:
    closed = f"postgresql://sam@127.0.0.1:{free_port()}/agency"
    user = dovecot_server.new_user()
    down = Recruiter(
        "Sam Carter", SAM, user, _config(tmp_path, "Sam Carter", SAM, user, dovecot_server, smtp_server, closed)
    )
    for command in (("report",), ("sync",), ("store", "init")):
        result = down.run(*command, check=False)
        assert result.returncode == 2, result.stderr
        [line] = result.stderr.strip().splitlines()
        port = closed.split(":")[2].split("/")[0]
        assert line.startswith(f"inbox-watch: PostgreSQL sam@127.0.0.1:{port}/agency: cannot reach the team database")
        assert "team-secret" not in result.stderr + result.stdout and "Traceback" not in result.stderr
    server = Postgres().start()  # of its own: this test stops it
    try:
        url = server.new_database("agency")
        up = _config(tmp_path / "up", "Sam Carter", SAM, user, dovecot_server, smtp_server, url)
        sam = Recruiter("Sam Carter", SAM, user, up)
        sam.run("store", "init")
        with dovecot_server.client(user) as box:
            box.append("Sent", raw(SAM, "sophie@example.com", "Slots", slots("Sophie"), MONDAY, "<a1@agency.example>"))
        assert "1 new" in sam.run("sync").stdout
        with dovecot_server.client(user) as box:
            box.append(
                "INBOX",
                raw(
                    "sophie@example.com",
                    SAM,
                    "Re: Slots",
                    "Friday works",
                    MONDAY + timedelta(hours=3),
                    "<a2@home.example>",
                    reply_to="<a1@agency.example>",
                ),
            )
        server.stop()
        failed = sam.run("sync", check=False)
        assert failed.returncode != 0 and "cannot reach the team database" in failed.stderr
        assert "Traceback" not in failed.stderr and "team-secret" not in failed.stderr
        server.start()
        assert "1 new" in sam.run("sync").stdout  # the next pass catches up
        assert "0 new" in sam.run("sync").stdout
        import psycopg

        with psycopg.connect(url) as conn:
            assert conn.execute("SELECT count(*) FROM messages").fetchone() == (2,)  # no duplicate rows
    finally:
        server.remove()
