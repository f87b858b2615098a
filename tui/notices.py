"""The daemon's notices, as the dashboard shows them: a toast and the status bar's note line."""

from __future__ import annotations

import os
from pathlib import Path

from inbox_watch import notify


class NoticeFeed:
    """New notices since the last look. The first look only notes where the feed stands: what
    the daemon said before the dashboard opened is not news any more."""

    def __init__(self, store_path: Path) -> None:
        self.path = notify.notices_path(store_path)
        self.store_path = store_path
        self._seen: int | None = None
        self._key: tuple[int, int] | None = None

    def new(self) -> list[notify.Notice]:
        try:
            st = os.stat(self.path)
            key: tuple[int, int] | None = (st.st_ino, st.st_mtime_ns)
        except OSError:
            key = None
        if key == self._key and self._seen is not None:
            return []  # one stat a look while nothing changes
        self._key = key
        kept = notify.kept_notices(self.store_path)
        latest = kept[-1][0] if kept else 0
        if self._seen is None:
            self._seen = latest
            return []
        fresh = [notice for number, notice in kept if number > self._seen]
        self._seen = max(self._seen, latest)
        return fresh
