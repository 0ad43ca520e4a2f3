"""The one cell converter: numpy scalars, missing values and tuples, checked by hand."""

from __future__ import annotations

import datetime as dt
import json

import numpy as np
import pandas as pd
import pytest

from ketnoi.graph._values import json_column, json_value


@pytest.mark.parametrize(
    ("cell", "plain"),
    [
        (np.int64(7), 7),
        (np.float32(0.5), 0.5),
        (np.bool_(True), True),
        (np.str_("B1"), "B1"),
        (float("nan"), None),
        (np.float64("nan"), None),
        (pd.NA, None),
        (pd.NaT, None),
        (None, None),
        (("ISO 9001", "IATF 16949"), ["ISO 9001", "IATF 16949"]),
        ([np.int64(1), (np.float64(2.5), pd.NA)], [1, [2.5, None]]),
        ("Công ty", "Công ty"),
        (dt.date(2024, 5, 1), dt.date(2024, 5, 1)),
    ],
)
def test_json_value(cell: object, plain: object) -> None:
    out = json_value(cell)
    assert out == plain
    assert type(out) is type(plain)


def test_numpy_scalars_become_python_types() -> None:
    # Exactly Python's types: json.dumps refuses numpy's int64.
    assert json.dumps([json_value(np.int64(3)), json_value(np.float64(0.25))]) == "[3, 0.25]"


def test_json_column_agrees_with_json_value() -> None:
    columns = [
        pd.Series([1, None, 3], dtype="Int64"),
        pd.Series([0.5, float("nan")]),
        pd.Series([True, False]),
        pd.Series(["a", ("b", "c"), None, float("nan")], dtype=object),
        pd.Series(pd.to_datetime(["2024-01-02", None])),
    ]
    expected = [
        [1, None, 3],
        [0.5, None],
        [True, False],
        ["a", ["b", "c"], None, None],
        [pd.Timestamp("2024-01-02"), None],
    ]
    for series, plain in zip(columns, expected, strict=True):
        assert json_column(series) == plain
        assert json_column(series) == [json_value(v) for v in series.tolist()]
