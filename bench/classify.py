"""Detection quality on labelled mail: precision and recall per kind.

Two labelled sets: the 150 real third-party messages in ../shared/corpus/real-mail (labels in
bench/labels/real-mail.csv, read by a person, not by the classifier) and the project's own
realistic recruiter mail in tests/fixtures/mail. Targets (DESIGN.md section 3): scheduling
precision >= 0.95 and recall >= 0.90; no human message taken for an auto-reply.

    python -m bench.classify [--show-errors]
"""

from __future__ import annotations

import csv
import sys
from collections import Counter
from pathlib import Path

from inbox_watch.engine.classify import classify
from inbox_watch.mime import parse_bytes

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT.parent / "shared" / "corpus" / "real-mail"
SETS = {
    "real third-party mail": (ROOT / "bench" / "labels" / "real-mail.csv", CORPUS),
    "recruiter fixtures": (ROOT / "tests" / "fixtures" / "mail" / "labels.csv", ROOT / "tests" / "fixtures" / "mail"),
}
KINDS = ("scheduling", "calendar_response", "auto_reply", "bounce", "other")


def evaluate(labels: Path, folder: Path) -> list[tuple[str, str, str]]:
    """(file, expected, got) for every labelled file."""
    rows = []
    with labels.open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            got = classify(parse_bytes((folder / row["file"]).read_bytes())).kind.value
            rows.append((row["file"], row["kind"], got))
    return rows


def scores(rows: list[tuple[str, str, str]], kind: str) -> tuple[float, float, int]:
    tp = sum(1 for _, e, g in rows if e == kind and g == kind)
    fp = sum(1 for _, e, g in rows if e != kind and g == kind)
    fn = sum(1 for _, e, g in rows if e == kind and g != kind)
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    return precision, recall, tp + fn


def main() -> int:
    show = "--show-errors" in sys.argv
    all_rows: list[tuple[str, str, str]] = []
    ok = True
    for name, (labels, folder) in SETS.items():
        rows = evaluate(labels, folder)
        all_rows += rows
        print(f"\n{name}: {len(rows)} messages")
        for kind in KINDS:
            p, r, n = scores(rows, kind)
            print(f"  {kind:<18} precision {p:5.3f}  recall {r:5.3f}  (n={n})")
        if show:
            for file, expected, got in rows:
                if expected != got:
                    print(f"    {file}: expected {expected}, got {got}")
    p, r, _ = scores(all_rows, "scheduling")
    human_as_auto = [f for f, e, g in all_rows if g == "auto_reply" and e not in ("auto_reply",)]
    print("\nall sets:")
    print(f"  scheduling precision {p:.3f} (target >= 0.95) {'PASS' if p >= 0.95 else 'FAIL'}")
    print(f"  scheduling recall    {r:.3f} (target >= 0.90) {'PASS' if r >= 0.90 else 'FAIL'}")
    print(
        f"  taken for an auto-reply wrongly: {len(human_as_auto)} (target 0) {'PASS' if not human_as_auto else 'FAIL'}"
    )
    confusion = Counter((e, g) for _, e, g in all_rows if e != g)
    if confusion:
        print("  confusions: " + ", ".join(f"{e}->{g} x{n}" for (e, g), n in confusion.most_common()))
    ok = p >= 0.95 and r >= 0.90 and not human_as_auto
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
