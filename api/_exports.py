"""Every file that ketnoi hands out, registered in one place, and the match list's tables.

:data:`EXPORTS` names each export: the tables it holds, the HTTP routes (``format=csv|xlsx``)
and the ``ketnoi`` commands (``--out``) that write it, and a function making its tables from a
dataset and a fitted matcher. Every door writes through :func:`ketnoi.api._tables.tables_to_bytes`;
tests walk this registry (formula neutralising, Vietnamese headers, and what a firm key may see),
so an export added here is checked by them without another line of test, and a test fails when a
route or command writes a file that is not registered.

The match list is written from the command line and from the service alike by
:func:`match_list_sheets`: the list, with firm and category names and reasons in plain words, and
an "about" sheet saying how it was made.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pandas as pd

from ketnoi import graph, matcher, programme

__all__ = [
    "EXPORTS",
    "MATCH_LIST_TABLE_COLUMNS",
    "Export",
    "ExportWorld",
    "match_list_about",
    "match_list_sheets",
    "match_list_table",
    "names_from_dataset",
]

Sheets = dict[str, pd.DataFrame]

#: The columns of a match list handed out, in this order (headers: :mod:`ketnoi.api._headers`).
MATCH_LIST_TABLE_COLUMNS = [
    "list_of",
    "buyer_id",
    "buyer_name",
    "supplier_id",
    "supplier_name",
    "category_id",
    "category_name",
    "rank",
    "score",
    "pinned",
    "reasons",
]
_SIDES = {
    "en": {"buyer": "buyer", "supplier": "supplier"},
    "vi": {"buyer": "bên mua", "supplier": "nhà cung cấp"},
}
_PINNED = {"en": "yes", "vi": "có"}
_ABOUT = {
    "en": {
        "id": "match list",
        "label": "label",
        "created_at": "created at (UTC)",
        "model_version": "model version",
        "data_fingerprint": "data fingerprint",
        "k": "rows per firm (k)",
        "max_per_supplier": "max lists per supplier",
        "category": "category",
        "park": "park",
        "certification": "certification",
    },
    "vi": {
        "id": "danh sách gợi ý",
        "label": "nhãn",
        "created_at": "tạo lúc (UTC)",
        "model_version": "phiên bản mô hình",
        "data_fingerprint": "dấu vân tay dữ liệu",
        "k": "số dòng mỗi doanh nghiệp (k)",
        "max_per_supplier": "số danh sách tối đa mỗi nhà cung cấp",
        "category": "nhóm sản phẩm",
        "park": "khu công nghiệp",
        "certification": "chứng nhận",
    },
}


def match_list_table(rows: Iterable[Mapping[str, Any]], lang: str) -> pd.DataFrame:
    """A match list's rows as the table handed out (:data:`MATCH_LIST_TABLE_COLUMNS`).

    ``rows`` carry ``side``, the ids, ``buyer_name``, ``supplier_name``, ``category_name`` (in
    ``lang``), ``rank``, ``score``, ``pinned`` and ``reasons`` (a list, joined by `` | ``):
    a saved list's items, or :func:`ketnoi.matcher.build_match_list`'s rows with names added.
    """
    sides = _SIDES.get(lang, _SIDES["en"])
    records = [
        {
            "list_of": sides.get(row["side"], row["side"]),
            "buyer_id": row["buyer_id"],
            "buyer_name": row.get("buyer_name"),
            "supplier_id": row["supplier_id"],
            "supplier_name": row.get("supplier_name"),
            "category_id": row.get("category_id"),
            "category_name": row.get("category_name"),
            "rank": int(row["rank"]),
            "score": round(float(row["score"]), 3),
            "pinned": _PINNED.get(lang, "yes") if row["pinned"] else "",
            "reasons": " | ".join(row["reasons"]),
        }
        for row in rows
    ]
    return pd.DataFrame(records, columns=MATCH_LIST_TABLE_COLUMNS)


def match_list_about(facts: Mapping[str, Any], lang: str) -> pd.DataFrame:
    """The "about" sheet: how a list was made (keys of ``facts``: ``id``, ``label``,
    ``created_at``, ``model_version``, ``data_fingerprint``, ``k``, and the filters)."""
    labels = _ABOUT.get(lang, _ABOUT["en"])
    rows = []
    for key, label in labels.items():
        value = facts.get(key)
        if isinstance(value, datetime):
            value = value.strftime("%Y-%m-%d %H:%M")
        rows.append((label, "" if value is None else value))
    return pd.DataFrame(rows, columns=["about", "about_value"])


def match_list_sheets(
    rows: Iterable[Mapping[str, Any]], facts: Mapping[str, Any], lang: str
) -> Sheets:
    """The workbook of a match list: ``match list`` and ``about`` (a CSV holds the first)."""
    return {"match list": match_list_table(rows, lang), "about": match_list_about(facts, lang)}


def names_from_dataset(frame: pd.DataFrame, dataset: graph.Dataset, lang: str) -> pd.DataFrame:
    """``frame`` with ``buyer_name``, ``supplier_name`` and ``category_name`` (in ``lang``)
    from ``dataset``, as the service fills them in from its database."""
    firms = dict(zip(dataset.firms["firm_id"], dataset.firms["name"], strict=True))
    cats = dataset.categories
    local = cats["name_vi"] if lang == "vi" and "name_vi" in cats else cats["name"]
    local = local.where(local.notna() & (local.astype(str) != ""), cats["name"])
    categories = dict(zip(cats["category_id"], local, strict=True))
    return frame.assign(
        buyer_name=frame["buyer_id"].map(firms),
        supplier_name=frame["supplier_id"].map(firms),
        category_name=frame["category_id"].map(categories),
    )


# -- the registry -----------------------------------------------------------------------------
@dataclass(frozen=True)
class ExportWorld:
    """What an export's tables are made from in a test or a notebook: data and a fitted model."""

    dataset: graph.Dataset
    matcher: Any

    def match_list(self, lang: str) -> pd.DataFrame:
        spec = matcher.MatchListSpec(k=3, lang=lang)
        rows = matcher.build_match_list(self.matcher, spec, declined=())
        return names_from_dataset(rows, self.dataset, lang)

    def event(self) -> Any:
        firms = self.dataset.firms
        people = tuple(
            programme.Participant(f, "buyer" if role == "buyer" else "supplier")
            for f, role in zip(firms["firm_id"], firms["role"], strict=True)
        )
        spec = programme.EventSpec(participants=people, slots=3, tables=2, max_meetings=2)
        return programme.schedule_event(spec, self.matcher, method="greedy")


@dataclass(frozen=True)
class Export:
    """One file that ketnoi hands out.

    Attributes
    ----------
    name : str
        The export's name.
    routes : tuple of str
        OpenAPI paths answering it with ``format=csv|xlsx`` (``lang``, ``sep``).
    commands : tuple of str
        ``ketnoi`` commands writing it with ``--out`` (``--lang``, ``--sep``).
    tables : callable
        ``tables(world, lang)``: its sheets, made as the doors make them.
    """

    name: str
    routes: tuple[str, ...]
    commands: tuple[str, ...]
    tables: Callable[[ExportWorld, str], Sheets]


def _match_list(world: ExportWorld, lang: str) -> Sheets:
    rows = world.match_list(lang).to_dict("records")
    facts = {
        "created_at": datetime.now(UTC),
        "model_version": getattr(world.matcher, "version_", ""),
        "data_fingerprint": world.dataset.fingerprint(),
        "k": 3,
    }
    return match_list_sheets(rows, facts, lang)


def _event(world: ExportWorld, lang: str) -> Sheets:
    return dict(world.event().sheets(lang))


def _grid(world: ExportWorld, lang: str) -> Sheets:
    return {"grid": world.event().grid(lang)}


def _agenda(world: ExportWorld, lang: str) -> Sheets:
    return {"agenda": programme.report_in_language(world.event().agendas(), None, lang)}


def _conversion(world: ExportWorld, lang: str) -> Sheets:
    rankings = world.match_list(lang)[["buyer_id", "supplier_id", "rank"]]
    return {"conversion": programme.conversion_report(world.dataset.outcomes, rankings, k=3)}


def _report(name: str, report: Callable[[graph.Dataset], pd.DataFrame]) -> Callable[..., Sheets]:
    def tables(world: ExportWorld, lang: str) -> Sheets:
        return {name: programme.report_in_language(report(world.dataset), world.dataset, lang)}

    return tables


EXPORTS: dict[str, Export] = {
    e.name: e
    for e in (
        Export("match-list", ("/v1/match-lists/{list_id}",), ("match-list",), _match_list),
        Export("event", ("/v1/events/{event_id}",), ("schedule",), _event),
        Export("event-grid", ("/v1/events/{event_id}/grid",), (), _grid),
        Export("agenda", ("/v1/events/{event_id}/agendas/{firm_id}",), (), _agenda),
        Export(
            "localisation",
            ("/v1/programme/localisation",),
            ("localisation",),
            _report("localisation", lambda d: programme.localisation(d, "buyer")),
        ),
        Export(
            "near-miss-targets",
            ("/v1/programme/near-misses",),
            ("near-misses",),
            _report("near-miss-targets", programme.near_miss_targets),
        ),
        Export(
            "near-misses",
            ("/v1/programme/near-misses/pairs",),
            ("near-misses --pairs",),
            _report("near-misses", programme.near_misses),
        ),
        Export(
            "concentration",
            ("/v1/programme/concentration",),
            ("concentration",),
            _report("concentration", programme.category_concentration),
        ),
        Export(
            "single-sourced",
            ("/v1/programme/concentration/single-sourced",),
            ("concentration --view single-sourced",),
            _report("single-sourced", programme.single_sourced),
        ),
        Export(
            "sole-suppliers",
            ("/v1/programme/concentration/sole-suppliers",),
            ("concentration --view suppliers",),
            _report("sole-suppliers", programme.sole_suppliers),
        ),
        Export(
            "indicators",
            ("/v1/programme/indicators",),
            ("indicators",),
            _report("indicators", programme.programme_indicators),
        ),
        # A backtest runs as a job; its result route hands out the same conversion table.
        Export(
            "conversion",
            ("/v1/programme/conversion", "/v1/jobs/{job_id}/result"),
            ("conversion",),
            _conversion,
        ),
    )
}
