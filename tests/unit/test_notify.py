# ruff: noqa: F811 - the notifications fixture imported from notifications_server.py is named as an argument
"""Notices: which changes are news (a reply, crossing into silent, a bounce, a failed send;
never the recruiter's own change), quiet hours, and delivery over a real (private) D-Bus."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

import pytest

from inbox_watch import notify
from inbox_watch.config import Config, NotifyConfig, parse_config
from inbox_watch.errors import ConfigError
from inbox_watch.models import (
    Action,
    ActionKind,
    ActionMode,
    ActionState,
    Candidate,
    CandidateState,
    NextAction,
    OutgoingMessage,
    Status,
    Thread,
)
from tests.builders import msg
from tests.notifications_server import NotificationsServer, notifications  # noqa: F401

NOW = datetime(2026, 11, 25, 11, 0, tzinfo=UTC)
SAM = "sam@agency.example"


def state(name: str, status: Status, **changes: object) -> CandidateState:
    candidate = Candidate(name=name, emails=(f"{name.split()[0].lower()}@example.com",))
    return replace(CandidateState(candidate, status, NextAction.NONE), **changes)  # type: ignore[arg-type]


def test_a_reply_is_news_with_the_first_words_of_it_and_only_once() -> None:
    reply = msg(
        "2026-11-25 10:58",
        "tom@example.com",
        SAM,
        "Re: slots",
        "Monday at 10 works\x1b[31m\nfor me\n\nOn Mon, Sam wrote:\n> Could you do Monday?",
    )
    threads = {"t1": Thread("t1", (msg("2026-11-23 09:00", SAM, "tom@example.com", "slots", "Monday?"), reply))}
    after = [state("Tom Becker", Status.REPLIED, threads=("t1",))]
    [notice] = notify.status_notices({"Tom Becker": Status.SILENT}, after, threads, (SAM,), NOW)
    assert notice.kind == "replied"
    assert notice.line == "Tom Becker replied: 'Monday at 10 works for me'"  # one line, no escape codes
    assert notify.status_notices({"Tom Becker": Status.REPLIED}, after, threads, (SAM,), NOW) == []
    assert notify.status_notices(None, after, threads, (SAM,), NOW) == []  # the first look: nothing is news


@pytest.mark.parametrize(
    ("was", "now", "kind"),
    [
        (Status.AWAITING, Status.SILENT, "silent"),  # time crossed the threshold
        (Status.OUT_OF_OFFICE, Status.SILENT, "silent"),  # back from the absence, still silent
        (Status.SILENT, Status.BOUNCED, "bounced"),
        (Status.SNOOZED, Status.SILENT, None),  # an unsnooze, or a snooze the recruiter set ending
        (Status.PULLED, Status.SILENT, None),  # unpull: the recruiter's own change
        (Status.PULLED, Status.REPLIED, None),
        (Status.SILENT, Status.SNOOZED, None),
        (Status.SILENT, Status.PULLED, None),
        (Status.IDLE, Status.AWAITING, None),  # the recruiter's own scheduling email
    ],
)
def test_only_changes_from_the_mailbox_or_time_are_news(was: Status, now: Status, kind: str | None) -> None:
    found = notify.status_notices({"Ann Lee": was}, [state("Ann Lee", now)], {}, (SAM,), NOW)
    assert [n.kind for n in found] == ([kind] if kind else [])


def test_a_send_that_failed_or_may_have_gone_out_is_news_a_retry_is_not() -> None:
    message = OutgoingMessage(
        to=("tom@example.com",), subject="Re: slots", body="Hi", message_id="<m@agency.example>", from_addr=SAM
    )
    base = Action("a1", ActionKind.CHASER, ActionMode.SEND, "Tom Becker", "work", message, NOW)
    failed = replace(base, state=ActionState.FAILED, error="550 no such user\r\nBcc: x@evil.example")
    maybe = replace(base, id="a2", state=ActionState.QUEUED, send_started_at=NOW, error="connection lost")
    retry_later = replace(base, id="a3", state=ActionState.QUEUED, error="connection refused")
    found = notify.send_notices([failed, maybe, retry_later, replace(base, state=ActionState.DONE)], NOW)
    assert [n.title for n in found] == [
        "The chaser for Tom Becker was not sent",
        "The chaser for Tom Becker may not have been sent",
    ]
    assert found[0].body == "550 no such user Bcc: x@evil.example"  # one line


def test_quiet_hours_cross_midnight_in_the_policy_time_zone(tmp_path: Path) -> None:
    settings = NotifyConfig(quiet_hours=(time(19, 0), time(8, 0)))
    london = "Europe/London"
    assert notify.in_quiet_hours(settings, datetime(2026, 11, 25, 19, 30, tzinfo=UTC), london)
    assert notify.in_quiet_hours(settings, datetime(2026, 11, 25, 7, 59, tzinfo=UTC), london)
    assert not notify.in_quiet_hours(settings, datetime(2026, 11, 25, 8, 0, tzinfo=UTC), london)
    assert not notify.in_quiet_hours(settings, datetime(2026, 11, 25, 12, 0, tzinfo=UTC), london)
    # 07:30 UTC is 08:30 in Paris: not quiet there
    assert not notify.in_quiet_hours(settings, datetime(2026, 11, 25, 7, 30, tzinfo=UTC), "Europe/Paris")
    path = tmp_path / "config.toml"
    assert parse_config('[notify]\nquiet_hours = ""\n', path).notify.quiet_hours is None
    assert parse_config("", path).notify == NotifyConfig()
    with pytest.raises(ConfigError, match=r"notify.quiet_hours = '7pm' is invalid"):
        parse_config('[notify]\nquiet_hours = "7pm"\n', path)


def test_a_notice_reaches_the_desktop_over_d_bus_with_mail_text_escaped(
    notifications: NotificationsServer,
) -> None:
    config = Config(path=None, notify=NotifyConfig(quiet_hours=None))
    notice = notify.Notice("replied", "Tom Becker", "Tom Becker replied", "Monday <b>at</b> 10 & fine", NOW)
    assert notify.deliver(notice, config, NOW) == "desktop"
    [call] = notifications.wait_for(1)
    assert call == {
        "app": "inbox-watch",
        "summary": "Tom Becker replied",
        "body": "Monday &lt;b&gt;at&lt;/b&gt; 10 &amp; fine",
    }


def test_quiet_hours_and_enabled_false_keep_the_desktop_quiet(notifications: NotificationsServer) -> None:
    notice = notify.Notice("silent", "Ann Lee", "Ann Lee is now silent", "", NOW)
    quiet = Config(path=None, notify=NotifyConfig(quiet_hours=(time(10, 0), time(12, 0))))
    assert notify.deliver(notice, quiet, NOW) == "quiet"  # 11:00 London
    off = Config(path=None, notify=NotifyConfig(enabled=False))
    assert notify.deliver(notice, off, NOW) == "off"
    assert notifications.wait_for(1, within=0.5) == []


def test_without_a_desktop_the_notice_is_logged(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level("INFO")
    config = Config(path=None, notify=NotifyConfig(quiet_hours=None))
    notice = notify.Notice("replied", "Tom Becker", "Tom Becker replied", "Monday works", NOW)
    assert notify.deliver(notice, config, NOW + timedelta(hours=1)) == "logged"
    assert "notice: Tom Becker replied" in caplog.text and "Monday works" not in caplog.text


def test_kept_notices_are_numbered_and_forget_erases_a_candidates(tmp_path: Path) -> None:
    store = tmp_path / "store.json"
    first = notify.Notice("replied", "Tom Becker", "Tom Becker replied", "yes", NOW)
    second = notify.Notice("silent", "Ann Lee", "Ann Lee is now silent", "", NOW)
    notify.keep(store, [first])
    notify.keep(store, [second])
    assert [(n, x.candidate) for n, x in notify.kept_notices(store)] == [(1, "Tom Becker"), (2, "Ann Lee")]
    assert notify.forget(store, "tom becker") == 1
    assert [x.candidate for _n, x in notify.kept_notices(store)] == ["Ann Lee"]
    assert (notify.notices_path(store).stat().st_mode & 0o777) == 0o600


def test_forget_erases_the_candidates_notices_too(tmp_path: Path) -> None:
    from inbox_watch.demo import open_demo

    with open_demo() as workspace:
        path = workspace.store.path
        notify.keep(path, [notify.Notice("replied", "Priya Shah", "Priya Shah replied", "yes", NOW)])
        notify.keep(path, [notify.Notice("silent", "Grace Liu", "Grace Liu is now silent", "", NOW)])
        workspace.forget("Priya Shah", datetime.now(UTC))
        assert [n.candidate for _number, n in notify.kept_notices(path)] == ["Grace Liu"]
