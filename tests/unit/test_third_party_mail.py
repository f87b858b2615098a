"""Real third-party mail the rules were not tuned on holds the line (bench/labels/third-party.csv).

The set is split once by a fixed hash of each file's name; the rules are tuned on the tune part
only, and ``python -m bench.classify`` reports the test part against the targets. The tests
below measure the test part and print its figures only, never its misses, so that nobody tunes
against it by reading a failure.
"""

from __future__ import annotations

import hashlib

import pytest

from bench.classify import KEPT, TARGETS, Figures, Row, evaluate, figures, part_of, third_party_rows

ROWS = third_party_rows()
TEST = [r for r in ROWS if r.part == "test"]

# The test part's figures when they were last measured (issue 11): a change to the rules that
# makes any of them fall fails the build. Raise them when the figures rise; never lower them.
# "all": every file, the ones whose licence keeps them out of git read from a local copy of
# their source repository; "kept": the files in bench/corpus/third-party alone (any clone).
FLOOR = {
    "all": {"precision": 0.78, "recall": 0.91, "machine": 0.93},
    "kept": {"precision": 1.0, "recall": 1.0, "machine": 0.96},
}


def _measure(rows: list[Row]) -> tuple[Figures, list[Row]]:
    outcomes, absent = evaluate(rows)
    return figures(outcomes), absent


def _summary(found: Figures) -> str:
    p, r, n = found.scheduling
    return (
        f"{found.n} messages: scheduling precision {p:.3f} recall {r:.3f} (n={n}), "
        f"machine mail {found.machine:.3f} (n={found.machine_n}), "
        f"{len(found.taken_for_machine)} other messages taken for machine mail"
    )


def _holds(found: Figures, line: dict[str, float]) -> bool:
    p, r, _ = found.scheduling
    return (
        p >= line["precision"]
        and r >= line["recall"]
        and found.machine >= line["machine"]
        and not found.taken_for_machine
    )


def test_the_split_is_the_fixed_hash_of_each_name() -> None:
    assert len(ROWS) >= 735
    assert all(r.part == part_of(r.file) for r in ROWS)
    assert len(TEST) >= len(ROWS) // 4 - 5


def test_every_kept_file_is_the_one_labelled() -> None:
    kept = [r for r in ROWS if r.source["kept"] == "yes"]
    assert len(kept) >= 370
    for row in kept:
        assert hashlib.sha256((KEPT / row.file).read_bytes()).hexdigest() == row.source["sha256"], row.file
        assert row.source["repo"] and row.source["licence"] and row.note


def test_the_kept_test_part_does_not_fall_below_its_measured_figures() -> None:
    found, absent = _measure([r for r in TEST if r.source["kept"] == "yes"])
    assert not absent
    assert _holds(found, FLOOR["kept"]), _summary(found)


def test_the_whole_test_part_does_not_fall_below_its_measured_figures() -> None:
    found, absent = _measure(TEST)
    if absent:
        pytest.skip(f"{len(absent)} test-part files have no local copy of their source (INBOX_WATCH_MIRRORS)")
    assert _holds(found, FLOOR["all"]), _summary(found)


@pytest.mark.xfail(strict=True, reason="issue 11: the test part is still below the issue's line")
def test_the_test_part_meets_the_issues_line() -> None:
    # Scheduling precision >= 0.95 and recall >= 0.92, machine mail >= 0.95, no human mail taken
    # for machine mail. strict: once it passes, the marker must go and this becomes the floor.
    found, absent = _measure(TEST)
    if absent:
        pytest.skip(f"{len(absent)} test-part files have no local copy of their source")
    assert _holds(found, TARGETS), _summary(found)
