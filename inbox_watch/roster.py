"""The roster: a CSV of candidates as people have one, often saved from Excel.

Columns ``name,email,phone,role,employer,employer_email,stage,timezone`` (several addresses in a
cell separated by ';'), under any common heading ("Email Address", "Mobile", "Company", "First
Name" + "Last Name" ...). The delimiter (``,`` ``;`` or tab, or Excel's ``sep=`` line) is found
from the header; the encoding is UTF-8 (with or without BOM), UTF-16 with a BOM (Excel's
"Unicode Text"), else a Western single-byte code page chosen by charset-normalizer (cp1252 or
latin-1), or the one the caller names. A row that cannot be imported is reported by its line
number and skipped; the good rows are imported. Every message names the file and the line.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import replace
from functools import lru_cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from inbox_watch.engine.contact import PhoneKind, phone_kind
from inbox_watch.errors import UsageError
from inbox_watch.models import Candidate

COLUMNS = ("name", "email", "phone", "role", "employer", "employer_email", "stage", "timezone")
_EMAIL = re.compile(r"^[^@\s<>,;]+@[^@\s<>,;]+\.[^@\s<>,;]+$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_ADDRESS_COLUMNS = ("email", "employer_email")
_REPEATABLE = (*_ADDRESS_COLUMNS, "phone")  # a repeated phone column (Mobile, Phone) offers each number
DELIMITERS = (",", ";", "\t")
SINGLE_BYTE = ("cp1252", "latin_1")  # what charset-normalizer chooses between for a non-UTF file
_CALLABLE = (PhoneKind.MOBILE, PhoneKind.MOBILE_OR_LANDLINE)

# Headings as spreadsheets write them, by their letters and digits only ("E-mail Address" ->
# "emailaddress"). Phone headings come in order of preference: a mobile before a general number.
_ALIASES: dict[str, tuple[str, ...]] = {
    "name": ("name", "fullname", "candidate", "candidatename", "displayname"),
    "email": ("email", "emails", "emailaddress", "mail", "candidateemail", "personalemail", "email1", "emailaddress1"),
    "phone": (
        "mobile",
        "mobilephone",
        "mobilenumber",
        "mobileno",
        "cell",
        "cellphone",
        "phone",
        "phonenumber",
        "telephone",
        "tel",
        "primaryphone",
        "homephone",
    ),
    "role": ("role", "position", "jobtitle", "title", "job", "vacancy"),
    "employer": ("employer", "company", "client", "organisation", "organization", "companyname"),
    "employer_email": (
        "employeremail",
        "employeremails",
        "clientemail",
        "contactemail",
        "employercontact",
        "hiringmanageremail",
        "hiringcontact",
    ),
    "stage": ("stage", "status", "interviewstage"),
    "timezone": ("timezone", "tz", "zone"),
    "first_name": ("firstname", "givenname", "forename"),
    "last_name": ("lastname", "surname", "familyname"),
}
_CANONICAL = {alias: column for column, aliases in _ALIASES.items() for alias in aliases}
_PHONE_RANK = {alias: rank for rank, alias in enumerate(_ALIASES["phone"])}


class BadRow(ValueError):
    """One row that cannot be imported; the message says why."""


def _squash(heading: str) -> str:
    return re.sub(r"[\W_]+", "", heading.casefold())


def decode(data: bytes, encoding: str | None = None) -> tuple[str, str]:
    """(text, encoding used): ``encoding`` when given; UTF-8 (BOM or not); UTF-16 with a BOM;
    else the Western code page charset-normalizer finds likeliest (cp1252 when in doubt)."""
    if encoding:
        return data.decode(encoding), encoding
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8"), "utf-8 (BOM)"
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16"), "utf-16"
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    best = from_bytes(data, cp_isolation=list(SINGLE_BYTE)).best()
    found = best.encoding if best is not None else "cp1252"
    try:
        return data.decode(found), found
    except UnicodeDecodeError:  # a byte cp1252 leaves undefined: latin-1 reads every byte
        return data.decode("latin_1"), "latin_1"


def _header(first_line: str) -> tuple[str, list[str]]:
    """The delimiter that makes the most known headings of ``first_line``, and its cells."""
    best: tuple[int, int, str, list[str]] | None = None
    for delimiter in DELIMITERS:
        cells = next(csv.reader([first_line], delimiter=delimiter), [])
        known = sum(1 for c in cells if _squash(c) in _CANONICAL)
        score = (known, len(cells))
        if best is None or score > best[:2]:
            best = (*score, delimiter, cells)
    assert best is not None
    return best[2], best[3]


@lru_cache(maxsize=512)
def _zone_ok(zone: str) -> bool:
    try:
        ZoneInfo(zone)
    except (KeyError, ValueError, OSError):
        return False
    return True


def _addresses(column: str, value: str) -> tuple[str, ...]:
    found = []
    for part in value.split(";"):
        part = part.strip().lower()
        if not part:
            continue
        if not _EMAIL.match(part):
            raise BadRow(f"{column} {part!r} is not an email address")
        found.append(part)
    return tuple(dict.fromkeys(found))


def _text(column: str, value: str) -> str:
    if _CONTROL.search(value):
        raise BadRow(f"{column} contains a line break or control character")
    return " ".join(value.split())


def read_roster(
    path: Path,
    notes: list[str] | None = None,
    problems: list[str] | None = None,
    *,
    region: str = "GB",
    encoding: str | None = None,
) -> list[Candidate]:
    """The candidates in the roster at ``path``, one per name: rows of the same name (any case
    or spacing) are merged into the first (every address kept, other fields from the first row
    that has them), and a repeated ``email`` or ``employer_email`` column adds its addresses.

    ``notes`` gets what the recruiter should know (merges, the encoding when it is not UTF-8,
    ignored columns, numbers that cannot take a call). A row that cannot be imported goes to
    ``problems`` as "FILE:LINE: why" and is skipped; without ``problems`` it is a UsageError.
    A file whose header names no name or email column is always a UsageError. ``region`` is the
    country a phone number without its + code is read in."""
    notes = notes if notes is not None else []
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise UsageError(f"{path}: no such file") from None
    except OSError as exc:
        raise UsageError(f"{path}: cannot read the roster: {exc.strerror or exc}") from None
    try:
        text, used = decode(data, encoding)
    except (LookupError, UnicodeDecodeError) as exc:
        raise UsageError(f"{path}: cannot read the roster as {encoding}: {exc}") from None
    if not used.startswith("utf-8"):
        notes.append(f"{path}: read as {used} (not UTF-8); if names look wrong, pass --encoding")

    first_line, _, _ = text.partition("\n")
    offset = 0
    sep = re.fullmatch(r"\s*sep=(.)\s*", first_line)  # Excel's "sep=;" line before the header
    if sep:
        text = text.partition("\n")[2]
        first_line, offset = text.partition("\n")[0], 1
        delimiter = sep.group(1)
        header_cells = next(csv.reader([first_line], delimiter=delimiter), [])
    else:
        try:
            delimiter, header_cells = _header(first_line)
        except csv.Error as exc:
            raise UsageError(f"{path}:1: cannot read the roster: {exc}") from None
    header = [_CANONICAL.get(_squash(h), "") for h in header_cells]
    if "email" not in header or ("name" not in header and "first_name" not in header):
        shown = ", ".join(repr(h.strip()) for h in header_cells[:8] if h.strip()) or "nothing"
        raise UsageError(
            f"{path}:{1 + offset}: the first line must name the columns, with at least a name and an email "
            f"(e.g. {','.join(COLUMNS)}); found {shown}"
        )
    repeated = sorted({h for h in header if h and header.count(h) > 1} - set(_REPEATABLE))
    if repeated:
        raise UsageError(f"{path}:{1 + offset}: the column {repeated[0]!r} appears more than once")
    ignored = [h.strip() for h, c in zip(header_cells, header, strict=True) if not c and h.strip()]
    if ignored:
        notes.append(f"{path}: ignored columns: {', '.join(ignored)}")
    phone_order = sorted(
        (i for i, c in enumerate(header) if c == "phone"), key=lambda i: _PHONE_RANK[_squash(header_cells[i])]
    )

    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    try:
        return _rows(path, reader, offset, header, phone_order, region, notes, problems)
    except csv.Error as exc:  # a field over the csv module's limit (128 KB), a NUL byte ...
        raise UsageError(f"{path}:{reader.line_num + offset}: cannot read the roster: {exc}") from None


def _rows(
    path: Path,
    reader: Any,
    offset: int,
    header: list[str],
    phone_order: list[int],
    region: str,
    notes: list[str],
    problems: list[str] | None,
) -> list[Candidate]:
    next(reader, None)
    merged: dict[str, tuple[int, Candidate]] = {}
    for cells in reader:
        line = reader.line_num + offset
        if not any(cell.strip() for cell in cells):
            continue  # a blank row, or Excel's ";;;;" under the table
        try:
            candidate = _candidate(header, cells, phone_order, region, notes, f"{path}:{line}")
        except BadRow as exc:
            if problems is None:
                raise UsageError(f"{path}:{line}: {exc}") from None
            problems.append(f"{path}:{line}: {exc}")
            continue
        key = " ".join(candidate.name.split()).casefold()
        if key in merged:
            first_line_no, first = merged[key]
            merged[key] = (first_line_no, _merge(first, candidate))
            notes.append(f"{path}:{line}: {candidate.name} is also on line {first_line_no}: merged into one candidate")
        else:
            merged[key] = (line, candidate)
    return [candidate for _, candidate in merged.values()]


def _candidate(
    header: list[str], cells: list[str], phone_order: list[int], region: str, notes: list[str], where: str
) -> Candidate:
    values: dict[str, str] = {}
    for column, cell in zip(header, cells, strict=False):
        if not column or column == "phone":
            continue
        if column in values and column in _ADDRESS_COLUMNS:
            values[column] = f"{values[column]};{cell}"
        else:
            values[column] = cell or ""
    name = _text("name", values.get("name", ""))
    if not name:
        name = _text("name", f"{values.get('first_name', '')} {values.get('last_name', '')}")
    if not name:
        raise BadRow("every row needs a name")
    emails = _addresses("email", values.get("email", ""))
    if not emails:
        raise BadRow(f"{name} has no email address")
    zone = _text("timezone", values.get("timezone", ""))
    if zone and not _zone_ok(zone):
        notes.append(f"{where}: {name}'s timezone {zone!r} is not an IANA zone such as 'Europe/Paris': left out")
        zone = ""
    phone = _phone([_text("phone", cells[i]) for i in phone_order if i < len(cells)], region)
    kind = phone_kind(phone, region) if phone else PhoneKind.NONE
    if kind not in (PhoneKind.NONE, *_CALLABLE):
        what = "is not a valid number" if kind is PhoneKind.INVALID else f"is a {kind.value}"
        notes.append(f"{where}: {name}'s phone {phone!r} {what}: no call or text will be offered")
    return Candidate(
        name=name,
        emails=emails,
        phone=phone,
        role=_text("role", values.get("role", "")),
        employer=_text("employer", values.get("employer", "")),
        employer_emails=_addresses("employer_email", values.get("employer_email", "")),
        stage=_text("stage", values.get("stage", "")),
        timezone=zone,
    )


def _phone(numbers: list[str], region: str) -> str:
    """The number to keep of a row's phone columns: the first that can take a call (a mobile
    column is read before a general one), else the first given."""
    given = [n for n in numbers if n]
    if len(given) > 1:
        for number in given:
            if phone_kind(number, region) in _CALLABLE:
                return number
    return given[0] if given else ""


def _merge(first: Candidate, again: Candidate) -> Candidate:
    """One candidate from two rows of the same name: every address, other fields from the first
    row that has them."""
    return replace(
        first,
        emails=tuple(dict.fromkeys(first.emails + again.emails)),
        phone=first.phone or again.phone,
        role=first.role or again.role,
        employer=first.employer or again.employer,
        employer_emails=tuple(dict.fromkeys(first.employer_emails + again.employer_emails)),
        stage=first.stage or again.stage,
        timezone=first.timezone or again.timezone,
    )
