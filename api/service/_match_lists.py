"""Match lists in the service: the glue between the routes, the database and the matcher.

The rules (cap, declined pairs, pins, blocks) are :func:`ketnoi.matcher.build_match_list`, the
same function ``ketnoi match-list`` and notebooks call; the database half (saving, reading back
with names, declined outcomes, unlisted and deleted firms) is :mod:`ketnoi.api.storage`. Here a
list is derived with the served model and the database's outcomes, and written out as a file.

A list is saved with the model version and data fingerprint that made it and with its spec, so
that pinning or blocking a pair later derives it again the same way (with the model serving
then, whose version and fingerprint replace the old ones).
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from typing import Any

import pandas as pd
from sqlalchemy import Engine

from ketnoi import matcher
from ketnoi.api import storage
from ketnoi.api.service._holder import ServedModel
from ketnoi.api.storage import Conflict, Invalid, KeyInfo, NotFound, PageOfRows

__all__ = [
    "create_match_list",
    "get_match_list",
    "list_match_lists",
    "match_list_csv",
    "match_list_frame",
    "match_list_xlsx",
    "update_pairs",
]

Row = dict[str, Any]


def _derive(engine: Engine, served: ServedModel, spec: matcher.MatchListSpec) -> pd.DataFrame:
    """The list's rows, from the served model and the database's outcomes and firms."""
    try:
        spec.check()
    except ValueError as exc:
        raise Invalid(str(exc)) from None
    buyers = spec.buyer_ids or ()
    named = {*buyers, *spec.supplier_ids, *(f for pair in spec.pins for f in pair)}
    missing = storage.missing_firms(engine, named)
    if missing:
        shown = ", ".join(f"'{f}'" for f in missing[:10])
        raise Invalid(f"not a firm in the database: {shown}")
    declined = storage.declined_pairs(engine, buyers, spec.supplier_ids)
    try:
        return matcher.build_match_list(
            served.matcher, spec, declined=declined, hidden=storage.hidden_firms(engine)
        )
    except (KeyError, ValueError) as exc:
        raise Invalid(str(exc.args[0]) if exc.args else "not a firm the model knows") from None


def _fingerprint(served: ServedModel) -> str:
    m = served.matcher
    return str(getattr(m, "data_fingerprint_", None) or served.fingerprint)


def create_match_list(
    engine: Engine,
    served: ServedModel,
    spec: matcher.MatchListSpec,
    *,
    label: str = "",
    actor: KeyInfo | str = "service",
) -> int:
    """Derive, save and audit a match list; returns its id."""
    rows = _derive(engine, served, spec)
    return storage.save_match_list(
        engine,
        rows,
        model_version=served.version,
        data_fingerprint=_fingerprint(served),
        k=spec.k,
        label=label,
        params=spec.params(),
        actor=actor,
    )


def update_pairs(
    engine: Engine,
    served: ServedModel,
    list_id: int,
    kind: str,
    *,
    add: Iterable[tuple[str, str]] = (),
    remove: Iterable[tuple[str, str]] = (),
    actor: KeyInfo | str = "service",
) -> None:
    """Pin or block pairs (``kind`` ``pins`` or ``blocks``) and derive the list again.

    Raises :class:`Conflict` when the list was not made by the service, or changed between
    reading and writing it.
    """
    added, removed = list(add), list(remove)
    saved = get_match_list(engine, list_id)
    if not saved["params"]:
        raise Conflict(f"match list {list_id} was not made by the service: it cannot be re-derived")
    before = matcher.MatchListSpec.from_params(saved["params"])
    spec = before.with_pairs(kind, added, removed)
    rows = _derive(engine, served, spec)
    change = {kind: {"added": [list(p) for p in added], "removed": [list(p) for p in removed]}}
    updated = storage.update_match_list(
        engine,
        list_id,
        rows,
        params=spec.params(),
        expected_params=before.params(),
        model_version=served.version,
        data_fingerprint=_fingerprint(served),
        detail=change,
        actor=actor,
    )
    if not updated:
        raise Conflict(f"match list {list_id} changed meanwhile: send the change again")


def list_match_lists(engine: Engine, page: int = 1, page_size: int = 50) -> PageOfRows:
    """Saved match lists, newest first, with their number of rows."""
    rows, total = storage.list_match_lists(engine, page, page_size)
    return PageOfRows(rows, total)


def get_match_list(engine: Engine, list_id: int) -> Row:
    """A saved match list with its rows, firm and category names filled in."""
    saved = storage.get_match_list(engine, list_id)
    if saved is None:
        raise NotFound(f"no match list with id {list_id}")
    return saved


# -- files to hand out ------------------------------------------------------------------------
_HEADERS = {
    "en": {
        "side": "list of",
        "buyer_id": "buyer_id",
        "buyer_name": "buyer",
        "supplier_id": "supplier_id",
        "supplier_name": "supplier",
        "category_id": "category_id",
        "category_name": "category",
        "rank": "rank",
        "score": "score",
        "pinned": "pinned",
        "reasons": "reasons",
    },
    "vi": {
        "side": "danh sách của",
        "buyer_id": "buyer_id",
        "buyer_name": "bên mua",
        "supplier_id": "supplier_id",
        "supplier_name": "nhà cung cấp",
        "category_id": "category_id",
        "category_name": "nhóm sản phẩm",
        "rank": "thứ hạng",
        "score": "điểm",
        "pinned": "ghim",
        "reasons": "lý do",
    },
}
_SIDES = {
    "en": {"buyer": "buyer", "supplier": "supplier"},
    "vi": {"buyer": "bên mua", "supplier": "nhà cung cấp"},
}
_YES_NO = {"en": ("yes", ""), "vi": ("có", "")}


def match_list_frame(saved: Row) -> pd.DataFrame:
    """The rows as a table for people: names, plain reasons joined by `` | ``."""
    lang = saved["params"].get("lang", "en")
    lang = lang if lang in _HEADERS else "en"
    headers = _HEADERS[lang]
    yes, no = _YES_NO[lang]
    records = []
    for row in saved["items"]:
        cells = {c: row.get(c) for c in headers}
        cells["side"] = _SIDES[lang].get(row["side"], row["side"])
        cells["score"] = round(float(row["score"]), 3)
        cells["pinned"] = yes if row["pinned"] else no
        cells["reasons"] = " | ".join(row["reasons"])
        records.append(cells)
    frame = pd.DataFrame(records, columns=list(headers))
    return frame.rename(columns=headers)


def match_list_csv(saved: Row) -> bytes:
    """The match list as CSV: UTF-8 with a byte-order mark, so that Excel shows Vietnamese."""
    text = match_list_frame(saved).to_csv(index=False, lineterminator="\r\n")
    return text.encode("utf-8-sig")


def match_list_xlsx(saved: Row) -> bytes:
    """The match list as an XLSX workbook: the list, and a sheet on how it was made."""
    frame = match_list_frame(saved)
    params = saved["params"]
    about = pd.DataFrame(
        [
            ("match list", saved["id"]),
            ("label", saved["label"]),
            ("created at (UTC)", saved["created_at"].strftime("%Y-%m-%d %H:%M")),
            ("model version", saved["model_version"]),
            ("data fingerprint", saved["data_fingerprint"]),
            ("rows per firm (k)", saved["k"]),
            ("max lists per supplier", params.get("max_per_supplier") or ""),
            ("category", params.get("category") or ""),
            ("park", params.get("park") or ""),
            ("certification", params.get("certification") or ""),
        ],
        columns=["", "value"],
    )
    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        frame.to_excel(writer, index=False, sheet_name="match list")
        about.to_excel(writer, index=False, sheet_name="about")
        sheet = writer.sheets["match list"]
        sheet.freeze_panes = "A2"
        for i, column in enumerate(frame.columns):
            longest = max([len(str(column)), *(len(str(v)) for v in frame[column])])
            letter = sheet.cell(row=1, column=i + 1).column_letter
            sheet.column_dimensions[letter].width = min(max(10, longest + 2), 80)
        writer.sheets["about"].column_dimensions["A"].width = 24
        writer.sheets["about"].column_dimensions["B"].width = 40
    return buffer.getvalue()
