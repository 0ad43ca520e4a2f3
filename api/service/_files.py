"""Reports as JSON or as files to hand out (CSV or XLSX): the one answer of every report route.

A report route takes :data:`FileQuery` (the ``format``, ``lang`` and ``sep`` query parameters),
computes its table, then answers with :func:`json_or_file`: the JSON body for ``format=json``,
else the table (or the workbook's sheets) as an attachment, written by
:func:`ketnoi.api._tables.tables_to_bytes` exactly as the command line writes it (text cells
that would be formulas neutralised, headers in ``lang``, ``;`` and a decimal comma for ``vi``).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Annotated, Any, Literal

import pandas as pd
from fastapi import Depends, Query, Response

from ketnoi.api._tables import XLSX_MEDIA_TYPE, tables_to_bytes

__all__ = [
    "FILE_RESPONSES",
    "FileOptions",
    "FileQuery",
    "ReportFormat",
    "json_or_file",
    "records",
    "table_file",
]

#: The ``responses`` of a route that also answers ``format=csv|xlsx``.
FILE_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/csv": {}, XLSX_MEDIA_TYPE: {}}}
}

#: The ``format`` query parameter of a report route.
ReportFormat = Annotated[
    Literal["json", "csv", "xlsx"], Query(description="json, or the table as a csv or xlsx file.")
]
FileLang = Annotated[
    Literal["en", "vi"] | None,
    Query(
        description="The file's language (headers, decimal mark); default: the table's own, "
        "else en. JSON answers ignore it."
    ),
]
FileSep = Annotated[
    Literal[",", ";"] | None,
    Query(
        description="The CSV separator; default ';' for vi (Excel in a Vietnamese locale), "
        "',' for en."
    ),
]

Sheets = Mapping[str, pd.DataFrame]


@dataclass(frozen=True)
class FileOptions:
    """How a report is answered: ``format`` (json, csv, xlsx), ``lang`` and ``sep`` (files)."""

    format: str = "json"
    lang: str | None = None
    sep: str | None = None

    def in_language(self, lang: str) -> FileOptions:
        """These options, with ``lang`` unless a language was asked for."""
        return self if self.lang else replace(self, lang=lang)


def file_options(
    format: ReportFormat = "json", lang: FileLang = None, sep: FileSep = None
) -> FileOptions:
    """The query parameters of a report route that also answers files."""
    return FileOptions(format, lang, sep)


#: ``format``, ``lang`` and ``sep`` of a report route, as one :class:`FileOptions`.
FileQuery = Annotated[FileOptions, Depends(file_options)]


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows as JSON-ready dicts: through pandas' JSON writer, so NaN and NA become null, tuples
    lists and numpy scalars plain values."""
    rows: list[dict[str, Any]] = json.loads(frame.to_json(orient="records", force_ascii=False))
    return rows


def table_file(sheets: Sheets, options: FileOptions | str, name: str) -> Response:
    """An attachment ``name.csv`` (the first sheet) or ``name.xlsx`` (every sheet)."""
    if isinstance(options, str):
        options = FileOptions(options)
    format, lang = options.format, options.lang or "en"
    headers = {"Content-Disposition": f'attachment; filename="{name}.{format}"'}
    if format == "csv":
        first = dict(list(sheets.items())[:1])
        body = tables_to_bytes(first, "csv", lang=lang, sep=options.sep)
        return Response(body, media_type="text/csv; charset=utf-8", headers=headers)
    body = tables_to_bytes(sheets, "xlsx", lang=lang)
    return Response(body, media_type=XLSX_MEDIA_TYPE, headers=headers)


def json_or_file(
    format: FileOptions | str,
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
    options = FileOptions(format) if isinstance(format, str) else format
    if options.format == "json":
        return body() if callable(body) else body
    return table_file(sheets() if callable(sheets) else sheets, options, name)
