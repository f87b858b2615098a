"""Waking the daemon: a front end that queued an action touches ``<store>.poke`` beside the
store; the daemon looks at that file once a second and drains the outbox when it changed.

A file, not a socket: it works the same for the TinyDB store and team mode, on Linux and
macOS, and needs nothing running to be written (no daemon: nobody looks, nothing breaks)."""

from __future__ import annotations

import logging
import os
from datetime import datetime
from pathlib import Path

from inbox_watch.secrets import write_private

log = logging.getLogger(__name__)


def poke_path(store_path: Path) -> Path:
    return store_path.with_name(store_path.stem + ".poke")


def poke(store_path: Path) -> None:
    """Ask a running daemon to drain the outbox now."""
    try:
        write_private(poke_path(store_path), datetime.now().isoformat().encode())
    except OSError as exc:
        log.info("could not wake the daemon: %s", exc)


def poke_key(store_path: Path) -> tuple[int, int, int] | None:
    """Which poke is on disk (inode, size, mtime); a new poke changes it."""
    try:
        st = os.stat(poke_path(store_path))
    except OSError:
        return None
    return (st.st_ino, st.st_size, st.st_mtime_ns)
