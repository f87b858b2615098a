"""The roster CSV: name,email,phone,role,employer,employer_email,stage (several addresses
separated by ';'). Every error names the file and the line."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path
from typing import Any

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


def read_roster(path: Path, notes: list[str] | None = None) -> list[Candidate]:
    """The candidates in the roster at ``path``, one per name: rows of the same name (any case
    or spacing) are merged into the first (every address kept, other fields from the first row
    that has them), and a repeated ``email`` or ``employer_email`` column adds its addresses.
    Each merge is described in ``notes`` when given."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise UsageError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"{path}: cannot read the roster: {exc}") from None
    reader = csv.reader(io.StringIO(text))
    try:
        return _read_rows(path, reader, notes)
    except csv.Error as exc:  # a field over the csv module's limit (128 KB), a NUL byte ...
        raise UsageError(f"{path}:{reader.line_num}: cannot read the roster: {exc}") from None


def _read_rows(path: Path, reader: Any, notes: list[str] | None) -> list[Candidate]:
    header = [h.strip().lower() for h in next(reader, [])]
    if "name" not in header or "email" not in header:
        raise UsageError(f"{path}: the first line must name the columns: {','.join(COLUMNS)}")
    unknown = [h for h in header if h not in COLUMNS]
    if unknown:
        raise UsageError(f"{path}: unknown column {unknown[0]!r} (allowed: {', '.join(COLUMNS)})")
    repeated = sorted({h for h in header if header.count(h) > 1} - set(_ADDRESS_COLUMNS))
    if repeated:
        raise UsageError(f"{path}:1: the column {repeated[0]!r} appears more than once")
    merged: dict[str, tuple[int, Candidate]] = {}
    for cells in reader:
        line = reader.line_num
        if not cells:
            continue
        values: dict[str, str] = {}
        for column, cell in zip(header, cells, strict=False):
            if column in values and column in _ADDRESS_COLUMNS:
                values[column] = f"{values[column]};{cell}"
            else:
                values[column] = cell or ""
        name = _text(path, line, "name", values.get("name", ""))
        if not name:
            raise UsageError(f"{path}:{line}: every row needs a name")
        emails = _addresses(path, line, "email", values.get("email", ""))
        if not emails:
            raise UsageError(f"{path}:{line}: {name} has no email address")
        candidate = Candidate(
            name=name,
            emails=emails,
            phone=_text(path, line, "phone", values.get("phone", "")),
            role=_text(path, line, "role", values.get("role", "")),
            employer=_text(path, line, "employer", values.get("employer", "")),
            employer_emails=_addresses(path, line, "employer_email", values.get("employer_email", "")),
            stage=_text(path, line, "stage", values.get("stage", "")),
        )
        key = " ".join(name.split()).casefold()
        if key in merged:
            first_line, first = merged[key]
            merged[key] = (first_line, _merge(first, candidate))
            if notes is not None:
                notes.append(f"{path}:{line}: {name} is also on line {first_line}: merged into one candidate")
        else:
            merged[key] = (line, candidate)
    return [candidate for _, candidate in merged.values()]


_ADDRESS_COLUMNS = ("email", "employer_email")


def _merge(first: Candidate, again: Candidate) -> Candidate:
    """One candidate from two rows of the same name: every address, other fields from the first
    row that has them."""
    return Candidate(
        name=first.name,
        emails=tuple(dict.fromkeys(first.emails + again.emails)),
        phone=first.phone or again.phone,
        role=first.role or again.role,
        employer=first.employer or again.employer,
        employer_emails=tuple(dict.fromkeys(first.employer_emails + again.employer_emails)),
        stage=first.stage or again.stage,
    )
