"""The background daemon: every account on its own schedule until SIGTERM/SIGINT.

Each account has a thread of its own, so one that fails or hangs never delays another:

- IMAP with IDLE: after a pass the thread waits in IDLE on INBOX (``wait_for_change``) and
  syncs at once when the server reports new mail; folders IDLE cannot watch (Sent,
  ``Candidates/*``) are read by the pass that follows at least every ``poll_interval``
  (``[daemon] interval`` by default). IDLE is re-issued before the server's 29 minutes.
- Gmail and Outlook: one ``history.list`` / one delta round per folder every
  ``poll_interval`` (60 s by default; no push reaches a desktop without a public endpoint).
- A pass that fails backs off, exponentially with jitter, up to the interval plus 30
  minutes; a server's Retry-After is honoured; a success resets it. A connection that drops
  while waiting is reopened by the next pass at once.
- The outbox is drained after every pass, and when a front end pokes the daemon (the store's
  ``.poke`` file, looked at once a second): an action queued for later wakes the account then.

Heartbeat (the dashboard then leaves syncing to the daemon): at the start of every pass, at
each progress report, and every 30 s while waiting. One daemon per store: a second refuses,
naming the first one's pid. SIGTERM/SIGINT stop it within two seconds, even in IDLE or in the
middle of a fetch, after any store write in progress (exit 0). The store lock is never held
while waiting. Logs go to a rotating file in the user state dir (1 MB x 3), without passwords,
tokens or mail text.
"""

from __future__ import annotations

import contextlib
import logging
import logging.handlers
import os
import random
import signal
import sys
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType
from typing import Any, cast

from inbox_watch import wake
from inbox_watch.config import APP_NAME, AccountConfig
from inbox_watch.errors import ActionRefused, InboxWatchError, RateLimited
from inbox_watch.mime import make_message_id
from inbox_watch.models import ActionState, OutgoingMessage
from inbox_watch.provider import Capability, MailProvider, PushProvider
from inbox_watch.secrets import write_private
from inbox_watch.service import Workspace
from inbox_watch.store import Store
from inbox_watch.sync import PassDeadline, SyncResult, _unexpected, default_factory, sync_account

log = logging.getLogger(__name__)

BACK_OFF_BASE = 2.0  # seconds: the first retry after a failed pass comes within 1-2 s
BACK_OFF_EXTRA = 1800.0  # a failing account is tried again at least every interval + 30 minutes
BEAT_EVERY = 30.0  # seconds between heartbeats while waiting
BEAT_AGAIN_AFTER = 5.0  # seconds: a pass starting sooner after the last heartbeat writes no new one
STOP_WITHIN = 1.2  # seconds after a signal that the accounts get to finish what they are doing
LOOK_EVERY = 300.0  # seconds: notices are looked for after every pass with news, and at least this often
LOG_BYTES, LOG_BACKUPS = 1_000_000, 3


class Stopping(BaseException):
    """Raised inside a pass (from its progress report) when the daemon is stopping.

    A BaseException: nothing on the way up takes it for a mail error and carries on."""


class DaemonRunning(ActionRefused):
    """Another daemon already syncs this store."""


def next_wait(interval: float, failures: int, retry_after: float | None = None) -> float:
    """Seconds until an account's next pass: its interval after a success; after ``failures``
    passes in a row that failed, a jittered exponential back-off (1-2 s, 2-4 s, 4-8 s ...)
    capped at the interval plus 30 minutes, never sooner than a server's ``retry_after``."""
    if failures <= 0:
        return float(interval)
    cap = interval + BACK_OFF_EXTRA
    span = min(cap, BACK_OFF_BASE * 2.0 ** min(failures - 1, 40))
    wait = random.uniform(span / 2, span)
    if retry_after is not None:
        wait = max(wait, min(retry_after, cap))
    return wait


# --- one daemon per store ------------------------------------------------------------------


class InstanceLock:
    """An exclusive lock on ``<store>.daemon`` for the daemon's whole life; the file holds its pid.

    The kernel releases it when the process dies, so a crashed daemon never blocks the next."""

    def __init__(self, store_path: Path) -> None:
        self.path = store_path.with_name(store_path.name + ".daemon")
        self._fd: int | None = None

    def acquire(self) -> None:
        try:
            import fcntl
        except ImportError:  # pragma: no cover - Windows: no second-daemon guard
            return
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            text = os.read(fd, 64).decode(errors="replace").strip()
            os.close(fd)
            pid = f"pid {text}" if text.isdigit() else "pid unknown"
            raise DaemonRunning(
                f"another inbox-watch daemon ({pid}) is already running for {self.path.with_suffix('')}; "
                "stop it first (`inbox-watch service status` shows it)"
            ) from None
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._fd = fd

    def release(self) -> None:
        fd, self._fd = self._fd, None
        if fd is not None:
            try:
                os.ftruncate(fd, 0)
            finally:
                os.close(fd)

    @staticmethod
    def running_pid(store_path: Path) -> int | None:
        """The pid of the daemon syncing this store, or None when none runs."""
        lock = InstanceLock(store_path)
        try:
            lock.acquire()
        except DaemonRunning:
            try:
                text = lock.path.read_text().strip()
            except OSError:
                return None
            return int(text) if text.isdigit() else None
        lock.release()
        return None


# --- the log file --------------------------------------------------------------------------


def log_path() -> Path:
    import platformdirs

    return Path(platformdirs.user_state_dir(APP_NAME, appauthor=False)) / "daemon.log"


def open_log_file(debug: bool = False) -> logging.Handler | None:
    """A rotating log (1 MB x 3) of what the daemon did, private to the user; None when the
    state dir cannot be written (the daemon still runs, its output goes to stdout)."""
    path = log_path()
    try:
        from inbox_watch.secrets import private_dir

        private_dir(path.parent)  # and any parent it makes: 0700, like the data folder
        os.chmod(path.parent, 0o700)
        handler = logging.handlers.RotatingFileHandler(
            path, maxBytes=LOG_BYTES, backupCount=LOG_BACKUPS, encoding="utf-8"
        )
        os.chmod(path, 0o600)
    except OSError as exc:
        print(f"inbox-watch daemon: no log file ({exc})", file=sys.stderr, flush=True)
        return None
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.setLevel(logging.DEBUG if debug else logging.INFO)
    return handler


# --- the daemon ----------------------------------------------------------------------------


class AccountWorker:
    """One account's loop: pass, wait (in IDLE where the server can push), pass again."""

    def __init__(self, daemon: Daemon, account: AccountConfig) -> None:
        self.daemon = daemon
        self.account = account
        self.interval = daemon.workspace.config.poll_interval(account)
        # The dashboard takes a heartbeat older than two intervals for "no daemon": beat well within.
        self.beat_every = min(BEAT_EVERY, max(1.0, daemon.workspace.config.interval / 2))
        shared = daemon.workspace.store
        # The TinyDB store's snapshots are not shared across threads: each account has its own
        # (its lock still orders their writes). Team mode's pooled store is made for threads.
        self.store = Store(shared.path) if isinstance(shared, Store) else shared
        self.wake = threading.Event()
        self.provider: MailProvider | None = None
        self.failures = 0
        self.retry_after: float | None = None
        self.passes = 0
        self.first_pass_done = False
        self.next_wait = 0.0
        self._last_beat = 0.0
        self.thread = threading.Thread(target=self._run, name=f"sync {account.name}", daemon=True)

    @property
    def pushed(self) -> bool:
        return self.provider is not None and Capability.PUSH in self.provider.capabilities

    def _run(self) -> None:
        stop = self.daemon.stop
        try:
            while not stop.is_set():
                self.run_pass()
                self.passes += 1
                limit = self.daemon.max_passes
                if stop.is_set() or (limit is not None and self.passes >= limit):
                    break
                self.wait()
        except Stopping:
            log.info("%s: stopped in the middle of a pass (nothing half-written)", self.account.name)
        finally:
            self._close()

    # -- a pass --------------------------------------------------------------------------------

    def beat(self) -> None:
        self._last_beat = time.monotonic()
        try:
            self.store.set_heartbeat(os.getpid(), datetime.now(UTC))
        except InboxWatchError as exc:
            log.warning("could not write the heartbeat: %s", exc)

    def beat_if_due(self) -> None:
        if time.monotonic() - self._last_beat >= self.beat_every:
            self.beat()

    def progress(self, done: int, total: int | None, what: str) -> None:
        if self.daemon.stop.is_set():
            raise Stopping
        if time.monotonic() - self._last_beat >= 1.0:  # every report, at most one write a second
            self.beat()

    def run_pass(self) -> None:
        self.wake.clear()
        if time.monotonic() - self._last_beat >= BEAT_AGAIN_AFTER:  # a fast poll need not beat every pass
            self.beat()
        name = self.account.name
        try:
            if self.provider is None:
                self.provider = self.daemon.factory(self.account)
            deadline = PassDeadline(self.daemon.workspace.config.pass_timeout)  # [daemon] pass_timeout
            result = sync_account(
                self.store,
                self.account,
                self.provider,
                progress=self.progress,
                deadline=deadline,
                recruiter=self.daemon.workspace.config.recruiter,
            )
        except InboxWatchError as exc:
            self._failed(exc, str(exc))
            return
        except Exception as exc:  # noqa: BLE001 - a bug in one pass must not end the daemon
            self._failed(exc, str(_unexpected(self.store, name, exc)))
            return
        self.failures, self.retry_after = 0, None
        self.first_pass_done = True
        self.daemon.passed(result)
        if self.account is self.daemon.workspace.config.accounts[0]:
            try:
                self.morning_plan()
            except Exception as exc:  # noqa: BLE001 - the plan is a courtesy: never the pass's end
                log.debug("the morning plan failed", exc_info=exc)
                self.daemon.say(f"{self.account.name}: the morning plan failed: {type(exc).__name__}", error=True)

    def morning_plan(self, now: datetime | None = None) -> bool:
        """``[notify] morning_plan``: once a business day, from the start of the working day,
        save the day's plan as a draft to the recruiter themself, through this account.
        True when a draft was saved."""
        workspace = self.daemon.workspace
        config = workspace.config
        if not config.notify.morning_plan or self.provider is None:
            return False
        if Capability.DRAFTS not in self.provider.capabilities or not config.recruiter.addresses:
            return False
        now = now or datetime.now(UTC)
        clock = workspace.clock
        local = clock.local(now)
        if not clock.is_business_day(local.date()) or local.time() < config.policy.day_start:
            return False
        marker = workspace.store.path.with_name(workspace.store.path.stem + ".morning")
        today = local.date().isoformat()
        try:
            if marker.read_text().strip() == today:
                return False
        except OSError:
            pass
        plan = Workspace(config, self.store, self.daemon.factory).today(now)
        address = config.recruiter.addresses[0]
        message = OutgoingMessage(
            from_addr=address,
            from_name=config.recruiter.name,
            to=(address,),
            subject=f"Your plan for {plan.day:%a %d %b}: {plan.summary()}",
            body="\n".join(plan.lines()) + "\n\n-- inbox-watch (`inbox-watch today` shows it again)\n",
            message_id=make_message_id(address.rpartition("@")[2]),
        )
        try:
            self.provider.save_draft(message)
        except InboxWatchError as exc:
            self.daemon.say(f"{self.account.name}: the morning plan was not saved: {exc}", error=True)
            return False
        write_private(marker, today.encode())
        self.daemon.say(f"{self.account.name}: the day's plan saved to Drafts ({plan.summary()})")
        return True

    def _failed(self, exc: BaseException, text: str) -> None:
        self.failures += 1
        self.retry_after = exc.retry_after if isinstance(exc, RateLimited) else None
        try:
            self.store.record_sync_error(self.account.name, text, at=datetime.now(UTC))
        except InboxWatchError as store_error:
            log.warning("%s: could not record the error: %s", self.account.name, store_error)
        self.first_pass_done = True
        self._close()  # the next pass starts on a fresh connection
        self.next_wait = next_wait(self.interval, self.failures, self.retry_after)
        self.daemon.say(f"{self.account.name}: {text}; next try in {self.next_wait:.0f}s", error=True)

    # -- waiting -------------------------------------------------------------------------------

    def interrupted(self) -> bool:
        return self.daemon.stop.is_set() or self.wake.is_set()

    def wait(self) -> None:
        delay = self.next_wait if self.failures else float(self.interval)
        due = self.daemon.next_due(self.store, self.account.name)
        if due is not None:
            delay = min(delay, max(1.0, due))
        if not self.failures and self.pushed and not self.interrupted():
            try:
                provider = cast(PushProvider, self.provider)
                if provider.wait_for_change(delay, interrupted=self.interrupted, tick=self.beat_if_due):
                    log.info("%s: the server reported new mail", self.account.name)
                return
            except Stopping:
                raise
            except InboxWatchError as exc:
                self.daemon.say(f"{self.account.name}: {exc}; reconnecting", error=True)
            except Exception as exc:  # noqa: BLE001 - a surprise while waiting: reconnect, go on
                log.debug("%s: unexpected error while waiting", self.account.name, exc_info=exc)
                self.daemon.say(f"{self.account.name}: waiting failed: {type(exc).__name__}; reconnecting", error=True)
            self._close()
            return
        end = time.monotonic() + delay
        while not self.interrupted() and (left := end - time.monotonic()) > 0:
            if not self.wake.wait(min(left, self.beat_every)) and not self.daemon.stop.is_set():
                self.beat_if_due()

    def _close(self) -> None:
        provider, self.provider = self.provider, None
        if provider is not None:
            try:
                provider.close()
            except Exception:  # noqa: BLE001 - a connection that will not close must not stop the daemon
                log.debug("%s: could not close the connection", self.account.name, exc_info=True)


class Daemon:
    def __init__(
        self,
        workspace: Workspace,
        *,
        max_passes: int | None = None,
        notify: Callable[..., str] | None = None,
    ) -> None:
        self.workspace = workspace
        self.max_passes = max_passes
        self.factory = workspace.factory or default_factory(workspace.config)
        self.stop = threading.Event()
        self.stopped_at: float | None = None
        self._news = threading.Event()
        self._results: list[SyncResult] = []
        self._results_lock = threading.Lock()
        self._output_lock = threading.Lock()
        self._deliver = notify
        self._statuses: dict[str, Any] | None = None
        self._team_seen: frozenset[str] | None = None  # team mode: the teammates' actions already told about
        self.workers = [AccountWorker(self, account) for account in workspace.config.accounts]

    # -- called from the account threads ------------------------------------------------------

    def say(self, line: str, *, error: bool = False) -> None:
        stamp = f"{datetime.now(UTC):%Y-%m-%d %H:%M:%S}"
        with self._output_lock:
            print(f"{stamp} {line}", file=sys.stderr if error else sys.stdout, flush=True)
        log.info("%s%s", "error: " if error else "", line)  # INFO: the console has it already

    def passed(self, result: SyncResult) -> None:
        self.say(result.describe())
        for note in result.outbox_notes:
            self.say(note)
        with self._results_lock:
            self._results.append(result)
        if result.new or result.updated or result.removed or result.actions or self._statuses is None:
            self._news.set()  # the notices thread looks at once (else every LOOK_EVERY s)

    def next_due(self, store: Any, account: str) -> float | None:
        """Seconds until the account's earliest action queued for later, or None."""
        try:
            queued = store.actions(state=ActionState.QUEUED)
        except InboxWatchError:
            return None
        now = datetime.now(UTC)
        waits = [(a.not_before - now).total_seconds() for a in queued if a.account == account and a.not_before]
        return min(waits) if waits else None

    # -- the main thread ----------------------------------------------------------------------

    def run(self, *, hard_exit: bool = False) -> int:
        def on_signal(signum: int, _frame: FrameType | None) -> None:
            if not self.stop.is_set():
                self.stopped_at = time.monotonic()
                self.stop.set()

        previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
        config = self.workspace.config
        plans = ", ".join(
            f"{a.name} every {config.poll_interval(a)}s" + (" and on IMAP IDLE" if a.provider == "imap" else "")
            for a in config.accounts
        )
        self.say(f"inbox-watch daemon: syncing {len(config.accounts)} account(s): {plans} (pid {os.getpid()})")
        store_path = self.workspace.store.path
        poke = wake.poke_key(store_path)
        notices = threading.Thread(target=self._notices_loop, name="notices", daemon=True)
        try:
            for worker in self.workers:
                worker.thread.start()
            notices.start()
            while not self.stop.wait(1.0):
                if not any(w.thread.is_alive() for w in self.workers):
                    break  # max_passes reached everywhere (tests)
                seen = wake.poke_key(store_path)
                if seen != poke:
                    poke = seen
                    log.info("woken: the outbox has something new")
                    for worker in self.workers:
                        worker.wake.set()
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            self._shut_down(hard_exit, notices)
        return 0

    def _shut_down(self, hard_exit: bool, notices: threading.Thread) -> None:
        finished = not self.stop.is_set()  # every account made its passes (tests)
        self.stop.set()
        self._news.set()
        deadline = (self.stopped_at or time.monotonic()) + STOP_WITHIN
        for worker in self.workers:
            worker.thread.join(max(0.0, deadline - time.monotonic()))
        if notices.is_alive():
            notices.join(max(0.0, deadline - time.monotonic()) if not finished else None)
        busy = [w.account.name for w in self.workers if w.thread.is_alive()]
        store = self.workspace.store
        # Under the store lock: an account still writing finishes its write first, and none
        # starts another before the process ends (team mode: the database's transactions).
        last_word = store._locked() if isinstance(store, Store) else contextlib.nullcontext()  # noqa: SLF001
        try:
            with last_word:
                store.clear_heartbeat()
                if busy:
                    log.info("stopping without waiting for: %s", ", ".join(busy))
                self.say("inbox-watch daemon: stopped")
                if hard_exit:
                    # Accounts still mid-I/O end with the process, and so does tidying up what
                    # a long pass held in memory (seconds of garbage collection on a big one).
                    logging.shutdown()
                    sys.stdout.flush()
                    sys.stderr.flush()
                    os._exit(0)
        except InboxWatchError as exc:
            self.say(f"inbox-watch daemon: {exc}", error=True)
            self.say("inbox-watch daemon: stopped")

    def _notices_loop(self) -> None:
        while True:
            self._news.wait(LOOK_EVERY)
            final = self.stop.is_set()
            try:
                self.look_for_notices()
            except Exception as exc:  # noqa: BLE001 - notices are a courtesy: never the daemon's end
                log.debug("looking for notices failed", exc_info=exc)
            if final:
                return

    def look_for_notices(self) -> None:
        """After a pass with news (or every ``LOOK_EVERY`` s, for candidates turning silent with
        time): compare the ranking with the last look and tell the recruiter what changed."""
        self._news.clear()
        with self._results_lock:
            results, self._results = self._results, []
        from inbox_watch import notify

        now = datetime.now(UTC)
        try:
            states, threads = self.workspace.evaluate_with_threads(now)
        except InboxWatchError as exc:
            log.warning("could not read the store for notices: %s", exc)
            return
        config = self.workspace.config
        # Until every account has made its first pass, what lands is old mail, not news.
        settling = any(not w.first_pass_done and w.thread.is_alive() for w in self.workers)
        before = None if settling or any(r.full for r in results) else self._statuses
        found = notify.status_notices(before, states, threads, config.recruiter.addresses, now)
        found += notify.send_notices([a for r in results for a in r.actions], now)
        self._statuses = {s.candidate.name: s.status for s in states}
        if config.team:  # a teammate's chaser, call, snooze or pull on one of this recruiter's candidates
            try:
                activity = self.workspace.team_activity(now)
                found += notify.team_notices(
                    self._team_seen,
                    activity,
                    self.workspace.owners(states),
                    config.recruiter.name,
                    config.policy.timezone,
                    now,
                )
                self._team_seen = frozenset(a.key for a in activity)
            except InboxWatchError as exc:
                log.warning("could not read the team's actions for notices: %s", exc)
        if not found:
            return
        deliver = self._deliver or notify.deliver
        for notice in found:
            deliver(notice, config, now)
        try:
            notify.keep(self.workspace.store.path, found)
        except OSError as exc:
            log.warning("could not keep the notices for the dashboard: %s", exc)


def run_daemon(
    workspace: Workspace,
    *,
    max_passes: int | None = None,
    hard_exit: bool = False,
    debug: bool = False,
    log_file: bool = False,
) -> int:
    """Run until a signal arrives (or every account has made ``max_passes`` passes, for tests).

    Raises DaemonRunning when another daemon syncs the same store. Returns the exit code."""
    lock = InstanceLock(workspace.store.path)
    lock.acquire()
    handler = open_log_file(debug) if log_file else None
    loggers = [logging.getLogger(n) for n in ("inbox_watch", "providers")]
    levels = [lg.level for lg in loggers]
    if handler is not None:
        root = logging.getLogger()
        for existing in root.handlers:  # the console keeps what it showed before
            if existing.level == logging.NOTSET:
                existing.setLevel(root.level)
        for lg in loggers:
            lg.addHandler(handler)
            lg.setLevel(min(handler.level, lg.getEffectiveLevel()))
    old_mask = os.umask(0o077)  # everything the daemon writes (log, store, caches) is private
    try:
        return Daemon(workspace, max_passes=max_passes).run(hard_exit=hard_exit)
    finally:
        os.umask(old_mask)
        if handler is not None:
            for lg, level in zip(loggers, levels, strict=True):
                lg.removeHandler(handler)
                lg.setLevel(level)
            handler.close()
        lock.release()
