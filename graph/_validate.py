"""Checking raw tables against the contract and turning them into typed frames.

Every check collects problems instead of raising on the first, so one run reports all of them.
Columns are parsed whole (vectorised); only the cells that fail are looked at one by one.
"""

from __future__ import annotations

import datetime as dt
import re

import numpy as np
import pandas as pd

from ketnoi.graph._contract import (
    BUYER_ROLES,
    CONTRACT,
    FILE_ORDER,
    SUPPLIER_ROLES,
    Column,
    FileSpec,
)
from ketnoi.graph._normalise import nfc, normalise_certification, split_list
from ketnoi.graph._problems import Problem
from ketnoi.graph._read import RawTable
from ketnoi.graph._taxcode import parse_tax_code
from ketnoi.graph._taxonomy import TaxonomyCycle, walk_up

__all__ = ["parse_tables", "check_dataset", "empty_frame"]

_TRUE = {"true", "yes", "y", "1", "t", "x", "có", "co"}
_FALSE = {"false", "no", "n", "0", "f", "không", "khong", ""}
_COUNTRY = re.compile(r"^[A-Z]{2}$")
_VIETNAM_LAT = (8.0, 24.0)
_VIETNAM_LON = (102.0, 110.0)
_NUL = "holds a NUL character (U+0000), which is not text; remove it (the file may be damaged)"


def _dtype(column: Column) -> object:
    if column.kind in {"int", "year"}:
        return "Int64"
    if column.kind in {"float", "lat", "lon"}:
        return "float64"
    if column.kind == "bool":
        return "bool"
    return "object"


def empty_frame(spec: FileSpec) -> pd.DataFrame:
    """A frame with the contract's columns and types and no rows."""
    return pd.DataFrame({c.name: pd.Series([], dtype=_dtype(c)) for c in spec.columns})


def _clean_header(header: list[str]) -> list[str]:
    return [nfc(h).lstrip("\ufeff").strip().lower().replace(" ", "_") for h in header]


def _text(series: pd.Series) -> pd.Series:
    return series.map(lambda v: " ".join(nfc(v).split()) if isinstance(v, str) else "")


def _parse_column(
    column: Column,
    raw: pd.Series,
    lines: np.ndarray,
    label: str,
    problems: list[Problem],
    decimal: str = ".",
) -> pd.Series:
    text = _text(raw).astype(object)
    empty = text == ""

    def bad(mask: pd.Series | np.ndarray, reason: object) -> None:
        for i in np.flatnonzero(np.asarray(mask)):
            why = reason(text.iloc[i]) if callable(reason) else str(reason)
            problems.append(Problem(label, int(lines[i]), column.name, why))

    if column.required:
        bad(empty, "required value is empty")
    kind = column.kind
    if kind in {"id", "text"}:
        return text
    if kind == "choice":
        lowered = text.str.lower()
        wrong = ~empty & ~lowered.isin(column.choices)
        bad(wrong, lambda v: f"'{v}' is not one of: {', '.join(column.choices)}")
        default = column.default if column.default is not None else ""
        return lowered.where(~empty, default).where(~wrong, default)
    if kind == "country":
        upper = text.str.upper()
        wrong = ~empty & ~upper.map(lambda v: bool(_COUNTRY.match(v)))
        bad(wrong, lambda v: f"'{v}' is not an ISO 3166 alpha-2 country code (e.g. JP, KR, VN)")
        return upper.where(~wrong, "")
    if kind in {"list", "certs"}:
        items = text.map(split_list)
        if kind == "certs":
            items = items.map(lambda t: tuple(dict.fromkeys(normalise_certification(c) for c in t)))
        return items
    if kind == "bool":
        lowered = text.str.lower()
        wrong = ~lowered.isin(_TRUE | _FALSE)
        bad(wrong, lambda v: f"'{v}' is not true or false")
        default = bool(column.default) if column.default is not None else False
        return lowered.map(lambda v: True if v in _TRUE else False if v else default).astype(bool)
    if kind == "date":
        parsed = pd.to_datetime(text.where(~empty, None), errors="coerce", format="ISO8601")
        wrong = ~empty & parsed.isna()
        bad(wrong, lambda v: f"'{v}' is not a date (YYYY-MM-DD)")
        future = parsed.dt.year > dt.date.today().year
        bad(future.fillna(False), lambda v: f"'{v}' is in a future year")
        return parsed.dt.strftime("%Y-%m-%d").where(~parsed.isna(), "").astype(object)
    # numeric kinds
    if decimal == ",":
        # 1.234.567,5 -> 1234567.5; a lone point stays a decimal point (hand-typed 21.13).
        grouped = text.str.fullmatch(r"[-+]?\d{1,3}(\.\d{3})+(,\d*)?").fillna(False)
        figures = text.where(~grouped, text.str.replace(".", "", regex=False))
        figures = figures.str.replace(",", ".", regex=False)
    else:
        figures = text.str.replace(",", "", regex=False)
    numbers = pd.to_numeric(figures.where(~empty), errors="coerce")
    wrong = ~empty & (numbers.isna() | ~np.isfinite(numbers.fillna(0)))
    bad(wrong, lambda v: f"'{v}' is not a number")
    numbers = numbers.where(~wrong)
    if kind in {"int", "year"}:
        fractional = numbers.notna() & (numbers != numbers.round())
        bad(fractional, lambda v: f"'{v}' is not a whole number")
        huge = numbers.notna() & (numbers.abs() > 2**53)
        bad(huge, lambda v: f"'{v}' is too large for a whole number")
        numbers = numbers.where(~fractional & ~huge)
    if kind == "year":
        this_year = dt.date.today().year
        out = numbers.notna() & ((numbers < 1900) | (numbers > this_year))
        bad(out, lambda v: f"year {v} is outside 1900-{this_year}")
        numbers = numbers.where(~out)
    if kind == "lat":
        out = numbers.notna() & ((numbers < -90) | (numbers > 90))
        bad(out, lambda v: f"latitude {v} is outside -90..90")
        numbers = numbers.where(~out)
    if kind == "lon":
        out = numbers.notna() & ((numbers < -180) | (numbers > 180))
        bad(out, lambda v: f"longitude {v} is outside -180..180")
        numbers = numbers.where(~out)
    if column.minimum is not None:
        low = numbers.notna() & (numbers < column.minimum)
        bad(low, lambda v: f"{v} is below the minimum {column.minimum:g}")
        numbers = numbers.where(~low)
    if kind in {"int", "year"}:
        return numbers.round().astype("Int64")
    return numbers.astype("float64")


def _check_nul(
    raw: RawTable, header: list[str], data: dict[str, list[str]], problems: list[Problem]
) -> None:
    """Report every cell holding a NUL character (U+0000).

    NUL is no text anyone means to type (a sign of a binary file or a broken export), and
    PostgreSQL cannot store it: refused here, with its cell, rather than failing the load.
    """
    for index, name in enumerate(header):
        if "\x00" in name:
            shown = name.replace("\x00", "") or f"column {index + 1}"
            problems.append(Problem(raw.label, raw.header_line, shown, _NUL))
    for name, cells in data.items():
        for position, cell in enumerate(cells):
            if "\x00" in cell:
                problems.append(Problem(raw.label, raw.lines[position], name, _NUL))


def _parse_table(spec: FileSpec, raw: RawTable, problems: list[Problem]) -> pd.DataFrame:
    header = _clean_header(raw.header)
    keep: list[int] = []
    seen: dict[str, int] = {}
    for index, name in enumerate(header):
        if name == "":
            if any(index < len(r) and r[index].strip() for r in raw.rows):
                problems.append(
                    Problem(raw.label, raw.header_line, None, f"column {index + 1} has no header")
                )
            continue
        if name in seen:
            problems.append(
                Problem(
                    raw.label,
                    raw.header_line,
                    name,
                    f"duplicate header (columns {seen[name] + 1} and {index + 1})",
                )
            )
            continue
        seen[name] = index
        keep.append(index)
    width = len(raw.header)
    for cells, line in zip(raw.rows, raw.lines, strict=True):
        if len(cells) > width and any(c.strip() for c in cells[width:]):
            problems.append(
                Problem(raw.label, line, None, f"row has {len(cells)} cells, the header {width}")
            )
    data = {header[i]: [cells[i] if i < len(cells) else "" for cells in raw.rows] for i in keep}
    _check_nul(raw, header, data, problems)
    frame = pd.DataFrame(data, dtype=object)
    lines = np.asarray(raw.lines, dtype=np.int64)
    missing = [c.name for c in spec.columns if c.required and c.name not in frame.columns]
    for name in missing:
        problems.append(Problem(raw.label, raw.header_line, name, "required column is missing"))
    out: dict[str, pd.Series] = {}
    for column in spec.columns:
        if column.name in frame.columns:
            out[column.name] = _parse_column(
                column, frame[column.name], lines, raw.label, problems, raw.decimal
            )
        else:
            filler = pd.Series([""] * len(frame), dtype=object)
            out[column.name] = _parse_column(column, filler, lines, raw.label, [])
    for extra in frame.columns:
        if extra not in out:
            out[extra] = _text(frame[extra]).astype(object)
    parsed = pd.DataFrame(out, index=pd.RangeIndex(len(frame)))
    parsed.attrs["lines"] = lines
    parsed.attrs["label"] = raw.label
    parsed.attrs["missing"] = missing
    return parsed


def parse_tables(tables: dict[str, RawTable], problems: list[Problem]) -> dict[str, pd.DataFrame]:
    """Parse every raw table; absent optional files become empty typed frames."""
    frames: dict[str, pd.DataFrame] = {}
    # A file that could not be read already has its problem; "missing" would only add noise.
    unreadable = {p.file for p in problems}
    # In a workbook, an absent file is an absent sheet: name it as the other sheets are named.
    books = {t.label.rsplit("[", 1)[0] for t in tables.values() if t.label.endswith("]")}
    book = books.pop() if len(books) == 1 else None
    for name in FILE_ORDER:
        spec = CONTRACT[name]
        if name in tables:
            frames[name] = _parse_table(spec, tables[name], problems)
            frames[name].attrs["present"] = True
        else:
            label = f"{book}[{name}]" if book else f"{name}.csv"
            if spec.required and label not in unreadable:
                what = "sheet" if book else "file"
                problems.append(Problem(label, None, None, f"required {what} is missing"))
            frame = empty_frame(spec)
            frame.attrs["lines"] = np.zeros(0, dtype=np.int64)
            frame.attrs["label"] = label
            frame.attrs["present"] = False
            frames[name] = frame
    return frames


def _line(frame: pd.DataFrame, position: int | np.integer) -> int:
    return int(frame.attrs["lines"][position])


def _check_keys(name: str, frame: pd.DataFrame, problems: list[Problem]) -> pd.DataFrame:
    spec = CONTRACT[name]
    key = list(spec.key)
    if not key or frame.empty:
        return frame
    # Rows with an empty required key part are already reported; they are not duplicates.
    filled = frame[[k for k in key if spec.column(k).required]].ne("").all(axis=1)
    dup = (frame.duplicated(key, keep="first") & filled).to_numpy()
    if dup.any():
        first = frame.reset_index(drop=True).groupby(key, sort=False).cumcount()
        firsts: dict[tuple, int] = {}
        for pos, row in enumerate(frame[key].itertuples(index=False, name=None)):
            if first.iloc[pos] == 0:
                firsts[row] = pos
        for dup_pos in np.flatnonzero(dup):
            pos = int(dup_pos)
            row = tuple(frame[key].iloc[pos])
            shown = ", ".join(f"{k}={v}" for k, v in zip(key, row, strict=True))
            problems.append(
                Problem(
                    frame.attrs["label"],
                    _line(frame, pos),
                    key[0],
                    f"duplicate key ({shown}); first on line {_line(frame, firsts[row])}",
                )
            )
    return frame


def _check_references(frames: dict[str, pd.DataFrame], problems: list[Problem]) -> None:
    present = {name for name, f in frames.items() if f.attrs.get("present", False)}
    for name in FILE_ORDER:
        frame = frames[name]
        for column, target, target_column in CONTRACT[name].references:
            # Without the target's key column every reference would "fail": one problem is enough.
            missing = frames[target].attrs.get("missing", ())
            if target not in present or frame.empty or target_column in missing:
                continue
            known = set(frames[target][target_column])
            values = frame[column]
            wrong = (values != "") & ~values.isin(known)
            for pos in np.flatnonzero(wrong.to_numpy()):
                problems.append(
                    Problem(
                        frame.attrs["label"],
                        _line(frame, pos),
                        column,
                        f"'{values.iloc[pos]}' is not a {target_column} in "
                        f"{frames[target].attrs['label']}",
                    )
                )


def _check_roles(frames: dict[str, pd.DataFrame], problems: list[Problem]) -> None:
    links, firms = frames["links"], frames["firms"]
    if links.empty:
        return
    role = dict(zip(firms["firm_id"], firms["role"], strict=True))
    for column, allowed, word in (
        ("supplier_id", SUPPLIER_ROLES, "supplier"),
        ("buyer_id", BUYER_ROLES, "buyer"),
    ):
        roles = links[column].map(role)
        # An empty role is a bad firms row, reported there.
        wrong = roles.notna() & (roles != "") & ~roles.isin(allowed)
        for pos in np.flatnonzero(wrong.to_numpy()):
            problems.append(
                Problem(
                    links.attrs["label"],
                    _line(links, pos),
                    column,
                    f"firm '{links[column].iloc[pos]}' has role '{roles.iloc[pos]}', "
                    f"not {word} or both",
                )
            )
    same = (links["supplier_id"] == links["buyer_id"]) & (links["supplier_id"] != "")
    for pos in np.flatnonzero(same.to_numpy()):
        problems.append(
            Problem(
                links.attrs["label"], _line(links, pos), "buyer_id", "a firm cannot supply itself"
            )
        )


def _check_taxonomy(frames: dict[str, pd.DataFrame], problems: list[Problem]) -> None:
    categories = frames["categories"]
    parent = {c: p for c, p in zip(categories["category_id"], categories["parent_id"], strict=True)}
    position = {c: i for i, c in enumerate(categories["category_id"])}
    reported: set[str] = set()

    def parent_of(node: str) -> str | None:
        # An unknown parent is a missing-reference problem of its own; the walk stops there.
        up = parent.get(node)
        return up if up and up in parent else None

    for start in parent:
        try:
            for _ in walk_up(start, parent_of):
                pass
        except TaxonomyCycle as cycle:
            if not reported.intersection(cycle.cycle):
                reported.update(cycle.cycle)
                first = min(cycle.cycle, key=position.__getitem__)
                problems.append(
                    Problem(
                        categories.attrs["label"],
                        _line(categories, position[first]),
                        "parent_id",
                        str(cycle),
                    )
                )
    inputs = frames["category_inputs"]
    loop = (inputs["input_category_id"] == inputs["output_category_id"]) & (
        inputs["input_category_id"] != ""
    )
    for pos in np.flatnonzero(loop.to_numpy()):
        problems.append(
            Problem(
                inputs.attrs["label"],
                _line(inputs, pos),
                "output_category_id",
                "a category cannot be an input to itself",
            )
        )


def _check_locations(frames: dict[str, pd.DataFrame], problems: list[Problem]) -> None:
    # A coordinate refused by the parser is already reported; its partner is not "alone".
    refused = {
        (p.file, p.line) for p in problems if p.column in {"lat", "lon"} and p.severity == "error"
    }
    for name in ("firms", "parks"):
        frame = frames[name]
        if frame.empty:
            continue
        lat, lon = frame["lat"], frame["lon"]
        outside = (
            lat.notna() & lon.notna() & ~(lat.between(*_VIETNAM_LAT) & lon.between(*_VIETNAM_LON))
        )
        for pos in np.flatnonzero(outside.to_numpy()):
            problems.append(
                Problem(
                    frame.attrs["label"],
                    _line(frame, pos),
                    "lat",
                    f"({lat.iloc[pos]:.4f}, {lon.iloc[pos]:.4f}) lies outside Vietnam",
                    severity="warning",
                )
            )
        one_only = lat.notna() ^ lon.notna()
        for pos in np.flatnonzero(one_only.to_numpy()):
            if (frame.attrs["label"], _line(frame, pos)) in refused:
                continue
            problems.append(
                Problem(
                    frame.attrs["label"],
                    _line(frame, pos),
                    "lat" if lat.isna().iloc[pos] else "lon",
                    "latitude and longitude must be given together",
                )
            )


def _check_tax_codes(frame: pd.DataFrame, problems: list[Problem]) -> None:
    # Warnings, not errors: a mistyped code is common in officers' lists and the firm is
    # still the firm; but said row by row, never a silent mismatch when firms are resolved.
    if frame.empty:
        return
    first: dict[str, tuple[int, str]] = {}
    firm_ids = frame["firm_id"].tolist()
    for pos, text in enumerate(frame["tax_code"].tolist()):
        if not text:
            continue
        code = parse_tax_code(text)
        line = _line(frame, pos)
        if code.problem:
            problems.append(
                Problem(
                    frame.attrs["label"],
                    line,
                    "tax_code",
                    f"tax code {text!r} {code.problem}",
                    severity="warning",
                )
            )
        elif code.digits in first:
            if first[code.digits][1] == firm_ids[pos]:
                continue  # the same firm_id twice: the duplicate key says it already
            problems.append(
                Problem(
                    frame.attrs["label"],
                    line,
                    "tax_code",
                    f"tax code {code.formatted} is also on line {first[code.digits][0]}: the same"
                    " firm twice? (ketnoi duplicates)",
                    severity="warning",
                )
            )
        else:
            first[code.digits] = (line, firm_ids[pos])


def check_dataset(frames: dict[str, pd.DataFrame], problems: list[Problem]) -> None:
    """Cross-row and cross-file checks: keys, references, roles, taxonomy, locations."""
    for name in FILE_ORDER:
        _check_keys(name, frames[name], problems)
    _check_references(frames, problems)
    _check_roles(frames, problems)
    _check_taxonomy(frames, problems)
    _check_locations(frames, problems)
    _check_tax_codes(frames["firms"], problems)
