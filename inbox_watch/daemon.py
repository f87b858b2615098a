"""The background sync daemon: sync every interval until SIGTERM/SIGINT, then stop cleanly.

It writes a heartbeat to the store after each pass so the dashboard can show that it runs
(and leave syncing to it). A failing account is reported and retried next interval; the
daemon itself does not die of a provider error, nor of a bug: a pass that ends in an
unexpected exception is logged with its traceback and reported in one line; it leaves no
heartbeat (a stale one lets the dashboard sync by itself), and the next pass waits longer
(jittered back-off, up to an hour more) until one succeeds.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
from datetime import UTC, datetime
from types import FrameType

from inbox_watch.errors import InboxWatchError
from inbox_watch.retry import delay_for
from inbox_watch.service import Workspace
from inbox_watch.sync import sync_all

log = logging.getLogger(__name__)

MAX_BACK_OFF = 3600.0  # seconds added to the interval, at most, after failed passes


def next_wait(interval: float, failures: int) -> float:
    """Seconds until the next pass: the interval, plus a jittered back-off that doubles with
    each pass in a row that failed unexpectedly."""
    return interval + (delay_for(failures, base=max(interval, 1.0), cap=MAX_BACK_OFF) if failures else 0.0)


def _sync_and_report(workspace: Workspace) -> None:
    now = datetime.now(UTC)
    try:
        results, errors = sync_all(workspace.store, workspace.config, factory=workspace.factory)
    except InboxWatchError as exc:  # the store itself failed: say so, try again later
        print(f"inbox-watch daemon: {exc}", file=sys.stderr, flush=True)
        results, errors = [], []
    for result in results:
        print(f"{now:%Y-%m-%d %H:%M:%S} {result.describe()}", flush=True)
        for note in result.outbox_notes:
            print(f"{now:%Y-%m-%d %H:%M:%S} {note}", flush=True)
    for name, error in errors:
        print(f"{now:%Y-%m-%d %H:%M:%S} {name}: {error}", file=sys.stderr, flush=True)


def _beat(workspace: Workspace) -> None:
    """The heartbeat, after a pass that ran (the dashboard then leaves syncing to the daemon)."""
    try:
        workspace.store.set_heartbeat(os.getpid(), datetime.now(UTC))
    except InboxWatchError as exc:
        print(f"inbox-watch daemon: {exc}", file=sys.stderr, flush=True)


def run_daemon(workspace: Workspace, *, max_passes: int | None = None) -> int:
    """Run until a signal arrives (or ``max_passes`` passes, for tests). Returns the exit code."""
    stop = threading.Event()

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        log.info("signal %d: stopping after the current step", signum)
        stop.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
    interval = workspace.config.interval
    passes = failures = 0  # failures: passes in a row that ended in an unexpected exception
    wait: float = interval
    print(
        f"inbox-watch daemon: syncing {len(workspace.config.accounts)} account(s) every {interval}s "
        f"(pid {os.getpid()})",
        flush=True,
    )
    try:
        while not stop.is_set():
            try:
                _sync_and_report(workspace)
                _beat(workspace)
                failures, wait = 0, interval
            except Exception as exc:  # noqa: BLE001 - a bug in one pass must not end the daemon
                failures += 1
                wait = next_wait(interval, failures)
                log.debug("unexpected error in a sync pass", exc_info=exc)  # the traceback, with --debug
                detail = " ".join(str(exc).split())
                print(
                    f"{datetime.now(UTC):%Y-%m-%d %H:%M:%S} inbox-watch daemon: unexpected error: "
                    f"{type(exc).__name__}: {detail}; trying again in {wait:.0f}s",
                    file=sys.stderr,
                    flush=True,
                )
            passes += 1
            if max_passes is not None and passes >= max_passes:
                break
            stop.wait(wait)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        try:
            workspace.store.clear_heartbeat()
        except InboxWatchError:
            pass
    print("inbox-watch daemon: stopped", flush=True)
    return 0
