"""What the dashboard shows, read from the store in one go (in a worker thread)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from inbox_watch.engine.state import evaluate_with_threads
from inbox_watch.models import Action, CandidateState, TeamActivity, Thread
from inbox_watch.service import Workspace


@dataclass(frozen=True)
class Overview:
    """Every candidate's state (ranked), their threads, the sync status per account, the
    daemon's heartbeat and the outbox, as of ``now``; in team mode also who owns each
    candidate and what teammates did lately."""

    states: list[CandidateState]
    threads: dict[str, Thread]
    accounts: list[dict[str, Any]]
    heartbeat: tuple[int, datetime] | None
    actions: list[Action]
    now: datetime
    read_from: tuple[int, int, int] | None = None  # the mail file's version (Store.mail_file_key)
    owners: dict[str, str] = field(default_factory=dict)  # team mode: candidate name -> owner's name
    team_activity: list[TeamActivity] = field(default_factory=list)  # team mode: teammates' recent actions
    classes: Mapping[tuple[str, str], Sequence[object]] = field(default_factory=dict)
    """The classifications the sync kept beside each message (``Inputs.stored_classes``), so
    the pane and the thread screen need not classify the mail again."""


def read_overview(workspace: Workspace, now: datetime) -> Overview:
    store = workspace.store
    read_from = store.mail_file_key()  # taken first: a change during the read shows as a mismatch
    with store.reading():  # one read of the store file for all of these
        inputs = workspace.inputs()  # what Workspace.evaluate_with_threads reads, kept for its classes
        states, threads = evaluate_with_threads(inputs, now)
        team = workspace.config.team
        return Overview(
            states,
            threads,
            store.sync_status(),
            store.heartbeat(),
            store.actions(),
            now,
            read_from,
            owners=workspace.owners(states) if team else {},
            team_activity=workspace.team_activity(now),
            classes=inputs.stored_classes,
        )
