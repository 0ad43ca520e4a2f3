"""Reports as JSON records or as files to hand out (CSV or XLSX), shared by the report routes."""

from __future__ import annotations

import json
from typing import Any

import pandas as pd
from fastapi import Response

from ketnoi.api._tables import XLSX_MEDIA_TYPE, tables_to_bytes

__all__ = ["FILE_RESPONSES", "records", "table_file"]

#: The ``responses`` of a route that also answers ``format=csv|xlsx``.
FILE_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/csv": {}, XLSX_MEDIA_TYPE: {}}}
}


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows as JSON-ready dicts: through pandas' JSON writer, so NaN and NA become null, tuples
    lists and numpy scalars plain values."""
    rows: list[dict[str, Any]] = json.loads(frame.to_json(orient="records", force_ascii=False))
    return rows


def table_file(sheets: dict[str, pd.DataFrame], format: str, name: str) -> Response:
    """An attachment ``name.csv`` (the first sheet) or ``name.xlsx`` (every sheet)."""
    headers = {"Content-Disposition": f'attachment; filename="{name}.{format}"'}
    if format == "csv":
        body = tables_to_bytes(dict(list(sheets.items())[:1]), "csv")
        return Response(body, media_type="text/csv; charset=utf-8", headers=headers)
    return Response(tables_to_bytes(sheets, "xlsx"), media_type=XLSX_MEDIA_TYPE, headers=headers)
