"""The dashboard's last ranking, kept beside the store so its next start paints the table at once.

One small JSON file (0600: it names candidates), the same for both stores; it is only a head
start, so a file that cannot be read is no ranking, never an error. Each store decides when a
ranking may be written (not over a change that landed after it was ranked).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

import orjson

from inbox_watch.secrets import write_private

log = logging.getLogger(__name__)

RANKING_VERSION = 1  # the dashboard's saved table: its columns' order


class RankingFile:
    def __init__(self, path: Path) -> None:
        self.path = path

    def write(self, rows: Sequence[Sequence[str]], *, at: datetime) -> None:
        """Keep ``rows`` (one row of plain column texts per candidate); raises OSError."""
        payload = {"v": RANKING_VERSION, "at": at.isoformat(), "rows": [list(row) for row in rows]}
        write_private(self.path, orjson.dumps(payload))

    def read(self) -> tuple[datetime, list[tuple[str, ...]]] | None:
        """(when it was ranked, rows); None when there is none or it cannot be read."""
        try:
            data = orjson.loads(self.path.read_bytes())
            if not isinstance(data, dict) or data.get("v") != RANKING_VERSION:
                return None
            rows = [tuple(str(cell) for cell in row) for row in data["rows"]]
            return datetime.fromisoformat(data["at"]), rows
        except (OSError, orjson.JSONDecodeError, KeyError, TypeError, ValueError):
            return None

    def remove(self) -> None:
        """Erase it (``forget``: it names everyone); raises OSError."""
        self.path.unlink(missing_ok=True)
