"""Gmail API cost of a full sync of 10,000 messages and of an idle poll, against the emulator.

Run from the repository root: ``python -m bench.gmail``. Counts HTTP requests (a batch request
is one), API calls (each call inside a batch counted) and quota units (Google's published
per-method costs), and compares them with the fewest the Gmail API allows:

    floor HTTP requests = 1 getProfile (cursor) + 1 labels.list (find Candidates/ labels)
                          + ceil(N / 500) messages.list pages (500 ids a page, the maximum)
                          + ceil(N / 50) batches of messages.get (50 a batch, as Google advises)
    floor API calls     = 1 + 1 + ceil(N / 500) + N
    floor quota units   = 1 + 1 + 5 * ceil(N / 500) + 5 * N
    idle poll floor     = 1 history.list (2 units)

The provider lists every message of the look-back window in one pass (``newer_than:Nd
-in:spam -in:trash``, no label filter), so that a full sync reads the archived mail an
incremental one keeps, and takes the Candidates/ tags from each message's labels: it is at the
floor. Target: within 1.2x of the floor.

Beside it, the two-step read the sync uses (issue 17): ``format=metadata`` for every message,
then ``format=full`` only for the one message in ten that concerns a candidate (here: mail to or
from 40 of the 400 correspondents). Its counts are printed beside the one-step ones (no target:
more calls, each far smaller; the text of the rest is never downloaded).
"""

from __future__ import annotations

import math
import os
import sys
import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

from inbox_watch import retry
from inbox_watch.config import AccountConfig, RecruiterConfig
from providers.gmail import GmailProvider
from tests.providers.gmail_emulator import GmailEmulator

MESSAGES = 10_000
SENT_SHARE = 0.4
CANDIDATE_LABELS = 30  # active candidates, each with a Candidates/<Name> label
TAGGED_PER_LABEL = 20
TARGET = 1.2


def _raw(n: int, *, sent: bool, when: datetime) -> bytes:
    me, them = "sam@agency.example", f"candidate{n % 400}@example.com"
    sender, to = (me, them) if sent else (them, me)
    return (
        f"From: {sender}\r\nTo: {to}\r\nSubject: Interview slots {n % 400}\r\n"
        f"Date: {format_datetime(when)}\r\nMessage-ID: <m{n}@bench.example>\r\n"
        "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
        f"Could you do Tuesday at 10:00 or Wednesday at 14:00? ({n})\r\n"
    ).encode()


def _fill(emulator: GmailEmulator) -> None:
    now = datetime.now(UTC)
    for n in range(MESSAGES):
        sent = n < MESSAGES * SENT_SHARE
        labels = ["SENT"] if sent else ["INBOX"]
        step = MESSAGES // (CANDIDATE_LABELS * TAGGED_PER_LABEL)
        if n % step == 0:
            labels.append(f"Candidates/Candidate {(n // step) % CANDIDATE_LABELS:02d}")
        emulator.insert(_raw(n, sent=sent, when=now - timedelta(minutes=10 * n + 5)), labels)


def main() -> int:
    retry.set_testing(True)
    os.environ["INBOX_WATCH_BENCH_GMAIL_TOKEN"] = "bench-token"
    with GmailEmulator(access_token="bench-token") as emulator:
        _fill(emulator)
        account = AccountConfig(
            name="bench",
            provider="gmail",
            api_base_url=emulator.base_url,
            access_token_env="INBOX_WATCH_BENCH_GMAIL_TOKEN",
            lookback_days=365,
        )
        provider = GmailProvider(account, RecruiterConfig(addresses=("sam@agency.example",)))
        emulator.reset_counts()
        started = time.perf_counter()
        batch = provider.full_sync()
        full_seconds = time.perf_counter() - started
        full_http = sum(emulator.http_requests.values())
        full_calls = sum(emulator.api_calls.values())
        full_units = emulator.quota_units
        labels = sorted(emulator.api_calls.items())

        related = {f"candidate{n}@example.com" for n in range(40)}
        two_step = GmailProvider(account, RecruiterConfig(addresses=("sam@agency.example",)))
        emulator.reset_counts()
        started = time.perf_counter()
        split = two_step.full_sync(
            select=lambda heads: {m.id for m in heads if related & {m.from_addr, *m.to}},
        )
        split_seconds = time.perf_counter() - started
        split_http = sum(emulator.http_requests.values())
        split_calls = sum(emulator.api_calls.values())
        split_units = emulator.quota_units
        whole = sum(1 for m in split.messages if not m.headers_only)
        two_step.close()

        emulator.reset_counts()
        idle = provider.incremental_sync(batch.cursor)
        idle_http = sum(emulator.http_requests.values())
        idle_units = emulator.quota_units
        provider.close()

    pages = math.ceil(MESSAGES / 500)
    floor_http = 1 + 1 + pages + math.ceil(MESSAGES / 50)
    floor_calls = 1 + 1 + pages + MESSAGES
    floor_units = 1 + 1 + 5 * pages + 5 * MESSAGES
    ok = len(batch.messages) == MESSAGES and not idle.messages
    rows = [
        ("full sync HTTP requests", full_http, floor_http),
        ("full sync API calls", full_calls, floor_calls),
        ("full sync quota units", full_units, floor_units),
        ("idle poll HTTP requests", idle_http, 1),
        ("idle poll quota units", idle_units, 2),
    ]
    print(
        f"Gmail bench: {MESSAGES} messages ({int(MESSAGES * SENT_SHARE)} in SENT, the rest in "
        f"INBOX; {CANDIDATE_LABELS} Candidates/ labels), full sync {full_seconds:.1f}s"
    )
    print(f"  calls by method: {', '.join(f'{k} {v}' for k, v in labels)}")
    for name, got, floor in rows:
        ratio = got / floor
        verdict = "PASS" if ratio <= (1.0 if name.startswith("idle") else TARGET) else "FAIL"
        ok = ok and verdict == "PASS"
        print(f"  {name:26} {got:>7} vs floor {floor:>7}  ratio {ratio:.3f}  {verdict}")
    print(f"  messages read {len(batch.messages)} of {MESSAGES}; idle poll returned {len(idle.messages)} messages")
    print(
        f"  two-step full sync ({whole} of {len(split.messages)} read whole, {split_seconds:.1f}s): "
        f"HTTP requests {split_http} (one-step {full_http}), API calls {split_calls} (one-step {full_calls}), "
        f"quota units {split_units} (one-step {full_units})"
    )
    ok = ok and len(split.messages) == MESSAGES and whole == MESSAGES // 10
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
