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

import json
from collections.abc import Callable, Iterable
from typing import Any

import pandas as pd
from sqlalchemy import Engine

from ketnoi import matcher
from ketnoi.api import storage
from ketnoi.api._exports import match_list_sheets
from ketnoi.api._progress import MATCH_LIST_STEP
from ketnoi.api._tables import LANGS
from ketnoi.api.service._holder import ServedModel
from ketnoi.api.storage import Conflict, Invalid, KeyInfo, NotFound, PageOfRows

__all__ = [
    "MATCH_LIST_STEP",
    "create_match_list",
    "get_match_list",
    "list_match_lists",
    "match_list_sheets_of",
    "preview_match_list",
    "update_pairs",
]

Row = dict[str, Any]


def _derive(
    engine: Engine,
    served: ServedModel,
    spec: matcher.MatchListSpec,
    progress: Callable[[int, int], None] | None = None,
) -> pd.DataFrame:
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
            served.matcher,
            spec,
            declined=declined,
            hidden=storage.hidden_firms(engine),
            progress=progress,
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
    progress: Callable[[int, int], None] | None = None,
) -> int:
    """Derive, save and audit a match list; returns its id (``progress`` is told buyers
    ranked of buyers)."""
    rows = _derive(engine, served, spec, progress)
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


def preview_match_list(
    engine: Engine, served: ServedModel, spec: matcher.MatchListSpec
) -> list[Row]:
    """The rows a match list of ``spec`` would have now, derived exactly as
    :func:`create_match_list` derives them, without saving anything (the workbench's preview)."""
    rows: list[Row] = json.loads(
        _derive(engine, served, spec).to_json(orient="records", force_ascii=False)
    )
    return rows


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
def match_list_sheets_of(saved: Row, lang: str | None = None) -> dict[str, pd.DataFrame]:
    """The saved list as the workbook handed out (``match list`` and ``about``), written as
    ``ketnoi match-list`` writes it; ``lang`` defaults to the list's own language."""
    lang = lang or saved["params"].get("lang", "en")
    lang = lang if lang in LANGS else "en"
    params = saved["params"]
    facts = {
        "id": saved["id"],
        "label": saved["label"],
        "created_at": saved["created_at"],
        "model_version": saved["model_version"],
        "data_fingerprint": saved["data_fingerprint"],
        "k": saved["k"],
        "max_per_supplier": params.get("max_per_supplier"),
        "category": params.get("category"),
        "park": params.get("park"),
        "certification": params.get("certification"),
    }
    return match_list_sheets(saved["items"], facts, lang)
