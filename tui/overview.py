"""What the dashboard shows, read from the store in one go (in a worker thread)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from inbox_watch.models import Action, CandidateState, Thread
from inbox_watch.service import Workspace


@dataclass(frozen=True)
class Overview:
    """Every candidate's state (ranked), their threads, the sync status per account, the
    daemon's heartbeat and the outbox, as of ``now``."""

    states: list[CandidateState]
    threads: dict[str, Thread]
    accounts: list[dict[str, Any]]
    heartbeat: tuple[int, datetime] | None
    actions: list[Action]
    now: datetime


def read_overview(workspace: Workspace, now: datetime) -> Overview:
    store = workspace.store
    with store.reading():  # one read of the store file for all of these
        states, threads = workspace.evaluate_with_threads(now)
        return Overview(states, threads, store.sync_status(), store.heartbeat(), store.actions(), now)
