"""Dashboard speed with 2,000 candidates: start to the first painted table (target < 1 s), and
key press to screen updated for moving the cursor, opening a chaser draft, opening the whole
thread of a 40-message candidate and one search keystroke (target < 50 ms each).

The first painted table is the ranking the previous run kept (``Store.save_ranking``), shown
labelled while the fresh one is computed. Printed beside it, for information against the same
1 s: the time until the fresh ranking is on screen, and a first-ever start (nothing saved).

Run from the repository root: ``python -m bench.tui [CANDIDATES] [--messages M]``. Measured with
Textual's pilot (headless), on a store filled once from bench.synthetic (about ten messages a
candidate; with M, the recruiter's other mail fills the mailbox up to M messages).
"""

from __future__ import annotations

import asyncio
import shutil
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from textual import events

from bench import compile_sources
from bench.synthetic import SAM, mailbox
from inbox_watch.config import AccountConfig, Config, Policy, RecruiterConfig
from inbox_watch.errors import ConnectionFailed
from inbox_watch.models import Cursor, SyncBatch
from inbox_watch.service import Workspace
from inbox_watch.store import Store
from inbox_watch.sync import classify_for_store

NOW = datetime(2026, 11, 27, 12, tzinfo=UTC)  # bench.synthetic's clock
RECRUITER = RecruiterConfig(name="Sam Carter", addresses=(SAM,))
ACCOUNT = AccountConfig(name="bench", provider="demo")  # bench.synthetic's account

FIRST = "start to first painted table"
FRESH = "start to the fresh ranking painted"
COLD = "first-ever start (nothing saved): fresh ranking painted"
TERMINAL = "whole process in a terminal: table on screen (median)"
TERMINAL_FRESH = "whole process in a terminal: fresh ranking on screen (median)"
START_TARGET = 1.0
KEY_TARGET = 0.050
RUNS = 3


def bench_workspace(folder: Path, count: int, total: int = 0) -> Workspace:
    config = Config(
        path=None,
        recruiter=RECRUITER,
        policy=Policy(),
        store_path=folder / "store.json",
        accounts=(ACCOUNT,),
        interval=300,
    )

    def no_network(account: AccountConfig):  # type: ignore[no-untyped-def]
        raise ConnectionFailed("the bench has no mail server")

    workspace = Workspace(config, Store(config.store_path), no_network)
    candidates, messages = mailbox(count, total=total)  # total: the recruiter's other mail fills up to it
    workspace.store.upsert_candidates(candidates)
    workspace.store.apply_sync(  # as a sync stores them: classified once, at sync time
        SyncBatch(ACCOUNT.name, tuple(messages), Cursor(ACCOUNT.name, "bench"), full=True),
        at=NOW,
        classes=classify_for_store(messages),
    )
    return workspace


async def key_to_screen(pilot, key: str, until=None) -> float:  # type: ignore[no-untyped-def]
    """Seconds from a key press to the screen updated: the key is posted, every message it sets
    off is handled (``until`` says when the right screen is up), and the frame is painted at once
    rather than on the next refresh tick. The pilot's own ``press`` adds idle-detection sleeps of
    its own, which would measure the test harness instead of the dashboard."""
    app = pilot.app
    started = time.perf_counter()
    app.post_message(events.Key(key, key if len(key) == 1 else None))
    while True:
        for _ in range(3):
            await pilot._wait_for_screen()
        if until is None or until():
            break
        await asyncio.sleep(0)
    app.screen._on_timer_update()  # paint now
    return time.perf_counter() - started


async def measure(workspace: Workspace, count: int) -> dict[str, float]:
    from tui.app import create_app
    from tui.screens.draft import DraftScreen
    from tui.screens.main import MainScreen
    from tui.widgets.candidate_table import CandidateTable
    from tui.widgets.detail_pane import DetailPane

    started = time.perf_counter()
    app = create_app(workspace, now=NOW)
    results: dict[str, float] = {}
    async with app.run_test(size=(120, 40)) as pilot:
        table = app.screen.query_one(CandidateTable)
        while table.candidate_count < count:
            # Poll gently: a 1 ms poll woke this loop ~800 times and took the GIL from the very
            # read being measured (5 ms bounds the error and leaves the reader alone).
            await asyncio.sleep(0.005)
        await pilot._wait_for_screen()
        app.screen._on_timer_update()  # the table is on screen
        results[FIRST] = time.perf_counter() - started
        screen = app.screen
        assert isinstance(screen, MainScreen)
        while not screen.painted or table.saved:
            await asyncio.sleep(0.005)
        await pilot._wait_for_screen()
        app.screen._on_timer_update()
        results[FRESH] = time.perf_counter() - started
        await app.workers.wait_for_complete()
        await pilot.pause()

        detail = app.screen.query_one(DetailPane)
        moves = []
        for step in range(30):
            before = detail.plain
            moves.append(await key_to_screen(pilot, "down" if step % 10 < 8 else "up"))
            assert detail.plain != before
        results["key to screen: move the cursor (median)"] = statistics.median(moves)

        opens = []
        for _ in range(10):
            opens.append(await key_to_screen(pilot, "c", until=lambda: isinstance(app.screen, DraftScreen)))
            await pilot.press("escape")
            await pilot.pause(0.05)  # let the main screen's footer recompose before the next press
            await pilot.pause()
        results["key to screen: open a chaser draft (median)"] = statistics.median(opens)

        # The whole thread of a candidate with 40 messages (the synthetic ones have about ten:
        # the selected candidate's thread is given 40 copies of its first message, in memory).
        from dataclasses import replace

        from tui.screens.thread import ThreadScreen

        state = table.selected
        assert state is not None
        tid = state.threads[0]
        thread = screen.threads[tid]
        first = thread.messages[0]
        screen.threads[tid] = replace(
            thread, messages=tuple(replace(first, id=f"{first.id}-{i}", message_id=f"<bench{i}@x>") for i in range(40))
        )
        reads = []
        for _ in range(10):
            reads.append(await key_to_screen(pilot, "v", until=lambda: isinstance(app.screen, ThreadScreen)))
            assert isinstance(app.screen, ThreadScreen) and app.screen.plain.count("Subject:") >= 40
            await pilot.press("escape")
            await pilot.pause(0.05)
            await pilot.pause()
        results["key to screen: open the whole thread of 40 messages (median)"] = statistics.median(reads)

        # One search keystroke over every candidate: the table refilters and redraws.
        await pilot.press("slash")
        await pilot.pause()
        typed = []
        for key in "hannah":  # bench.synthetic names people "Hannah Cho 12": each key narrows the rows
            key = "space" if key == " " else key
            typed.append(await key_to_screen(pilot, key))
        assert 0 < table.row_count < count
        results[f"key to screen: one search keystroke on {count} candidates (median)"] = statistics.median(typed)
    return results


TERMINAL_CONFIG = """\
[recruiter]
name = "Sam Carter"
addresses = ["{sam}"]

[store]
path = "{store}"

[[accounts]]
name = "bench"
provider = "imap"
host = "127.0.0.1"
port = {port}
security = "none"
username = "sam"
password_env = "INBOX_WATCH_BENCH_UNUSED"
"""


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def terminal_starts(folder: Path, count: int, runs: int = 3) -> list[tuple[float, float]] | None:
    """``inbox-watch`` started as a whole process in a real terminal (tmux, 120x40) on the same
    store: seconds from the command to the table on screen, and to the fresh ranking on screen
    (the title no longer says "refreshing"), read back by polling the pane every 20 ms. The
    account points at a closed port: the sync it starts fails at once, after the first paint.
    None when tmux is not installed."""
    import os
    import subprocess
    import uuid

    if shutil.which("tmux") is None:
        return None
    config = folder / "terminal.toml"
    config.write_text(TERMINAL_CONFIG.format(sam=SAM, store=folder / "store.json", port=_free_port()))
    root = Path(__file__).resolve().parent.parent
    env = f"PYTHONPATH={root} INBOX_WATCH_BENCH_UNUSED=x INBOX_WATCH_SECRETS_FILE={folder / 'secrets.json'}"
    command = f"cd {root} && env -u COLUMNS -u LINES {env} {sys.executable} -m inbox_watch --config {config}"
    title = f"inbox-watch: {count} candidates"
    results = []
    for _ in range(runs):
        session = f"iw-bench-{uuid.uuid4().hex[:8]}"
        started = time.perf_counter()
        subprocess.run(["tmux", "new-session", "-d", "-s", session, "-x", "120", "-y", "40", command], check=True)
        first = fresh = 0.0
        try:
            deadline = started + 30
            while time.perf_counter() < deadline and not fresh:
                time.sleep(0.02)
                screen = subprocess.run(
                    ["tmux", "capture-pane", "-p", "-t", session], capture_output=True, text=True
                ).stdout
                if title in screen and " 1  " in screen:
                    first = first or time.perf_counter() - started
                    if "refreshing" not in screen:
                        fresh = time.perf_counter() - started
            subprocess.run(["tmux", "send-keys", "-t", session, "q"], capture_output=True)
            time.sleep(0.5)
        finally:
            subprocess.run(["tmux", "kill-session", "-t", session], capture_output=True, env={**os.environ})
        if not fresh:
            raise SystemExit(f"the dashboard did not show the table in a terminal:\n{screen}")
        results.append((first, fresh))
    return results


def main(count: int = 2000, total: int = 0) -> int:
    compile_sources()  # a whole process is timed at the end
    folder = Path(tempfile.mkdtemp(prefix="inbox-watch-bench-"))
    try:
        t0 = time.perf_counter()
        workspace = bench_workspace(folder, count, total)
        print(
            f"synthetic store: {count} candidates, {workspace.store.message_count()} messages "
            f"({time.perf_counter() - t0:.2f} s to write)"
        )

        # Each run opens the store afresh, as a new dashboard process does: nothing parsed by an
        # earlier run is reused, only the small file of the table it showed.
        def fresh_workspace() -> Workspace:
            return Workspace(workspace.config, Store(workspace.config.store_path), workspace.factory)

        workspace.store.ranking_path.unlink(missing_ok=True)
        cold = asyncio.run(measure(fresh_workspace(), count))  # no saved ranking yet: writes it
        assert workspace.store.saved_ranking() is not None, "the dashboard kept no ranking"
        runs = [asyncio.run(measure(fresh_workspace(), count)) for _ in range(RUNS)]
        for run in runs:
            run[COLD] = cold[FRESH]
        t0 = time.perf_counter()
        with workspace.store.reading():
            workspace.evaluate(NOW)
        print(f"for scale, the store read and engine alone: {time.perf_counter() - t0:.3f} s for {count} candidates")
        workspace.store.ranking_path.unlink(missing_ok=True)  # the first terminal start has none
        terminal = terminal_starts(folder, count)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    # This machine is shared and its timings swing by up to 2.5x: report the median of RUNS
    # runs (each a fresh app, in this process: Python and Textual imports are not counted; the
    # first run pays the engine's first-use costs such as loading the holiday calendar).
    results = {what: statistics.median(run[what] for run in runs) for what in runs[0]}
    for what in results:
        print(f"      {what}: runs " + ", ".join(f"{run[what] * 1000:.0f}" for run in runs) + " ms")
    if terminal is None:
        print("      (whole process in a terminal: skipped, tmux is not installed)")
    else:
        print(
            "      whole process in a terminal (tmux), Python start-up and imports included: "
            + "; ".join(f"table {a * 1000:.0f} ms, fresh {b * 1000:.0f} ms" for a, b in terminal)
            + " (the first start had no saved table)"
        )
        later = terminal[1:] or terminal
        results[TERMINAL] = statistics.median(a for a, _ in later)
        results[TERMINAL_FRESH] = statistics.median(b for _, b in later)
    failed = False
    for what, seconds in results.items():
        target = KEY_TARGET if what.startswith("key") else START_TARGET
        if what in (FRESH, COLD, TERMINAL, TERMINAL_FRESH):  # against the same 1 s, for information
            print(f"info  {what}: {seconds * 1000:.0f} ms ({seconds / target:.2f}x of 1 s)")
            continue
        verdict = "PASS" if seconds < target else "FAIL"
        failed |= verdict == "FAIL"
        print(f"{verdict}  {what}: {seconds * 1000:.0f} ms (target < {target * 1000:.0f} ms, {seconds / target:.2f}x)")
    return 1 if failed else 0


def _sizes(argv: list[str]) -> tuple[int, int]:
    """``[CANDIDATES] [--messages M]``: 2,000 candidates by default, about ten messages each
    unless M asks for more (the recruiter's other mail fills the mailbox up to M)."""
    total = int(argv[argv.index("--messages") + 1].replace("_", "")) if "--messages" in argv else 0
    rest = [a for i, a in enumerate(argv) if a != "--messages" and (i == 0 or argv[i - 1] != "--messages")]
    return (int(rest[0]) if rest else 2000), total


if __name__ == "__main__":
    sys.exit(main(*_sizes(sys.argv[1:])))
