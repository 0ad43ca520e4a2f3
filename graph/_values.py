"""Cells of a frame as plain Python values, ready for JSON, exports and equality checks.

pandas and numpy hand back their own scalars (``numpy.int64``, ``numpy.float64``) and their own
missing values (``NaN``, ``pd.NA``, ``pd.NaT``), and list-like cells are often tuples. JSON has
none of these, so every door that writes rows out (graph exports, the HTTP service, audit
records) converts through the one function here; a caller that needs more (a list joined into
one spreadsheet cell, a score rounded for people) composes it with its own formatting.
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

__all__ = ["json_column", "json_value"]


def json_value(value: Any) -> Any:
    """One cell as a plain Python value.

    numpy scalars become Python ``int``, ``float``, ``bool`` or ``str``; every missing value
    (``None``, ``NaN``, ``pd.NA``, ``pd.NaT``) becomes ``None``; tuples and lists become lists
    of plain values. Anything else (text, dates, dicts) is returned as it is.

    Examples
    --------
    >>> import numpy as np
    >>> json_value(np.int64(3)), json_value(np.float64("nan")), json_value(pd.NA)
    (3, None, None)
    >>> json_value(("ISO 9001", np.float64(0.5), None))
    ['ISO 9001', 0.5, None]
    """
    if isinstance(value, str):
        return str(value)  # numpy's str_ too
    if isinstance(value, tuple | list):
        return [json_value(v) for v in value]
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    # numpy scalars (and 0-d arrays): their .item() is the Python value.
    item = getattr(value, "item", None)
    if callable(item):
        return json_value(item())
    return value


def json_column(series: pd.Series) -> list[Any]:
    """A whole column as plain Python values: as :func:`json_value` cell by cell, but
    converted by dtype where it can be, which is many times faster on long columns.

    Examples
    --------
    >>> json_column(pd.Series([1, None], dtype="Int64"))
    [1, None]
    >>> json_column(pd.Series([("a", "b"), "c", float("nan")]))
    [['a', 'b'], 'c', None]
    """
    if series.dtype == object:
        # Text and list columns: only tuples and stray missing cells need converting.
        return [v if isinstance(v, str) else json_value(v) for v in series.tolist()]
    # Typed columns: tolist() already gives Python scalars (Int64 gives int or NA, datetime64
    # gives Timestamp or NaT), so only the missing ones are left (NaN and NaT differ from
    # themselves).
    return [None if (v is pd.NA or v != v) else v for v in series.tolist()]
