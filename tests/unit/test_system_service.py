"""``service install | uninstall | status``: the systemd unit and launchd plist (golden files,
the copies in docs/), ``systemd-analyze verify`` where it runs, and what is printed where
neither systemd nor launchd can take the unit (as on this machine: systemd is not PID 1)."""

from __future__ import annotations

import os
import plistlib
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from inbox_watch import system_service
from inbox_watch.system_service import ServiceFiles

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"


def test_the_unit_is_the_one_in_docs() -> None:
    files = ServiceFiles(
        ("/home/sam/.local/bin/inbox-watch", "--config", "/home/sam/.config/inbox-watch/config.toml", "daemon")
    )
    assert files.systemd_unit() == (DOCS / "inbox-watch.service").read_text()


def test_the_plist_is_the_one_in_docs_and_reads_back() -> None:
    command = (
        "/Users/sam/.local/bin/inbox-watch",
        "--config",
        "/Users/sam/Library/Application Support/inbox-watch/config.toml",
        "daemon",
    )
    text = ServiceFiles(command).launchd_plist(Path("/Users/sam/Library/Logs/inbox-watch"))
    assert text == (DOCS / "io.github.inbox-watch.daemon.plist").read_text()
    agent = plistlib.loads(text.encode())
    assert agent["ProgramArguments"] == list(command)  # a path with a space stays one argument
    assert agent["RunAtLoad"] is True and agent["KeepAlive"] == {"SuccessfulExit": False}


def test_a_path_with_spaces_and_a_percent_is_quoted_for_systemd() -> None:
    files = ServiceFiles(("/opt/my tools/inbox-watch", "--config", "/home/sam/100%/config.toml", "daemon"))
    [line] = [x for x in files.systemd_unit().splitlines() if x.startswith("ExecStart=")]
    assert line == 'ExecStart="/opt/my tools/inbox-watch" --config /home/sam/100%%/config.toml daemon'


def test_systemd_analyze_accepts_the_unit(tmp_path: Path) -> None:
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed")
    config = tmp_path / "my config.toml"
    config.write_text("")
    unit = tmp_path / "inbox-watch.service"
    unit.write_text(
        ServiceFiles((sys.executable, "-m", "inbox_watch", "--config", str(config), "daemon")).systemd_unit()
    )
    done = subprocess.run([analyze, "verify", str(unit)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and not done.stderr.strip(), done.stderr


def _cli(tmp_path: Path, *args: str, path: str | None = None) -> subprocess.CompletedProcess[str]:
    config = tmp_path / "config.toml"
    config.write_text(f'[store]\npath = "{tmp_path / "store.json"}"\n[[accounts]]\nname = "demo"\nprovider = "demo"\n')
    env = {**os.environ, "PYTHONPATH": str(ROOT), "HOME": str(tmp_path / "home")}
    if path is not None:
        env["PATH"] = path
    return subprocess.run(
        [sys.executable, "-m", "inbox_watch", "--config", str(config), *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )


def test_install_without_systemd_or_launchd_prints_the_unit_and_writes_nothing(tmp_path: Path) -> None:
    done = _cli(tmp_path, "service", "install", path=str(tmp_path / "empty-path"))  # no systemctl to be found
    assert done.returncode == 1
    assert "nothing was installed" in done.stdout
    assert "ExecStart=" in done.stdout and f"--config {tmp_path / 'config.toml'} daemon" in done.stdout
    assert not system_service.unit_path().exists()


def test_install_here_refuses_a_systemd_that_cannot_run_user_units(tmp_path: Path) -> None:
    if shutil.which("systemctl") is None:
        pytest.skip("no systemctl")
    if system_service.system() == "systemd":
        pytest.skip("this machine runs user units: install would really install")
    done = _cli(tmp_path, "service", "install")
    assert done.returncode == 1 and "nothing was installed" in done.stdout


def test_status_says_whether_the_daemon_runs_and_each_accounts_last_pass(tmp_path: Path) -> None:
    assert _cli(tmp_path, "sync").returncode == 0
    done = _cli(tmp_path, "service", "status")
    assert done.returncode == 1, done.stderr  # not running
    assert "service: not installed" in done.stdout
    assert "daemon: not running" in done.stdout
    assert "  demo: last pass " in done.stdout
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    daemon = subprocess.Popen(
        [sys.executable, "-m", "inbox_watch", "--config", str(tmp_path / "config.toml"), "daemon"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
    )
    try:
        import time

        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            done = _cli(tmp_path, "service", "status")
            if done.returncode == 0:
                break
            time.sleep(0.2)
        assert done.returncode == 0, done.stdout
        assert f"daemon: running (pid {daemon.pid}, since " in done.stdout
    finally:
        daemon.terminate()
        daemon.wait(10)


def test_uninstall_removes_an_installed_unit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(system_service, "system", lambda: "")
    path = system_service.unit_path()
    path.parent.mkdir(parents=True)
    path.write_text("[Unit]\n")
    assert system_service.uninstall().lines == (f"removed {path}",)
    assert not path.exists()
    assert system_service.uninstall().lines == ("no inbox-watch service is installed",)
