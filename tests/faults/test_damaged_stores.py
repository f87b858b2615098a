"""Hand-damaged stores: a good store (the demo mailbox, synced) cut short at many points, bytes
overwritten, records missing fields or holding the wrong kind of value, an empty file, a folder,
a newer schema. Each case runs commands through the real CLI (in-process): the outcome must be
either a normal answer (the damage left a readable store) or one line naming the damaged file
and what to do, with the file left as it was; never `unexpected error`, never a traceback."""

from __future__ import annotations

import random
import shutil
from collections.abc import Callable
from pathlib import Path

import orjson
import pytest

from inbox_watch import cli
from tests.faults.campaign import FULL, Figures, campaign_count

READS = (("report", "--json"), ("candidates", "list"))
WRITES = (("sync",), ("log", "Priya Shah", "call"))


def _good_store(folder: Path) -> None:
    from inbox_watch.demo import prepare_demo

    prepare_demo(folder)


def _config(tmp_path: Path, store: Path) -> str:
    path = tmp_path / "config.toml"
    path.write_text(
        '[recruiter]\nname = "Sam Carter"\naddresses = ["sam.carter@agency.example"]\n'
        f"[store]\npath = '{store}'\n"
        '[[accounts]]\nname = "demo"\nprovider = "demo"\n'
    )
    return str(path)


def _cases(good: dict[str, bytes]) -> list[tuple[str, str, bytes | None]]:
    """(name, which file, its damaged bytes; None: a folder in its place)."""
    rng = random.Random(20261203)
    mail, state = good["store.json"], good["store.state.json"]
    cases: list[tuple[str, str, bytes | None]] = [
        ("empty", "store.json", b""),
        ("blank", "store.json", b"\n \n"),
        ("a folder", "store.json", None),
        ("a JSON list", "store.json", b"[]"),
        ("a newer schema", "store.json", orjson.dumps({**orjson.loads(mail), "meta": {"1": {"schema": 99}}})),
        ("empty state", "store.state.json", b""),
        ("state: a newer schema", "store.state.json", orjson.dumps({"meta": {"1": {"schema": 5}}})),
        ("state: a folder", "store.state.json", None),
    ]
    for n in range(campaign_count(8, 150)):
        cut = 1 + (len(mail) - 2) * n // campaign_count(8, 150)
        cases.append((f"cut at byte {cut}", "store.json", mail[:cut]))
    for n in range(campaign_count(3, 30)):
        cut = 1 + (len(state) - 2) * n // campaign_count(3, 30)
        cases.append((f"state cut at byte {cut}", "store.state.json", state[:cut]))
    for _ in range(campaign_count(6, 150)):
        at = rng.randrange(len(mail))
        byte = rng.choice(b'{}[]":,0a\x00\xff')
        cases.append((f"byte {at} overwritten", "store.json", mail[:at] + bytes([byte]) + mail[at + 1 :]))
    data = orjson.loads(mail)
    wrong: list[object] = [None, 5, "x", [], {}, True]
    for table in ("candidates", "messages", "touches", "snoozes", "pulled"):
        docs = data.get(table) or {}
        if not docs:
            continue
        doc_id = sorted(docs)[0]
        fields = sorted(docs[doc_id]) if FULL else sorted(docs[doc_id])[:3]
        for field in fields:
            missing = orjson.loads(mail)
            del missing[table][doc_id][field]
            cases.append((f"{table} record lacks {field}", "store.json", orjson.dumps(missing)))
            for value in wrong if FULL else wrong[:2]:
                changed = orjson.loads(mail)
                changed[table][doc_id][field] = value
                cases.append((f"{table}.{field} = {value!r}", "store.json", orjson.dumps(changed)))
    state_data = orjson.loads(state)
    for table in ("outbox", "cursors", "sync_status"):
        docs = state_data.get(table) or {}
        if not docs:
            continue
        doc_id = sorted(docs)[0]
        for field in sorted(docs[doc_id]) if FULL else sorted(docs[doc_id])[:2]:
            missing = orjson.loads(state)
            del missing[table][doc_id][field]
            cases.append((f"{table} record lacks {field}", "store.state.json", orjson.dumps(missing)))
            changed = orjson.loads(state)
            changed[table][doc_id][field] = 5
            cases.append((f"{table}.{field} = 5", "store.state.json", orjson.dumps(changed)))
    return cases


def _place(path: Path, damaged: bytes | None) -> Callable[[], bool]:
    """Put the damaged file in place; returns a check that it is still exactly so."""
    if path.is_dir():
        shutil.rmtree(path)
    elif path.exists():
        path.unlink()
    if damaged is None:
        path.mkdir()
        return lambda: path.is_dir() and not any(path.iterdir())
    path.write_bytes(damaged)
    return lambda: path.read_bytes() == damaged


def test_every_hand_damaged_store_gives_an_answer_or_one_clear_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], figures: Figures
) -> None:
    source = tmp_path / "good"
    _good_store(source)
    good = {name: (source / name).read_bytes() for name in ("store.json", "store.state.json")}
    work = tmp_path / "work"
    work.mkdir()
    config = _config(tmp_path, work / "store.json")
    crashes: list[str] = []
    for name, which, damaged in _cases(good):
        for other, content in good.items():
            _place(work / other, content)
        for leftover in work.iterdir():
            if leftover.name not in good and leftover.is_file():
                leftover.unlink()
        intact = _place(work / which, damaged)
        figures.add("damaged stores tried")
        refused = False
        for command in READS + (WRITES if FULL else WRITES[:1]):
            code = cli.main(["--config", config, *command])
            err = capsys.readouterr().err
            lines = err.strip().splitlines()
            figures.add("commands run")
            if code == 0 or (code == 2 and len(lines) == 1 and "no candidate called" in lines[0]):
                continue  # an answer (the damage renamed a candidate: the store still reads)
            if code == 70 or "Traceback" in err or len(lines) != 1 or str(work / which) not in lines[0]:
                crashes.append(f"{name}: {' '.join(command)} -> {code}: {err.strip()[:300]}")
                continue
            refused = True
            if not intact():
                crashes.append(f"{name}: {' '.join(command)} wrote over the damaged file")
        figures.add("refused with one clear line" if refused else "still readable (answered)")
    figures.add("crashes or unclear lines", len(crashes))
    assert crashes == [], "\n".join(crashes)
