"""What a user sees when the store or a roster is not what it should be: one line naming the
file and what to do, on every command, never `unexpected error` (run in-process: cli.main)."""

from __future__ import annotations

import os
from datetime import date, timedelta
from pathlib import Path

import orjson
import pytest

from inbox_watch import cli

COMMANDS = (
    ("report",),
    ("report", "--json"),
    ("candidates", "list"),
    ("log", "Jane Doe", "call"),
    ("snooze", "Jane Doe", "--until", (date.today() + timedelta(days=20)).isoformat()),
    ("pull", "Jane Doe"),
    ("chase", "Jane Doe", "--draft"),
    ("forget", "Jane Doe", "--yes"),
    ("sync",),
)


def _config(tmp_path: Path, store: Path) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(
        '[recruiter]\nname = "Sam Carter"\naddresses = ["sam@agency.example"]\n'
        f"[store]\npath = '{store}'\n"
        '[[accounts]]\nname = "demo"\nprovider = "demo"\n'
    )
    return path


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    code = cli.main(list(args))
    return code, capsys.readouterr().err


@pytest.mark.parametrize(
    "damage",
    [
        b"",
        b'{"candidates": {"1": {"na',
        b'{"candidates": {"1": {"emails": []}}}',
        b'{"candidates": []}',
        orjson.dumps({"meta": {"1": {"schema": 2}}}),
    ],
    ids=["empty", "truncated", "no name", "wrong shape", "newer schema"],
)
def test_a_damaged_store_is_one_line_on_every_command(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], damage: bytes
) -> None:
    store = tmp_path / "store.json"
    store.write_bytes(damage)
    config = str(_config(tmp_path, store))
    for command in COMMANDS:
        code, err = _run(capsys, "--config", config, *command)
        lines = err.strip().splitlines()
        assert code not in (0, 70), (command, err)
        assert len(lines) == 1 and "unexpected error" not in err, (command, err)
        assert f"{store}: " in lines[0], (command, err)
        assert ("newer inbox-watch" in err) if b"schema" in damage else ("damaged" in err and "move it away" in err)
    assert store.read_bytes() == damage  # nothing wrote over it


def test_a_folder_where_the_store_belongs_is_one_line_naming_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store = tmp_path / "store.json"
    store.mkdir()
    code, err = _run(capsys, "--config", str(_config(tmp_path, store)), "report")
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert "store.path" in err and "not a folder" in err and "Errno" not in err


def test_the_root_folder_as_store_path_is_a_config_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, err = _run(capsys, "--config", str(_config(tmp_path, Path("/"))), "report")
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert "store.path = '/' is invalid" in err and "unexpected" not in err


def test_a_roster_field_over_128_kb_is_one_line_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    roster = tmp_path / "roster.csv"
    roster.write_text("name,email,role\n" + 'Jane Doe,jane@example.com,"' + "x" * 200_000 + '"\n')
    config = str(_config(tmp_path, tmp_path / "store.json"))
    code, err = _run(capsys, "--config", config, "candidates", "import", str(roster))
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert f"{roster}:" in err and "field larger than field limit" in err and "unexpected" not in err


def test_the_default_data_folder_is_created_private(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "share"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    config = tmp_path / "config" / "inbox-watch" / "config.toml"
    config.parent.mkdir(parents=True)
    config.write_text('[recruiter]\nname = "Sam Carter"\naddresses = ["sam@agency.example"]\n')
    monkeypatch.setenv("INBOX_WATCH_CONFIG", str(config))
    roster = tmp_path / "roster.csv"
    roster.write_text("name,email\nJane Doe,jane@example.com\n")
    code, _ = _run(capsys, "candidates", "import", str(roster))
    assert code == 0
    data = tmp_path / "share" / "inbox-watch"
    for folder in (tmp_path / "share", data):
        assert os.stat(folder).st_mode & 0o777 == 0o700, folder
    assert {p.name: os.stat(p).st_mode & 0o777 for p in data.iterdir() if p.is_file()} == {
        "store.json": 0o600,
        "store.json.lock": 0o600,
    }


def _import(tmp_path: Path, config: str, capsys: pytest.CaptureFixture[str], rows: str) -> None:
    roster = tmp_path / "roster.csv"
    roster.write_text("name,email\n" + rows)
    assert cli.main(["--config", config, "candidates", "import", str(roster)]) == 0
    capsys.readouterr()


def test_forget_without_a_terminal_refuses_unless_yes_and_counts_in_english(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import io

    config = str(_config(tmp_path, tmp_path / "store.json"))
    _import(tmp_path, config, capsys, "Jane Doe,jane@example.com\nBob Ray,bob@example.com\n")
    monkeypatch.setattr("sys.stdin", io.StringIO(""))  # not a terminal
    code, err = _run(capsys, "--config", config, "forget", "Jane Doe")
    assert code == 3 and err.strip().splitlines() == [
        "inbox-watch: forget Jane Doe: nothing erased: no terminal to confirm at (add --yes to erase without asking)"
    ]
    assert cli.main(["--config", config, "forget", "Jane Doe", "--yes"]) == 0
    assert capsys.readouterr().out == "forgot Jane Doe: erased 1 candidate, 0 messages\n"


def test_forget_asks_at_a_terminal(tmp_path: Path) -> None:
    """A real terminal (a pty): 'n' erases nothing (exit 3), 'y' erases."""
    import pty
    import subprocess
    import sys

    config = _config(tmp_path, tmp_path / "store.json")
    roster = tmp_path / "roster.csv"
    roster.write_text("name,email\nJane Doe,jane@example.com\n")
    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "PYTHONPATH": str(root)}
    base = [sys.executable, "-m", "inbox_watch", "--config", str(config)]
    subprocess.run([*base, "candidates", "import", str(roster)], check=True, env=env, capture_output=True)

    def answer(text: bytes) -> subprocess.CompletedProcess[bytes]:
        leader, follower = pty.openpty()
        os.write(leader, text)
        try:
            return subprocess.run(
                [*base, "forget", "jane"], stdin=follower, capture_output=True, env=env, timeout=60, check=False
            )
        finally:
            os.close(leader)
            os.close(follower)

    no = answer(b"n\n")
    assert no.returncode == 3 and b"[y/N]" in no.stderr and b"not confirmed; nothing erased" in no.stderr
    yes = answer(b"y\n")
    assert yes.returncode == 0, yes.stderr
    assert yes.stdout.decode() == "forgot Jane Doe: erased 1 candidate, 0 messages\n"


@pytest.mark.parametrize(
    ("counts", "said"),
    [
        ({"candidates": 1, "messages": 3}, "1 candidate, 3 messages"),
        ({"candidates": 1, "messages": 1, "touches": 1}, "1 candidate, 1 message, 1 logged contact"),
        ({"candidates": 1, "messages": 0, "outbox": 2, "temp files": 1},
         "1 candidate, 0 messages, 2 queued actions, 1 leftover temp file"),
    ],
)  # fmt: skip
def test_what_forget_erased_reads_as_english(counts: dict[str, int], said: str) -> None:
    assert cli.describe_erased(counts) == said


def test_the_daemons_state_folder_and_its_parents_are_created_private(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from inbox_watch.daemon import open_log_file

    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state" / "home"))
    handler = open_log_file()
    assert handler is not None
    handler.close()
    for folder in (tmp_path / "state", tmp_path / "state" / "home", tmp_path / "state" / "home" / "inbox-watch"):
        assert os.stat(folder).st_mode & 0o777 == 0o700, folder
