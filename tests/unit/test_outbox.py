"""The outbox: recorded before the provider is called; never sends twice."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from inbox_watch import outbox
from inbox_watch.config import AccountConfig
from inbox_watch.models import (
    Action,
    ActionKind,
    ActionMode,
    ActionState,
    Cursor,
    MailMessage,
    OutgoingMessage,
    SyncBatch,
)
from inbox_watch.store import Store
from providers.demo import DEMO_RECRUITER, DemoProvider

NOW = datetime(2026, 11, 25, 12, tzinfo=UTC)


@pytest.fixture
def provider() -> DemoProvider:
    DemoProvider._outgoing.clear()
    return DemoProvider(AccountConfig(name="demo", provider="demo"), DEMO_RECRUITER, now=NOW)


def outgoing(message_id: str = "<chase-1@agency.example>") -> OutgoingMessage:
    return OutgoingMessage(
        from_addr="sam@agency.example",
        to=("jane@example.com",),
        subject="Re: slots",
        body="Any news?",
        message_id=message_id,
        in_reply_to="<a@agency.example>",
        references=("<a@agency.example>",),
    )


def queue(
    store: Store,
    *,
    mode: ActionMode = ActionMode.SEND,
    message: OutgoingMessage | None = None,
    now: datetime = NOW,
    not_before: datetime | None = None,
) -> Action:
    """A chaser to Jane Doe, queued in the outbox as the CLI and the dashboard queue one."""
    return outbox.enqueue(
        store,
        kind=ActionKind.CHASER,
        mode=mode,
        candidate="Jane Doe",
        account="demo",
        message=message or outgoing(),
        now=now,
        not_before=not_before,
    )


def sent_count(provider: DemoProvider, message_id: str) -> int:
    return sum(1 for m in DemoProvider._outgoing.get("demo", []) if m.message_id == message_id and not m.is_draft)


def test_action_is_recorded_before_sending_and_done_after(tmp_path: Path, provider: DemoProvider) -> None:
    store = Store(tmp_path / "s.json")
    action = queue(store)
    assert store.actions(state=ActionState.QUEUED)[0].message.message_id == "<chase-1@agency.example>"
    assert sent_count(provider, "<chase-1@agency.example>") == 0
    (done,) = outbox.drain(store, lambda _: provider, NOW)
    assert done.id == action.id and done.state is ActionState.DONE
    assert sent_count(provider, "<chase-1@agency.example>") == 1
    # Draining again (a double key press, a second process) sends nothing more.
    assert outbox.drain(store, lambda _: provider, NOW) == []
    assert sent_count(provider, "<chase-1@agency.example>") == 1


def test_crash_between_send_and_record_never_sends_twice(tmp_path: Path, provider: DemoProvider) -> None:
    store = Store(tmp_path / "s.json")
    action = queue(store)
    provider.send(action.message)  # the process died right after the provider accepted it
    (done,) = outbox.drain(store, lambda _: provider, NOW)
    assert done.state is ActionState.DONE
    assert sent_count(provider, "<chase-1@agency.example>") == 1


def test_not_before_and_cancel(tmp_path: Path, provider: DemoProvider) -> None:
    store = Store(tmp_path / "s.json")
    action = queue(store, not_before=NOW + timedelta(seconds=10))
    assert outbox.drain(store, lambda _: provider, NOW) == []
    assert outbox.cancel(store, action.id)
    assert outbox.drain(store, lambda _: provider, NOW + timedelta(minutes=1)) == []
    assert sent_count(provider, "<chase-1@agency.example>") == 0


def test_draft_goes_to_drafts_not_sent(tmp_path: Path, provider: DemoProvider) -> None:
    store = Store(tmp_path / "s.json")
    queue(store, mode=ActionMode.DRAFT, message=outgoing("<d@agency.example>"))
    outbox.drain(store, lambda _: provider, NOW)
    drafts = [m for m in DemoProvider._outgoing["demo"] if m.is_draft]
    assert [d.message_id for d in drafts] == ["<d@agency.example>"]
    assert provider.find_sent("<d@agency.example>") is None


def test_a_send_left_queued_too_long_is_not_sent_late(tmp_path: Path, provider: DemoProvider) -> None:
    store = Store(tmp_path / "s.json")
    queue(store)
    (result,) = outbox.drain(store, lambda _: provider, NOW + timedelta(days=1))
    assert result.state is ActionState.FAILED
    assert "not sent" in result.error
    assert sent_count(provider, "<chase-1@agency.example>") == 0


CLAIMER = """
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from inbox_watch.store import Store
got = Store(Path(sys.argv[1])).claim_action(sys.argv[2], datetime.now(UTC), timedelta(minutes=10))
print("claimed" if got else "skipped")
"""


def test_two_processes_never_carry_out_the_same_action(tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    store = Store(tmp_path / "s.json")
    action = queue(store, now=datetime.now(UTC))
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", CLAIMER, str(store.path), action.id], stdout=subprocess.PIPE, text=True, env=env
        )
        for _ in range(4)
    ]
    outcomes = sorted(p.communicate(timeout=60)[0].strip() for p in procs)
    assert outcomes == ["claimed", "skipped", "skipped", "skipped"]


def test_claimed_action_is_left_alone_until_the_claim_goes_stale(tmp_path: Path, provider: DemoProvider) -> None:
    store = Store(tmp_path / "s.json")
    action = queue(store)
    assert store.claim_action(action.id, NOW, outbox.CLAIM_TIMEOUT) is not None  # the other process
    assert outbox.drain(store, lambda _: provider, NOW + timedelta(minutes=1)) == []
    assert sent_count(provider, "<chase-1@agency.example>") == 0
    # The other process died after sending: the stale claim is taken up and Sent is checked first.
    provider.send(action.message)
    (done,) = outbox.drain(store, lambda _: provider, NOW + timedelta(minutes=11))
    assert done.state is ActionState.DONE
    assert sent_count(provider, "<chase-1@agency.example>") == 1


def _jane_wrote(store: Store, at: datetime) -> None:
    reply = MailMessage(
        account="demo",
        id="INBOX/1/7",
        message_id="<r7@example.com>",
        date=at,
        from_addr="jane@example.com",
        from_name="Jane Doe",
        subject="Re: slots",
    )
    store.apply_sync(SyncBatch("demo", (reply,), Cursor("demo", "1")), at=at)


def test_a_retried_chaser_is_cancelled_after_a_reply_but_the_recruiters_own_send_goes_out(
    tmp_path: Path, provider: DemoProvider
) -> None:
    store = Store(tmp_path / "s.json")
    retried = queue(store, message=outgoing("<retried@agency.example>"))
    _jane_wrote(store, NOW + timedelta(minutes=3))
    (cancelled,) = outbox.drain(store, lambda _: provider, NOW + timedelta(minutes=5))  # a sync
    assert cancelled.id == retried.id and cancelled.state is ActionState.CANCELLED
    assert cancelled.error.startswith("not sent: Jane Doe wrote at ")
    assert sent_count(provider, "<retried@agency.example>") == 0
    # The recruiter, having seen the reply, still chooses to send one now: it goes out.
    mine = queue(store, message=outgoing("<mine@agency.example>"), now=NOW + timedelta(minutes=1))
    (done,) = outbox.drain(store, lambda _: provider, NOW + timedelta(minutes=6), only={mine.id}, immediate=True)
    assert done.state is ActionState.DONE
    assert sent_count(provider, "<mine@agency.example>") == 1


def test_a_send_started_but_not_in_sent_is_not_sent_again(tmp_path: Path, provider: DemoProvider) -> None:
    store = Store(tmp_path / "s.json")
    action = queue(store)
    claimed = store.claim_action(action.id, NOW, outbox.CLAIM_TIMEOUT)
    assert claimed is not None
    store.update_action(replace(claimed, send_started_at=NOW))  # then the process died
    (failed,) = outbox.drain(Store(tmp_path / "s.json"), lambda _: provider, NOW + timedelta(minutes=11))
    assert failed.state is ActionState.FAILED
    assert outbox.outcome(failed).startswith("chaser for Jane Doe not sent again: the attempt at ")
    assert sent_count(provider, "<chase-1@agency.example>") == 0


def test_a_chaser_that_may_have_gone_out_still_counts_for_the_one_day_guard(tmp_path: Path) -> None:
    from inbox_watch.demo import prepare_demo
    from inbox_watch.errors import ActionRefused
    from inbox_watch.models import NextAction

    workspace = prepare_demo(tmp_path, now=NOW)
    state = next(s for s in workspace.evaluate(NOW) if s.next_action is NextAction.SEND_CHASER)
    workspace.check_chase_allowed(state, NOW)  # nothing sent yet
    action = workspace.queue(state, workspace.chaser_draft(state), ActionMode.SEND, NOW)
    claimed = workspace.store.claim_action(action.id, NOW, outbox.CLAIM_TIMEOUT)
    assert claimed is not None
    workspace.store.update_action(replace(claimed, send_started_at=NOW))  # then the process died
    provider = DemoProvider(AccountConfig(name="demo", provider="demo"), DEMO_RECRUITER, now=NOW)
    (failed,) = outbox.drain(workspace.store, lambda _: provider, NOW + timedelta(minutes=11))
    assert failed.state is ActionState.FAILED
    with pytest.raises(ActionRefused, match="wait a business day or use --force"):
        workspace.check_chase_allowed(state, NOW + timedelta(minutes=12))


def test_an_employer_update_answers_the_employer_in_their_thread_and_account(tmp_path: Path) -> None:
    from inbox_watch.demo import prepare_demo
    from inbox_watch.models import Status

    workspace = prepare_demo(tmp_path, now=NOW)
    state = workspace.state_of("Aisha Khan", NOW)
    assert state.employer_waiting  # the contact asked about her: "Aisha Khan - portfolio review?"
    draft = workspace.employer_draft(state, NOW)
    assert draft.to == ("jo.price@fabrikam.example",)
    assert draft.subject == "Re: Aisha Khan - portfolio review?" and draft.in_reply_to and draft.account == "demo"
    assert draft.body.startswith("Hi Jo,\n")
    # Pulled, the note still goes out from the account that holds the contact's thread, not from
    # the first one configured.
    other = AccountConfig(name="other", provider="imap", host="imap.example.com")
    workspace.config = replace(workspace.config, accounts=(other, *workspace.config.accounts))
    workspace.store.set_pulled("Aisha Khan")
    pulled = workspace.state_of("Aisha Khan", NOW)
    assert pulled.status is Status.PULLED
    action = workspace.queue(pulled, workspace.employer_draft(pulled, NOW), ActionMode.DRAFT, NOW)
    assert action.account == "demo" and action.message.in_reply_to == draft.in_reply_to
    assert "withdrawn" not in action.message.subject and "taken Aisha Khan out of the process" in action.message.body
