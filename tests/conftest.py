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
    monkeypatch.setenv("XDG_STATE_HOME", str(home / "state"))
    monkeypatch.delenv("DBUS_SESSION_BUS_ADDRESS", raising=False)  # no test reaches the real desktop
    monkeypatch.setenv("INBOX_WATCH_SECRETS_FILE", str(home / "secrets.json"))
    monkeypatch.delenv("INBOX_WATCH_CONFIG", raising=False)
    retry.set_testing(True)


def corpus_dir() -> Path:
    """../shared/corpus/real-mail beside the checkout (CI lays shared/ beside the clone)."""
    override = os.environ.get("INBOX_WATCH_CORPUS")
    return Path(override) if override else CORPUS


def under_ci() -> bool:
    """CI=true (or 1, yes): the corpus is laid beside the clone there, so its absence is a failure."""
    return os.environ.get("CI", "").strip().lower() in ("1", "true", "yes")


def corpus_files() -> list[Path]:
    """The real messages of the corpus, or [] when it is absent (a fresh clone without ../shared)."""
    return sorted(corpus_dir().glob("*.eml"))


def need_corpus() -> list[Path]:
    """``corpus_files()``; when there are none the calling test is skipped with the reason, or
    fails under CI, where a missing corpus means the run tests less than it claims."""
    files = corpus_files()
    if not files:
        reason = (
            f"the real-mail corpus is not at {corpus_dir()} (it ships in ../shared beside the checkout; "
            "INBOX_WATCH_CORPUS points elsewhere)"
        )
        if under_ci():
            pytest.fail(f"CI is set and {reason}")
        pytest.skip(reason)
    return files


def corpus_params() -> list[object]:
    """The corpus files for ``pytest.mark.parametrize``; one ``None`` when there are none, so the
    test runs once and ``need_corpus()`` says why it skips (or fails under CI)."""
    return list(corpus_files()) or [pytest.param(None, id="no-corpus")]


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
