"""Records both stores share: how an outbox action is written down, and the keys of names and
messages. TinyDB keeps these documents in its state file, PostgreSQL in a JSON column: one
converter pair, so the two stores can never disagree on what an action holds."""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

from inbox_watch.models import Action, ActionKind, ActionMode, ActionState, OutgoingMessage


def name_key(name: str) -> str:
    """A candidate's name as the stores compare it (spacing and case do not matter)."""
    return " ".join(name.split()).casefold()


def message_doc_id(account: str, message_id: str) -> int:
    """A stable TinyDB doc id for a provider message (48 bits of a SHA-1)."""
    digest = hashlib.sha1(f"{account}\0{message_id}".encode()).hexdigest()
    return int(digest[:12], 16)


def _dt(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def action_to_doc(action: Action) -> dict[str, Any]:
    return {
        "id": action.id,
        "kind": action.kind.value,
        "mode": action.mode.value,
        "candidate": action.candidate,
        "account": action.account,
        "message": action.message.to_dict(),
        "created_at": action.created_at.isoformat(),
        "state": action.state.value,
        "not_before": action.not_before.isoformat() if action.not_before else None,
        "done_at": action.done_at.isoformat() if action.done_at else None,
        "provider_id": action.provider_id,
        "error": action.error,
        "claimed_at": action.claimed_at.isoformat() if action.claimed_at else None,
        "send_started_at": action.send_started_at.isoformat() if action.send_started_at else None,
        "warning": action.warning,
        "refused": list(action.refused),
    }


def action_from_doc(doc: dict[str, Any]) -> Action:
    return Action(
        id=doc["id"],
        kind=ActionKind(doc["kind"]),
        mode=ActionMode(doc["mode"]),
        candidate=doc["candidate"],
        account=doc["account"],
        message=OutgoingMessage.from_dict(doc["message"]),
        created_at=datetime.fromisoformat(doc["created_at"]),
        state=ActionState(doc["state"]),
        not_before=_dt(doc.get("not_before")),
        done_at=_dt(doc.get("done_at")),
        provider_id=doc.get("provider_id", ""),
        error=doc.get("error", ""),
        claimed_at=_dt(doc.get("claimed_at")),
        send_started_at=_dt(doc.get("send_started_at")),
        warning=doc.get("warning", ""),
        refused=tuple(doc.get("refused") or ()),
    )
