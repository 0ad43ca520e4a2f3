"""Reports as JSON or as files to hand out (CSV or XLSX): the one answer of every report route.

A report route computes its table, then answers with :func:`json_or_file`: the JSON body for
``format=json``, else the table (or the workbook's sheets) as an attachment, written by
:func:`ketnoi.api._tables.tables_to_bytes` exactly as the command line writes it.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Annotated, Any, Literal

import pandas as pd
from fastapi import Query, Response

from ketnoi.api._tables import XLSX_MEDIA_TYPE, tables_to_bytes

__all__ = ["FILE_RESPONSES", "ReportFormat", "json_or_file", "records", "table_file"]

#: The ``responses`` of a route that also answers ``format=csv|xlsx``.
FILE_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/csv": {}, XLSX_MEDIA_TYPE: {}}}
}

#: The ``format`` query parameter of a report route.
ReportFormat = Annotated[
    Literal["json", "csv", "xlsx"], Query(description="json, or the table as a csv or xlsx file.")
]

Sheets = Mapping[str, pd.DataFrame]


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows as JSON-ready dicts: through pandas' JSON writer, so NaN and NA become null, tuples
    lists and numpy scalars plain values."""
    rows: list[dict[str, Any]] = json.loads(frame.to_json(orient="records", force_ascii=False))
    return rows


def table_file(sheets: Sheets, format: str, name: str) -> Response:
    """An attachment ``name.csv`` (the first sheet) or ``name.xlsx`` (every sheet)."""
    headers = {"Content-Disposition": f'attachment; filename="{name}.{format}"'}
    if format == "csv":
        body = tables_to_bytes(dict(list(sheets.items())[:1]), "csv")
        return Response(body, media_type="text/csv; charset=utf-8", headers=headers)
    return Response(tables_to_bytes(sheets, "xlsx"), media_type=XLSX_MEDIA_TYPE, headers=headers)


def json_or_file(
    format: str,
    name: str,
    sheets: Sheets | Callable[[], Sheets],
    body: Any | Callable[[], Any],
) -> Any:
    """A report route's answer: ``body`` for ``format=json``, else ``sheets`` as the file
    ``name.csv`` (the first sheet) or ``name.xlsx`` (every sheet).

    Either may be given as a function that makes it, called only for its own format (a
    workbook's extra sheets, or JSON figures a file does not carry, are then never computed
    for nothing).
    """
    if format == "json":
        return body() if callable(body) else body
    return table_file(sheets() if callable(sheets) else sheets, format, name)
