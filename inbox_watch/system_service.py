"""``inbox-watch service install | uninstall | status``: the daemon as a systemd user unit
(Linux) or a launchd agent (macOS), started at login and restarted if it fails.

The unit runs the installed ``inbox-watch`` with the config in use. Where neither systemd
(``systemctl --user``) nor launchd is there to take it, ``install`` prints the text and how
to use it, and writes nothing. Copies of both files are in docs/.
"""

from __future__ import annotations

import os
import plistlib
import shutil
import subprocess
import sys
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

UNIT_NAME = "inbox-watch.service"
AGENT_LABEL = "io.github.inbox-watch.daemon"


@dataclass(frozen=True, slots=True)
class ServiceFiles:
    """What ``install`` writes, for one command line."""

    command: tuple[str, ...]  # the daemon's command line: executable, --config FILE, daemon

    def systemd_unit(self) -> str:
        return (
            "[Unit]\n"
            "Description=inbox-watch: follow up unanswered interview emails (background sync)\n"
            "After=network-online.target\n"
            "Wants=network-online.target\n"
            "\n"
            "[Service]\n"
            "Type=simple\n"
            f"ExecStart={' '.join(_systemd_quote(part) for part in self.command)}\n"
            "Restart=on-failure\n"
            "RestartSec=30\n"
            "# SIGTERM stops the daemon within 2 s, after any store write in progress.\n"
            "TimeoutStopSec=15\n"
            "UMask=0077\n"
            "\n"
            "[Install]\n"
            "WantedBy=default.target\n"
        )

    def launchd_plist(self, log_dir: Path) -> str:
        plist = {
            "Label": AGENT_LABEL,
            "ProgramArguments": list(self.command),
            "RunAtLoad": True,
            "KeepAlive": {"SuccessfulExit": False},  # restarted when it fails, not after a clean stop
            "ProcessType": "Background",
            "Umask": 0o077,
            "StandardOutPath": str(log_dir / "daemon.out"),
            "StandardErrorPath": str(log_dir / "daemon.err"),
        }
        return plistlib.dumps(plist, sort_keys=False).decode()


def _systemd_quote(word: str) -> str:
    """One ExecStart word: quoted when it holds spaces or quotes; ``%`` doubled (a specifier)."""
    word = word.replace("%", "%%")
    if word and not any(c in word for c in " \t\"'\\;$"):
        return word
    return '"' + word.replace("\\", "\\\\").replace('"', '\\"') + '"'


def daemon_command(config_path: Path) -> tuple[str, ...]:
    """The installed executable (the ``inbox-watch`` this command runs as), with the config."""
    program = Path(sys.argv[0]).resolve() if sys.argv and sys.argv[0] else None
    if program is not None and program.name == "inbox-watch" and program.exists():
        head: tuple[str, ...] = (str(program),)
    elif found := shutil.which("inbox-watch"):
        head = (str(Path(found).resolve()),)
    else:
        head = (sys.executable, "-m", "inbox_watch")
    return (*head, "--config", str(config_path.resolve()), "daemon")


# --- where the files go, and who takes them ---------------------------------------------------


def unit_path() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "systemd" / "user" / UNIT_NAME


def plist_path() -> Path:
    return Path.home() / "Library" / "LaunchAgents" / f"{AGENT_LABEL}.plist"


def system() -> str:
    """"systemd" when ``systemctl --user`` can run units, "launchd" on macOS, else ""."""
    if sys.platform == "darwin" and shutil.which("launchctl"):
        return "launchd"
    if shutil.which("systemctl"):
        try:
            probe = subprocess.run(
                ["systemctl", "--user", "show-environment"], capture_output=True, text=True, timeout=10
            )
        except (OSError, subprocess.TimeoutExpired):
            return ""
        if probe.returncode == 0:
            return "systemd"
    return ""


def _run(*command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(command), capture_output=True, text=True, timeout=30)


@dataclass(frozen=True, slots=True)
class Outcome:
    lines: tuple[str, ...]
    ok: bool = True


def install(config_path: Path, log_dir: Path) -> Outcome:
    from inbox_watch.secrets import write_private

    files = ServiceFiles(daemon_command(config_path))
    kind = system()
    if kind == "systemd":
        path = unit_path()
        write_private(path, files.systemd_unit().encode())
        for step in (("daemon-reload",), ("enable", "--now", UNIT_NAME)):
            done = _run("systemctl", "--user", *step)
            if done.returncode != 0:
                return Outcome((f"wrote {path}", f"systemctl --user {' '.join(step)} failed: {_first(done)}"), False)
        return Outcome((f"wrote {path}", f"enabled and started {UNIT_NAME} (systemctl --user status {UNIT_NAME})"))
    if kind == "launchd":
        path = plist_path()
        log_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        write_private(path, files.launchd_plist(log_dir).encode())
        done = _run("launchctl", "bootstrap", f"gui/{os.getuid()}", str(path))
        if done.returncode != 0:
            return Outcome((f"wrote {path}", f"launchctl bootstrap failed: {_first(done)}"), False)
        return Outcome((f"wrote {path}", f"loaded {AGENT_LABEL}: it starts now and at every login"))
    unit = files.systemd_unit()
    return Outcome(
        (
            "Neither systemd (systemctl --user) nor launchd is available here: nothing was installed.",
            f"On Linux, save this as {unit_path()} and run `systemctl --user enable --now {UNIT_NAME}`:",
            "",
            *unit.rstrip("\n").splitlines(),
            "",
            "Or keep it running in a terminal multiplexer: tmux new -d -s inbox-watch "
            + " ".join(files.command),
        ),
        False,
    )


def uninstall() -> Outcome:
    kind = system()
    lines: list[str] = []
    if kind == "systemd" and unit_path().exists():
        _run("systemctl", "--user", "disable", "--now", UNIT_NAME)
        unit_path().unlink()
        _run("systemctl", "--user", "daemon-reload")
        lines.append(f"stopped, disabled and removed {unit_path()}")
    elif kind == "launchd" and plist_path().exists():
        _run("launchctl", "bootout", f"gui/{os.getuid()}", str(plist_path()))
        plist_path().unlink()
        lines.append(f"unloaded and removed {plist_path()}")
    else:
        for path in (unit_path(), plist_path()):
            if path.exists():
                path.unlink()
                lines.append(f"removed {path}")
    return Outcome(tuple(lines) or ("no inbox-watch service is installed",))


def installed_file() -> Path | None:
    for path in (unit_path(), plist_path()):
        if path.exists():
            return path
    return None


def process_started(pid: int) -> datetime | None:
    """When process ``pid`` started (Linux /proc, else ``ps``); None when it cannot be told."""
    try:
        import psutil

        return datetime.fromtimestamp(psutil.Process(pid).create_time()).astimezone()
    except Exception:  # noqa: BLE001 - psutil is optional; ps answers too
        pass
    try:
        done = _run("ps", "-o", "lstart=", "-p", str(pid))
        return datetime.strptime(" ".join(done.stdout.split()), "%a %b %d %H:%M:%S %Y").astimezone()
    except (OSError, ValueError, subprocess.TimeoutExpired):
        return None


def _first(done: subprocess.CompletedProcess[str]) -> str:
    text = (done.stderr or done.stdout or f"exit status {done.returncode}").strip()
    return text.splitlines()[0] if text else f"exit status {done.returncode}"
