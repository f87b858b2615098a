"""The outbox: every draft or send is recorded, with a stable Message-ID, before a provider is
called. Draining it again after a crash completes or skips each action; a send is never made
twice, because a queued send first asks the provider whether that Message-ID is already in Sent.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta

from inbox_watch.errors import InboxWatchError
from inbox_watch.models import Action, ActionKind, ActionMode, ActionState, OutgoingMessage
from inbox_watch.provider import MailProvider
from inbox_watch.store import Store

log = logging.getLogger(__name__)

CLAIM_TIMEOUT = timedelta(minutes=10)
"""A claim older than this is from a process that died mid-action; the action is taken up
again, and a send first looks its Message-ID up in Sent."""

MAX_AGE = timedelta(hours=12)
"""A send still queued after this long is not sent any more: the moment for it has passed."""


def enqueue(
    store: Store,
    *,
    kind: ActionKind,
    mode: ActionMode,
    candidate: str,
    account: str,
    message: OutgoingMessage,
    now: datetime,
    not_before: datetime | None = None,
) -> Action:
    """Record an action in the store; nothing is sent until ``drain`` runs."""
    action = Action(
        id=uuid.uuid4().hex,
        kind=kind,
        mode=mode,
        candidate=candidate,
        account=account,
        message=message,
        created_at=now,
        not_before=not_before,
    )
    store.add_action(action)
    return action


def cancel(store: Store, action_id: str) -> bool:
    """Cancel a queued action that has not been carried out; True when it was cancelled."""
    with store.state_transaction():
        for action in store.actions(state=ActionState.QUEUED):
            if action.id == action_id:
                store.update_action(replace(action, state=ActionState.CANCELLED))
                return True
    return False


def drain(
    store: Store,
    provider_for: Callable[[str], MailProvider],
    now: datetime,
    *,
    only: set[str] | None = None,
    account: str | None = None,
) -> list[Action]:
    """Carry out the queued actions that are due (optionally only the ids in ``only``).

    ``account`` limits the pass to one account's actions. Returns the actions as they ended up
    (done, or still queued with an error).
    """
    results = []
    for queued in store.actions():
        if queued.state not in (ActionState.QUEUED, ActionState.SENDING):
            continue
        if only is not None and queued.id not in only:
            continue
        if account is not None and queued.account != account:
            continue
        if queued.not_before is not None and queued.not_before > now:
            continue
        action = store.claim_action(queued.id, now, CLAIM_TIMEOUT)
        if action is None:
            continue  # another process is carrying it out, or it is done
        try:
            provider = provider_for(action.account)
            if action.mode is ActionMode.SEND:
                existing = provider.find_sent(action.message.message_id)
                if existing is not None:
                    log.info("outbox: %s already in Sent; not sending again", action.message.message_id)
                    provider_id = existing
                elif now - action.created_at > MAX_AGE:
                    expired = replace(
                        action,
                        state=ActionState.FAILED,
                        error=f"not sent: queued {action.created_at:%d %b %H:%M} and still unsent after "
                        f"{MAX_AGE.total_seconds() / 3600:.0f} hours; send it again if it is still wanted",
                    )
                    store.update_action(expired)
                    results.append(expired)
                    continue
                else:
                    provider_id = provider.send(action.message)
            else:
                provider_id = provider.save_draft(action.message)
        except InboxWatchError as exc:
            updated = replace(action, state=ActionState.QUEUED, claimed_at=None, error=str(exc))
            store.update_action(updated)
            results.append(updated)
            continue
        done = replace(action, state=ActionState.DONE, done_at=now, provider_id=provider_id, error="")
        store.update_action(done)
        results.append(done)
    return results
