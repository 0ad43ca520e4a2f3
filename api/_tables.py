"""The one writer of every CSV and XLSX file that ketnoi hands out.

The command line, the HTTP service and notebooks give this module a table with code-named
columns (``linked_rate``); it writes the file a person opens in Excel:

- **No live formula, ever** (OWASP's CSV-injection rule): a text cell starting with ``=``,
  ``+``, ``-``, ``@``, a tab or a carriage return is neutralised. In XLSX it stays a text cell
  with its string intact, marked with Excel's own "quote prefix" (what Excel stores when a
  person types ``'=1+1``), so ``+84 912 345 678`` reads as typed and editing it keeps it text.
  CSV has no cell types, so such a cell gets a leading ``'``: Excel then opens it as text (the
  ``'`` stays visible; hand out XLSX where that matters). Numbers stay numbers.
- **Vietnamese Excel**: ``lang="vi"`` writes Vietnamese headers (:mod:`ketnoi.api._headers`),
  and its CSV splits on ``;`` with a decimal comma, as Excel does in a Vietnamese locale; English
  CSV uses ``,`` and a decimal point. ``sep`` overrides the separator. CSV keeps a byte-order mark
  so that Excel reads UTF-8.
- **Numbers as people read them**: whole numbers without ``.0``, shares as percentages (a
  ``0.0%`` number format in XLSX, ``12.3%`` text in CSV), years without grouping; lists joined
  by ``; ``. Raw fractions are for JSON only.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Mapping
from numbers import Integral, Real

import pandas as pd
from openpyxl import Workbook
from openpyxl.cell import Cell
from openpyxl.styles import Font

from ketnoi.api._headers import SHARE_COLUMNS, YEAR_COLUMNS, header
from ketnoi.graph._values import json_value

__all__ = [
    "FORMULA_TRIGGERS",
    "LANGS",
    "SEPARATORS",
    "TABLE_FORMATS",
    "XLSX_MEDIA_TYPE",
    "default_sep",
    "neutralised",
    "table_rows",
    "tables_to_bytes",
]

TABLE_FORMATS = ("csv", "xlsx")
XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
LANGS = ("en", "vi")
#: The CSV separators offered; the default follows the language (Excel's list separator).
SEPARATORS = (",", ";")
_DEFAULT_SEP = {"en": ",", "vi": ";"}
_DECIMAL = {"en": ".", "vi": ","}
_YES_NO = {"en": ("yes", "no"), "vi": ("có", "không")}
#: A text cell starting with one of these is a formula to Excel, LibreOffice or Google Sheets.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def default_sep(lang: str) -> str:
    """The CSV separator Excel expects in ``lang``'s locale: ``;`` for ``vi``, ``,`` for ``en``.

    Examples
    --------
    >>> default_sep("vi"), default_sep("en")
    (';', ',')
    """
    return _DEFAULT_SEP.get(lang, ",")


def neutralised(text: str) -> str:
    """``text`` as a CSV cell that no spreadsheet runs as a formula (OWASP's prefix ``'``).

    Examples
    --------
    >>> neutralised("=HYPERLINK(1)"), neutralised("+84 912"), neutralised("Hoshino")
    ("'=HYPERLINK(1)", "'+84 912", 'Hoshino')
    """
    return "'" + text if text.startswith(FORMULA_TRIGGERS) else text


def _missing(value: object) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    return isinstance(value, float) and math.isnan(value)


def _plain(value: object) -> object:
    """A cell as a plain Python value: numpy scalars unwrapped, lists joined by ``; ``."""
    if isinstance(value, list | tuple | set | frozenset):
        return "; ".join(str(v) for v in json_value(list(value)))
    if _missing(value):
        return None
    if hasattr(value, "item") and not isinstance(value, str):
        value = value.item()  # numpy scalars
    if isinstance(value, bool | str | int):
        return value
    if isinstance(value, Integral):
        return int(value)
    if isinstance(value, Real):
        number = float(value)
        return int(number) if number.is_integer() and abs(number) < 2**53 else number
    return str(value)


def _csv_cell(column: str, value: object, lang: str) -> str:
    value = _plain(value)
    if value is None:
        return ""
    if isinstance(value, bool):
        return _YES_NO[lang][0 if value else 1]
    if isinstance(value, str):
        return neutralised(value)
    decimal = _DECIMAL[lang]
    if column in SHARE_COLUMNS and isinstance(value, int | float):
        return f"{value * 100:.1f}%".replace(".", decimal)
    if isinstance(value, int):
        return str(value)
    return repr(value).replace(".", decimal)


def _xlsx_cell(cell: Cell, column: str, value: object) -> None:
    value = _plain(value)
    cell.value = value
    if isinstance(value, str):
        # openpyxl makes "=..." a formula: a text cell it stays, marked as typed with a quote.
        cell.data_type = "s"
        if value.startswith(FORMULA_TRIGGERS):
            cell.quotePrefix = True
    elif isinstance(value, bool):
        pass
    elif column in SHARE_COLUMNS and isinstance(value, int | float):
        cell.number_format = "0.0%"
    elif isinstance(value, int):
        cell.number_format = "0" if column in YEAR_COLUMNS else "#,##0"


def table_rows(frame: pd.DataFrame, lang: str = "en") -> list[list[str]]:
    """``frame`` as the CSV cells written for ``lang``: headers first, every cell text.

    Examples
    --------
    >>> table_rows(pd.DataFrame({"volume": [1069.0], "linked_rate": [0.125]}), "vi")
    [['khối lượng', 'tỷ lệ đã liên kết'], ['1069', '12,5%']]
    """
    columns = [str(c) for c in frame.columns]
    rows = [[header(c, lang) for c in columns]]
    for record in frame.itertuples(index=False, name=None):
        rows.append([_csv_cell(c, v, lang) for c, v in zip(columns, record, strict=True)])
    return rows


def _csv(frame: pd.DataFrame, lang: str, sep: str) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=sep, lineterminator="\r\n")
    writer.writerows(table_rows(frame, lang))
    return buffer.getvalue().encode("utf-8-sig")


def _xlsx(frames: Mapping[str, pd.DataFrame], lang: str) -> bytes:
    book = Workbook()
    book.remove(book.active)  # type: ignore[arg-type]
    for name, frame in frames.items():
        sheet = book.create_sheet((name or "sheet")[:31])
        columns = [str(c) for c in frame.columns]
        for j, column in enumerate(columns, start=1):
            cell = sheet.cell(row=1, column=j)
            _xlsx_cell(cell, "", header(column, lang))
            cell.font = Font(bold=True)
        widths = [len(header(c, lang)) for c in columns]
        for i, record in enumerate(frame.itertuples(index=False, name=None), start=2):
            for j, (column, value) in enumerate(zip(columns, record, strict=True), start=1):
                cell = sheet.cell(row=i, column=j)
                _xlsx_cell(cell, column, value)
                widths[j - 1] = max(widths[j - 1], len(str(cell.value or "")))
        sheet.freeze_panes = "A2"
        for j, width in enumerate(widths, start=1):
            letter = sheet.cell(row=1, column=j).column_letter
            sheet.column_dimensions[letter].width = min(max(10, width + 2), 60)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def tables_to_bytes(
    sheets: Mapping[str, pd.DataFrame], format: str, *, lang: str = "en", sep: str | None = None
) -> bytes:
    """Serialise ``sheets`` (name -> frame) as ``csv`` (exactly one frame) or ``xlsx``.

    Parameters
    ----------
    sheets : mapping of str to DataFrame
        The tables, with code-named columns; sheet names stay as given (readers look them up).
    format : {"csv", "xlsx"}
        CSV (UTF-8 with a byte-order mark, CRLF line ends) or an XLSX workbook, a sheet per
        frame (names cut to Excel's 31 characters), its header row bold and frozen, columns sized.
    lang : {"en", "vi"}
        The headers' language, and the CSV's decimal mark (``.`` or ``,``).
    sep : {",", ";"}, optional
        The CSV separator; by default ``;`` for ``vi`` and ``,`` for ``en``.

    Examples
    --------
    >>> data = tables_to_bytes({"t": pd.DataFrame({"a": [1], "b": ["=1+1"]})}, "csv")
    >>> data.decode("utf-8-sig").splitlines()
    ['a,b', "1,'=1+1"]
    >>> data = tables_to_bytes({"t": pd.DataFrame({"score": [0.5]})}, "csv", lang="vi")
    >>> data.decode("utf-8-sig").splitlines()
    ['điểm', '0,5']
    """
    if lang not in LANGS:
        raise ValueError(f"lang must be en or vi, not {lang!r}")
    sep = default_sep(lang) if sep is None else sep
    if sep not in SEPARATORS:
        raise ValueError(f"sep must be one of {' '.join(SEPARATORS)}, not {sep!r}")
    if format == "csv":
        if len(sheets) != 1:
            raise ValueError(f"CSV holds one table, not {len(sheets)}")
        (frame,) = sheets.values()
        return _csv(frame, lang, sep)
    if format != "xlsx":
        raise ValueError(f"format must be csv or xlsx, not {format!r}")
    return _xlsx(sheets, lang)
