"""What the adapters for public supplier data share: reading a table, firm ids, name resolution.

An adapter turns someone else's file (an Open Supply Hub download, an edge list with names)
into the data contract. Every row it cannot read is a :class:`Problem` naming the file, row,
column and reason, and is kept (raw) in the result: nothing is lost.
"""

from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from ketnoi.graph._dataset import Dataset
from ketnoi.graph._normalise import fold, nfc
from ketnoi.graph._problems import Problem
from ketnoi.graph._read import read_sheets
from ketnoi.graph._resolve_blocking import candidate_pairs
from ketnoi.graph._resolve_names import normalise_firm
from ketnoi.graph._resolve_scoring import FirmResolver, decide

__all__ = [
    "AdaptResult",
    "InputTable",
    "firm_slug",
    "read_input_table",
    "resolve_firm_names",
]

_SLUG = re.compile(r"[^0-9a-z]+")


@dataclass
class InputTable:
    """A table as read: its header, and each row with the line a spreadsheet shows for it."""

    label: str
    header: list[str]
    rows: list[tuple[int, dict[str, str]]]


@dataclass
class AdaptResult:
    """What an adapter made of a file.

    Attributes
    ----------
    frames : dict of DataFrame
        Contract files by name (``firms``, ``links``, ``categories``, ``capabilities``).
    problems : list of Problem
        Rows and cells not read, and why (errors: the row was left out; warnings: a cell was).
    rejected : list of dict
        The raw cells of every row left out, with its line: nothing is lost.
    review : list of dict
        Name pairs that may be one firm but were kept apart for a person to decide.
    sources : dict
        For each firm id, where it came from (OSH ids, names as written).
    """

    frames: dict[str, pd.DataFrame]
    problems: list[Problem] = field(default_factory=list)
    rejected: list[dict[str, object]] = field(default_factory=list)
    review: list[dict[str, object]] = field(default_factory=list)
    sources: dict[str, list[str]] = field(default_factory=dict)

    def dataset(self) -> Dataset:
        """The frames validated as the contract's files (raises ``DatasetError`` if they fail)."""
        return Dataset.from_frames("<adapted>", **self.frames)

    def report(self) -> dict[str, object]:
        """A JSON-ready account of the run: counts, problems, rejected rows, pairs to review."""
        return {
            "counts": {name: len(frame) for name, frame in self.frames.items()},
            "problems": [
                {
                    "file": p.file,
                    "line": p.line,
                    "column": p.column,
                    "reason": p.reason,
                    "severity": p.severity,
                }
                for p in self.problems
            ],  # fmt: skip
            "rejected_rows": self.rejected,
            "review": self.review,
            "sources": self.sources,
        }

    def write_report(self, path: Path) -> None:
        path.write_text(json.dumps(self.report(), ensure_ascii=False, indent=2), "utf-8")


def firm_slug(prefix: str, text: str) -> str:
    """A firm id from text: ``prefix`` and the folded words joined by ``-``.

    Examples
    --------
    >>> firm_slug("osh", "VN2024 123ABC"), firm_slug("n", "Công ty TNHH Đông Á")
    ('osh-vn2024-123abc', 'n-cong-ty-tnhh-dong-a')
    """
    slug = _SLUG.sub("-", fold(text)).strip("-")[:60].strip("-")
    return f"{prefix}-{slug or 'x'}"


def _unique_header(header: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for i, name in enumerate(header):
        name = " ".join(nfc(name).split()) or f"column {i + 1}"
        seen[name] = seen.get(name, 0) + 1
        out.append(name if seen[name] == 1 else f"{name} ({seen[name]})")
    return out


def _read_xlsx(path: Path) -> tuple[InputTable | None, list[Problem]]:
    # Through the bounded reader: a workbook too large or too slow is a problem, not a hang.
    label = path.name
    sheets, problems = read_sheets(path)
    filled = [(title, rows) for title, rows in sheets if rows]
    if not filled:
        return None, problems or [Problem(label, None, None, "the workbook has no rows")]
    title, rows = filled[0]
    label = f"{path.name}[{title}]"
    (_, header), body = rows[0], rows[1:]
    names = _unique_header(header)
    table = [
        (line, {n: (cells[i] if i < len(cells) else "") for i, n in enumerate(names)})
        for line, cells in body
    ]
    for line, cells in body:
        if len(cells) > len(names) and any(c.strip() for c in cells[len(names) :]):
            problems.append(Problem(label, line, None, "cells right of the last header"))
    return InputTable(label, names, table), problems


def read_input_table(path: Path) -> tuple[InputTable | None, list[Problem]]:
    """Read a CSV (UTF-8, ``,`` ``;`` or tab) or the first non-empty sheet of an XLSX file.

    The first non-blank row is the header. Returns None and a problem when the file cannot be
    read at all.
    """
    label = path.name
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        return _read_xlsx(path)
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except OSError as exc:
        return None, [Problem(label, None, None, f"cannot be read: {exc.strerror or exc}")]
    except UnicodeDecodeError as exc:
        return None, [Problem(label, None, None, f"not UTF-8 text (byte {exc.start})")]
    first = next((line for line in text.splitlines() if line.strip()), "")
    if not first:
        return None, [Problem(label, None, None, "file is empty (no header row)")]
    try:
        delimiter = csv.Sniffer().sniff(first, delimiters=",;\t").delimiter
    except csv.Error:
        delimiter = ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    problems: list[Problem] = []
    header: list[str] | None = None
    rows: list[tuple[int, dict[str, str]]] = []
    try:
        for line, cells in enumerate(reader, start=1):
            if not any(c.strip() for c in cells):
                continue
            if header is None:
                header = _unique_header(cells)
                continue
            if len(cells) > len(header) and any(c.strip() for c in cells[len(header) :]):
                problems.append(
                    Problem(label, line, None, f"{len(cells)} cells for {len(header)} headers")
                )
            rows.append(
                (line, {n: (cells[i] if i < len(cells) else "") for i, n in enumerate(header)})
            )
    except csv.Error as exc:
        return None, [*problems, Problem(label, None, None, f"unreadable CSV: {exc}")]
    return InputTable(label, header or [], rows), problems


def resolve_firm_names(names: list[str]) -> tuple[dict[str, str], list[dict[str, object]]]:
    """Which names of a list are one firm: a representative name for each, and pairs to review.

    Names equal once folded (case, diacritics, spacing) or normalised
    (:func:`ketnoi.graph.normalise_firm`: the same words, legal form and branch flag) are one
    firm. The rest go through entity
    resolution (:class:`ketnoi.graph.FirmResolver` and :func:`ketnoi.graph.decide`): a
    ``match`` joins two names; ``review`` keeps them apart and lists the pair for a person;
    ``branch_of`` keeps a branch a firm of its own.

    Returns
    -------
    (dict, list)
        Each name to the name that stands for its firm (the first written), and the pairs to
        review (``left``, ``right``, ``match_probability``, ``evidence``).
    """
    order: dict[str, str] = {}
    by_key: dict[tuple[str, str, bool], str] = {}
    for name in names:
        if not fold(name):
            continue
        # The same words once normalised, with the same legal form and branch flag, are one
        # name: "Cty TNHH X" is "Công ty TNHH X", "X JSC" is "Công ty CP X". With a name as the
        # only evidence the scorer leaves such pairs short of a match (measured with
        # benchmarks/bench_adapters.py), yet they are as sure as names equal once folded.
        firm = normalise_firm({"name": name})
        key = (firm.name_core or fold(name), firm.legal_form, firm.is_branch)
        order[name] = by_key.setdefault(key, name)
    firsts = list(dict.fromkeys(order.values()))
    parent = {n: n for n in firsts}

    def root(n: str) -> str:
        while parent[n] != n:
            parent[n] = parent[parent[n]]
            n = parent[n]
        return n

    review: list[dict[str, object]] = []
    if len(firsts) >= 3:
        records = pd.DataFrame({"id": [str(i) for i in range(len(firsts))], "name": firsts})
        pairs = candidate_pairs(records)
        if len(pairs):
            try:
                scored = FirmResolver().fit(records).score(pairs, records)
            except ValueError as exc:  # too few records for EM: the names stay apart
                review.append({"note": f"entity resolution not run: {exc}"})
            else:
                decided = decide(scored)
                for row in decided.itertuples(index=False):
                    left, right = firsts[int(row.left_id)], firsts[int(row.right_id)]
                    if row.decision == "match":
                        a, b = root(left), root(right)
                        if a != b:
                            parent[max(a, b, key=firsts.index)] = min(a, b, key=firsts.index)
                    elif row.decision == "review":
                        review.append(
                            {"left": left, "right": right,
                             "match_probability": round(float(row.match_probability), 3),
                             "evidence": row.evidence}
                        )  # fmt: skip
    return {name: root(first) for name, first in order.items()}, review
