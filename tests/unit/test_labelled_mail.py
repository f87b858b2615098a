"""Realistic recruiter mail with expected outcomes side by side (tests/fixtures/mail/labels.csv)."""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

import pytest

from inbox_watch.engine.classify import classify
from inbox_watch.mime import parse_bytes

FOLDER = Path(__file__).resolve().parents[1] / "fixtures" / "mail"
ROWS = list(csv.DictReader((FOLDER / "labels.csv").open(encoding="utf-8")))


def test_the_set_covers_every_kind() -> None:
    assert {r["kind"] for r in ROWS} == {"scheduling", "calendar_response", "auto_reply", "bounce", "other"}
    assert len(ROWS) >= 70


@pytest.mark.parametrize("row", ROWS, ids=lambda r: r["file"])
def test_kind_and_return_date(row: dict[str, str]) -> None:
    result = classify(parse_bytes((FOLDER / row["file"]).read_bytes()))
    assert result.kind.value == row["kind"], result.reasons
    if row["kind"] == "auto_reply" and row.get("ooo_return_date"):
        assert result.return_date == date.fromisoformat(row["ooo_return_date"])
