"""Helpers shared by the dashboard tests."""

from __future__ import annotations

from datetime import UTC, datetime

from textual.app import App
from textual.pilot import Pilot

from inbox_watch.models import MailMessage
from providers.demo import DemoProvider

FIXED = datetime(2026, 11, 25, 14, 0, tzinfo=UTC)  # a Wednesday afternoon
COUNTDOWN = 0.6  # the tests' undo window (room for a loaded machine: pressing u takes ~0.2 s); the real default is 10 s


def outgoing() -> list[MailMessage]:
    """What the demo provider was asked to send or save, in order."""
    return list(DemoProvider._outgoing.get("demo", []))


async def settle(pilot: Pilot) -> None:
    """Wait until every worker (and the workers their results start) has finished."""
    for _ in range(4):
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()


def toasts(app: App[object]) -> list[str]:
    """The notifications on screen, as the recruiter reads them (title and message of each of
    Textual's toasts, selected by their widget type's name: the class is not public API)."""
    return [str(toast.render()) for toast in app.screen.query("Toast")]


async def shown_toasts(pilot: Pilot) -> list[str]:
    """``toasts`` once the notifications posted so far are on screen."""
    await pilot.pause()
    await pilot.pause()
    return toasts(pilot.app)
