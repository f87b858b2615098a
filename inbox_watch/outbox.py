"""The outbox: every draft or send is recorded, with a stable Message-ID, before a provider is
called. A send is made at most once:

- before sending, the provider is asked whether that Message-ID is already in Sent;
- the start of a send is written to the store before the provider is called, and cleared only
  when the send failed before anything could go out (refused connection or login, refused
  recipients). A send whose outcome is unknown (the process died, the connection dropped after
  the hand-over, a timeout) keeps the mark: the next pass looks for it in Sent and, when it is
  not there, marks it failed and asks the recruiter to check, never sending it a second time;
- once the service accepted a message the action is done, even if keeping a copy in Sent
  failed (that is recorded as a warning);
- a send the service refused for good (``SendRefused``: 550 no such user, a message refused
  outright) fails at once with the server's answer and is never tried again; the refused
  addresses are kept on the action, and the candidate shows them as failing.

A send left queued by a failure is taken up by later syncs, until ``MAX_AGE``; a chaser is
cancelled there when one of its recipients has written since it was queued.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from inbox_watch.errors import InboxWatchError, SendOutcomeUnknown, SendRefused
from inbox_watch.models import Action, ActionKind, ActionMode, ActionState, OutgoingMessage
from inbox_watch.provider import MailProvider
from inbox_watch.store_api import StoreAPI as Store

log = logging.getLogger(__name__)

CLAIM_TIMEOUT = timedelta(minutes=10)
"""A claim older than this is from a process that died mid-action; the action is taken up
again, and a send first looks its Message-ID up in Sent (and is not sent again if its start
was on record)."""

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
    guard: Callable[[Any], None] | None = None,
) -> Action:
    """Record an action in the store; nothing is sent until ``drain`` runs. ``guard`` (team
    mode) is the check the team's database runs in the same transaction (``PgStore.add_action``)."""
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
    if guard is not None:
        store.add_action(action, guard=guard)  # type: ignore[call-arg]
    else:
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
    immediate: bool = False,
) -> list[Action]:
    """Carry out the queued actions that are due (optionally only the ids in ``only``).

    ``account`` limits the pass to one account's actions. ``immediate`` is True when the
    recruiter has just asked for these actions (``chase --send``, the dashboard's send key):
    they are carried out as asked. Otherwise (a sync taking up what is still queued) a chaser
    whose recipients have written since it was queued is cancelled, not sent. Returns the
    actions as they ended up: done, still queued (with the error), failed or cancelled (with
    the reason); :func:`outcome` puts each in one line.
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
        results.append(_carry_out(store, provider_for, action, now, immediate=immediate))
    return results


def _carry_out(
    store: Store, provider_for: Callable[[str], MailProvider], action: Action, now: datetime, *, immediate: bool
) -> Action:
    try:
        provider = provider_for(action.account)
        if action.mode is ActionMode.DRAFT:
            return _finish(store, action, now, provider.save_draft(action.message))
        existing = provider.find_sent(action.message.message_id)
    except InboxWatchError as exc:
        return _end(store, action, ActionState.QUEUED, str(exc))
    if existing is not None:
        log.info("outbox: %s already in Sent; not sending again", action.message.message_id)
        return _finish(store, action, now, existing)
    reason = _reason_not_to_send(store, action, now, immediate=immediate)
    if reason is not None:
        state, text = reason
        return _end(store, action, state, text)
    # On record before anything can go out: if this process dies from here on, the action is
    # taken up again with this mark, and the message is never sent a second time.
    started = replace(action, send_started_at=now)
    store.update_action(started)
    try:
        receipt = provider.send(action.message)
    except SendOutcomeUnknown as exc:
        return _end(store, started, ActionState.QUEUED, str(exc))  # the mark stays
    except SendRefused as exc:  # refused for good: nothing went out, and a retry would be refused too
        refused = replace(started, send_started_at=None, refused=exc.recipients, done_at=now)
        return _end(store, refused, ActionState.FAILED, f"not sent: {exc}; it will not be tried again")
    except InboxWatchError as exc:  # nothing went out: the next pass may try again
        return _end(store, replace(started, send_started_at=None), ActionState.QUEUED, str(exc))
    return _finish(store, started, now, receipt.provider_id, warning=receipt.warning)


def _reason_not_to_send(
    store: Store, action: Action, now: datetime, *, immediate: bool
) -> tuple[ActionState, str] | None:
    """Why a send that is not in Sent must not go out now: (the state to leave it in, one line)."""
    if action.send_started_at is not None:
        return ActionState.FAILED, (
            f"not sent again: the attempt at {_when(action.send_started_at)} may have gone out, and no copy "
            "is in Sent; check Sent (or with the recipient) before sending it again"
        )
    if now - action.created_at > MAX_AGE:
        return ActionState.FAILED, (
            f"not sent: queued at {_when(action.created_at)} and still unsent after "
            f"{MAX_AGE.total_seconds() / 3600:.0f} hours; send it again if it is still wanted"
        )
    if not immediate and action.kind is ActionKind.CHASER:
        recipients = (*action.message.to, *action.message.cc)
        replies = store.messages_from(recipients, after=action.created_at)
        if replies:
            first = replies[0]
            return ActionState.CANCELLED, (
                f"not sent: {first.from_name or first.from_addr} wrote at {_when(first.date)}, "
                "after this chaser was queued"
            )
    return None


def _finish(store: Store, action: Action, now: datetime, provider_id: str, *, warning: str = "") -> Action:
    done = replace(action, state=ActionState.DONE, done_at=now, provider_id=provider_id, error="", warning=warning)
    store.update_action(done)
    return done


def _end(store: Store, action: Action, state: ActionState, error: str) -> Action:
    ended = replace(action, state=state, claimed_at=None, error=error)
    store.update_action(ended)
    return ended


def _when(moment: datetime) -> str:
    """A moment as the recruiter reads it: local time, day and date."""
    return f"{moment.astimezone():%H:%M on %a %d %b}"


def outcome(action: Action) -> str:
    """One line for the recruiter on where ``action`` stands after a drain."""
    what = f"{action.kind.value.replace('_', ' ')} for {action.candidate}"
    sending = action.mode is ActionMode.SEND
    if action.state is ActionState.DONE:
        done = f"{what} {'sent to' if sending else 'saved to Drafts for'} {', '.join(action.message.to)}"
        return f"{done}, but {action.warning}" if action.warning else done
    if action.state is ActionState.QUEUED and action.send_started_at is not None:
        return (
            f"{what} may have been sent ({action.error}); it will not be sent again: the next sync looks for it in Sent"
        )
    if action.state is ActionState.QUEUED:
        return f"{what} not {'sent' if sending else 'saved'} yet: {action.error}; it stays queued for the next sync"
    return f"{what} {action.error or action.state.value}"
