"""Tables as files for people: CSV (UTF-8 with a byte-order mark) or an XLSX workbook.

Shared by the command line and the HTTP service, so that an export reads the same from both.
"""

from __future__ import annotations

import io
from collections.abc import Mapping

import pandas as pd

from ketnoi.graph._values import json_value

__all__ = ["TABLE_FORMATS", "XLSX_MEDIA_TYPE", "tables_to_bytes"]

TABLE_FORMATS = ("csv", "xlsx")
XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _joined_cell(value: object) -> object:
    """A list-like cell (certifications, reasons) as one text cell: Excel cannot hold lists."""
    if isinstance(value, list | tuple | set | frozenset):
        return "; ".join(str(v) for v in json_value(list(value)))
    return value


def tables_to_bytes(sheets: Mapping[str, pd.DataFrame], format: str) -> bytes:
    """Serialise ``sheets`` (name -> frame) as ``csv`` (exactly one frame) or ``xlsx``.

    CSV is UTF-8 with a byte-order mark and CRLF line ends, so that Excel shows Vietnamese; an
    XLSX workbook has one sheet per frame (names cut to Excel's 31 characters), the header row
    frozen and columns sized to their content.

    Examples
    --------
    >>> data = tables_to_bytes({"t": pd.DataFrame({"a": [1]})}, "csv")
    >>> data.decode("utf-8-sig").splitlines()
    ['a', '1']
    """
    frames = {name: frame.map(_joined_cell) for name, frame in sheets.items()}
    if format == "csv":
        if len(frames) != 1:
            raise ValueError(f"CSV holds one table, not {len(frames)}")
        (frame,) = frames.values()
        return frame.to_csv(index=False, lineterminator="\r\n").encode("utf-8-sig")
    if format != "xlsx":
        raise ValueError(f"format must be csv or xlsx, not {format!r}")
    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        for name, frame in frames.items():
            sheet_name = (name or "sheet")[:31]
            frame.to_excel(writer, index=False, sheet_name=sheet_name)
            sheet = writer.sheets[sheet_name]
            sheet.freeze_panes = "A2"
            for i, column in enumerate(frame.columns):
                longest = max([len(str(column)), *(len(str(v)) for v in frame[column])])
                letter = sheet.cell(row=1, column=i + 1).column_letter
                sheet.column_dimensions[letter].width = min(max(10, longest + 2), 60)
    return buffer.getvalue()
