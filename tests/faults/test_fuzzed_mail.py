# ruff: noqa: F811 - the fixtures imported from dovecot.py / smtp_server.py are named as arguments
"""Fault: fuzzed mail, through ``classify`` and through a real IMAP sync (Dovecot).

Seeds are the shared real-mail corpus (150 third-party messages) and tests/fixtures/mail; each
case is one seed with a few random mutations (bytes flipped, cut short, line ends changed,
boundaries broken, headers repeated, made huge or filled with encoded-word junk, odd charsets,
NUL and 8-bit bytes). Nothing may crash parsing or classification, and a sync pass over the
mutated messages must complete with every message the server took either stored or named as
unreadable. The RNG is seeded: a failure names its case and reproduces.
"""

from __future__ import annotations

import os
import random
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from inbox_watch.engine.classify import classify, to_stored
from inbox_watch.mime import parse_bytes
from inbox_watch.store import Store
from inbox_watch.sync import sync_account
from providers.imap.fastmime import fast_parse
from tests.conftest import corpus_dir
from tests.faults.campaign import campaign_count
from tests.providers.dovecot import Dovecot, dovecot_server  # noqa: F401
from tests.providers.smtp_server import SmtpServer, smtp_server  # noqa: F401
from tests.providers.test_imap import ImapHarness, imap_env  # noqa: F401

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "mail"
SEED = 20261203


def seeds() -> list[bytes]:
    corpus = corpus_dir()
    if not corpus.is_dir() or not any(corpus.glob("*.eml")):
        reason = f"the shared real-mail corpus is not at {corpus} (set INBOX_WATCH_CORPUS)"
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    files = sorted(corpus.glob("*.eml")) + sorted(FIXTURES.glob("*.eml"))
    return [f.read_bytes() for f in files]


ODD_CHARSETS = [b"idna", b"utf-7", b"unicode-escape", b"base64", b"x-unknown", b"utf-16", b"\x00", b"rot13", b""]


def _flip(raw: bytes, rng: random.Random) -> bytes:
    data = bytearray(raw)
    for _ in range(rng.randint(1, 20)):
        if data:
            data[rng.randrange(len(data))] = rng.randrange(256)
    return bytes(data)


def _cut(raw: bytes, rng: random.Random) -> bytes:
    return raw[: rng.randrange(len(raw) + 1)]


def _line_ends(raw: bytes, rng: random.Random) -> bytes:
    return raw.replace(b"\r\n", rng.choice([b"\n", b"\r", b"\n\r", b"\r\r\n", b""]))


def _boundaries(raw: bytes, rng: random.Random) -> bytes:
    lines = raw.split(b"\n")
    marked = [i for i, line in enumerate(lines) if line.startswith(b"--")]
    for i in rng.sample(marked, min(len(marked), rng.randint(1, 3))):
        lines[i] = rng.choice([b"", lines[i] + b"--", lines[i][:-3], b"--" + b"b" * 5000])
    return b"\n".join(lines)


def _headers(raw: bytes, rng: random.Random) -> bytes:
    name = rng.choice([b"Subject", b"From", b"To", b"Content-Type", b"Date", b"Message-ID", b"References"])
    value = rng.choice(
        [
            b"=?utf-8?b?" + bytes(rng.randrange(256) for _ in range(40)) + b"?=",
            b"=?x?q?" + b"=0D=0A" * 50 + b"?=",
            b"x" * rng.choice([1000, 70_000, 300_000]),
            b"multipart/mixed; boundary=" + b'"' * 7,
            b"text/plain; charset*=utf-8''%FF%FE; format=flowed" * 20,
            b"<" * 500 + b">" * 3,
            b"\x00\xff\xfe \t",
            b"Mon, 99 Foo 99999 99:99:99 +9999",
            b'"' + b"\\" * 999,
        ]
    )
    line = name + b": " + value + b"\r\n"
    return line * rng.randint(1, 3) + raw


def _charset(raw: bytes, rng: random.Random) -> bytes:
    return raw.replace(b"charset=", b"charset=" + rng.choice(ODD_CHARSETS) + b";x=", rng.randint(1, 4))


def _splice(raw: bytes, rng: random.Random) -> bytes:
    if len(raw) < 4:
        return raw
    a, b = sorted(rng.sample(range(len(raw)), 2))
    return raw[:a] + raw[b:] + raw[a:b]


def _nest(raw: bytes, rng: random.Random) -> bytes:
    depth = rng.randint(5, 120)
    head = b"".join(b'Content-Type: multipart/mixed; boundary="z%d"\r\n\r\n--z%d\r\n' % (i, i) for i in range(depth))
    return b"MIME-Version: 1.0\r\n" + head + raw


MUTATIONS: list[Callable[[bytes, random.Random], bytes]] = [
    _flip,
    _cut,
    _line_ends,
    _boundaries,
    _headers,
    _charset,
    _splice,
    _nest,
]


def cases(count: int, salt: int) -> Iterator[tuple[int, bytes]]:
    pool = seeds()
    rng = random.Random(SEED + salt)
    for index in range(count):
        raw = rng.choice(pool)
        for mutate in rng.sample(MUTATIONS, rng.randint(1, 3)):
            raw = mutate(raw, rng)
        yield index, raw


def test_fuzzed_messages_through_the_parsers_and_classify(figures: Any) -> None:
    crashes: list[tuple[int, str]] = []
    count = 0
    for index, raw in cases(campaign_count(150, 2000), salt=0):
        count += 1
        try:
            message = parse_bytes(raw, account="work", id=f"case/{index}", folder="INBOX")
            to_stored(classify(message))
            head, _, body = raw.partition(b"\r\n\r\n")
            fast = fast_parse(
                head + b"\r\n\r\n", body, account="work", id="x", folder="INBOX", tags=(), fallback_date=lambda: None
            )
            if fast is not None:
                to_stored(classify(fast))
        except Exception as exc:  # noqa: BLE001 - counting crashes is the point
            crashes.append((index, f"{type(exc).__name__}: {exc}"[:200]))
    figures.add("fuzz cases (classify)", count)
    figures.add("crashes (classify)", len(crashes))
    assert not crashes, crashes[:5]


@pytest.fixture
def harness(dovecot_server: Dovecot, smtp_server: SmtpServer, imap_env: None) -> Iterator[ImapHarness]:
    h = ImapHarness(dovecot_server, smtp_server)
    yield h
    h.close()


def test_fuzzed_messages_through_a_real_imap_sync(harness: ImapHarness, tmp_path: Any, figures: Any) -> None:
    delivered = refused = 0
    for _index, raw in cases(campaign_count(40, 400), salt=1):
        try:
            harness.deliver(raw, tag="Fuzz Case")  # filed under a candidate: its text is read too
            delivered += 1
        except Exception:  # noqa: BLE001 - the server refuses some (NUL bytes ...): not ours to read
            refused += 1
            harness._world = None  # a fresh connection for the next APPEND
    store = Store(tmp_path / "store.json")
    crashes = 0
    try:
        result = sync_account(store, harness.account, harness.provider, now=datetime.now(UTC), drain_outbox=False)
    except Exception:
        crashes = 1
        raise
    finally:
        figures.add("fuzz cases (IMAP sync)", delivered)
        figures.add("refused by the server", refused)
        figures.add("crashes (IMAP sync)", crashes)
    harness.world.select_folder(harness.folder(tag="Fuzz Case"), readonly=True)
    on_server = len(harness.world.search(["SINCE", harness.provider._since()]))
    stored = len(store.messages())
    figures.add("unreadable, skipped and named", result.unreadable)
    figures.add("syncs blocked", 0 if stored + result.unreadable == on_server else 1)
    assert stored + result.unreadable == on_server, (stored, result.unreadable, on_server)
