"""Notices: telling the recruiter, when the daemon sees it, that a candidate replied, crossed
into silent or bounced, or that a send failed.

A notice is found by comparing what the engine said at the daemon's last look with what it
says now (:func:`status_notices`), and from the outbox actions a pass carried out
(:func:`send_notices`). Only changes that came from the mailbox or from time count: a status
the recruiter changed themselves (a snooze, a pull, an unsnooze) is never a notice.

Delivery (:func:`deliver`): a freedesktop notification over the D-Bus session bus (Linux,
through ``jeepney``), Notification Center through ``osascript`` (macOS), else only the log.
Quiet hours keep the desktop quiet, not the log or the dashboard. Mail text is data: it is cut
to one line, stripped of control characters, and escaped for the notification server's markup.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import orjson

from inbox_watch.config import Config, NotifyConfig
from inbox_watch.models import Action, ActionState, CandidateState, Status, TeamActivity, Thread
from inbox_watch.secrets import write_private

log = logging.getLogger(__name__)

APP_NAME = "inbox-watch"
EXCERPT_CHARS = 80
KEEP = 50  # notices kept for the dashboard
# Statuses that mean "still waiting for the candidate": leaving one of them for `replied` is news.
_WAITING = frozenset({Status.SILENT, Status.AWAITING, Status.OUT_OF_OFFICE, Status.BOUNCED, Status.SNOOZED})
# Crossing into silent by time alone (a snooze the recruiter ends is their own change).
_INTO_SILENT_FROM = frozenset({Status.AWAITING, Status.OUT_OF_OFFICE})
_ESCAPES = re.compile(r"\x1b(\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(\x07|\x1b\\)?|.)")  # terminal escape sequences
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]+")
_QUOTE_START = re.compile(r"^\s*(>|on .{0,120} wrote:|-----original message-----|from:\s)", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Notice:
    """One thing to tell the recruiter. ``kind``: replied, silent, bounced, send_failed or
    teammate (a teammate acted on one of the recruiter's candidates, team mode)."""

    kind: str
    candidate: str
    title: str  # "Tom Becker replied"
    body: str = ""  # "Monday at 10 works" (mail text: one line, no control characters)
    at: datetime | None = None

    @property
    def line(self) -> str:
        """The notice as one line (the dashboard's status bar): "Tom Becker replied: 'Monday at 10 works'"."""
        if not self.body:
            return self.title
        return f"{self.title}: '{self.body}'" if self.kind == "replied" else f"{self.title}: {self.body}"

    @property
    def log_line(self) -> str:
        """What the log keeps: never the mail's text."""
        return f"notice: {self.title}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "candidate": self.candidate,
            "title": self.title,
            "body": self.body,
            "at": self.at.isoformat() if self.at else None,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Notice:
        at = data.get("at")
        return cls(
            kind=str(data.get("kind", "")),
            candidate=str(data.get("candidate", "")),
            title=str(data.get("title", "")),
            body=str(data.get("body", "")),
            at=datetime.fromisoformat(at) if isinstance(at, str) else None,
        )


def one_line(text: str, limit: int = EXCERPT_CHARS) -> str:
    """``text`` as one short line: control characters and line breaks become spaces."""
    flat = " ".join(_CONTROL.sub(" ", _ESCAPES.sub("", text)).split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


def reply_excerpt(state: CandidateState, threads: Mapping[str, Thread], recruiter: Sequence[str]) -> str:
    """The first words of the candidate's latest message (above any quoted history)."""
    own = {a.lower() for a in recruiter}
    candidate = {a.lower() for a in state.candidate.emails}
    latest = None
    for thread_id in state.threads:
        thread = threads.get(thread_id)
        for message in thread.messages if thread else ():
            if message.from_addr in own:
                continue
            if candidate and message.from_addr not in candidate and latest is not None:
                continue
            if latest is None or message.date >= latest.date:
                latest = message
    if latest is None:
        return ""
    kept = []
    for line in latest.text.splitlines():
        if _QUOTE_START.match(line):
            break
        kept.append(line)
    return one_line(" ".join(kept))


def status_notices(
    before: Mapping[str, Status] | None,
    after: Sequence[CandidateState],
    threads: Mapping[str, Thread],
    recruiter: Sequence[str],
    now: datetime,
) -> list[Notice]:
    """The notices between two looks at the ranking: ``before`` maps each candidate's name to
    their status at the last look (None: the first look, when nothing is news)."""
    if before is None:
        return []
    notices = []
    for state in after:
        name = state.candidate.name
        was = before.get(name)
        if was is None or was is state.status:
            continue
        if state.status is Status.REPLIED and was in _WAITING:
            notices.append(Notice("replied", name, f"{name} replied", reply_excerpt(state, threads, recruiter), now))
        elif state.status is Status.SILENT and was in _INTO_SILENT_FROM:
            notices.append(Notice("silent", name, f"{name} is now silent", _silent_body(state), now))
        elif state.status is Status.BOUNCED and was is not Status.PULLED:
            address = ", ".join(state.candidate.emails[:1])
            notices.append(Notice("bounced", name, f"Email to {name} bounced", address, now))
    return notices


def _silent_body(state: CandidateState) -> str:
    from inbox_watch.vocabulary import action_word  # the report's and the dashboard's words

    return f"no answer to the scheduling email; next: {action_word(state.next_action)}"


def send_notices(actions: Sequence[Action], now: datetime) -> list[Notice]:
    """A notice for each action a pass carried out that ended badly: failed for good, or may
    have gone out without a copy in Sent (the recruiter must check)."""
    notices = []
    for action in actions:
        maybe_sent = action.state is ActionState.QUEUED and action.send_started_at is not None
        if action.state is not ActionState.FAILED and not maybe_sent:
            continue
        what = action.kind.value.replace("_", " ")
        title = f"The {what} for {action.candidate} {'may not have been sent' if maybe_sent else 'was not sent'}"
        notices.append(Notice("send_failed", action.candidate, title, one_line(action.error, 160), now))
    return notices


TEAM_LOOK_BACK_DAYS = 3  # teammates' actions older than this are not news to a dashboard or daemon that just started


def teammate_line(activity: TeamActivity, timezone: str) -> str:
    """What a teammate did, in one line: "Alex Moore chased Sophie Turner at 10:02"."""
    who, name = activity.recruiter, activity.candidate
    at = f" at {activity.at.astimezone(ZoneInfo(timezone)):%H:%M}" if activity.at is not None else ""
    if activity.kind == "chaser":
        return f"{who} chased {name}{at}"
    if activity.kind == "employer_update":
        return f"{who} sent {name}'s employer an update{at}"
    if activity.kind == "snooze":
        until = f" until {activity.until:%a %d %b}" if activity.until is not None else ""
        return f"{who} snoozed {name}{until}"
    if activity.kind == "pull":
        return f"{who} pulled {name} from the campaign"
    channel = {"call": "a call with", "text": "a text to", "dm": "a DM to"}.get(activity.kind, f"a {activity.kind} for")
    return f"{who} logged {channel} {name}{at}"


def team_notices(
    seen: frozenset[str] | None,
    activity: Sequence[TeamActivity],
    owners: Mapping[str, str],
    me: str,
    timezone: str,
    now: datetime,
) -> list[Notice]:
    """A notice for each teammate's action (``activity``) on a candidate ``me`` owns
    (``owners``: candidate name -> owner's name) that was not in ``seen`` (the keys of the
    last look; None: the first look, when nothing is news)."""
    if seen is None:
        return []
    from inbox_watch.engine.state import tag_key

    mine = {tag_key(name) for name, owner in owners.items() if owner == me}
    return [
        Notice("teammate", a.candidate, teammate_line(a, timezone), at=now)
        for a in activity
        if a.key not in seen and tag_key(a.candidate) in mine
    ]


def in_quiet_hours(settings: NotifyConfig, moment: datetime, timezone: str) -> bool:
    """Whether ``moment`` falls in the quiet hours (local time in ``timezone``); a span that
    crosses midnight (19:00-08:00) covers the evening and the early morning."""
    if settings.quiet_hours is None:
        return False
    start, end = settings.quiet_hours
    local = moment.astimezone(ZoneInfo(timezone)).time().replace(tzinfo=None)
    return _within(local, start, end)


def _within(moment: time, start: time, end: time) -> bool:
    if start < end:
        return start <= moment < end
    return moment >= start or moment < end


# --- kept for the dashboard --------------------------------------------------------------


def notices_path(store_path: Path) -> Path:
    return store_path.with_name(store_path.stem + ".notices.json")


def keep(store_path: Path, notices: Sequence[Notice], limit: int = KEEP) -> None:
    """Add ``notices`` to the file the dashboard reads (the latest ``limit``, each numbered)."""
    kept = kept_notices(store_path)
    number = kept[-1][0] if kept else 0
    rows = [[n, notice.to_dict()] for n, notice in kept]
    for notice in notices:
        number += 1
        rows.append([number, notice.to_dict()])
    write_private(notices_path(store_path), orjson.dumps(rows[-limit:]))


def kept_notices(store_path: Path) -> list[tuple[int, Notice]]:
    """The kept notices, oldest first, each with its number (which only grows)."""
    try:
        rows = orjson.loads(notices_path(store_path).read_bytes())
        return [(int(n), Notice.from_dict(d)) for n, d in rows]
    except (OSError, orjson.JSONDecodeError, TypeError, ValueError, AttributeError):
        return []


def forget(store_path: Path, name: str) -> int:
    """Erase the kept notices about ``name`` (``forget``); returns how many went."""
    kept = kept_notices(store_path)
    left = [(n, notice) for n, notice in kept if notice.candidate.casefold() != name.casefold()]
    if len(left) != len(kept):
        write_private(notices_path(store_path), orjson.dumps([[n, notice.to_dict()] for n, notice in left]))
    return len(kept) - len(left)


# --- delivery ------------------------------------------------------------------------------


def deliver(notice: Notice, config: Config, now: datetime) -> str:
    """Show ``notice`` on the desktop when allowed and possible; return how it went: "desktop",
    "quiet" (quiet hours), "off" ([notify] enabled = false) or "logged" (no desktop to show it)."""
    log.info(notice.log_line)
    settings = config.notify
    if not settings.enabled:
        return "off"
    if in_quiet_hours(settings, now, config.policy.timezone):
        return "quiet"
    try:
        if sys.platform == "darwin" and shutil.which("osascript"):
            _osascript(notice)
            return "desktop"
        if os.environ.get("DBUS_SESSION_BUS_ADDRESS"):
            _freedesktop(notice)
            return "desktop"
    except Exception as exc:  # noqa: BLE001 - a notification server that fails must not stop the daemon
        log.info("no desktop notification (%s: %s); the notice is in the log", type(exc).__name__, exc)
    return "logged"


def _markup_safe(text: str) -> str:
    """Notification servers may read a little HTML in the body: mail text is escaped."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _freedesktop(notice: Notice) -> None:
    """org.freedesktop.Notifications.Notify on the session bus (the Desktop Notifications spec)."""
    from jeepney import DBusAddress, new_method_call
    from jeepney.io.blocking import open_dbus_connection

    address = DBusAddress(
        "/org/freedesktop/Notifications",
        bus_name="org.freedesktop.Notifications",
        interface="org.freedesktop.Notifications",
    )
    message = new_method_call(
        address,
        "Notify",
        "susssasa{sv}i",
        (APP_NAME, 0, "mail-unread", one_line(notice.title, 120), _markup_safe(notice.body), [], {}, 10_000),
    )
    with open_dbus_connection(bus="SESSION") as connection:
        reply = connection.send_and_get_reply(message, timeout=3)
    if reply.header.message_type.name == "error":
        raise RuntimeError(f"the notification server answered {reply.header.fields}")


_APPLESCRIPT = "on run argv\ndisplay notification (item 2 of argv) with title (item 1 of argv)\nend run"


def _osascript(notice: Notice) -> None:
    """Notification Center: the texts go as arguments, never into the script's source."""
    subprocess.run(
        ["osascript", "-e", _APPLESCRIPT, one_line(notice.title, 120), notice.body or " "],
        check=True,
        timeout=5,
        capture_output=True,
    )
