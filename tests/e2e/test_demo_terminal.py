"""`inbox-watch demo` in a real terminal (tmux), read back as a person would see it."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _screen(session: str) -> str:
    return subprocess.run(["tmux", "capture-pane", "-p", "-t", session], capture_output=True, text=True).stdout


def test_demo_dashboard_in_a_terminal_shows_the_ranked_mailbox_and_quits() -> None:
    assert shutil.which("tmux"), "tmux is needed (make test installs it: scripts/install-system-deps.sh)"
    session = f"iw-{uuid.uuid4().hex[:8]}"
    command = f"cd {ROOT} && env -u COLUMNS -u LINES {sys.executable} -m inbox_watch demo"
    subprocess.run(["tmux", "new-session", "-d", "-s", session, "-x", "120", "-y", "40", command], check=True)
    try:
        words = (
            "demo mailbox: 17 candidates",
            "consider pulling",
            "bounced",
            "out of office",
            "awaiting",
            "replied",
            "idle",
            "c Chase",  # the footer lists the keys (it is drawn a moment after the table)
            "q Quit",
        )
        screen = ""
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not all(word in screen for word in words):
            time.sleep(0.2)
            screen = _screen(session)
        for word in words:
            assert word in screen, f"{word!r} not on screen:\n{screen}"
        subprocess.run(["tmux", "send-keys", "-t", session, "q"], check=True)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            alive = subprocess.run(["tmux", "has-session", "-t", session], capture_output=True).returncode == 0
            if not alive:
                break
            time.sleep(0.2)
        assert not alive, "the dashboard did not quit on q"
    finally:
        subprocess.run(["tmux", "kill-session", "-t", session], capture_output=True)
