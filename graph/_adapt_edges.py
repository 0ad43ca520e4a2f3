"""Generic edge lists with names into the data contract.

A buyer's vendor list, a press report or a survey gives supplier-buyer pairs by name, not by
id: ``supplier, buyer[, category, year]`` (headers in English or Vietnamese: "Nhà cung cấp",
"Khách hàng", "Ngành hàng", "Năm"). The same firm is written several ways ("Công ty TNHH Nhựa
Thăng Long", "Nhua Thang Long JSC"); names go through entity resolution
(:func:`ketnoi.graph._adapt_common.resolve_firm_names`) before they become firms, and pairs it
is unsure of are listed for a person rather than merged.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pandas as pd

from ketnoi.graph._adapt_common import (
    AdaptResult,
    firm_slug,
    read_input_table,
    resolve_firm_names,
)
from ketnoi.graph._adapt_osh import used_categories
from ketnoi.graph._normalise import fold
from ketnoi.graph._problems import Problem
from ketnoi.graph._products import suggester_for

__all__ = ["EDGE_COLUMNS", "adapt_edges"]

#: The columns of an edge list, with the headers (folded) that name them.
EDGE_COLUMNS: dict[str, tuple[str, ...]] = {
    "supplier": ("supplier", "supplier name", "supplier_name", "seller", "vendor",
                 "nha cung cap", "ncc", "ben ban", "doanh nghiep cung cap"),
    "buyer": ("buyer", "buyer name", "buyer_name", "customer", "purchaser", "khach hang",
              "ben mua", "nguoi mua", "doanh nghiep mua"),
    "category": ("category", "category_id", "product", "products", "nganh hang", "san pham",
                 "mat hang"),
    "year": ("year", "since", "nam", "nam bat dau", "tu nam"),
}  # fmt: skip
#: Below this a free-text category is not read as a category (it is reported instead).
_MIN_CATEGORY_SCORE = 0.35


def _columns(header: list[str]) -> tuple[dict[str, str], list[str]]:
    found: dict[str, str] = {}
    unknown = []
    for name in header:
        key = fold(name).strip(" :*")
        field = next((f for f, words in EDGE_COLUMNS.items() if key in words), "")
        if field and field not in found:
            found[field] = name
        else:
            unknown.append(name)
    return found, unknown


def adapt_edges(path: Path, categories: pd.DataFrame | None = None) -> AdaptResult:
    """Read an edge list with firm names (CSV or XLSX) into contract frames.

    Parameters
    ----------
    path : Path
        Columns ``supplier`` and ``buyer`` (names), optionally ``category`` (an id of
        ``categories`` or product text) and ``year`` (when the link began).
    categories : DataFrame, optional
        The world's categories: a category cell that is not one of their ids is matched as
        product text (:func:`ketnoi.graph.suggest_categories`) and the reading reported.

    Returns
    -------
    AdaptResult
        ``firms`` (one per resolved firm, ``supplier``, ``buyer`` or ``both``), ``links``, and
        ``categories`` (those used, with their ancestors) when categories are given; problems,
        rows left out, and name pairs for review.
    """
    problems: list[Problem] = []
    table, found = read_input_table(path)
    problems.extend(found)
    if table is None:
        return AdaptResult({}, problems)
    label = table.label
    columns, unknown = _columns(table.header)
    missing = [c for c in ("supplier", "buyer") if c not in columns]
    if missing:
        problems.append(
            Problem(label, None, None,
                    f"no {' or '.join(missing)} column: the header needs supplier and buyer"
                    " (or Nhà cung cấp, Khách hàng)")
        )  # fmt: skip
        return AdaptResult({}, problems, rejected=[{"line": ln, **r} for ln, r in table.rows])
    for column in unknown:
        problems.append(
            Problem(label, None, column, "unknown column: kept in the links' source_extra",
                    "warning")
        )  # fmt: skip

    rows, rejected = [], []
    for line, row in table.rows:
        supplier = " ".join(row[columns["supplier"]].split())
        buyer = " ".join(row[columns["buyer"]].split())
        empty = [columns[c] for c, v in (("supplier", supplier), ("buyer", buyer)) if not fold(v)]
        if empty:
            for column in empty:
                problems.append(Problem(label, line, column, "empty: a link needs both firms"))
            rejected.append({"line": line, **row})
            continue
        rows.append((line, row, supplier, buyer))

    names = [n for _, _, s, b in rows for n in (s, b)]
    firm_of_name, review = resolve_firm_names(names)
    ids: dict[str, str] = {}
    for representative in dict.fromkeys(firm_of_name.values()):
        firm_id = firm_slug("f", representative)
        n = 2
        while firm_id in ids.values():
            firm_id, n = f"{firm_slug('f', representative)}-{n}", n + 1
        ids[representative] = firm_id

    known = set(categories["category_id"].astype(str)) if categories is not None else set()
    suggester = suggester_for(categories) if categories is not None else None
    read_as: dict[str, str] = {}
    links: list[dict[str, object]] = []
    roles: dict[str, set[str]] = {}
    seen: dict[tuple[str, str, str], int] = {}
    this_year = dt.date.today().year
    for line, row, supplier, buyer in rows:
        s_id, b_id = ids[firm_of_name[supplier]], ids[firm_of_name[buyer]]
        if s_id == b_id:
            problems.append(
                Problem(label, line, columns["buyer"],
                        f"{supplier!r} and {buyer!r} are the same firm: a firm does not supply"
                        " itself")
            )  # fmt: skip
            rejected.append({"line": line, **row})
            continue
        category = ""
        text = row.get(columns.get("category", ""), "").strip()
        if text and text in known:
            category = text
        elif text and suggester is not None:
            if text not in read_as:
                best = suggester.suggest(text, k=1)
                read_as[text] = (
                    best[0].category_id if best and best[0].score >= _MIN_CATEGORY_SCORE else ""
                )
                reason = (
                    f"{text!r} read as category {read_as[text]!r} ({best[0].score:.2f}): check it"
                    if read_as[text]
                    else f"{text!r} matches no category: the link is kept without one"
                )
                problems.append(Problem(label, line, columns["category"], reason, "warning"))
            category = read_as[text]
        elif text:
            problems.append(
                Problem(label, line, columns["category"],
                        f"{text!r}: no categories given (--categories), the link is kept without"
                        " one", "warning")
            )  # fmt: skip
        since: int | None = None
        year_text = row.get(columns.get("year", ""), "").strip()
        if year_text:
            if year_text.isdigit() and 1900 <= int(year_text) <= this_year:
                since = int(year_text)
            else:
                problems.append(
                    Problem(label, line, columns["year"],
                            f"{year_text!r} is not a year from 1900 to {this_year}: left empty",
                            "warning")
                )  # fmt: skip
        extra = {c: row[c] for c in unknown if row.get(c, "").strip()}
        if text and not category:
            extra[columns["category"]] = text
        if year_text and since is None:
            extra[columns["year"]] = year_text
        source_extra = json.dumps(extra, ensure_ascii=False) if extra else ""
        first = seen.setdefault((s_id, b_id, category), line)
        if first != line:
            # One link per pair and category: the row joins the earlier one, and stays in
            # the rejected rows with where it went, so that its cells are not lost.
            problems.append(
                Problem(label, line, None, f"the same link as row {first}: merged into it",
                        "warning")
            )  # fmt: skip
            rejected.append({"line": line, "merged_into_line": first, **row})
        links.append({"supplier_id": s_id, "buyer_id": b_id, "category_id": category,
                      "since": since, "source_extra": source_extra})  # fmt: skip
        roles.setdefault(s_id, set()).add("supplier")
        roles.setdefault(b_id, set()).add("buyer")

    firms = [
        {"firm_id": firm_id, "name": name,
         "role": "both" if len(roles[firm_id]) == 2 else next(iter(roles[firm_id]))}
        for name, firm_id in ids.items() if firm_id in roles
    ]  # fmt: skip
    sources: dict[str, list[str]] = {}
    for name, representative in firm_of_name.items():
        sources.setdefault(ids[representative], []).append(name)
    link_frame = pd.DataFrame(
        links, columns=["supplier_id", "buyer_id", "category_id", "since", "source_extra"]
    )
    link_frame = (
        link_frame.sort_values("since", na_position="last")
        .drop_duplicates(["supplier_id", "buyer_id", "category_id"])
        .sort_index()
        .astype({"since": "Int64"})
    )
    frames = {
        "firms": pd.DataFrame(firms, columns=["firm_id", "name", "role"]),
        "links": link_frame.reset_index(drop=True),
    }
    if categories is not None:
        frames["categories"] = used_categories(categories, set(link_frame["category_id"]))
    return AdaptResult(frames, problems, rejected, review, sources)
