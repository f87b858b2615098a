"""Requests the Outlook adapter makes, counted by the local Graph emulator.

Run from the repository root: ``python -m bench.outlook``. Prints, for a mailbox of 10,000
messages in the Inbox plus a little Sent mail and two Candidates/<Name> folders:

- a full sync: delta pages against the floor ceil(n / maxpagesize) per folder (at least one),
  plus the folder discovery calls;
- an idle poll (nothing changed): requests against the floor of one GET per watched folder;
- a poll after 3 new messages: still one GET per folder;
- beside the full sync, the two-step read the sync uses (issue 17): delta rounds whose
  ``$select`` leaves the body out, then the body of the one message in ten that concerns a
  candidate (mail from 50 of the 500 senders) by ``GET me/messages/{id}`` in JSON ``$batch``
  requests of 20: its HTTP requests and the GETs inside the batches, printed beside (no target).

Each line shows the ratio to its floor and PASS/FAIL; the exit status is 1 on any FAIL.
"""

from __future__ import annotations

import math
import os
import sys
import time
from datetime import UTC, datetime, timedelta

from inbox_watch import retry
from inbox_watch.config import AccountConfig, RecruiterConfig
from providers.outlook import OutlookProvider
from tests.providers.graph_emulator import GraphEmulator

INBOX_MESSAGES = 10_000
SENT_MESSAGES = 200
PAGE_SIZE = 200  # the adapter's default Prefer: odata.maxpagesize
TOKEN_ENV = "INBOX_WATCH_BENCH_GRAPH_TOKEN"


def _fill(graph: GraphEmulator, folder: str, n: int, prefix: str) -> None:
    start = datetime.now(UTC) - timedelta(days=30)
    folder_id = graph.folder_id(folder)
    for i in range(n):
        when = (start + timedelta(minutes=i)).strftime("%Y-%m-%dT%H:%M:%SZ")
        graph.store(
            {
                "internetMessageId": f"<{prefix}{i}@example.com>",
                "subject": f"Interview slots {i}",
                "from": {"emailAddress": {"name": "Jane", "address": f"c{i % 500}@example.com"}},
                "toRecipients": [{"emailAddress": {"address": "sam@agency.example"}}],
                "sentDateTime": when,
                "receivedDateTime": when,
                "conversationId": f"conv-{prefix}-{i // 3}",
                "body": {"contentType": "text", "content": f"Would Tuesday {i} work?"},
                "_headers": [{"name": "Message-ID", "value": f"<{prefix}{i}@example.com>"}],
            },
            folder_id,
        )


def main() -> int:
    retry.set_testing(True)
    graph = GraphEmulator().start()
    try:
        root = graph.well_known["msgfolderroot"]
        candidates = graph.add_folder("Candidates", root)
        ann, bo = graph.add_folder("Ann Lee", candidates), graph.add_folder("Bo Chen", candidates)
        _fill(graph, "inbox", INBOX_MESSAGES, "in")
        _fill(graph, "sentitems", SENT_MESSAGES, "out")
        _fill(graph, ann, 3, "ann")
        os.environ[TOKEN_ENV] = graph.token
        account = AccountConfig(
            name="bench",
            provider="outlook",
            api_base_url=graph.base_url,
            access_token_env=TOKEN_ENV,
        )
        provider = OutlookProvider(account, RecruiterConfig(), page_size=PAGE_SIZE)
        folders = {"inbox": INBOX_MESSAGES, "sent": SENT_MESSAGES, "ann": 3, "bo": 0}

        results: list[tuple[str, int, int, float]] = []

        graph.requests.clear()
        began = time.perf_counter()
        batch = provider.full_sync()
        full_seconds = time.perf_counter() - began
        assert len(batch.messages) == sum(folders.values()), len(batch.messages)
        delta = graph.count("GET", "/messages/delta")
        delta_floor = sum(max(1, math.ceil(n / PAGE_SIZE)) for n in folders.values())
        results.append(("full sync: delta pages", delta, delta_floor, full_seconds))
        # Discovery: inbox, sentitems, the Candidates folder, its children = 4 at least.
        results.append(("full sync: all requests", len(graph.requests), delta_floor + 4, full_seconds))

        related = {f"c{n}@example.com" for n in range(50)}
        two_step = OutlookProvider(account, RecruiterConfig(), page_size=PAGE_SIZE)
        graph.requests.clear()
        began = time.perf_counter()
        split = two_step.full_sync(select=lambda heads: {m.id for m in heads if m.from_addr in related})
        split_seconds = time.perf_counter() - began
        split_http = sum(1 for method, _p, _q in graph.requests if not method.startswith("BATCHED"))
        split_inner = len(graph.requests) - split_http
        whole = sum(1 for m in split.messages if not m.headers_only)
        expected = sum(1 for m in split.messages if m.from_addr in related)
        assert len(split.messages) == len(batch.messages) and whole == expected > 0, (whole, expected)
        two_step.close()

        graph.requests.clear()
        began = time.perf_counter()
        idle = provider.incremental_sync(batch.cursor)
        results.append(("idle poll", len(graph.requests), len(folders), time.perf_counter() - began))
        assert idle.messages == ()

        _fill(graph, "inbox", 2, "late")
        _fill(graph, bo, 1, "bo")
        graph.requests.clear()
        began = time.perf_counter()
        busy = provider.incremental_sync(idle.cursor)
        results.append(
            (
                "poll with 3 new messages",
                len(graph.requests),
                len(folders),
                time.perf_counter() - began,
            )
        )
        assert len(busy.messages) == 3
        provider.close()
    finally:
        graph.stop()

    print(
        f"Outlook adapter against the Graph emulator: {INBOX_MESSAGES:,} + {SENT_MESSAGES} "
        f"messages, {len(folders)} watched folders, Prefer: odata.maxpagesize={PAGE_SIZE}"
    )
    failed = False
    for name, got, floor, seconds in results:
        ratio = got / floor
        verdict = "PASS" if ratio <= 1.0 else "FAIL"
        failed |= verdict == "FAIL"
        print(f"  {name:28} {got:5d} requests  floor {floor:5d}  ratio {ratio:4.2f}  {seconds:6.2f}s  {verdict}")
    one_step = next(got for name, got, _floor, _s in results if name == "full sync: all requests")
    print(
        f"  two-step full sync ({whole:,} of {len(split.messages):,} read whole): {split_http} HTTP requests "
        f"(one-step {one_step}), {split_inner} GETs inside $batch, {split_seconds:.2f}s"
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
