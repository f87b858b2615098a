"""Fixtures for the dashboard tests: the demo workspace at a fixed Wednesday, built by the same
factory the CLI uses (``tui.app.create_app``)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from inbox_watch.demo import prepare_demo
from inbox_watch.service import Workspace
from providers.demo import DemoProvider
from tests.tui.helpers import COUNTDOWN, FIXED
from tui.app import InboxWatchApp, create_app


@pytest.fixture(autouse=True)
def no_demo_mail_left() -> Iterator[None]:
    """DemoProvider keeps what it "sent" in a class-level dict: start and end every test empty."""
    DemoProvider._outgoing.clear()
    yield
    DemoProvider._outgoing.clear()


@pytest.fixture
def workspace(tmp_path: Path) -> Workspace:
    return prepare_demo(tmp_path, now=FIXED)


@pytest.fixture
def app(workspace: Workspace) -> InboxWatchApp:
    return create_app(workspace, demo=True, now=FIXED, countdown=COUNTDOWN)
