"""IMAP sync benchmark against a real Dovecot: ``python -m bench.imap`` from the repo root.

Loads 20,000 messages (Maildir files written straight into ``cur/``) and measures:

1. the first full sync through ``ImapProvider.full_sync`` (wall time, in a subprocess) against
   the protocol floor measured in the same run: raw imaplib ``UID FETCH 1:*`` of the same header
   fields in every watched folder, nothing parsed (target <= 2x);
2. an idle incremental sync as a whole process (config loaded, provider built, one
   ``incremental_sync`` from a saved cursor) against a process that imports imapclient, logs in
   and out (target <= 2x);
3. the peak RSS of the process doing the first full sync (target < 200 MB);
4. beside the header floor, issue 15's: the same header fields plus ``BODY.PEEK[TEXT]<0.4096>``
   of every message (the least a classifier of the text reads), against the full sync that
   reads every message whole (target <= 1.5x). The CLI's first sync here has no roster: in two
   steps it reads no text at all (``python -m bench.scale`` measures a realistic roster).

Each timing is the best of several runs (these shared machines vary a lot run to run).
Options: ``--messages N``, ``--runs N``.
"""

from __future__ import annotations

import argparse
import imaplib
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import compile_sources  # noqa: E402
from inbox_watch.mime import FETCH_HEADERS  # noqa: E402
from providers.imap.messages import HEADER_SECTION  # noqa: E402
from providers.imap.messages import ITEMS as SYNC_ITEMS  # noqa: E402

TEXT_FLOOR_ITEMS = f"(UID BODY.PEEK[{HEADER_SECTION}] BODY.PEEK[TEXT]<0.4096>)"
from tests.providers.dovecot import PASSWORD, Dovecot  # noqa: E402

PASSWORD_ENV = "INBOX_WATCH_BENCH_IMAP_PASSWORD"
CANDIDATE_FOLDERS = 10

FIRST = ["Jane", "Omar", "Li", "Priya", "Tom", "Ana", "Kofi", "Sara", "Ivan", "Mei"]
LAST = ["Doe", "Khan", "Wei", "Patel", "Berg", "Silva", "Mensah", "Nyberg", "Petrov", "Lin"]


def _message(i: int, rng: random.Random, now: datetime) -> bytes:
    """A realistic small message: plain, multipart/alternative, or a calendar invitation."""
    who = f"{FIRST[i % 10].lower()}.{LAST[(i // 10) % 10].lower()}{i % 97}@example.com"
    when = now - timedelta(minutes=rng.randrange(60, 60 * 24 * 150))
    parent = f"<m{i - 1}@agency.example>" if i % 3 else ""
    head = [
        f"From: {FIRST[i % 10]} {LAST[(i // 10) % 10]} <{who}>",
        "To: Sam Carter <sam@agency.example>",
        f"Subject: Re: Interview slots for role {i}",
        f"Date: {format_datetime(when)}",
        f"Message-ID: <m{i}@agency.example>",
        "MIME-Version: 1.0",
        "Received: from mx.example.com by mail.agency.example; " + format_datetime(when),
        "X-Mailer: bench",
    ]
    if parent:
        head += [f"In-Reply-To: {parent}", f"References: <m0@agency.example> {parent}"]
    text = (
        f"Hi Sam,\n\nThanks for the slots. Tuesday at {10 + i % 6}:00 works for me.\n\n"
        + "Some more words about the role and the commute. " * rng.randrange(3, 20)
        + "\n\nBest,\n"
        + FIRST[i % 10]
        + "\n"
    )
    kind = i % 10
    if kind < 6:
        head.append("Content-Type: text/plain; charset=utf-8")
        body = text
    else:
        html = "<html><body><p>" + text.replace("\n", "<br>") + "</p></body></html>"
        parts = [
            "--b0\nContent-Type: text/plain; charset=utf-8\n\n" + text,
            "--b0\nContent-Type: text/html; charset=utf-8\n\n" + html,
        ]
        if kind == 9:
            parts.append(
                "--b0\nContent-Type: text/calendar; method=REQUEST; charset=utf-8\n\n"
                "BEGIN:VCALENDAR\nMETHOD:REQUEST\nBEGIN:VEVENT\nSUMMARY:Interview\n"
                "DTSTART:20260301T100000Z\nEND:VEVENT\nEND:VCALENDAR\n"
            )
        head.append('Content-Type: multipart/alternative; boundary="b0"')
        body = "\n".join(parts) + "\n--b0--\n"
    return ("\n".join(head) + "\n\n" + body).encode()


def load_mailbox(server: Dovecot, user: str, count: int) -> dict[str, int]:
    """Write ``count`` messages as Maildir files: 70% INBOX, 25% Sent, 5% Candidates/<Name>."""
    rng = random.Random(7)
    now = datetime.now(UTC)
    maildir = server.maildir(user)
    folders = {"INBOX": maildir}
    # LAYOUT=fs: folder "Sent" is ~/Maildir/Sent, "Candidates/X Y" ~/Maildir/Candidates/X Y
    folders["Sent"] = maildir / "Sent"
    for n in range(CANDIDATE_FOLDERS):
        folders[f"Candidates/{FIRST[n]} {LAST[n]}"] = maildir / "Candidates" / f"{FIRST[n]} {LAST[n]}"
    for path in folders.values():
        for sub in ("cur", "new", "tmp"):
            (path / sub).mkdir(parents=True, exist_ok=True)
    counts = dict.fromkeys(folders, 0)
    stamp = int(time.time())
    names = list(folders)
    for i in range(count):
        r = i % 100
        folder = "INBOX" if r < 70 else "Sent" if r < 95 else names[2 + i % CANDIDATE_FOLDERS]
        flags = "S" if i % 4 else ""
        (folders[folder] / "cur" / f"{stamp}.M{i}P1.bench:2,{flags}").write_bytes(_message(i, rng, now))
        counts[folder] += 1
    server.chown_tree(maildir)
    return counts


def imap_login(server: Dovecot, user: str) -> imaplib.IMAP4:
    imap = imaplib.IMAP4(server.host, server.port)
    imap.login(user, PASSWORD)
    return imap


def protocol_floor(server: Dovecot, user: str, folders: list[str], items: str = "") -> tuple[float, int]:
    """Raw imaplib: EXAMINE + UID FETCH 1:* of the header fields (or ``items``), per folder.
    (seconds, messages)"""
    fields = " ".join(h.upper() for h in FETCH_HEADERS)
    items = items or f"(UID BODY.PEEK[HEADER.FIELDS ({fields})])"
    start = time.perf_counter()
    imap = imap_login(server, user)
    total = 0
    for folder in folders:
        imap.select(f'"{folder}"', readonly=True)
        typ, data = imap.uid("FETCH", "1:*", items)
        assert typ == "OK", data
        total += sum(1 for d in data if isinstance(d, tuple))
    imap.logout()
    return time.perf_counter() - start, total


CONFIG = """\
[recruiter]
name = "Sam Carter"
addresses = ["sam@agency.example"]

[[accounts]]
name = "bench"
provider = "imap"
host = "{host}"
port = {port}
security = "none"
username = "{user}"
password_env = "{env}"
"""

FULL_SYNC = """\
import json, resource, sys, time
t0 = time.perf_counter()
from inbox_watch.config import load_config
from pathlib import Path
from providers import open_provider
config = load_config(Path(sys.argv[1]))
provider = open_provider(config.accounts[0], config.recruiter)
t1 = time.perf_counter()
batch = provider.full_sync()
t2 = time.perf_counter()
provider.close()
Path(sys.argv[2]).write_text(batch.cursor.value)
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"sync": t2 - t1, "messages": len(batch.messages), "rss_mb": rss,
                  "ids": len({m.id for m in batch.messages})}))
"""

IDLE_SYNC = """\
import sys
from pathlib import Path
from inbox_watch.config import load_config
from inbox_watch.models import Cursor
from providers import open_provider
config = load_config(Path(sys.argv[1]))
account = config.accounts[0]
provider = open_provider(account, config.recruiter)
batch = provider.incremental_sync(Cursor(account.name, Path(sys.argv[2]).read_text()))
provider.close()
assert batch.messages == () and batch.removed == (), batch
"""

MINIMAL = """\
import os, sys
import imapclient
client = imapclient.IMAPClient(sys.argv[1], port=int(sys.argv[2]), ssl=False)
client.login(sys.argv[3], os.environ[sys.argv[4]])
client.logout()
"""


def _python(code: str, *args: str) -> tuple[float, str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), PASSWORD_ENV: PASSWORD}
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", code, *args], env=env, capture_output=True, text=True, cwd=ROOT)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"benchmark subprocess failed:\n{done.stderr}")
    return elapsed, done.stdout


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.imap", description=__doc__.split("\n")[0])
    parser.add_argument("--messages", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args(argv)

    compile_sources()  # whole processes are timed below
    server = Dovecot()
    work = Path(tempfile.mkdtemp(prefix="iw-bench-"))
    try:
        server.start()
        user = server.new_user()
        start = time.perf_counter()
        counts = load_mailbox(server, user, args.messages)
        load_s = time.perf_counter() - start
        folders = list(counts)
        # The first SELECT indexes the Maildir files; not part of either measurement.
        start = time.perf_counter()
        imap = imap_login(server, user)
        for folder in folders:
            imap.select(f'"{folder}"', readonly=True)
        imap.logout()
        index_s = time.perf_counter() - start
        print(
            f"IMAP bench: {args.messages} messages in {len(folders)} folders "
            f"(written in {load_s:.1f} s, indexed by Dovecot in {index_s:.1f} s)"
        )

        config = work / "config.toml"
        config.write_text(CONFIG.format(host=server.host, port=server.port, user=user, env=PASSWORD_ENV))
        # The same account with [policy] holidays = "": inbox_watch.config validates the
        # holidays country by loading the holidays package's country list (~100 ms), a cost of
        # the config loader, not of the sync path. Both are measured and printed.
        no_holidays = work / "config-no-holidays.toml"
        no_holidays.write_text(config.read_text() + '\n[policy]\nholidays = ""\n')
        cursor = work / "cursor.json"

        floor_runs, sync_runs, rss, bodies_runs, text_runs = [], [], [], [], []
        protocol_floor(server, user, folders)  # warm Dovecot's header cache for both sides
        for _ in range(args.runs):
            seconds, fetched = protocol_floor(server, user, folders)
            floor_runs.append(seconds)
            # What the sync must read (header and first 16 KB of each message), nothing parsed.
            bodies_runs.append(protocol_floor(server, user, folders, SYNC_ITEMS)[0])
            # Issue 15's floor: the header fields plus the least a classifier of the text reads.
            text_runs.append(protocol_floor(server, user, folders, TEXT_FLOOR_ITEMS)[0])
            _, out = _python(FULL_SYNC, str(config), str(cursor))
            result = json.loads(out)
            sync_runs.append(result["sync"])
            rss.append(result["rss_mb"])
            assert result["messages"] == result["ids"] == args.messages == fetched, result
        floor, sync = min(floor_runs), min(sync_runs)  # best of: least disturbed by other load
        bodies, text_floor = min(bodies_runs), min(text_runs)

        # The lead's CLI: `inbox-watch sync` (store, outbox and all) from a stored cursor.
        cli_config = work / "cli.toml"
        cli_config.write_text(
            config.read_text().replace("[[accounts]]", f'[store]\npath = "{work}/store.json"\n\n[[accounts]]')
        )
        cli = [sys.executable, "-m", "inbox_watch", "--config", str(cli_config), "sync"]
        cli_env = {
            **os.environ,
            "PYTHONPATH": str(ROOT),
            PASSWORD_ENV: PASSWORD,
            "INBOX_WATCH_SECRETS_FILE": str(work / "secrets.json"),
        }
        start = time.perf_counter()
        subprocess.run(cli, env=cli_env, check=True, capture_output=True, cwd=ROOT)  # full sync
        cli_first = time.perf_counter() - start

        minimal_runs, idle_runs, bare_runs, cli_runs = [], [], [], []
        for _ in range(max(5, args.runs)):
            start = time.perf_counter()
            done = subprocess.run(cli, env=cli_env, capture_output=True, text=True, cwd=ROOT)
            cli_runs.append(time.perf_counter() - start)
            assert done.returncode == 0 and "0 new" in done.stdout, done.stdout + done.stderr
            minimal_runs.append(_python(MINIMAL, server.host, str(server.port), user, PASSWORD_ENV)[0])
            idle_runs.append(_python(IDLE_SYNC, str(config), str(cursor))[0])
            bare_runs.append(_python(IDLE_SYNC, str(no_holidays), str(cursor))[0])
        minimal, idle = statistics.median(minimal_runs), statistics.median(idle_runs)
        bare, cli_idle = statistics.median(bare_runs), statistics.median(cli_runs)
        peak = max(rss)

        ratio_sync, ratio_idle, ratio_bare = sync / floor, idle / minimal, bare / minimal
        ratio_cli = cli_idle / minimal
        print()
        print(f"{'measure':<46}{'value':>12}{'ratio':>9}  target")
        print(f"{'floor: raw imaplib UID FETCH 1:* (headers)':<46}{floor:>10.2f} s")
        print(
            f"{'  info: same, of what the sync reads (bodies)':<46}{bodies:>10.2f} s{bodies / floor:>8.2f}x"
            "  nothing parsed"
        )
        print(
            f"{'floor: headers + TEXT<0.4096> (issue 15)':<46}{text_floor:>10.2f} s{text_floor / floor:>8.2f}x"
            "  of the header floor"
        )
        print(
            f"{'  first full sync, every message whole':<46}{sync:>10.2f} s{sync / text_floor:>8.2f}x"
            f"  <= 1.5x  {verdict(sync / text_floor <= 1.5)}  (of this floor)"
        )
        print(
            f"{'  inbox-watch sync, first, no roster':<46}{cli_first:>10.2f} s{cli_first / text_floor:>8.2f}x"
            "  two steps: no text read (see bench.scale)"
        )
        print(
            f"{'first full sync (ImapProvider.full_sync)':<46}{sync:>10.2f} s"
            f"{ratio_sync:>8.2f}x  <= 2x  {verdict(ratio_sync <= 2)}"
        )
        print(
            f"{'  info: inbox-watch sync, first (whole CLI)':<46}{cli_first:>10.2f} s{cli_first / floor:>8.2f}x"
            "  start-up, store, classify"
        )
        print(f"{'floor: process import imapclient + login':<46}{minimal * 1000:>9.0f} ms")
        print(
            f"{'idle incremental sync, whole process':<46}{idle * 1000:>9.0f} ms"
            f"{ratio_idle:>8.2f}x  <= 2x  {verdict(ratio_idle <= 2)}"
        )
        print(
            f"{'  same, config without holidays validation':<46}{bare * 1000:>9.0f} ms"
            f"{ratio_bare:>8.2f}x  <= 2x  {verdict(ratio_bare <= 2)}"
        )
        print(
            f"{'  inbox-watch sync (CLI: store, outbox ...)':<46}{cli_idle * 1000:>9.0f} ms"
            f"{ratio_cli:>8.2f}x  <= 2x  {verdict(ratio_cli <= 2)}"
        )
        print(f"{'peak RSS of the full-sync process':<46}{peak:>9.0f} MB{'':>9}  < 200  {verdict(peak < 200)}")
        print(
            textwrap.dedent(f"""
            runs: floor {", ".join(f"{x:.2f}" for x in floor_runs)} s; \
bodies {", ".join(f"{x:.2f}" for x in bodies_runs)} s; \
sync {", ".join(f"{x:.2f}" for x in sync_runs)} s; \
minimal {", ".join(f"{x * 1000:.0f}" for x in minimal_runs)} ms; \
idle {", ".join(f"{x * 1000:.0f}" for x in idle_runs)} ms; \
idle without holidays {", ".join(f"{x * 1000:.0f}" for x in bare_runs)} ms""")
        )
        ok = ratio_sync <= 2 and ratio_idle <= 2 and peak < 200
        return 0 if ok else 1
    finally:
        server.stop()
        import shutil

        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
