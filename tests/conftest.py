"""Shared test set-up: no real user dirs, no sleeping back-off, a fixed clock helper."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from inbox_watch import retry

CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "corpus" / "real-mail"


@pytest.fixture(autouse=True)
def _isolated(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / "config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / "data"))
    monkeypatch.setenv("INBOX_WATCH_SECRETS_FILE", str(home / "secrets.json"))
    monkeypatch.delenv("INBOX_WATCH_CONFIG", raising=False)
    retry.set_testing(True)


def corpus_dir() -> Path:
    """../shared/corpus/real-mail beside the checkout (CI lays shared/ beside the clone)."""
    override = os.environ.get("INBOX_WATCH_CORPUS")
    return Path(override) if override else CORPUS


@pytest.fixture(scope="session")
def postgres_server():  # type: ignore[no-untyped-def]
    """One real PostgreSQL 15 server for the session (tests/providers/postgres.py); each test
    makes its own database with ``new_database()``. Stopped and removed at the end."""
    from tests.providers.postgres import Postgres

    server = Postgres().start()
    try:
        yield server
    finally:
        server.remove()
