"""Reading raw tables from CSV folders and XLSX workbooks, as text, with spreadsheet line numbers.

Nothing here interprets values: every cell comes back as a string so that the validator can
report each bad cell by file, line and column instead of failing on the first one.
"""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass, field
from pathlib import Path

from ketnoi.graph._problems import Problem

__all__ = ["RawTable", "read_source"]


@dataclass
class RawTable:
    """A table read as text.

    ``lines[i]`` is the line number a spreadsheet shows for ``rows[i]``; ``header_line`` is the
    header's (1 unless blank lines come first).
    """

    label: str
    header: list[str]
    rows: list[list[str]]
    lines: list[int] = field(default_factory=list)
    decimal: str = "."
    """Decimal mark of number cells: ``,`` in semicolon-separated CSV (European Excel)."""
    header_line: int = 1


def _decode(data: bytes, label: str) -> tuple[str | None, list[Problem]]:
    if data.startswith(b"\xff\xfe") or data.startswith(b"\xfe\xff"):
        try:
            return data.decode("utf-16"), []
        except UnicodeDecodeError:
            pass
    # Drop a byte-order mark, as Excel's "CSV UTF-8" writes one; strip it from the bytes (not
    # with utf-8-sig) so that the error offset below counts from the start of the file.
    start = 3 if data.startswith(b"\xef\xbb\xbf") else 0
    try:
        return data[start:].decode("utf-8"), []
    except UnicodeDecodeError as exc:
        data = data[start:]
        line = data[: exc.start].count(b"\n") + 1
        return None, [
            Problem(
                label,
                line,
                None,
                f"not valid UTF-8 (byte 0x{data[exc.start]:02x}); save the file as UTF-8 "
                "(Excel: 'CSV UTF-8')",
            )
        ]


def _read_csv(path: Path, label: str) -> tuple[RawTable | None, list[Problem]]:
    try:
        data = path.read_bytes()
    except OSError as exc:
        return None, [Problem(label, None, None, f"cannot be read: {exc.strerror or exc}")]
    if not data.strip():
        return None, [Problem(label, None, None, "file is empty (no header row)")]
    text, problems = _decode(data, label)
    if text is None:
        return None, problems
    # Only the delimiter is sniffed (from the header line): the sniffed dialect turns off
    # doublequote when the header has no quotes, which would split cells holding "" escapes.
    first = next((line for line in text.splitlines() if line.strip()), "")
    try:
        delimiter = csv.Sniffer().sniff(first, delimiters=",;\t").delimiter
    except csv.Error:
        delimiter = ","
    # strict: a quote left open would otherwise swallow every later row into one cell.
    reader = csv.reader(io.StringIO(text, newline=""), csv.excel, delimiter=delimiter, strict=True)
    header: list[str] | None = None
    rows: list[list[str]] = []
    lines: list[int] = []
    record = 0
    header_line = 1
    try:
        for cells in reader:
            record += 1
            if header is None:
                if not any(c.strip() for c in cells):
                    continue
                header = cells
                header_line = record
                continue
            if not any(c.strip() for c in cells):
                continue
            rows.append(cells)
            lines.append(record)
    except csv.Error as exc:
        problems.append(Problem(label, record + 1, None, f"unreadable CSV: {exc}"))
        return None, problems
    if header is None:
        return None, [Problem(label, None, None, "file is empty (no header row)")]
    decimal = "," if delimiter == ";" else "."
    return RawTable(label, header, rows, lines, decimal, header_line), problems


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if math.isnan(value):
            return ""
        if value.is_integer():
            return str(int(value))
    if hasattr(value, "isoformat"):
        return str(value.isoformat())[:10]
    return str(value)


def _read_workbook(path: Path) -> tuple[dict[str, RawTable], list[Problem]]:
    import openpyxl

    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a damaged file
        return {}, [Problem(path.name, None, None, f"not a readable XLSX workbook: {exc}")]
    tables: dict[str, RawTable] = {}
    for sheet in book.worksheets:
        label = f"{path.name}[{sheet.title}]"
        header: list[str] | None = None
        rows: list[list[str]] = []
        lines: list[int] = []
        for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
            cells = [_cell_text(v) for v in values]
            if not any(c.strip() for c in cells):
                continue
            if header is None:
                header = cells
                continue
            rows.append(cells)
            lines.append(number)
        if header is None:
            continue
        while header and header[-1] == "":
            header.pop()
        tables[sheet.title.strip().lower().removesuffix(".csv")] = RawTable(
            label, header, [r[: len(header)] + [""] * (len(header) - len(r)) for r in rows], lines
        )
    book.close()
    return tables, []


def read_source(source: Path, names: tuple[str, ...]) -> tuple[dict[str, RawTable], list[Problem]]:
    """Read every contract file present in a dataset folder or workbook.

    Parameters
    ----------
    source : Path
        A folder of ``<name>.csv`` files, or one ``.xlsx`` workbook with a sheet per file.
    names : tuple of str
        The contract's file names.

    Returns
    -------
    tables : dict
        Raw tables by contract file name; files that are absent are absent here too.
    problems : list of Problem
        Files that could not be read at all.
    """
    if not source.exists():
        return {}, [Problem(str(source), None, None, "no such file or folder")]
    if source.is_file():
        if source.suffix.lower() in {".xlsx", ".xlsm"}:
            return _read_workbook(source)
        return {}, [
            Problem(source.name, None, None, "expected a folder of CSV files or an .xlsx workbook")
        ]
    tables: dict[str, RawTable] = {}
    problems: list[Problem] = []
    workbooks = sorted(source.glob("*.xlsx"))
    if not any((source / f"{n}.csv").exists() for n in names) and len(workbooks) == 1:
        return _read_workbook(workbooks[0])
    for name in names:
        path = source / f"{name}.csv"
        if not path.exists():
            continue
        table, found = _read_csv(path, path.name)
        problems.extend(found)
        if table is not None:
            tables[name] = table
    return tables, problems
