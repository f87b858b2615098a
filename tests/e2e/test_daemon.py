"""The daemon: syncs, leaves a heartbeat the dashboard can see, and stops cleanly on SIGTERM."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from inbox_watch.store import Store

ROOT = Path(__file__).resolve().parents[2]


def test_daemon_syncs_beats_and_stops_on_sigterm(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text(
        '[recruiter]\naddresses = ["sam@agency.example"]\n[store]\npath = "store.json"\n'
        '[daemon]\ninterval = 5\n[[accounts]]\nname = "demo"\nprovider = "demo"\n'
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "inbox_watch", "--config", str(config), "daemon"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    store = Store(tmp_path / "store.json")
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if store.path.exists() and store.heartbeat() is not None:
            break
        time.sleep(0.1)
    beat = store.heartbeat()
    assert beat is not None and beat[0] == proc.pid
    assert store.message_count() > 20
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert "demo: full sync" in out and "stopped" in out
    assert store.heartbeat() is None
