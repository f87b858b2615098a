"""Rosters as people have them: Excel exports in other delimiters, encodings and headings, with
bad rows reported by line while the good ones are imported."""

from __future__ import annotations

from pathlib import Path

import pytest

from inbox_watch.errors import UsageError
from inbox_watch.roster import read_roster


def write(tmp_path: Path, data: bytes, name: str = "roster.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def test_a_european_excel_export_semicolons_cp1252_crlf(tmp_path: Path) -> None:
    text = (
        "Name;Email Address;Mobile;Company;Job Title\r\n"
        "Zoë Clarke;zoe@example.com;07700 100001;Société Générale;Analyste\r\n"
        "Jürgen Müller;jm@example.de;+49 151 12345678;Bäckerei Groß;Bäcker\r\n"
    )
    notes: list[str] = []
    zoe, jurgen = read_roster(write(tmp_path, text.encode("cp1252")), notes)
    assert (zoe.name, zoe.emails, zoe.phone, zoe.employer, zoe.role) == (
        "Zoë Clarke",
        ("zoe@example.com",),
        "07700 100001",
        "Société Générale",
        "Analyste",
    )
    assert jurgen.name == "Jürgen Müller" and jurgen.employer == "Bäckerei Groß"
    assert any("read as cp1252 (not UTF-8)" in n for n in notes)


def test_a_cp1252_comma_file_is_read_not_a_codec_error(tmp_path: Path) -> None:
    path = write(
        tmp_path, "name,email\r\nRené Dupont,rene@example.fr\r\n“Jo” Smith,jo@example.com\r\n".encode("cp1252")
    )
    assert [c.name for c in read_roster(path)] == ["René Dupont", "“Jo” Smith"]


@pytest.mark.parametrize(
    ("data", "used"),
    [
        ("\ufeffname\temail\nZoë Clarke\tzoe@example.com\n".encode(), None),  # UTF-8 with BOM, tabs
        ("name\temail\nZoë Clarke\tzoe@example.com\n".encode(), None),  # UTF-8 without BOM
        ("name\temail\r\nZoë Clarke\tzoe@example.com\r\n".encode("utf-16"), "utf-16"),  # Excel "Unicode Text"
        ("sep=;\r\nname;email\r\nZoë Clarke;zoe@example.com\r\n".encode("cp1252"), "cp1252"),  # Excel's sep= line
    ],
)
def test_encodings_and_delimiters_are_found(tmp_path: Path, data: bytes, used: str | None) -> None:
    notes: list[str] = []
    (zoe,) = read_roster(write(tmp_path, data), notes)
    assert (zoe.name, zoe.emails) == ("Zoë Clarke", ("zoe@example.com",))
    assert any(f"read as {used}" in n for n in notes) if used else not notes


def test_bad_rows_are_reported_by_line_and_the_good_ones_imported(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        b"name,email,phone\n"
        b"Ann Lee,ann@example.com,07700 100001\n"  # 2
        b"No Address,,07700 100002\n"  # 3
        b'"Bob\nRay",bob@example.com,\n'  # 4-5: a quoted line break in a name
        b",,\n"  # 6: an empty row, skipped silently
        b"Cy Day,not-an-address,\n"  # 7
        b",nobody@example.com,\n"  # 8
        b"Dee Fox,dee@example.com,\n",  # 9
    )
    problems: list[str] = []
    found = read_roster(path, problems=problems)
    assert [c.name for c in found] == ["Ann Lee", "Dee Fox"]
    assert problems == [
        f"{path}:3: No Address has no email address",
        f"{path}:5: name contains a line break or control character",
        f"{path}:7: email 'not-an-address' is not an email address",
        f"{path}:8: every row needs a name",
    ]
    with pytest.raises(UsageError, match=f"{path}:3: No Address has no email address"):
        read_roster(path)  # without a list for problems, the first one is the error


def test_common_headings_first_and_last_name_and_the_mobile_preferred(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        b"First Name,Last Name,E-mail Address,Phone,Mobile Phone,Organisation,Position,Time Zone,Notes\n"
        b"Li,Wei,li@example.com,+86 10 1234 5678,+86 138 0013 8000,Litware,Analyst,Asia/Shanghai,met at fair\n"
        b"Ann,Lee,ann@example.com,020 7946 0000,,Acme,Dev,Mars/Olympus,\n",
    )
    notes: list[str] = []
    li, ann = read_roster(path, notes)
    assert (li.name, li.phone, li.employer, li.role, li.timezone) == (
        "Li Wei",
        "+86 138 0013 8000",
        "Litware",
        "Analyst",
        "Asia/Shanghai",
    )
    assert (ann.name, ann.phone, ann.timezone) == ("Ann Lee", "020 7946 0000", "")
    assert f"{path}: ignored columns: Notes" in notes
    assert f"{path}:3: Ann Lee's phone '020 7946 0000' is a landline: no call or text will be offered" in notes
    assert any(n.startswith(f"{path}:3: Ann Lee's timezone 'Mars/Olympus' is not an IANA zone") for n in notes)


def test_a_header_without_name_or_email_says_what_it_found(tmp_path: Path) -> None:
    path = write(tmp_path, "Vorname;Telefon\r\nZoë;0171\r\n".encode("cp1252"))
    with pytest.raises(
        UsageError, match=r"roster.csv:1: the first line must name the columns.*found 'Vorname', 'Telefon'"
    ):
        read_roster(path)


def test_an_encoding_can_be_named(tmp_path: Path) -> None:
    path = write(tmp_path, "name,email\nPaweł Nowak,pawel@example.pl\n".encode("cp1250"))
    (pawel,) = read_roster(path, encoding="cp1250")
    assert pawel.name == "Paweł Nowak"
    with pytest.raises(UsageError, match="cannot read the roster as klingon"):
        read_roster(path, encoding="klingon")
