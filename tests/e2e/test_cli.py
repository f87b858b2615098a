"""The command line end to end, as a script would use it: real processes, the demo account."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.conftest import need_corpus

ROOT = Path(__file__).resolve().parents[2]
ROW_KEYS = {
    "owner",
    "rank",
    "candidate",
    "emails",
    "status",
    "waiting_since",
    "silent_business_hours",
    "chasers_sent",
    "employer_waiting",
    "out_of_office_until",
    "next_action",
    "score",
    "reasons",
    "threads",
}
STATUSES = {"silent", "awaiting", "replied", "out_of_office", "bounced", "snoozed", "pulled", "idle"}
ACTIONS = {"wait", "send_chaser", "call", "text", "message_on_social", "update_employer", "consider_pulling", "none"}


def cli(*args: str, config: Path | None = None, check: bool = True) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    command = [sys.executable, "-m", "inbox_watch"]
    if config is not None:
        command += ["--config", str(config)]
    result = subprocess.run(command + list(args), capture_output=True, text=True, env=env, timeout=120)
    if check:
        assert result.returncode == 0, result.stderr
    return result


@pytest.fixture
def demo_config(tmp_path: Path) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(
        '[recruiter]\nname = "Sam Carter"\naddresses = ["sam@agency.example"]\n'
        f'[store]\npath = "{tmp_path / "store.json"}"\n'
        '[[accounts]]\nname = "demo"\nprovider = "demo"\n'
    )
    return path


def test_report_json_contract_on_the_demo_account(demo_config: Path) -> None:
    now = datetime.now(UTC).replace(microsecond=0).isoformat()  # the demo mailbox is anchored to now
    synced = cli("sync", config=demo_config)
    assert "demo: full sync" in synced.stdout
    report = json.loads(cli("report", "--json", "--now", now, config=demo_config).stdout)
    assert set(report) == {"generated_at", "candidates"}
    assert datetime.fromisoformat(report["generated_at"]).isoformat() == now
    rows = report["candidates"]
    assert len(rows) >= 15
    assert [r["rank"] for r in rows] == list(range(1, len(rows) + 1))
    for row in rows:
        assert set(row) == ROW_KEYS
        assert row["owner"] == "Sam Carter"  # outside team mode: the recruiter's own name
        assert row["status"] in STATUSES and row["next_action"] in ACTIONS
        assert isinstance(row["emails"], list) and isinstance(row["reasons"], list) and row["reasons"]
        assert isinstance(row["silent_business_hours"], (int, float))
        assert isinstance(row["chasers_sent"], int) and isinstance(row["employer_waiting"], bool)
        if row["waiting_since"]:
            datetime.fromisoformat(row["waiting_since"])
    statuses = {r["status"] for r in rows}
    assert {"silent", "awaiting", "replied", "out_of_office", "bounced", "idle"} <= statuses
    # Those who need the recruiter now come first.
    groups = [0 if r["status"] in ("silent", "bounced") else 1 if r["status"] == "awaiting" else 2 for r in rows]
    assert groups == sorted(groups)
    names = [r["candidate"] for r in rows]
    assert len(names) == len(set(names))


def test_second_sync_is_incremental_and_changes_nothing(demo_config: Path) -> None:
    cli("sync", config=demo_config)
    again = cli("sync", config=demo_config)
    assert "incremental sync, 0 new, 0 updated" in again.stdout


def test_classify_json_contract_on_real_mail(tmp_path: Path) -> None:
    files = need_corpus()[:40]
    broken = tmp_path / "broken.eml"
    broken.write_bytes(b"\xff\xfe\x00garbage")
    missing = tmp_path / "missing.eml"
    out = cli("classify", "--json", *map(str, files), str(broken), str(missing)).stdout.splitlines()
    assert len(out) == len(files) + 2
    kinds = set()
    for line, name in zip(out, [*map(str, files), str(broken), str(missing)], strict=True):
        row = json.loads(line)
        assert set(row) == {"file", "kind", "reasons"} and row["file"] == name
        assert row["kind"] in {"scheduling", "calendar_response", "auto_reply", "bounce", "other"}
        kinds.add(row["kind"])
    assert json.loads(out[-1])["kind"] == "other" and "cannot read" in json.loads(out[-1])["reasons"][0]
    assert {"scheduling", "bounce", "other"} <= kinds


def test_chase_draft_send_and_the_one_day_guard(demo_config: Path) -> None:
    cli("sync", config=demo_config)
    rows = json.loads(cli("report", "--json", config=demo_config).stdout)["candidates"]
    target = next(r["candidate"] for r in rows if r["next_action"] == "send_chaser")
    drafted = cli("chase", target, "--draft", config=demo_config)
    assert "saved to drafts" in drafted.stdout
    sent = cli("chase", target, "--send", config=demo_config)
    assert "sent" in sent.stdout
    again = cli("chase", target, "--send", config=demo_config, check=False)
    assert again.returncode != 0
    assert "wait a business day or use --force" in again.stderr
    assert "went to" in again.stderr and "just now" in again.stderr and "0m" not in again.stderr
    assert len(again.stderr.strip().splitlines()) == 1


def test_roster_import_log_snooze_pull_forget(tmp_path: Path, demo_config: Path) -> None:
    roster = tmp_path / "roster.csv"
    roster.write_text(
        "name,email,phone,role,employer,employer_email,stage\n"
        "Jane Doe,jane@example.com;jd@example.net,07700 100001,Analyst,Acme,hr@acme.example,first\n"
    )
    assert "1 new" in cli("candidates", "import", str(roster), config=demo_config).stdout
    listed = cli("candidates", "list", config=demo_config).stdout
    assert "Jane Doe" in listed and "jd@example.net" in listed
    assert "next:" in cli("log", "Jane Doe", "call", "--note", "voicemail", config=demo_config).stdout
    until = (datetime.now(UTC) + timedelta(days=30)).date().isoformat()
    cli("snooze", "Jane Doe", "--until", until, "--reason", "ill", config=demo_config)
    row = next(
        r
        for r in json.loads(cli("report", "--json", config=demo_config).stdout)["candidates"]
        if r["candidate"] == "Jane Doe"
    )
    assert row["status"] == "snoozed"
    cli("pull", "Jane Doe", config=demo_config)
    cli("forget", "Jane Doe", "--yes", config=demo_config)
    assert "Jane Doe" not in cli("candidates", "list", config=demo_config).stdout
    for name in ("store.json", "store.state.json"):
        assert b"jane" not in (tmp_path / name).read_bytes().lower()


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (("report",), "config file not found"),
        (("chase", "Nobody", "--send"), "config file not found"),
        (("frobnicate",), "invalid choice"),
        (("report", "--now", "yesterday"), "not an ISO 8601"),
    ],
)
def test_errors_are_one_line_without_traceback(tmp_path: Path, args: tuple[str, ...], needle: str) -> None:
    config = tmp_path / "absent.toml" if args[0] != "report" or "--now" not in args else None
    if config is None:
        config = tmp_path / "c.toml"
        config.write_text('[store]\npath = "s.json"\n')
    result = cli(*args, config=config, check=False)
    assert result.returncode != 0
    assert needle in result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_a_wrong_option_and_a_config_without_accounts_say_so_once(tmp_path: Path) -> None:
    result = cli("--frobnicate", check=False)
    assert result.returncode == 2
    assert result.stderr.strip() == "inbox-watch: unrecognized arguments: --frobnicate (see --help)"
    config = tmp_path / "c.toml"
    config.write_text('[recruiter]\nname = "Sam"\naddresses = ["sam@agency.example"]\n[store]\npath = "s.json"\n')
    result = cli("sync", config=config, check=False)
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.strip() == (
        f"inbox-watch: no mail account in {config}: add an [[accounts]] section (see README, Configuration)"
    )


def test_unknown_candidate_and_bad_roster(tmp_path: Path, demo_config: Path) -> None:
    result = cli("chase", "Nobody Atall", "--draft", config=demo_config, check=False)
    assert result.returncode == 2 and "no candidate called 'Nobody Atall'" in result.stderr
    bad = tmp_path / "bad.csv"
    bad.write_text("name,email\nEve,not-an-address\n")
    result = cli("candidates", "import", str(bad), config=demo_config, check=False)
    assert result.returncode == 2 and f"{bad}:2" in result.stderr
    assert f"{bad}: no candidate imported (1 bad row could not be read)" in result.stderr


def test_an_excel_roster_imports_its_good_rows_and_names_the_bad_ones(tmp_path: Path, demo_config: Path) -> None:
    roster = tmp_path / "export.csv"
    roster.write_bytes(
        "Name;Email Address;Mobile;Company\r\n"
        "Zoë Clarke;zoe@example.com;07700 100001;Société Générale\r\n"
        "Nobody;;;\r\n"
        "Jürgen Müller;jm@example.de;+49 30 1234567;Bäckerei\r\n".encode("cp1252")
    )
    result = cli("candidates", "import", str(roster), config=demo_config, check=False)
    assert result.returncode == 1  # partly imported
    assert result.stderr.splitlines() == [f"inbox-watch: {roster}:3: Nobody has no email address"]
    assert "imported 2 candidates" in result.stdout and "skipped 1 bad row (above)" in result.stdout
    assert "read as cp1252" in result.stdout and "is a landline: no call or text will be offered" in result.stdout
    assert "Traceback" not in result.stderr
    listed = cli("candidates", "list", config=demo_config).stdout
    assert "Zoë Clarke" in listed and "Société Générale" in listed and "Jürgen Müller" in listed
    assert "with Zoë Clarke" in cli("log", "zoe", "call", config=demo_config).stdout  # no accent typed


def test_demo_prints_the_ranked_mailbox_without_a_config() -> None:
    out = cli("demo", "--print").stdout
    # The dashboard's words (inbox_watch.vocabulary), not the JSON identifiers.
    assert "consider pulling" in out and "out of office" in out and "bounced" in out
    assert "consider_pulling" not in out and "out_of_office" not in out


def test_unreachable_server_is_one_line_and_leaves_the_store_as_it_was(tmp_path: Path, demo_config: Path) -> None:
    cli("sync", config=demo_config)
    store_file, state_file = tmp_path / "store.json", tmp_path / "store.state.json"
    before = store_file.read_bytes()
    broken = tmp_path / "broken.toml"
    broken.write_text(
        demo_config.read_text()
        + '[[accounts]]\nname = "work"\nprovider = "imap"\nhost = "127.0.0.1"\nport = 1\nsecurity = "none"\n'
        'username = "sam"\npassword_env = "INBOX_WATCH_TEST_PW"\n'
    )
    env_pw = {"INBOX_WATCH_TEST_PW": "not-a-real-password"}
    os.environ.update(env_pw)
    try:
        result = cli("sync", "--account", "work", config=broken, check=False)
    finally:
        os.environ.pop("INBOX_WATCH_TEST_PW")
    assert result.returncode == 1
    assert "work" in result.stderr and "127.0.0.1" in result.stderr
    assert "Traceback" not in result.stderr and "not-a-real-password" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert store_file.read_bytes() == before  # no mail written, nothing lost
    assert b'"work"' in state_file.read_bytes()  # the failure is recorded for the dashboard


def test_far_snooze_and_far_now_are_refused_in_one_line(demo_config: Path) -> None:
    cli("sync", config=demo_config)
    result = cli("snooze", "Tom Becker", "--until", "9999-12-31", config=demo_config, check=False)
    assert result.returncode == 2 and "more than a year ahead" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    cli("report", config=demo_config)  # nothing stored: every command still works
    result = cli("report", "--now", "9999-12-31T23:00Z", config=demo_config, check=False)
    assert result.returncode == 2 and "years from today" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_a_name_inside_another_word_is_not_a_match(tmp_path: Path, demo_config: Path) -> None:
    cli("sync", config=demo_config)
    roster = tmp_path / "r.csv"
    roster.write_text("name,email\nAnna Lee,anna@example.com\nAnna Berg,berg@example.com\n")
    cli("candidates", "import", str(roster), config=demo_config)
    result = cli("forget", "anna", "--yes", config=demo_config, check=False)
    assert result.returncode == 2 and "matches several candidates" in result.stderr
    assert "Anna Lee" in result.stderr and "Anna Berg" in result.stderr and "Hannah" not in result.stderr
    assert "with Anna Lee" in cli("log", "anna l", "call", config=demo_config).stdout
    assert "forgot Anna Berg" in cli("forget", "anna b", "--yes", config=demo_config).stdout
    assert "Hannah Cho" in cli("candidates", "list", config=demo_config).stdout


def test_duplicate_roster_rows_are_merged_and_counted_as_stored(tmp_path: Path, demo_config: Path) -> None:
    roster = tmp_path / "dup.csv"
    roster.write_text("name,email\nZoe Ward,zoe@example.com\nzoe ward,zoe2@example.com\nBob,bob@example.com\n")
    out = cli("candidates", "import", str(roster), config=demo_config).stdout
    assert "imported 2 candidates" in out and "(2 new, 0 updated)" in out and f"{roster}:3" in out
    listed = cli("candidates", "list", config=demo_config).stdout
    assert "zoe@example.com, zoe2@example.com" in listed


def test_a_pulled_candidate_is_not_chased_without_force(demo_config: Path) -> None:
    cli("sync", config=demo_config)
    cli("pull", "Tom Becker", config=demo_config)
    result = cli("chase", "Tom", "--draft", config=demo_config, check=False)
    assert result.returncode == 3
    assert result.stderr.strip() == "inbox-watch: Tom Becker was pulled from the campaign; use --force to chase anyway"
    assert "saved to drafts" in cli("chase", "Tom", "--draft", "--force", config=demo_config).stdout


def test_a_closed_pipe_ends_quietly_and_debug_goes_after_the_command_too(demo_config: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    command = [sys.executable, "-m", "inbox_watch", "demo", "--print"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    assert process.stdout is not None and process.stderr is not None
    process.stdout.close()  # `| head` that has read enough
    err = process.stderr.read()
    assert process.wait(timeout=120) in (0, 141)
    assert err == b""
    assert json.loads(cli("report", "--json", "--debug", config=demo_config).stdout)["candidates"] == []
    result = cli("candidates", "list", "--frobnicate", config=demo_config, check=False)
    assert result.returncode == 2


def test_daemon_without_accounts_refuses_like_sync(tmp_path: Path) -> None:
    config = tmp_path / "c.toml"
    config.write_text('[recruiter]\nname = "Sam"\naddresses = ["sam@agency.example"]\n[store]\npath = "s.json"\n')
    result = cli("daemon", config=config, check=False)
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.strip().startswith("inbox-watch: no mail account in ")


def test_auth_with_closed_stdin_says_no_password_was_entered(tmp_path: Path) -> None:
    config = tmp_path / "c.toml"
    config.write_text(
        '[store]\npath = "s.json"\n[[accounts]]\nname = "work"\nprovider = "imap"\n'
        'host = "imap.example.com"\nusername = "sam"\n'
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    result = subprocess.run(
        [sys.executable, "-m", "inbox_watch", "--config", str(config), "auth", "work"],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert result.returncode != 0 and result.returncode != 70
    assert "no password entered for account 'work'" in result.stderr
    assert "EOFError" not in result.stderr and "Traceback" not in result.stderr


def _status(config: Path, name: str) -> str:
    rows = json.loads(cli("report", "--json", config=config).stdout)["candidates"]
    return str(next(r["status"] for r in rows if r["candidate"] == name))


def test_pull_and_snooze_can_be_taken_back_and_pulling_twice_says_so(demo_config: Path) -> None:
    cli("sync", config=demo_config)
    assert cli("pull", "Tom Becker", config=demo_config).stdout.startswith("Tom Becker is pulled from the campaign")
    again = cli("pull", "Tom Becker", config=demo_config)
    assert (
        again.stdout.strip() == "Tom Becker was already pulled from the campaign (`inbox-watch unpull` puts them back)"
    )
    back = cli("unpull", "Tom", config=demo_config)
    assert back.stdout.startswith("Tom Becker is back in the campaign; next: ")
    assert _status(demo_config, "Tom Becker") == "silent"
    assert cli("unpull", "Tom", config=demo_config).stdout.strip() == "Tom Becker is not pulled"

    until = (datetime.now(UTC) + timedelta(days=30)).date().isoformat()
    cli("snooze", "Grace Liu", "--until", until, config=demo_config)
    assert _status(demo_config, "Grace Liu") == "snoozed"
    woken = cli("unsnooze", "Grace Liu", config=demo_config)
    assert woken.stdout.strip() == "Grace Liu is no longer snoozed; next: send_chaser"
    assert _status(demo_config, "Grace Liu") == "silent"
    assert cli("unsnooze", "Grace Liu", config=demo_config).stdout.strip() == "Grace Liu is not snoozed"


def test_an_out_of_office_or_bounced_candidate_is_not_chased_without_force(demo_config: Path) -> None:
    cli("sync", config=demo_config)
    rows = {r["candidate"]: r for r in json.loads(cli("report", "--json", config=demo_config).stdout)["candidates"]}
    back = datetime.fromisoformat(rows["Oliver Grant"]["out_of_office_until"])
    away = cli("chase", "Oliver Grant", "--send", config=demo_config, check=False)
    assert away.returncode == 3
    assert away.stderr.strip() == (
        f"inbox-watch: Oliver Grant is out of the office: away until {back:%a %d %b %Y}; use --force to chase anyway"
    )
    bounced = cli("chase", "Chloe Dubois", "--send", config=demo_config, check=False)
    assert bounced.returncode == 3
    assert bounced.stderr.strip().startswith(
        "inbox-watch: Chloe Dubois's address is failing (delivery to chloe.dubios@example.com failed on "
    )
    assert bounced.stderr.strip().endswith("); use --force to chase anyway")
    assert "saved to drafts" in cli("chase", "Oliver Grant", "--draft", "--force", config=demo_config).stdout
