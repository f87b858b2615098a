"""Scale benchmark: cost and storage follow the candidates, not the mailbox (issue 17).

``python -m bench.scale`` from the repo root. A real Dovecot holds a recruiter's mailbox of N
messages (Maildir files written straight into ``cur/``): 200 candidates on the roster, one
message in ten theirs (their threads, the recruiter's emails to them, their employer
contacts' messages), the rest the recruiter's other mail (colleagues, clients, newsletters, and
the recruiter's own answers). For each N (20,000 and 60,000; ``--big`` adds 200,000, which takes
long to build), whole processes:

- two floors side by side: a raw imaplib process that sends one header-fields ``UID FETCH``
  of every folder (A), and the same plus ``BODY.PEEK[TEXT]<0.4096>`` of the related messages (B);
- ``inbox-watch sync`` on an empty store (the roster imported): time against both floors
  (target: within 1.3x of B), its peak RSS;
- the store's size on disk (every file in its folder);
- ``report --json``: time and peak RSS;
- an idle ``inbox-watch sync``;
- a late candidate: imported after the first sync, their mail already in the mailbox: the
  IMAP commands the next sync sends (counted in the process), and their status right after it.

Targets (issue 17, at 200,000 messages): store under 40 MB, ``report --json`` under 0.5 s and
150 MB. Not part of ``make test``.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import compile_sources  # noqa: E402
from bench.imap import imap_login  # noqa: E402
from providers.imap.messages import HEADER_SECTION  # noqa: E402
from tests.providers.dovecot import PASSWORD, Dovecot  # noqa: E402

PASSWORD_ENV = "INBOX_WATCH_BENCH_IMAP_PASSWORD"
SAM = "sam@agency.example"
CANDIDATES = 200
EMPLOYERS = ("Northwind", "Contoso", "Fabrikam", "Tailspin", "Litware", "Adatum", "Proseware", "Wingtip")
FIRST = ("Priya", "Tom", "Aisha", "Daniel", "Lena", "Marco", "Sofia", "James", "Hannah", "Oliver", "Chloe", "Ethan")
LAST = ("Shah", "Becker", "Khan", "Okafor", "Fischer", "Rossi", "Almeida", "Whitfield", "Cho", "Grant")
WORDS = (
    "budget quarter review office travel lunch invoice contract meeting notes project update figures team "
    "client proposal agenda minutes draft report training holiday party parking expenses laptop policy"
).split()
LATE = "Late Comer"

CONFIG = """\
[recruiter]
name = "Sam Carter"
addresses = ["{sam}"]

[policy]
holidays = ""

[store]
path = "{store}"

[[accounts]]
name = "work"
provider = "imap"
host = "{host}"
port = {port}
security = "none"
username = "{user}"
password_env = "{env}"
lookback_days = 400
"""

# Runs the CLI in-process: prints its wall time, peak RSS and the IMAP commands it sent.
RUN = """\
import imaplib, json, re, resource, sys, time
counts = {}
real_send = imaplib.IMAP4.send
def send(self, data):
    words = bytes(data).split(b" ", 3)
    if len(words) > 1 and re.fullmatch(rb"[A-Z]+[0-9]+", words[0]):
        verb = (words[1] + (b" " + words[2] if words[1] == b"UID" and len(words) > 2 else b"")).decode().strip()
        counts[verb] = counts.get(verb, 0) + 1
    return real_send(self, data)
imaplib.IMAP4.send = send
start = time.perf_counter()
from inbox_watch.cli import main
code = main(sys.argv[1:])
took = time.perf_counter() - start
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"code": code, "seconds": took, "rss_mb": rss, "commands": counts}), file=sys.stderr)
"""


def _text(rng: random.Random, words: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(words)).capitalize() + "."


def _raw(
    *,
    sender: str,
    to: str,
    subject: str,
    when: datetime,
    message_id: str,
    body: str,
    parent: str = "",
    html: bool = False,
) -> bytes:
    head = [
        f"From: {sender}",
        f"To: {to}",
        f"Subject: {subject}",
        f"Date: {format_datetime(when)}",
        f"Message-ID: {message_id}",
        "MIME-Version: 1.0",
        "Received: from mx.example.com by mail.agency.example; " + format_datetime(when),
    ]
    if parent:
        head += [f"In-Reply-To: {parent}", f"References: {parent}"]
    if html:
        head.append('Content-Type: multipart/alternative; boundary="b0"')
        content = (
            f"--b0\nContent-Type: text/plain; charset=utf-8\n\n{body}\n"
            f"--b0\nContent-Type: text/html; charset=utf-8\n\n<html><body><p>{body}</p></body></html>\n--b0--\n"
        )
    else:
        head.append("Content-Type: text/plain; charset=utf-8")
        content = body + "\n"
    return ("\n".join(head) + "\n\n" + content).encode()


class Mailbox:
    """The generated mailbox: Maildir files per folder, the roster, and which messages are related."""

    def __init__(self, server: Dovecot, user: str, total: int, seed: int = 11) -> None:
        self.rng = random.Random(seed)
        self.now = datetime.now(UTC)
        root = server.maildir(user)
        self.dirs = {"INBOX": root, "Sent": root / "Sent"}
        for path in self.dirs.values():
            for sub in ("cur", "new", "tmp"):
                (path / sub).mkdir(parents=True, exist_ok=True)
        self.count = 0
        self.related: dict[str, int] = dict.fromkeys(self.dirs, 0)  # per folder: related message count
        self.related_files: dict[str, list[str]] = {name: [] for name in self.dirs}
        self.stamp = int(time.time())
        self.roster: list[dict[str, str]] = []
        per = max(6, total // 10 // CANDIDATES)
        for i in range(CANDIDATES):
            self._candidate(i, per)
        self.late = self._candidate(CANDIDATES, per, late=True)
        while self.count < total:
            self._other()
        server.chown_tree(root)

    def _write(self, folder: str, raw: bytes, related: bool) -> None:
        name = f"{self.stamp}.M{self.count}P1.bench:2,S"
        (self.dirs[folder] / "cur" / name).write_bytes(raw)
        self.count += 1
        if related:
            self.related[folder] += 1

    def _when(self, hours_ago: float) -> datetime:
        return self.now - timedelta(hours=hours_ago)

    def _candidate(self, i: int, per: int, late: bool = False) -> dict[str, str]:
        rng = self.rng
        first, last = FIRST[i % len(FIRST)], LAST[(i // len(FIRST)) % len(LAST)]
        name = LATE if late else f"{first} {last} {i}"
        email = f"{first.lower()}.{last.lower()}.{i}@example.com"
        employer = EMPLOYERS[i % len(EMPLOYERS)]
        contact = f"hiring.{i % 40}@{employer.lower()}.example"
        row = {
            "name": name,
            "email": email,
            "phone": f"+44 7700 9{i:05d}",
            "role": "Engineer",
            "employer": employer,
            "employer_email": contact,
        }
        if not late:
            self.roster.append(row)
        start = rng.uniform(30, 24 * 60)
        intro = f"<cv{i}@example.com>"
        self._write(
            "INBOX",
            _raw(
                sender=email,
                to=SAM,
                subject=f"CV {name}",
                when=self._when(start + 72),
                message_id=intro,
                body=_text(rng, 80),
            ),
            True,
        )
        slots = f"<slots{i}@agency.example>"
        body = f"Hi {first}, {employer} can interview you on Tuesday at 10:00 or Wednesday at 14:00. Which suits you?"
        self._write(
            "Sent",
            _raw(
                sender=SAM,
                to=email,
                subject=f"{employer} interview",
                when=self._when(start),
                message_id=slots,
                body=body,
            ),
            True,
        )
        replied = late is False and rng.random() < 0.5
        for n in range(per - 2):
            at = start - 6 * (n + 1)
            if at < 1:
                break
            roll = n % 3
            if roll == 0 and replied:
                self._write(
                    "INBOX",
                    _raw(
                        sender=email,
                        to=SAM,
                        subject=f"Re: {employer} interview",
                        when=self._when(at),
                        message_id=f"<r{i}.{n}@example.com>",
                        parent=slots,
                        body="Wednesday at 14:00 works. " + _text(rng, 40),
                    ),
                    True,
                )
            elif roll == 1:
                self._write(
                    "INBOX",
                    _raw(
                        sender=contact,
                        to=SAM,
                        subject=f"Shortlist {employer}",
                        when=self._when(at),
                        message_id=f"<e{i}.{n}@{employer.lower()}.example>",
                        body=f"Any news from {name}? " + _text(rng, 30),
                    ),
                    True,
                )
            else:
                self._write(
                    "Sent",
                    _raw(
                        sender=SAM,
                        to=contact,
                        subject=f"Re: Shortlist {employer}",
                        when=self._when(at),
                        message_id=f"<u{i}.{n}@agency.example>",
                        body=f"Chasing {first} today. " + _text(rng, 30),
                    ),
                    True,
                )
        return row

    def _other(self) -> None:
        rng = self.rng
        n = self.count
        at = rng.uniform(1, 24 * 360)
        kind = n % 10
        if kind < 3:  # a newsletter
            self._write(
                "INBOX",
                _raw(
                    sender=f"news@list{n % 30}.example",
                    to=SAM,
                    subject=f"Digest {n}",
                    when=self._when(at),
                    message_id=f"<n{n}@list.example>",
                    body=_text(rng, rng.randrange(150, 500)),
                    html=True,
                ),
                False,
            )
        elif kind < 7:  # a colleague or client writes
            who = f"{rng.choice(FIRST).lower()}.{n % 500}@{rng.choice(('agency', 'client', 'else'))}.example"
            self._write(
                "INBOX",
                _raw(
                    sender=who,
                    to=SAM,
                    subject=f"{rng.choice(WORDS).title()} {n}",
                    when=self._when(at),
                    message_id=f"<o{n}@else.example>",
                    body=_text(rng, rng.randrange(60, 300)),
                ),
                False,
            )
        else:  # the recruiter's own answer in such a thread
            parent = f"<o{n - 3}@else.example>"
            self._write(
                "Sent",
                _raw(
                    sender=SAM,
                    to=f"someone.{n % 500}@else.example",
                    subject=f"Re: thread {n}",
                    when=self._when(at),
                    message_id=f"<s{n}@agency.example>",
                    parent=parent,
                    body=_text(rng, rng.randrange(40, 200)),
                ),
                False,
            )

    def write_roster(self, path: Path, *, late: bool) -> None:
        rows = self.roster + ([self.late] if late else [])
        with path.open("w", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)


def floors(server: Dovecot, user: str, folders: list[str], related: dict[str, set[int]]) -> tuple[float, float]:
    """(A: header fields of every message, B: A plus BODY.PEEK[TEXT]<0.4096> of the related ones),
    each as its own raw imaplib process would do it; seconds."""
    items = f"(UID BODY.PEEK[{HEADER_SECTION}])"
    start = time.perf_counter()
    imap = imap_login(server, user)
    for folder in folders:
        imap.select(f'"{folder}"', readonly=True)
        typ, _ = imap.uid("FETCH", "1:*", items)
        assert typ == "OK"
    imap.logout()
    a = time.perf_counter() - start
    from providers.imap.fetch import uid_groups

    start = time.perf_counter()
    imap = imap_login(server, user)
    for folder in folders:
        imap.select(f'"{folder}"', readonly=True)
        typ, _ = imap.uid("FETCH", "1:*", items)
        for group in uid_groups(sorted(related[folder])):
            typ, _ = imap.uid("FETCH", group, "(UID BODY.PEEK[TEXT]<0.4096>)")
            assert typ == "OK"
    imap.logout()
    return a, time.perf_counter() - start


def related_uids(server: Dovecot, user: str, folders: list[str], candidates: set[str]) -> dict[str, set[int]]:
    """The UIDs of the messages that concern the roster, as the server numbers them: a header
    read by raw imaplib, matched on the generator's own markers (setup, not measured)."""
    found: dict[str, set[int]] = {}
    imap = imap_login(server, user)
    for folder in folders:
        imap.select(f'"{folder}"', readonly=True)
        typ, data = imap.uid("FETCH", "1:*", "(UID BODY.PEEK[HEADER.FIELDS (FROM TO)])")
        uids: set[int] = set()
        for item in data:
            if not isinstance(item, tuple):
                continue
            uid = int(item[0].split(b"UID ")[1].split()[0])
            header = item[1].decode().lower()
            if any(address in header for address in candidates):
                uids.add(uid)
        found[folder] = uids
    imap.logout()
    return found


def _cli(env: dict[str, str], config: Path, *args: str) -> dict[str, object]:
    done = subprocess.run(
        [sys.executable, "-c", RUN, "--config", str(config), *args], env=env, capture_output=True, text=True, cwd=ROOT
    )
    lines = done.stderr.strip().splitlines()
    try:
        result: dict[str, object] = json.loads(lines[-1])
    except (IndexError, json.JSONDecodeError):
        raise SystemExit(f"inbox-watch {' '.join(args)} failed:\n{done.stderr}") from None
    if result["code"] not in (0, None):
        raise SystemExit(f"inbox-watch {' '.join(args)} exited {result['code']}:\n{done.stderr}")
    result["stdout"] = done.stdout
    return result


def _size(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.iterdir() if p.is_file())


def run(total: int, runs: int) -> Figures:
    server = Dovecot()
    work = Path(tempfile.mkdtemp(prefix="iw-scale-"))
    try:
        server.start()
        user = server.new_user()
        start = time.perf_counter()
        box = Mailbox(server, user, total)
        built = time.perf_counter() - start
        folders = list(box.dirs)
        imap = imap_login(server, user)
        for folder in folders:
            imap.select(f'"{folder}"', readonly=True)  # Dovecot indexes the Maildir: not measured
        imap.logout()
        addresses = {r["email"] for r in box.roster} | {r["employer_email"] for r in box.roster}
        related = related_uids(server, user, folders, addresses)
        floors(server, user, folders, related)  # warm Dovecot's caches for both sides
        a_runs, b_runs = zip(*(floors(server, user, folders, related) for _ in range(runs)), strict=True)
        floor_a, floor_b = min(a_runs), min(b_runs)

        env = {
            **os.environ,
            "PYTHONPATH": str(ROOT),
            PASSWORD_ENV: PASSWORD,
            "INBOX_WATCH_SECRETS_FILE": str(work / "secrets.json"),
        }
        syncs: list[dict[str, object]] = []
        for attempt in range(runs):
            store_dir = work / f"store{attempt}"
            store_dir.mkdir(mode=0o700)
            config = work / f"config{attempt}.toml"
            config.write_text(
                CONFIG.format(
                    sam=SAM,
                    store=store_dir / "store.json",
                    host=server.host,
                    port=server.port,
                    user=user,
                    env=PASSWORD_ENV,
                )
            )
            roster = work / "roster.csv"
            box.write_roster(roster, late=False)
            _cli(env, config, "candidates", "import", str(roster))
            syncs.append(_cli(env, config, "sync") | {"config": config, "store": store_dir})
        best = min(syncs, key=lambda r: float(r["seconds"]))  # type: ignore[arg-type]
        config, store_dir = best["config"], best["store"]
        assert isinstance(config, Path) and isinstance(store_dir, Path)
        size = _size(store_dir)
        reports = [_cli(env, config, "report", "--json") for _ in range(runs)]
        report = min(reports, key=lambda r: float(r["seconds"]))  # type: ignore[arg-type]
        rows = json.loads(str(report["stdout"]))["candidates"]
        assert len(rows) == CANDIDATES, len(rows)
        idle = min(float(_cli(env, config, "sync")["seconds"]) for _ in range(runs))  # type: ignore[arg-type]

        roster = work / "roster-late.csv"
        box.write_roster(roster, late=True)
        _cli(env, config, "candidates", "import", str(roster))
        late = _cli(env, config, "sync")
        after = json.loads(str(_cli(env, config, "report", "--json")["stdout"]))["candidates"]
        [late_row] = [r for r in after if r["candidate"] == LATE]
        return Figures(
            messages=box.count,
            related=sum(box.related.values()),
            built_s=built,
            floor_a=floor_a,
            floor_b=floor_b,
            sync=float(best["seconds"]),  # type: ignore[arg-type]
            sync_rss=float(best["rss_mb"]),  # type: ignore[arg-type]
            sync_commands=dict(best["commands"]),  # type: ignore[call-overload]
            store_mb=size / 1e6,
            report=float(report["seconds"]),  # type: ignore[arg-type]
            report_rss=float(report["rss_mb"]),  # type: ignore[arg-type]
            idle=idle,
            late_commands=dict(late["commands"]),  # type: ignore[call-overload]
            late_status=str(late_row["status"]),
            late_threads=len(late_row["threads"]),
        )
    finally:
        server.stop()
        shutil.rmtree(work, ignore_errors=True)


@dataclass(frozen=True)
class Figures:
    messages: int
    related: int
    built_s: float
    floor_a: float
    floor_b: float
    sync: float
    sync_rss: float
    sync_commands: dict[str, int]
    store_mb: float
    report: float
    report_rss: float
    idle: float
    late_commands: dict[str, int]
    late_status: str
    late_threads: int


def _verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.scale", description=__doc__.split("\n")[0])
    parser.add_argument("--messages", type=int, nargs="*", default=[20_000, 60_000])
    parser.add_argument("--big", action="store_true", help="also 200,000 messages (takes long to build)")
    parser.add_argument("--runs", type=int, default=2)
    args = parser.parse_args(argv)
    compile_sources()
    sizes = list(args.messages) + ([200_000] if args.big else [])
    ok = True
    for total in sizes:
        r = run(total, args.runs)
        ok = report(r) and ok
    return 0 if ok else 1


def report(r: Figures) -> bool:
    """Print one mailbox's figures; True when the targets that apply at its size are met."""
    big = r.messages >= 200_000
    of_b = r.sync / r.floor_b
    store_ok, report_fast, report_small = r.store_mb < 40, r.report < 0.5, r.report_rss < 150
    print(
        f"\nscale: {r.messages:,} messages, {CANDIDATES} candidates, {r.related:,} theirs "
        f"(mailbox built in {r.built_s:.0f} s)"
    )
    print(f"{'measure':<48}{'value':>11}{'ratio':>8}  target")
    print(f"{'floor A: raw header-fields FETCH of everything':<48}{r.floor_a:>9.2f} s")
    print(f"{'floor B: A + TEXT<0.4096> of the related':<48}{r.floor_b:>9.2f} s{r.floor_b / r.floor_a:>7.2f}x")
    print(
        f"{'first sync (inbox-watch sync, empty store)':<48}{r.sync:>9.2f} s{of_b:>7.2f}x"
        f"  <= 1.3x of B: {_verdict(of_b <= 1.3)} ({r.sync / r.floor_a:.2f}x of A)"
    )
    print(f"{'  its peak RSS':<48}{r.sync_rss:>8.0f} MB{'':>8}  < 200: {_verdict(r.sync_rss < 200)}")
    print(f"{'  its IMAP commands':<48}  {r.sync_commands}")
    print(f"{'store on disk (every file)':<48}{r.store_mb:>8.1f} MB{'':>8}  < 40 at 200k: {_verdict(store_ok)}")
    print(f"{'report --json':<48}{r.report:>9.2f} s{'':>8}  < 0.5 at 200k: {_verdict(report_fast)}")
    print(f"{'  its peak RSS':<48}{r.report_rss:>8.0f} MB{'':>8}  < 150 at 200k: {_verdict(report_small)}")
    print(f"{'idle sync (whole CLI)':<48}{r.idle * 1000:>8.0f} ms")
    print(f"{'late candidate: the next sync sent':<48}  {r.late_commands}")
    print(f"{'  their status right after it':<48}  {r.late_status}, {r.late_threads} thread(s)")
    return not big or (store_ok and report_fast and report_small and of_b <= 1.3)


if __name__ == "__main__":
    raise SystemExit(main())
