"""The roster CSV: name,email,phone,role,employer,employer_email,stage (several addresses
separated by ';'). Every error names the file and the line."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

from inbox_watch.errors import UsageError
from inbox_watch.models import Candidate

COLUMNS = ("name", "email", "phone", "role", "employer", "employer_email", "stage")
_EMAIL = re.compile(r"^[^@\s<>,;]+@[^@\s<>,;]+\.[^@\s<>,;]+$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def _addresses(path: Path, line: int, column: str, value: str) -> tuple[str, ...]:
    found = []
    for part in value.split(";"):
        part = part.strip().lower()
        if not part:
            continue
        if not _EMAIL.match(part):
            raise UsageError(f"{path}:{line}: {column} {part!r} is not an email address")
        found.append(part)
    return tuple(dict.fromkeys(found))


def _text(path: Path, line: int, column: str, value: str) -> str:
    if _CONTROL.search(value):
        raise UsageError(f"{path}:{line}: {column} contains a line break or control character")
    return " ".join(value.split())


def read_roster(path: Path) -> list[Candidate]:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise UsageError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"{path}: cannot read the roster: {exc}") from None
    reader = csv.DictReader(io.StringIO(text))
    header = [h.strip().lower() for h in (reader.fieldnames or [])]
    if "name" not in header or "email" not in header:
        raise UsageError(f"{path}: the first line must name the columns: {','.join(COLUMNS)}")
    unknown = [h for h in header if h not in COLUMNS]
    if unknown:
        raise UsageError(f"{path}: unknown column {unknown[0]!r} (allowed: {', '.join(COLUMNS)})")
    reader.fieldnames = header
    candidates: list[Candidate] = []
    for row in reader:
        line = reader.line_num
        values = {k: (v or "") for k, v in row.items() if k is not None}
        name = _text(path, line, "name", values.get("name", ""))
        if not name:
            raise UsageError(f"{path}:{line}: every row needs a name")
        emails = _addresses(path, line, "email", values.get("email", ""))
        if not emails:
            raise UsageError(f"{path}:{line}: {name} has no email address")
        candidates.append(
            Candidate(
                name=name,
                emails=emails,
                phone=_text(path, line, "phone", values.get("phone", "")),
                role=_text(path, line, "role", values.get("role", "")),
                employer=_text(path, line, "employer", values.get("employer", "")),
                employer_emails=_addresses(path, line, "employer_email", values.get("employer_email", "")),
                stage=_text(path, line, "stage", values.get("stage", "")),
            )
        )
    return candidates
