"""Dashboard speed with 2,000 candidates: start to the first painted table (target < 1 s), and
key press to screen updated for moving the cursor and opening a chaser draft (target < 50 ms).

Run from the repository root: ``python -m bench.tui``. Measured with Textual's pilot (headless),
on a synthetic store written once into a temporary folder.
"""

from __future__ import annotations

import asyncio
import random
import shutil
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from textual import events

from inbox_watch.config import AccountConfig, Config, Policy, RecruiterConfig
from inbox_watch.errors import ConnectionFailed
from inbox_watch.models import Candidate, Cursor, MailMessage, SyncBatch
from inbox_watch.service import Workspace
from inbox_watch.store import Store

NOW = datetime(2026, 11, 25, 14, 0, tzinfo=UTC)
RECRUITER = RecruiterConfig(name="Sam Carter", addresses=("sam@agency.example",))
ACCOUNT = AccountConfig(name="bench", provider="demo", interval=300)
EMPLOYERS = ("Northwind", "Contoso", "Fabrikam", "Tailspin", "Litware", "Adatum", "Woodgrove")
ROLES = (
    "Data Engineer",
    "Finance Analyst",
    "QA Engineer",
    "Product Designer",
    "Support Lead",
    "Cloud Engineer",
)
FIRST = (
    "Priya",
    "Tom",
    "Aisha",
    "Daniel",
    "Lena",
    "Marco",
    "Sofia",
    "James",
    "Hannah",
    "Oliver",
    "Chloe",
    "Maya",
)
LAST = (
    "Shah",
    "Becker",
    "Khan",
    "Okafor",
    "Fischer",
    "Rossi",
    "Almeida",
    "Whitfield",
    "Cho",
    "Grant",
    "Dubois",
)

START_TARGET = 1.0
KEY_TARGET = 0.050
RUNS = 3


def _reply(
    index: int,
    kind: str,
    sender: str,
    candidate: str,
    when: datetime,
    subject: str,
    text: str,
    **extra: Any,
) -> MailMessage:
    """A message in candidate ``index``'s thread, answering the first scheduling email."""
    first_id = f"<s{index}@agency.example>"
    return MailMessage(
        account=ACCOUNT.name,
        id=f"m{index}-1",
        message_id=f"<{kind}{index}@example.com>",
        date=when,
        from_addr=sender,
        subject=subject,
        to=(RECRUITER.addresses[0],) if sender != RECRUITER.addresses[0] else (candidate,),
        in_reply_to=first_id,
        references=(first_id,),
        thread_id=f"t{index}",
        text=text,
        **extra,
    )


def synthetic_mailbox(
    count: int, now: datetime = NOW, seed: int = 7
) -> tuple[list[Candidate], list[MailMessage]]:
    """``count`` candidates, each with a scheduling thread: some answered, some chased, some
    silent for days, some with an out-of-office reply, some with the employer asking."""
    rng = random.Random(seed)
    candidates, messages = [], []
    for index in range(count):
        name = f"{rng.choice(FIRST)} {rng.choice(LAST)} {index:04d}"
        address = f"cand{index:04d}@example.com"
        employer = rng.choice(EMPLOYERS)
        contact = f"talent@{employer.lower()}.example"
        role = rng.choice(ROLES)
        candidates.append(
            Candidate(
                name,
                (address,),
                f"07700 9{index:05d}",
                role,
                employer,
                (contact,),
                "first interview",
            )
        )
        subject = f"{employer} interview: {role} ({name})"
        sent = now - timedelta(hours=rng.randint(1, 24 * 9))
        first_id = f"<s{index}@agency.example>"
        messages.append(
            MailMessage(
                account=ACCOUNT.name,
                id=f"m{index}-0",
                message_id=first_id,
                date=sent,
                from_addr=RECRUITER.addresses[0],
                from_name=RECRUITER.name,
                to=(address,),
                subject=subject,
                thread_id=f"t{index}",
                text=(
                    f"Hi {name.split()[0]},\n\n{employer} would like to interview you for the "
                    f"{role} role. Are you free on Monday at 10:00 or Tuesday at 14:00? "
                    "Let me know which time suits you.\n\nSam"
                ),
            )
        )
        fate = rng.random()
        later = sent + timedelta(hours=rng.randint(1, 30))
        if later >= now or fate >= 0.7:
            continue

        if fate < 0.3:
            messages.append(
                _reply(
                    index,
                    "r",
                    address,
                    address,
                    later,
                    f"Re: {subject}",
                    "Monday at 10 works for me, thanks!",
                )
            )
        elif fate < 0.5:
            messages.append(
                _reply(
                    index,
                    "c",
                    RECRUITER.addresses[0],
                    address,
                    later,
                    f"Re: {subject}",
                    "Just checking you saw my note about the interview times below?",
                )
            )
        elif fate < 0.6:
            messages.append(
                _reply(
                    index,
                    "o",
                    address,
                    address,
                    later,
                    f"Automatic reply: {subject}",
                    "I am out of the office until Monday 30 November with limited access to email.",
                    headers=(("auto-submitted", "auto-replied"),),
                )
            )
        else:
            messages.append(
                MailMessage(
                    account=ACCOUNT.name,
                    id=f"m{index}-1",
                    message_id=f"<e{index}@{employer.lower()}.example>",
                    date=later,
                    from_addr=contact,
                    subject=f"{name} - any news?",
                    to=(RECRUITER.addresses[0],),
                    text=f"Hi Sam, has {name} confirmed a time yet?",
                )
            )
    return candidates, messages


def bench_workspace(folder: Path, count: int) -> Workspace:
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
    candidates, messages = synthetic_mailbox(count)
    workspace.store.upsert_candidates(candidates)
    workspace.store.apply_sync(
        SyncBatch(ACCOUNT.name, tuple(messages), Cursor(ACCOUNT.name, "bench"), full=True), at=NOW
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
    from tui.widgets.candidate_table import CandidateTable
    from tui.widgets.detail_pane import DetailPane

    started = time.perf_counter()
    app = create_app(workspace, now=NOW)
    results: dict[str, float] = {}
    async with app.run_test(size=(120, 40)) as pilot:
        table = app.screen.query_one(CandidateTable)
        while table.row_count < count:
            await asyncio.sleep(0.001)
        await pilot._wait_for_screen()
        app.screen._on_timer_update()  # the table is on screen
        results["start to first painted table"] = time.perf_counter() - started
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
            opens.append(
                await key_to_screen(pilot, "c", until=lambda: isinstance(app.screen, DraftScreen))
            )
            await pilot.press("escape")
            await pilot.pause(0.05)  # let the main screen's footer recompose before the next press
            await pilot.pause()
        results["key to screen: open a chaser draft (median)"] = statistics.median(opens)
    return results


def main(count: int = 2000) -> int:
    folder = Path(tempfile.mkdtemp(prefix="inbox-watch-bench-"))
    try:
        t0 = time.perf_counter()
        workspace = bench_workspace(folder, count)
        print(
            f"synthetic store: {count} candidates, {workspace.store.message_count()} messages "
            f"({time.perf_counter() - t0:.2f} s to write)"
        )
        runs = [asyncio.run(measure(workspace, count)) for _ in range(RUNS)]
        t0 = time.perf_counter()
        with workspace.store.reading():
            workspace.evaluate(NOW)
        print(
            f"for scale, the store read and engine alone: {time.perf_counter() - t0:.3f} s "
            f"for {count} candidates"
        )
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    # This machine is shared and its timings swing by up to 2.5x: report the median of RUNS
    # runs (each a fresh app, in this process: Python and Textual imports are not counted; the
    # first run pays the engine's first-use costs such as loading the holiday calendar).
    results = {what: statistics.median(run[what] for run in runs) for what in runs[0]}
    for what in results:
        print(f"      {what}: runs " + ", ".join(f"{run[what] * 1000:.0f}" for run in runs) + " ms")
    failed = False
    for what, seconds in results.items():
        target = START_TARGET if what.startswith("start") else KEY_TARGET
        verdict = "PASS" if seconds < target else "FAIL"
        failed |= verdict == "FAIL"
        print(
            f"{verdict}  {what}: {seconds * 1000:.0f} ms "
            f"(target < {target * 1000:.0f} ms, {seconds / target:.2f}x)"
        )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(int(sys.argv[1]) if len(sys.argv) > 1 else 2000))
