"""A real PostgreSQL 15 server for tests and benchmarks, from a throwaway data folder.

Follows ../shared/FIELD-NOTES.md: the server refuses to run as root, so ``initdb`` and
``pg_ctl`` run as the ``postgres`` user (``runuser``) on a temp folder made 0777; trust
authentication on loopback, ``fsync=off``, a free port; stopped with ``pg_ctl -m immediate``
and the folder removed. Not run as root, the server runs as the current user instead.

Each test gets a database of its own (:meth:`Postgres.new_database`), so one server serves a
whole session.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import uuid
from pathlib import Path

import pytest

from tests.providers.dovecot import free_port


def _bin() -> Path:
    """Debian's server binaries (15 on these machines; the newest installed otherwise)."""
    if os.environ.get("INBOX_WATCH_PG_BIN"):
        return Path(os.environ["INBOX_WATCH_PG_BIN"])
    found = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: int(p.parts[-3]) if p.parts[-3].isdigit() else 0
    )
    return found[-1].parent if found else Path("/usr/lib/postgresql/15/bin")


BIN = _bin()


class Postgres:
    """One PostgreSQL server on 127.0.0.1:``port``; the superuser is ``postgres`` (trust)."""

    def __init__(self) -> None:
        if not (BIN / "initdb").exists():
            pytest.skip("PostgreSQL 15 is not installed (sh scripts/install-system-deps.sh)")
        self.root = Path(tempfile.mkdtemp(prefix="iw-pg-"))
        os.chmod(self.root, 0o777)
        self.data = self.root / "data"
        self.log = self.root / "log"
        self.host = "127.0.0.1"
        self.port = free_port()
        self.running = False

    def _as_postgres(self, *args: str) -> list[str]:
        return ["runuser", "-u", "postgres", "--", *args] if os.geteuid() == 0 else list(args)

    def _run(self, *args: str) -> None:
        done = subprocess.run(self._as_postgres(*args), capture_output=True, text=True, timeout=60, check=False)
        if done.returncode != 0:
            log = self.log.read_text(errors="replace")[-2000:] if self.log.exists() else ""
            raise RuntimeError(f"{' '.join(args[:2])} failed: {done.stderr.strip()} {log}")

    def start(self) -> Postgres:
        if not self.data.exists():
            self._run(str(BIN / "initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres", "--no-sync")
        options = f"-p {self.port} -k {self.root} -c listen_addresses={self.host} -c fsync=off -c max_connections=200"
        self._run(str(BIN / "pg_ctl"), "-D", str(self.data), "-l", str(self.log), "-w", "-o", options, "start")
        self.running = True
        return self

    def stop(self) -> None:
        if self.running:
            self._run(str(BIN / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop")
            self.running = False

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)

    def new_database(self, name: str = "") -> str:
        """Create an empty database; return its libpq URI (user postgres, no password)."""
        name = name or "iw_" + uuid.uuid4().hex[:10]
        self._run(str(BIN / "createdb"), "-h", self.host, "-p", str(self.port), "-U", "postgres", name)
        return self.url(name)

    def url(self, name: str) -> str:
        return f"postgresql://postgres@{self.host}:{self.port}/{name}"
