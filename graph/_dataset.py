"""The validated dataset: typed frames for every contract file, and the one way to load them."""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from ketnoi.graph._contract import (
    BUYER_ROLES,
    CONTRACT,
    FILE_ORDER,
    LOCAL_OWNERSHIPS,
    SUPPLIER_ROLES,
)
from ketnoi.graph._normalise import join_list
from ketnoi.graph._problems import DatasetError, Problem, sort_key
from ketnoi.graph._read import RawTable, read_source
from ketnoi.graph._validate import check_dataset, parse_tables

__all__ = ["Dataset", "ValidationReport", "load_dataset", "validate_dataset"]


@dataclass(frozen=True, eq=False)
class Dataset:
    """A validated supply-network dataset.

    Every contract file is a frame (an empty, typed frame where the file was absent). List
    columns hold tuples of strings; missing text is ``""``; missing numbers are NA.
    Unknown extra columns follow the contract's columns and are written back by :meth:`to_dir`.

    Build one with :func:`load_dataset` or :meth:`from_frames`; both run the same checks.
    """

    firms: pd.DataFrame
    parks: pd.DataFrame
    categories: pd.DataFrame
    category_inputs: pd.DataFrame
    capabilities: pd.DataFrame
    demands: pd.DataFrame
    links: pd.DataFrame
    outcomes: pd.DataFrame
    terms: pd.DataFrame
    present: frozenset[str] = frozenset()
    source: str = ""
    warnings: tuple[Problem, ...] = field(default=())

    # -- construction -------------------------------------------------------------------------
    @classmethod
    def from_frames(cls, source: str = "<frames>", **frames: pd.DataFrame) -> Dataset:
        """Validate in-memory frames (any cell types) exactly as files would be validated.

        Examples
        --------
        >>> import pandas as pd
        >>> firms = pd.DataFrame({"firm_id": ["s1", "b1"], "name": ["A", "B"],
        ...                       "role": ["supplier", "buyer"]})
        >>> links = pd.DataFrame({"supplier_id": ["s1"], "buyer_id": ["b1"]})
        >>> Dataset.from_frames(firms=firms, links=links).links.shape[0]
        1
        """
        unknown = set(frames) - set(CONTRACT)
        if unknown:
            raise ValueError(f"unknown contract file(s): {', '.join(sorted(unknown))}")
        tables = {name: _frame_to_raw(name, frame) for name, frame in frames.items()}
        return _build(tables, [], source)

    # -- views --------------------------------------------------------------------------------
    def frame(self, name: str) -> pd.DataFrame:
        """The frame of contract file ``name``."""
        if name not in CONTRACT:
            raise KeyError(f"unknown contract file '{name}'")
        frame: pd.DataFrame = getattr(self, name)
        return frame

    @property
    def supplier_ids(self) -> pd.Index:
        """Firms that may supply (role supplier or both)."""
        return pd.Index(self.firms.loc[self.firms["role"].isin(SUPPLIER_ROLES), "firm_id"])

    @property
    def buyer_ids(self) -> pd.Index:
        """Firms that may buy (role buyer or both)."""
        return pd.Index(self.firms.loc[self.firms["role"].isin(BUYER_ROLES), "firm_id"])

    def is_local(self) -> pd.Series:
        """Boolean per firm (indexed by firm_id): ownership domestic, soe or jv."""
        return pd.Series(
            self.firms["ownership"].isin(LOCAL_OWNERSHIPS).to_numpy(),
            index=self.firms["firm_id"].to_numpy(),
            name="local",
        )

    @property
    def active_links(self) -> pd.DataFrame:
        """Links with status active."""
        return self.links[self.links["status"] == "active"]

    @property
    def has_profiles(self) -> bool:
        """True where the dataset carries capabilities or demands, not links alone."""
        return not (self.capabilities.empty and self.demands.empty)

    def summary(self) -> dict[str, int]:
        """Row counts per file and firms per role."""
        counts = {name: len(self.frame(name)) for name in FILE_ORDER}
        roles = self.firms["role"].value_counts()
        for role in ("supplier", "buyer", "both"):
            counts[f"firms_{role}"] = int(roles.get(role, 0))
        return counts

    def fingerprint(self) -> str:
        """A short hash of the content: same data, same fingerprint, whatever the row order."""
        digest = hashlib.sha256()
        for name in FILE_ORDER:
            frame = _to_text(self.frame(name))
            if not frame.empty:
                frame = frame.sort_values(list(frame.columns), kind="stable")
            digest.update(name.encode())
            digest.update(frame.to_csv(index=False).encode())
        return digest.hexdigest()[:16]

    # -- export -------------------------------------------------------------------------------
    def to_frames(self) -> dict[str, pd.DataFrame]:
        """Frames as the contract writes them: text cells, lists joined by ``;``."""
        return {name: _to_text(self.frame(name)) for name in FILE_ORDER}

    def to_dir(self, out: str | Path, *, only_present: bool = True) -> list[Path]:
        """Write the dataset back as a folder of CSV files (extra columns included)."""
        out = Path(out)
        out.mkdir(parents=True, exist_ok=True)
        written = []
        for name, frame in self.to_frames().items():
            if only_present and name not in self.present and frame.empty:
                continue
            path = out / f"{name}.csv"
            frame.to_csv(path, index=False, encoding="utf-8")
            written.append(path)
        return written


@dataclass(frozen=True)
class ValidationReport:
    """Outcome of :func:`validate_dataset`: every problem, and the dataset where it is valid."""

    problems: tuple[Problem, ...]
    dataset: Dataset | None

    @property
    def errors(self) -> tuple[Problem, ...]:
        return tuple(p for p in self.problems if p.severity == "error")

    @property
    def warnings(self) -> tuple[Problem, ...]:
        return tuple(p for p in self.problems if p.severity == "warning")

    @property
    def ok(self) -> bool:
        return not self.errors


def _to_text(frame: pd.DataFrame) -> pd.DataFrame:
    out = {}
    for column in frame.columns:
        series = frame[column]
        if series.dtype == bool:
            out[column] = series.map(lambda v: "true" if v else "false")
        elif str(series.dtype) == "Int64":
            out[column] = series.map(lambda v: "" if pd.isna(v) else str(int(v)))
        elif series.dtype.kind == "f":
            out[column] = series.map(lambda v: "" if pd.isna(v) else f"{v:.10g}")
        else:
            out[column] = series.map(_cell_to_text)
    return pd.DataFrame(out, columns=list(frame.columns), dtype=object)


def _cell_to_text(value: object) -> str:
    # from_frames takes any cells: lists as well as tuples, and NaN/NA/NaT for "missing".
    if isinstance(value, tuple | list):
        return join_list(str(v) for v in value)
    if value is None or value is pd.NA or value is pd.NaT:
        return ""
    if isinstance(value, float) and math.isnan(value):
        return ""
    return str(value)


def _frame_to_raw(name: str, frame: pd.DataFrame) -> RawTable:
    text = _to_text(frame)
    rows = text.astype(object).where(text.notna(), "").values.tolist()
    return RawTable(f"{name}", [str(c) for c in text.columns], rows, list(range(2, len(rows) + 2)))


def _derive_categories(frames: dict[str, pd.DataFrame]) -> None:
    """Without categories.csv, the ids used elsewhere become a flat list of categories."""
    used: dict[str, None] = {}
    for name, column in (
        ("capabilities", "category_id"),
        ("demands", "category_id"),
        ("links", "category_id"),
        ("category_inputs", "input_category_id"),
        ("category_inputs", "output_category_id"),
    ):
        for value in frames[name][column]:
            if value:
                used.setdefault(value, None)
    if used:
        ids = list(used)
        categories = frames["categories"]
        derived = pd.DataFrame(
            {c: [""] * len(ids) for c in categories.columns}, dtype=object
        ).assign(category_id=ids, name=ids)
        derived.attrs.update(categories.attrs)
        frames["categories"] = derived


def _build(tables: dict[str, RawTable], problems: list[Problem], source: str) -> Dataset:
    frames = parse_tables(tables, problems)
    check_dataset(frames, problems)
    errors = [p for p in problems if p.severity == "error"]
    if errors:
        raise DatasetError(problems)
    present = frozenset(name for name in FILE_ORDER if frames[name].attrs.get("present"))
    if "categories" not in present:
        _derive_categories(frames)
    for frame in frames.values():
        frame.attrs.clear()
    return Dataset(
        **{name: frames[name].reset_index(drop=True) for name in FILE_ORDER},
        present=present,
        source=source,
        warnings=tuple(sorted((p for p in problems if p.severity == "warning"), key=sort_key)),
    )


def validate_dataset(source: str | Path) -> ValidationReport:
    """Check a dataset folder or workbook and report every problem at once.

    Parameters
    ----------
    source : str or Path
        A folder of contract CSV files or an ``.xlsx`` workbook with one sheet per file.

    Returns
    -------
    ValidationReport
        ``ok`` is True where there are no errors; warnings never block loading.
    """
    path = Path(source)
    tables, problems = read_source(path, FILE_ORDER)
    if not tables and any(p.file in {str(path), path.name} for p in problems):
        # The source itself is unreadable: "required file is missing" would only add noise.
        return ValidationReport(tuple(sorted(problems, key=sort_key)), None)
    try:
        dataset = _build(tables, problems, str(path))
    except DatasetError:
        return ValidationReport(tuple(sorted(problems, key=sort_key)), None)
    return ValidationReport(tuple(sorted(problems, key=sort_key)), dataset)


def load_dataset(source: str | Path) -> Dataset:
    """Load and validate a dataset; raise :class:`DatasetError` listing every problem.

    Examples
    --------
    >>> from pathlib import Path
    >>> tiny = Path(__file__).resolve().parents[1] / "fixtures" / "tiny"
    >>> load_dataset(tiny).summary()["firms"] > 0
    True
    """
    report = validate_dataset(source)
    if report.dataset is None:
        raise DatasetError(report.problems)
    return report.dataset
