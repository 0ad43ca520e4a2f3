"""Categories for an intake list's products: suggested, written for a person, read back confirmed.

An officer's list says what each firm makes in free text ("Sản phẩm chính"). Intake shows, for
each such row, the categories (:func:`ketnoi.graph.suggest_record_categories`) and the HS code
(:func:`ketnoi.graph.suggest_hs`) the text most likely means, each with its score. The same
suggestions go into a **choices file** (JSON) next to the list's column mapping, with the best
category already filled in as the choice; the person checks it, changes ``category_id`` (or
empties it: no category) and runs the intake again, which reads the file back and keeps the
choices with the rows. As with the column mapping, what is in the file when the list is loaded
is what the person confirmed.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pandas as pd

from ketnoi.graph._intake import SourceRecord
from ketnoi.graph._problems import Problem
from ketnoi.graph._products import suggest_hs, suggest_record_categories

__all__ = ["category_choices", "load_category_choices", "save_category_choices"]

#: What a choices file says it is (so that another JSON file is not read as one).
_KIND = "ketnoi category choices/1"


def category_choices(
    records: Iterable[SourceRecord], categories: pd.DataFrame, k: int = 3
) -> list[dict[str, Any]]:
    """Suggested categories and HS codes for the rows of a list that name their products.

    Parameters
    ----------
    records : iterable of SourceRecord
        An intake's records (:func:`ketnoi.graph.read_intake`); rows without products are
        skipped.
    categories : DataFrame
        The world's categories (``category_id``, ``name``, ``name_vi``, ``hs_code``).
    k : int
        At most this many categories per row.

    Returns
    -------
    list of dict
        Per row with products: ``sheet``, ``line``, ``products``; ``suggestions`` (each
        ``category_id``, ``name``, ``name_vi``, ``hs_code``, ``score`` in [0, 1], best first);
        ``hs`` (the best HS heading for the text: ``hs_code``, ``description``, ``score``, or
        empty); and the proposed choice, ``category_id`` and ``hs_code`` (the best category
        and its code, else the best HS heading; empty where nothing matched).
    """
    out = []
    for found in suggest_record_categories(records, categories, k):
        suggestions = [
            {
                "category_id": s.category_id,
                "name": s.name,
                "name_vi": s.name_vi,
                "hs_code": s.hs_code,
                "score": s.score,
            }
            for s in found.suggestions
        ]
        heading = suggest_hs(found.products, k=1, categories=categories)
        hs = (
            {
                "hs_code": heading[0].hs_code,
                "description": heading[0].name,
                "score": heading[0].score,
            }
            if heading
            else {}
        )
        best = suggestions[0] if suggestions else {}
        out.append(
            {
                "sheet": found.sheet,
                "line": found.line,
                "products": found.products,
                "suggestions": suggestions,
                "hs": hs,
                "category_id": best.get("category_id", ""),
                "hs_code": best.get("hs_code") or hs.get("hs_code", ""),
            }
        )
    return out


def save_category_choices(choices: list[dict[str, Any]], path: Path | str) -> None:
    """Write the rows' suggestions and proposed choices for a person to check."""
    document = {
        "kind": _KIND,
        "note": "Check each row's category_id (one of its suggestions, another category id, or"
        " empty for none), then run the intake again: the choices are kept with the rows.",
        "rows": choices,
    }
    Path(path).write_text(json.dumps(document, ensure_ascii=False, indent=2), encoding="utf-8")


def load_category_choices(
    path: Path | str, categories: pd.DataFrame | None = None
) -> tuple[dict[tuple[str, int], dict[str, str]], list[Problem]]:
    """Read a choices file back: the confirmed ``category_id`` and ``hs_code`` per row.

    Parameters
    ----------
    path : path
        The file :func:`save_category_choices` wrote, as the person left it.
    categories : DataFrame, optional
        The world's categories: a ``category_id`` not among them is an error naming the row.

    Returns
    -------
    (dict, list of Problem)
        ``(sheet, line)`` to ``{"category_id", "hs_code", "products"}`` for the rows with a
        choice; and the problems (an unreadable file, an unknown category).
    """
    label = Path(path).name
    try:
        document = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        return {}, [Problem(label, None, None, f"cannot read the category choices: {exc}")]
    if not isinstance(document, dict) or document.get("kind") != _KIND:
        return {}, [Problem(label, None, None, "not a category choices file")]
    known = None if categories is None else set(categories["category_id"].astype(str))
    chosen: dict[tuple[str, int], dict[str, str]] = {}
    problems = []
    for i, row in enumerate(document.get("rows") or [], start=1):
        if not isinstance(row, dict):
            problems.append(Problem(label, None, None, f"row {i} of the choices is no object"))
            continue
        category = str(row.get("category_id") or "").strip()
        hs_code = str(row.get("hs_code") or "").strip()
        where = f"sheet {row.get('sheet')!r} row {row.get('line')}"
        if known is not None and category and category not in known:
            problems.append(
                Problem(label, None, "category_id", f"{where}: no category {category!r}")
            )
            continue
        if category or hs_code:
            key = (str(row.get("sheet", "")), int(row.get("line") or 0))
            chosen[key] = {
                "category_id": category,
                "hs_code": hs_code,
                "products": str(row.get("products", "")),
            }
    return chosen, problems
