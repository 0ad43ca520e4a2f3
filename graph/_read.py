"""Reading raw tables from CSV folders and XLSX workbooks, as text, with spreadsheet line numbers.

Nothing here interprets values: every cell comes back as a string so that the validator can
report each bad cell by file, line and column instead of failing on the first one.
"""

from __future__ import annotations

import csv
import io
import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ketnoi.graph._problems import Problem

__all__ = ["MAX_READ_SECONDS", "MAX_SHEET_CELLS", "RawTable", "read_sheets", "read_source"]

#: The most cells read from one sheet of a workbook (each row counted up to its last filled
#: cell): room for a few hundred thousand rows of every contract file.
MAX_SHEET_CELLS = 10_000_000
#: The most seconds spent reading one workbook.
MAX_READ_SECONDS = 120.0


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


def _sheet_rows(
    sheet: Any, label: str, deadline: float
) -> tuple[list[tuple[int, list[str]]], Problem | None]:
    """The sheet's non-blank rows as ``(line, cells)``, read by its real rows.

    A sheet's ``<dimension>`` element is written by whatever saved the file and is not to be
    trusted: one claiming A1:XFD1048576 made openpyxl pad every row to 16,384 cells (minutes of
    CPU for a 5 KB file), and a stale one cut the rows past it without a word. So the dimension
    is dropped and each row is as long as its last real cell; the cells read (and the time
    taken) are bounded, and a sheet past either bound is a problem, never a silent cut.
    """
    sheet.reset_dimensions()
    rows: list[tuple[int, list[str]]] = []
    budget = MAX_SHEET_CELLS
    for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
        budget -= max(len(values), 1)  # a blank row costs a step too (gaps are walked)
        if budget < 0:
            return rows, Problem(
                label,
                number,
                None,
                f"the sheet holds more than {MAX_SHEET_CELLS:,} cells (counting up to each"
                " row's last filled cell); delete stray cells far to the right or below, or"
                " split the dataset",
            )
        if number % 1000 == 0 and time.monotonic() > deadline:
            return rows, Problem(
                label,
                number,
                None,
                f"reading the workbook took longer than {MAX_READ_SECONDS:g} s; split it"
                " into smaller files",
            )
        cells = [_cell_text(v) for v in values]
        if any(c.strip() for c in cells):
            rows.append((number, cells))
    return rows, None


def read_sheets(path: Path) -> tuple[list[tuple[str, list[tuple[int, list[str]]]]], list[Problem]]:
    """Every sheet of a workbook as ``(title, [(line, cells), ...])``, read within the bounds.

    The non-blank rows of each sheet, as text, by its real rows (see :func:`_sheet_rows`); a
    sheet that cannot be read or passes a bound is a problem naming it, and is left out.
    """
    import openpyxl

    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a damaged file
        return [], [Problem(path.name, None, None, f"not a readable XLSX workbook: {exc}")]
    sheets: list[tuple[str, list[tuple[int, list[str]]]]] = []
    problems: list[Problem] = []
    deadline = time.monotonic() + MAX_READ_SECONDS
    try:
        for sheet in book.worksheets:
            label = f"{path.name}[{sheet.title}]"
            try:
                read, problem = _sheet_rows(sheet, label, deadline)
            except Exception as exc:  # a damaged member (bad CRC, broken XML) is found here
                read, problem = [], Problem(label, None, None, f"the sheet cannot be read: {exc}")
            if problem is not None:
                problems.append(problem)
                continue
            sheets.append((sheet.title, read))
    finally:
        book.close()
    return sheets, problems


def _read_workbook(path: Path) -> tuple[dict[str, RawTable], list[Problem]]:
    tables: dict[str, RawTable] = {}
    sheets, problems = read_sheets(path)
    for title, read in sheets:
        label = f"{path.name}[{title}]"
        if not read:
            continue
        (_, header), body = read[0], read[1:]
        while header and header[-1] == "":
            header.pop()
        width = len(header)
        # Rows are padded to the header, never cut: cells past it are the validator's to
        # report ("row has 9 cells, the header 7"), as in a CSV file.
        tables[title.strip().lower().removesuffix(".csv")] = RawTable(
            label,
            header,
            [cells + [""] * (width - len(cells)) for _, cells in body],
            [line for line, _ in body],
            header_line=read[0][0],
        )
    return tables, problems


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
