"""Spreadsheet intake: firm lists as officers have them, read into source records.

An officer's list is not a contract file: a title or two above the header, header cells merged
across columns, several sheets, Vietnamese or English headers, numbers written the Vietnamese
way (``1.234.567``), dates as text. Intake reads every sheet through the bounded workbook reader
(:func:`ketnoi.graph._read.read_sheets`), fills merged cells from the sheet's own
``<mergeCells>`` XML (openpyxl's read-only sheets do not expose them), finds the header row,
and proposes a **column mapping** (header synonyms in both languages first, then what the cells
hold). The user confirms or edits the mapping (a JSON file); it is saved per source and used for
the next list from it. Each row becomes a :class:`SourceRecord` that keeps its list, sheet, row
and raw cells: nothing is lost, and a problem names list, sheet, row, column and reason.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import zipfile
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path, PurePosixPath
from xml.etree import ElementTree

from ketnoi.graph._normalise import fold, nfc
from ketnoi.graph._problems import Problem
from ketnoi.graph._read import read_sheets
from ketnoi.graph._taxcode import parse_tax_code

__all__ = [
    "FIELD_SYNONYMS",
    "ColumnChoice",
    "IntakeResult",
    "SheetMapping",
    "SourceRecord",
    "load_mappings",
    "merged_ranges",
    "parse_vn_number",
    "parse_year",
    "propose_mapping",
    "read_intake",
    "records_as_dicts",
    "save_mappings",
]

#: What an intake column can be, with the headers (folded: no accents, lower case) that name it
#: in officers' lists, Vietnamese and English. A header matches a field when it equals one of
#: these or starts with one (``so dien thoai lien he``).
FIELD_SYNONYMS: dict[str, tuple[str, ...]] = {
    "name": (
        "ten doanh nghiep",
        "ten cong ty",
        "ten dn",
        "ten don vi",
        "doanh nghiep",
        "ten",
        "company name",
        "company",
        "firm name",
        "enterprise name",
        "name",
    ),
    "name_en": ("ten tieng anh", "ten giao dich", "english name", "name (english)", "name_en"),
    "tax_code": ("ma so thue", "mst", "ma so doanh nghiep", "tax code", "tax id", "tax_code"),
    "address": ("dia chi", "tru so", "address", "dia chi tru so"),
    "sector": ("nganh nghe", "linh vuc", "nganh", "sector", "industry", "business line"),
    "products": ("san pham chinh", "san pham", "mat hang", "main products", "products"),
    "certifications": ("chung chi", "chung nhan", "certifications", "certificates", "iso"),
    "employees": ("so lao dong", "lao dong", "so nhan vien", "employees", "workers", "headcount"),
    "founded": ("nam thanh lap", "ngay thanh lap", "thanh lap", "founded", "year founded"),
    "park": ("khu cong nghiep", "kcn", "cum cong nghiep", "ccn", "industrial park", "park"),
    "phone": ("dien thoai", "so dien thoai", "sdt", "dt", "tel", "phone", "telephone"),
    "email": ("email", "e-mail", "thu dien tu", "mail"),
    "website": ("website", "trang web", "web"),
    "contact_person": ("nguoi lien he", "nguoi dai dien", "contact person", "contact"),
    "province": ("tinh/thanh pho", "tinh thanh", "tinh", "province", "city"),
    "district": ("quan/huyen", "quan huyen", "huyen", "quan", "district"),
}

#: Headers that are row numbers, never data (STT: số thứ tự).
_ROW_NUMBER_HEADERS = frozenset({"stt", "tt", "no", "no.", "#", "so tt"})
#: How many rows from the top of a sheet may be titles before its header.
_HEADER_SEARCH_ROWS = 20
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[a-z]{2,}$", re.IGNORECASE)
_PHONE = re.compile(r"^\+?[\d .()\-]{8,16}$")
_DATE = re.compile(r"^(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{4})$")
_VN_THOUSANDS = re.compile(r"^\d{1,3}(\.\d{3})+$")
_EN_THOUSANDS = re.compile(r"^\d{1,3}(,\d{3})+$")


@dataclass(frozen=True)
class ColumnChoice:
    """One column of a sheet and the field it is mapped to (``""``: not imported, kept raw)."""

    index: int
    header: str
    field: str
    why: str = ""


@dataclass
class SheetMapping:
    """How one sheet of a list reads: its header row and what each column is."""

    sheet: str
    header_line: int
    columns: list[ColumnChoice]

    def field_of(self, header: str) -> str:
        return next((c.field for c in self.columns if c.header == header), "")


@dataclass
class SourceRecord:
    """One row of a list as it arrived (``raw``, by header) and as read (``fields``)."""

    source: str
    sheet: str
    line: int
    raw: dict[str, str]
    fields: dict[str, object] = field(default_factory=dict)


@dataclass
class IntakeResult:
    """What intake read from one list: its records, the mappings used and the problems."""

    records: list[SourceRecord]
    mappings: dict[str, SheetMapping]
    problems: list[Problem]


# -- values written the way officers write them --------------------------------------------
def parse_vn_number(text: str) -> float | None:
    """A number as written in a Vietnamese list; None when it is not one.

    Dots group thousands and a comma is the decimal mark (``1.234.567``, ``12,5``); a number
    grouped with commas only (``1,234,567``) is read the English way.

    Examples
    --------
    >>> parse_vn_number("1.234.567"), parse_vn_number("12,5"), parse_vn_number("1,250,000")
    (1234567.0, 12.5, 1250000.0)
    >>> parse_vn_number("khoảng 200") is None
    True
    """
    text = text.strip().replace(" ", "").replace("\u00a0", "")
    if not text:
        return None
    if _VN_THOUSANDS.match(text):
        text = text.replace(".", "")
    elif _EN_THOUSANDS.match(text):
        text = text.replace(",", "")
    elif "," in text and "." not in text:
        text = text.replace(",", ".")
    elif "," in text:  # 1.234,5: dots group, the comma is the decimal mark
        text = text.replace(".", "").replace(",", ".")
    try:
        return float(text)
    except ValueError:
        return None


def parse_year(text: str) -> int | None:
    """The year of a date written as text (``15/03/2005``, ``2005-03-15``, ``2005``).

    Examples
    --------
    >>> parse_year("15/03/2005"), parse_year("2005-03-15"), parse_year("2005")
    (2005, 2005, 2005)
    """
    text = text.strip()
    if (found := _DATE.match(text)) is not None:
        year = int(found.group(3))
    elif re.match(r"^\d{4}(-\d{2}-\d{2})?$", text):
        year = int(text[:4])
    else:
        return None
    return year if 1900 <= year <= dt.date.today().year else None


# -- merged cells, from the sheet's own XML -------------------------------------------------
def _cell_index(ref: str) -> tuple[int, int]:
    letters = "".join(ch for ch in ref if ch.isalpha())
    column = 0
    for ch in letters.upper():
        column = column * 26 + ord(ch) - 64
    return int(ref[len(letters) :]), column - 1


def merged_ranges(path: Path) -> dict[str, list[tuple[int, int, int, int]]]:
    """Merged ranges by sheet title: ``(first_row, first_col, last_row, last_col)``, rows
    numbered from 1 as a spreadsheet shows, columns from 0.

    Read from each sheet part's ``<mergeCells>``; a part that cannot be parsed gives none (the
    bounded reader reports damaged parts).
    """
    ns = {
        "m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
        "r": "http://schemas.openxmlformats.org/officeDocument/2006/relationships",
    }
    rel_ns = "{http://schemas.openxmlformats.org/package/2006/relationships}"
    found: dict[str, list[tuple[int, int, int, int]]] = {}
    try:
        with zipfile.ZipFile(path) as archive:
            book = ElementTree.fromstring(archive.read("xl/workbook.xml"))
            rels = ElementTree.fromstring(archive.read("xl/_rels/workbook.xml.rels"))
            targets = {r.get("Id"): r.get("Target", "") for r in rels.iter(f"{rel_ns}Relationship")}
            for sheet in book.iterfind("m:sheets/m:sheet", ns):
                target = targets.get(sheet.get(f"{{{ns['r']}}}id"), "")
                part = target.lstrip("/") if target.startswith("/") else f"xl/{target}"
                part = str(PurePosixPath(part))
                ranges = []
                with archive.open(part) as stream:
                    for _, element in ElementTree.iterparse(stream):
                        if element.tag == f"{{{ns['m']}}}mergeCell":
                            first, _, last = element.get("ref", "").partition(":")
                            (r1, c1), (r2, c2) = _cell_index(first), _cell_index(last or first)
                            ranges.append((r1, c1, r2, c2))
                        elif element.tag == f"{{{ns['m']}}}row":
                            element.clear()  # rows are the reader's: keep memory flat
                found[sheet.get("name", "")] = ranges
    except (OSError, KeyError, zipfile.BadZipFile, ElementTree.ParseError):
        return found
    return found


def _fill_merged(
    rows: list[tuple[int, list[str]]], ranges: list[tuple[int, int, int, int]]
) -> list[tuple[int, list[str]]]:
    # A merged range shows its first cell's value across the range: a header "Liên hệ" merged
    # over two columns heads both, and a sector merged down a block of rows belongs to each.
    by_line = {line: cells for line, cells in rows}
    for r1, c1, r2, c2 in ranges:
        top = by_line.get(r1)
        if top is None or c1 >= len(top) or not top[c1]:
            continue
        for line in range(r1, r2 + 1):
            cells = by_line.get(line)
            if cells is None:
                continue
            cells.extend([""] * (c2 + 1 - len(cells)))
            for col in range(c1, c2 + 1):
                if not cells[col]:
                    cells[col] = top[c1]
    return rows


# -- the mapping ----------------------------------------------------------------------------
def _header_field(header: str) -> tuple[str, str]:
    key = fold(header).strip(" :*")
    if not key:
        return "", ""
    for name, synonyms in FIELD_SYNONYMS.items():
        if key in synonyms:
            return name, f"header '{header}'"
    for name, synonyms in FIELD_SYNONYMS.items():
        if any(key.startswith(s + " ") or key.endswith(" " + s) for s in synonyms if len(s) > 3):
            return name, f"header '{header}'"
    return "", ""


def _content_field(values: list[str]) -> tuple[str, str]:
    filled = [v for v in values if v.strip()][:200]
    if len(filled) < 2:
        return "", ""

    def share(test: Callable[[str], object]) -> float:
        return sum(1 for v in filled if test(v)) / len(filled)

    if share(lambda v: parse_tax_code(v).head != "") >= 0.8:
        return "tax_code", "cells look like tax codes"
    if share(lambda v: _EMAIL.match(v.strip())) >= 0.8:
        return "email", "cells look like e-mail addresses"
    if share(lambda v: _PHONE.match(v.strip()) and sum(c.isdigit() for c in v) >= 9) >= 0.8:
        return "phone", "cells look like phone numbers"
    return "", ""


def _header_row(rows: list[tuple[int, list[str]]]) -> int:
    # The header is the top row that names the most known fields (title rows above it name
    # none); ties go to the upper row.
    best, best_hits = 0, 0
    for pos, (_, cells) in enumerate(rows[:_HEADER_SEARCH_ROWS]):
        hits = len({_header_field(c)[0] for c in cells if c} - {""})
        if hits > best_hits:
            best, best_hits = pos, hits
    return best


def propose_mapping(sheet: str, rows: list[tuple[int, list[str]]]) -> SheetMapping:
    """Propose how a sheet reads: its header row and a field for each column.

    Parameters
    ----------
    sheet : str
        The sheet's title.
    rows : list of (line, cells)
        The sheet's non-blank rows, merged cells filled.

    Returns
    -------
    SheetMapping
        A column's field comes from its header (synonyms in both languages) or, where the
        header says nothing, from what its cells hold (tax codes, e-mail addresses, phone
        numbers); each choice says why. A field is given to one column only.
    """
    if not rows:
        return SheetMapping(sheet, 0, [])
    at = _header_row(rows)
    header_line, header = rows[at]
    body = [cells for _, cells in rows[at + 1 :]]
    taken: set[str] = set()
    columns = []
    for index, text in enumerate(header):
        name, why = _header_field(text)
        if not name and fold(text) not in _ROW_NUMBER_HEADERS:
            name, why = _content_field([r[index] if index < len(r) else "" for r in body])
        if name in taken:
            name, why = "", f"'{name}' is already another column's"
        taken.add(name)
        columns.append(ColumnChoice(index, text, name, why))
    return SheetMapping(sheet, header_line, columns)


def save_mappings(mappings: dict[str, SheetMapping], path: Path) -> None:
    """Write the mappings of a list's sheets as a JSON file for the user to check and edit."""
    data = {
        name: {
            "header_line": m.header_line,
            "columns": [
                {"column": c.index + 1, "header": c.header, "field": c.field, "why": c.why}
                for c in m.columns
            ],
        }
        for name, m in mappings.items()
    }
    text = json.dumps({"fields": sorted(FIELD_SYNONYMS), "sheets": data}, ensure_ascii=False)
    path.write_text(text, encoding="utf-8")


def load_mappings(path: Path) -> tuple[dict[str, SheetMapping], list[Problem]]:
    """Read a mapping file as :func:`save_mappings` wrote it and the user edited it."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        sheets = data["sheets"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        return {}, [Problem(path.name, None, None, f"not a mapping file: {exc}")]
    mappings: dict[str, SheetMapping] = {}
    problems: list[Problem] = []
    for name, sheet in sheets.items():
        columns = []
        for item in sheet.get("columns", []):
            chosen = str(item.get("field") or "")
            if chosen and chosen not in FIELD_SYNONYMS:
                problems.append(
                    Problem(
                        path.name,
                        None,
                        str(item.get("header", "")),
                        f"sheet {name!r}: unknown field {chosen!r}; one of"
                        f" {', '.join(sorted(FIELD_SYNONYMS))}, or empty",
                    )
                )
            columns.append(
                ColumnChoice(int(item["column"]) - 1, str(item.get("header", "")), chosen)
            )
        mappings[name] = SheetMapping(name, int(sheet.get("header_line", 1)), columns)
    return mappings, problems


# -- reading a list -------------------------------------------------------------------------
def _read_fields(
    cells: list[str], mapping: SheetMapping, label: str, line: int
) -> tuple[dict[str, object], list[Problem]]:
    fields: dict[str, object] = {}
    problems: list[Problem] = []
    for choice in mapping.columns:
        column = choice.header or f"column {choice.index + 1}"
        cell = cells[choice.index] if choice.index < len(cells) else ""
        text = " ".join(nfc(cell).split())
        if not choice.field or not text:
            continue
        value: object = text
        if choice.field == "employees":
            number = parse_vn_number(text)
            if number is None or number < 0 or not number.is_integer():
                problems.append(Problem(label, line, column, f"{text!r} is not a head count"))
                continue
            value = int(number)
        elif choice.field == "founded":
            value = parse_year(text)
            if value is None:
                problems.append(Problem(label, line, column, f"{text!r} is not a year"))
                continue
        elif choice.field == "tax_code":
            code = parse_tax_code(text)
            if code.problem:
                problems.append(
                    Problem(
                        label,
                        line,
                        column,
                        f"tax code {text!r} {code.problem}",
                        severity="warning",
                    )
                )
            value = code.formatted
        elif choice.field == "email":
            value = text.lower()
        fields[choice.field] = value
    return fields, problems


def read_intake(
    path: Path, source: str, mappings: dict[str, SheetMapping] | None = None
) -> IntakeResult:
    """Read an officer's workbook into source records.

    Parameters
    ----------
    path : Path
        An ``.xlsx`` workbook: any number of sheets, titles above the header allowed.
    source : str
        The list's name (``"kcn-thang-long-2025"``): every record keeps it.
    mappings : dict, optional
        Confirmed mappings by sheet title (from :func:`load_mappings`); a sheet without one
        gets a proposed mapping (:func:`propose_mapping`), returned for the user to check.

    Returns
    -------
    IntakeResult
        Every non-blank row below a header becomes a record (a row with no name too: it is
        reported, not dropped); a sheet whose header names no field is reported and skipped.
    """
    sheets, problems = read_sheets(path)
    merged = merged_ranges(path)
    records: list[SourceRecord] = []
    used: dict[str, SheetMapping] = {}
    for title, rows in sheets:
        label = f"{path.name}[{title}]"
        rows = _fill_merged(rows, merged.get(title, []))
        mapping = (mappings or {}).get(title) or propose_mapping(title, rows)
        used[title] = mapping
        if not any(c.field for c in mapping.columns):
            if rows:
                problems.append(Problem(label, None, None, "no column names a firm field"))
            continue
        # Raw cells are kept by header; a header met twice (merged across columns) or none
        # gets its column number, so that no cell overwrites another.
        headers: dict[int, str] = {}
        for c in mapping.columns:
            name = c.header or f"column {c.index + 1}"
            headers[c.index] = f"{name} ({c.index + 1})" if name in headers.values() else name
        for line, cells in rows:
            if line <= mapping.header_line:
                continue
            raw = {headers.get(i, f"column {i + 1}"): v for i, v in enumerate(cells) if v}
            fields, found = _read_fields(cells, mapping, label, line)
            problems.extend(found)
            if "name" not in fields:
                problems.append(Problem(label, line, None, "the row has no firm name"))
            records.append(SourceRecord(source, title, line, raw, fields))
    return IntakeResult(records, used, sorted(problems, key=lambda p: (p.file, p.line or 0)))


def records_as_dicts(records: list[SourceRecord]) -> list[dict[str, object]]:
    """Records as plain dicts (for JSON and storage)."""
    return [asdict(r) for r in records]
