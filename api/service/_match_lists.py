"""Match lists: top recommendations for many firms at once, capped, pinned, blocked, saved.

A match list is derived from a :class:`MatchListSpec` with the served model:

- each buyer of ``buyer_ids`` gets its top-``k`` new suppliers (``Matcher.recommend`` over a
  deeper ranking, with the filters), and each supplier of ``supplier_ids`` its top-``k`` buyers
  (``Matcher.suggest_buyers``; the filters and the cap are about suppliers, so they apply to
  the buyers' lists only);
- pairs with a ``declined`` outcome in the database, blocked pairs, and firms unlisted or
  deleted since the model was fitted are left out;
- the cap: no supplier appears on more than ``max_per_supplier`` buyers' lists. Rows are taken
  greedily in rank order across buyers (every buyer's first choice, then every buyer's second,
  ...; ties by score), so a large firm keeps the places where it ranks highest and the others
  go to the next suppliers down;
- pinned pairs come first on their firm's list (the buyer's list where the buyer is in
  ``buyer_ids``, else the supplier's), marked pinned, with the model's score and reasons for the
  pair. They count towards ``k`` and towards the cap, but neither drops them.

The list is saved with the model version and data fingerprint that made it and with its spec,
so that pinning or blocking a pair later derives it again the same way (with the model serving
then, whose version and fingerprint replace the old ones).
"""

from __future__ import annotations

import io
import math
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
from sqlalchemy import Engine, func, or_, select
from sqlalchemy.orm import Session

from ketnoi import matcher
from ketnoi.api.service._holder import ServedModel
from ketnoi.api.service._store import Conflict, Invalid, NotFound, Page
from ketnoi.api.storage import (
    Category,
    Firm,
    KeyInfo,
    MatchList,
    MatchListRow,
    Outcome,
    record,
    transaction,
)

__all__ = [
    "MatchListSpec",
    "Pair",
    "create_match_list",
    "derive_rows",
    "get_match_list",
    "list_match_lists",
    "match_list_csv",
    "match_list_frame",
    "match_list_xlsx",
    "pick_capped",
    "update_pairs",
]

#: (buyer_id, supplier_id)
Pair = tuple[str, str]
Row = dict[str, Any]

#: The deepest ranking read per firm to fill ``k`` rows after the cap and the exclusions.
MAX_FETCH = 200


@dataclass(frozen=True)
class MatchListSpec:
    """What a match list is made of; stored with the list as ``params``."""

    buyer_ids: tuple[str, ...] = ()
    supplier_ids: tuple[str, ...] = ()
    k: int = 10
    category: str | None = None
    park: str | None = None
    certification: str | None = None
    max_per_supplier: int | None = None
    lang: str = "en"
    pins: tuple[Pair, ...] = field(default=())
    blocks: tuple[Pair, ...] = field(default=())

    def __post_init__(self) -> None:
        # Repeated ids and pairs count once, in the order first given.
        for name in ("buyer_ids", "supplier_ids", "pins", "blocks"):
            object.__setattr__(self, name, tuple(dict.fromkeys(getattr(self, name))))

    def params(self) -> dict[str, Any]:
        """The spec as JSON."""
        return {
            "buyer_ids": list(self.buyer_ids),
            "supplier_ids": list(self.supplier_ids),
            "k": self.k,
            "category": self.category,
            "park": self.park,
            "certification": self.certification,
            "max_per_supplier": self.max_per_supplier,
            "lang": self.lang,
            "pins": [list(p) for p in self.pins],
            "blocks": [list(p) for p in self.blocks],
        }

    @classmethod
    def from_params(cls, params: dict[str, Any]) -> MatchListSpec:
        """The spec :meth:`params` wrote."""
        values = dict(params)
        for name in ("buyer_ids", "supplier_ids"):
            values[name] = tuple(values.get(name) or ())
        for name in ("pins", "blocks"):
            values[name] = tuple((str(b), str(s)) for b, s in values.get(name) or ())
        return cls(**values)

    def with_pairs(
        self, kind: str, add: Iterable[Pair] = (), remove: Iterable[Pair] = ()
    ) -> MatchListSpec:
        """The spec with pairs added to and taken off its ``pins`` or ``blocks``.

        A pair pinned is unblocked, and a pair blocked is unpinned: the latest word counts.
        """
        added, removed = list(add), set(remove)
        pins, blocks = list(self.pins), list(self.blocks)
        mine, other = (pins, blocks) if kind == "pins" else (blocks, pins)
        mine = [p for p in mine if p not in removed] + [p for p in added if p not in removed]
        other = [p for p in other if p not in set(added)]
        pins, blocks = (mine, other) if kind == "pins" else (other, mine)
        return MatchListSpec(**{**self._fields(), "pins": tuple(pins), "blocks": tuple(blocks)})

    def _fields(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.__dataclass_fields__}


def check_spec(spec: MatchListSpec) -> None:
    """:class:`Invalid` where the spec asks for nothing or contradicts itself."""
    if not spec.buyer_ids and not spec.supplier_ids:
        raise Invalid("give buyer_ids or supplier_ids (or both)")
    both = set(spec.pins) & set(spec.blocks)
    if both:
        b, s = sorted(both)[0]
        raise Invalid(f"the pair ({b}, {s}) is both pinned and blocked")
    buyers, suppliers = set(spec.buyer_ids), set(spec.supplier_ids)
    for b, s in spec.pins:
        if b not in buyers and s not in suppliers:
            raise Invalid(
                f"pinned pair ({b}, {s}): neither buyer '{b}' is in buyer_ids nor supplier"
                f" '{s}' in supplier_ids"
            )


# -- deriving the rows ------------------------------------------------------------------------
def _plain(value: Any) -> Any:
    if value is None or value is pd.NA:
        return None
    if hasattr(value, "item"):  # numpy scalars
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def _candidates(frame: pd.DataFrame, side: str) -> list[Row]:
    rows = []
    for cells in frame.to_dict("records"):
        tier = _plain(cells.get("tier"))
        rows.append(
            {
                "side": side,
                "buyer_id": str(cells["buyer_id"]),
                "supplier_id": str(cells["supplier_id"]),
                "category_id": str(_plain(cells.get("category_id")) or ""),
                "tier": None if tier is None else int(tier),
                "score": float(_plain(cells["score"]) or 0.0),
                "reasons": [str(r) for r in cells.get("reasons") or ()],
                "pinned": False,
            }
        )
    return rows


def pick_capped(
    candidates: Sequence[Row],
    slots: dict[str, int],
    cap: int | None,
    used: Counter[str] | None = None,
) -> list[Row]:
    """Take rows greedily in rank order across buyers, within each buyer's slots and the cap.

    Parameters
    ----------
    candidates : sequence of dict
        Rows with ``buyer_id``, ``supplier_id``, ``score`` and ``position`` (1 = the buyer's
        best remaining candidate).
    slots : dict
        How many rows each buyer may still take.
    cap : int or None
        The most buyers' lists one supplier may be on (None: no cap).
    used : Counter, optional
        Places each supplier already holds (pinned rows); not changed.

    Returns
    -------
    list of dict
        The rows taken, in the order they were taken.
    """
    used = Counter(used or {})
    taken: Counter[str] = Counter()
    out = []
    order = sorted(
        candidates, key=lambda r: (r["position"], -r["score"], r["buyer_id"], r["supplier_id"])
    )
    for row in order:
        buyer, supplier = row["buyer_id"], row["supplier_id"]
        if taken[buyer] >= slots.get(buyer, 0):
            continue
        if cap is not None and used[supplier] >= cap:
            continue
        taken[buyer] += 1
        used[supplier] += 1
        out.append(row)
    return out


def _refused(exc: LookupError | ValueError) -> Invalid:
    return Invalid(str(exc.args[0]) if exc.args else "not a firm the model knows")


def _pinned_row(m: matcher.Matcher, pair: Pair, side: str, lang: str) -> Row:
    buyer, supplier = pair
    try:
        explained = m.explain(supplier, buyer, lang=lang)
    except (KeyError, ValueError) as exc:
        raise _refused(exc) from None
    return {
        "side": side,
        "buyer_id": buyer,
        "supplier_id": supplier,
        "category_id": str(explained.get("category_id") or ""),
        "tier": 1,
        "score": float(explained["score"]),
        "reasons": [str(r) for r in explained.get("reasons") or ()],
        "pinned": True,
    }


def derive_rows(
    m: matcher.Matcher,
    spec: MatchListSpec,
    *,
    declined: set[Pair] | frozenset[Pair] = frozenset(),
    hidden: set[str] | frozenset[str] = frozenset(),
) -> list[Row]:
    """The rows of a match list, firm by firm, each firm's rows ranked 1..n.

    Parameters
    ----------
    m : matcher.Matcher
        A fitted matcher.
    spec : MatchListSpec
    declined : set of (buyer_id, supplier_id)
        Pairs to leave out because they were declined (pins excepted).
    hidden : set of str
        Firms never to put on a list unless pinned (unlisted or deleted since the fit).

    Raises
    ------
    Invalid
        An id the model does not know, a supplier given as a buyer, an unknown filter.
    """
    check_spec(spec)
    buyers = set(spec.buyer_ids)
    pinned: dict[tuple[str, str], list[Row]] = {}
    for pair in spec.pins:
        side, owner = ("buyer", pair[0]) if pair[0] in buyers else ("supplier", pair[1])
        pinned.setdefault((side, owner), []).append(_pinned_row(m, pair, side, spec.lang))
    skip = set(spec.blocks) | set(declined) | set(spec.pins)
    fetch = min(max(3 * spec.k, spec.k + 20), MAX_FETCH)

    candidates: list[Row] = []
    for buyer in spec.buyer_ids:
        try:
            frame = m.recommend(
                buyer,
                k=fetch,
                category=spec.category,
                park=spec.park,
                certification=spec.certification,
                lang=spec.lang,
            )
        except (KeyError, ValueError) as exc:
            raise _refused(exc) from None
        kept = [
            r
            for r in _candidates(frame, "buyer")
            if (r["buyer_id"], r["supplier_id"]) not in skip and r["supplier_id"] not in hidden
        ]
        candidates.extend({**r, "position": i} for i, r in enumerate(kept, start=1))
    slots = {b: max(0, spec.k - len(pinned.get(("buyer", b), []))) for b in spec.buyer_ids}
    used = Counter(
        r["supplier_id"] for (side, _), rows in pinned.items() if side == "buyer" for r in rows
    )
    taken = pick_capped(candidates, slots, spec.max_per_supplier, used)

    lists: dict[tuple[str, str], list[Row]] = {}
    for row in sorted(taken, key=lambda r: (r["buyer_id"], r["position"])):
        lists.setdefault(("buyer", row["buyer_id"]), []).append(row)
    for supplier in spec.supplier_ids:
        try:
            frame = m.suggest_buyers(supplier, k=fetch, lang=spec.lang)
        except (KeyError, ValueError) as exc:
            raise _refused(exc) from None
        room = max(0, spec.k - len(pinned.get(("supplier", supplier), [])))
        kept = [
            r
            for r in _candidates(frame, "supplier")
            if (r["buyer_id"], r["supplier_id"]) not in skip and r["buyer_id"] not in hidden
        ]
        lists[("supplier", supplier)] = kept[:room]

    out: list[Row] = []
    owners = [("buyer", b) for b in spec.buyer_ids] + [("supplier", s) for s in spec.supplier_ids]
    for whose in owners:
        rows = pinned.get(whose, []) + lists.get(whose, [])
        for rank, row in enumerate(rows, start=1):
            row = {k: v for k, v in row.items() if k != "position"}
            out.append({**row, "rank": rank})
    return out


# -- the database -----------------------------------------------------------------------------
def declined_pairs(engine: Engine, spec: MatchListSpec) -> set[Pair]:
    """(buyer_id, supplier_id) of every ``declined`` outcome touching the spec's firms."""
    query = select(Outcome.buyer_id, Outcome.supplier_id).where(
        Outcome.outcome == "declined",
        or_(
            Outcome.buyer_id.in_(list(spec.buyer_ids)),
            Outcome.supplier_id.in_(list(spec.supplier_ids)),
        ),
    )
    with Session(engine) as session:
        return {(b, s) for b, s in session.execute(query)}


def hidden_firms(engine: Engine) -> set[str]:
    """Firms unlisted or deleted in the database: kept off every list unless pinned."""
    query = select(Firm.firm_id).where(or_(Firm.listed.is_(False), Firm.deleted_at.is_not(None)))
    with Session(engine) as session:
        return set(session.scalars(query))


def _check_live(engine: Engine, spec: MatchListSpec) -> None:
    named = {*spec.buyer_ids, *spec.supplier_ids, *(f for pair in spec.pins for f in pair)}
    query = select(Firm.firm_id).where(Firm.firm_id.in_(sorted(named)), Firm.deleted_at.is_(None))
    with Session(engine) as session:
        live = set(session.scalars(query))
    missing = sorted(named - live)
    if missing:
        shown = ", ".join(f"'{f}'" for f in missing[:10])
        raise Invalid(f"not a firm in the database: {shown}")


def build_rows(engine: Engine, served: ServedModel, spec: MatchListSpec) -> list[Row]:
    """Derive a match list's rows with the served model and the database's outcomes."""
    check_spec(spec)
    _check_live(engine, spec)
    declined = declined_pairs(engine, spec)
    return derive_rows(served.matcher, spec, declined=declined, hidden=hidden_firms(engine))


def _row_objects(rows: Sequence[Row]) -> list[MatchListRow]:
    return [
        MatchListRow(
            buyer_id=r["buyer_id"],
            supplier_id=r["supplier_id"],
            category_id=r["category_id"],
            tier=r["tier"],
            rank=r["rank"],
            score=r["score"],
            reasons=list(r["reasons"]),
            pinned=r["pinned"],
            side=r["side"],
        )
        for r in rows
    ]


def _actor_name(actor: KeyInfo | str) -> str:
    return actor if isinstance(actor, str) else f"key:{actor.id}"


def _fingerprint(served: ServedModel) -> str:
    m = served.matcher
    return str(getattr(m, "data_fingerprint_", None) or served.fingerprint)


def create_match_list(
    engine: Engine,
    served: ServedModel,
    spec: MatchListSpec,
    *,
    label: str = "",
    actor: KeyInfo | str = "service",
) -> int:
    """Derive, save and audit a match list; returns its id."""
    rows = build_rows(engine, served, spec)
    fingerprint = _fingerprint(served)

    def work(session: Session) -> int:
        saved = MatchList(
            model_version=served.version,
            data_fingerprint=fingerprint,
            k=spec.k,
            label=label,
            created_by=_actor_name(actor),
            params=spec.params(),
            rows=_row_objects(rows),
        )
        session.add(saved)
        session.flush()
        detail = {"rows": len(rows), "model_version": served.version}
        detail.update(data_fingerprint=fingerprint, params=spec.params())
        record(session, actor, "create", "match_lists", str(saved.id), detail)
        return saved.id

    return transaction(engine, work)


def _spec_of(engine: Engine, list_id: int) -> MatchListSpec:
    with Session(engine) as session:
        saved = session.get(MatchList, list_id)
        if saved is None:
            raise NotFound(f"no match list with id {list_id}")
        if not saved.params:
            raise Conflict(
                f"match list {list_id} was not made by the service: it cannot be re-derived"
            )
        return MatchListSpec.from_params(saved.params)


def update_pairs(
    engine: Engine,
    served: ServedModel,
    list_id: int,
    kind: str,
    *,
    add: Iterable[Pair] = (),
    remove: Iterable[Pair] = (),
    actor: KeyInfo | str = "service",
) -> None:
    """Pin or block pairs (``kind`` ``pins`` or ``blocks``) and derive the list again.

    Raises :class:`Conflict` when the list changed between reading and writing it.
    """
    if kind not in {"pins", "blocks"}:
        raise ValueError("kind must be 'pins' or 'blocks'")
    added, removed = list(add), list(remove)
    before = _spec_of(engine, list_id)
    spec = before.with_pairs(kind, added, removed)
    rows = build_rows(engine, served, spec)
    fingerprint = _fingerprint(served)

    def work(session: Session) -> None:
        saved = session.get(MatchList, list_id)
        if saved is None:
            raise NotFound(f"no match list with id {list_id}")
        if saved.params != before.params():
            raise Conflict(f"match list {list_id} changed meanwhile: send the change again")
        saved.rows = _row_objects(rows)
        saved.params = spec.params()
        saved.model_version = served.version
        saved.data_fingerprint = fingerprint
        session.flush()
        detail = {
            kind: {"added": [list(p) for p in added], "removed": [list(p) for p in removed]},
            "rows": len(rows),
            "model_version": served.version,
            "data_fingerprint": fingerprint,
        }
        record(session, actor, "update", "match_lists", str(list_id), detail)

    transaction(engine, work)


# -- reading ----------------------------------------------------------------------------------
def _summary(saved: MatchList, n_rows: int) -> Row:
    return {
        "id": saved.id,
        "label": saved.label,
        "created_at": saved.created_at,
        "created_by": saved.created_by,
        "model_version": saved.model_version,
        "data_fingerprint": saved.data_fingerprint,
        "k": saved.k,
        "rows": n_rows,
    }


def list_match_lists(engine: Engine, page: int = 1, page_size: int = 50) -> Page:
    """Saved match lists, newest first, with their number of rows."""
    counts = (
        select(MatchListRow.match_list_id, func.count().label("n"))
        .group_by(MatchListRow.match_list_id)
        .subquery()
    )
    query = (
        select(MatchList, func.coalesce(counts.c.n, 0))
        .outerjoin(counts, counts.c.match_list_id == MatchList.id)
        .order_by(MatchList.id.desc())
    )
    with Session(engine) as session:
        total = session.scalar(select(func.count()).select_from(MatchList)) or 0
        found = session.execute(query.offset((page - 1) * page_size).limit(page_size)).all()
        return Page([_summary(saved, int(n)) for saved, n in found], int(total))


def get_match_list(engine: Engine, list_id: int) -> Row:
    """A saved match list with its rows, firm and category names filled in."""
    with Session(engine) as session:
        saved = session.get(MatchList, list_id)
        if saved is None:
            raise NotFound(f"no match list with id {list_id}")
        rows: list[Row] = [
            {
                "side": r.side,
                "buyer_id": r.buyer_id,
                "supplier_id": r.supplier_id,
                "category_id": r.category_id,
                "tier": r.tier,
                "rank": r.rank,
                "score": r.score,
                "pinned": r.pinned,
                "reasons": [str(x) for x in r.reasons or ()],
            }
            for r in saved.rows
        ]
        out = {**_summary(saved, len(rows)), "params": dict(saved.params or {}), "items": rows}
        firms = {r["buyer_id"] for r in rows} | {r["supplier_id"] for r in rows}
        query = select(Firm.firm_id, Firm.name).where(Firm.firm_id.in_(sorted(firms)))
        names = {firm_id: name for firm_id, name in session.execute(query)}
        lang = out["params"].get("lang", "en")
        categories = {
            c: (vi if lang == "vi" and vi else name)
            for c, name, vi in session.execute(
                select(Category.category_id, Category.name, Category.name_vi)
            )
        }
    for row in rows:
        row["buyer_name"] = names.get(row["buyer_id"])
        row["supplier_name"] = names.get(row["supplier_id"])
        row["category_name"] = categories.get(row["category_id"]) if row["category_id"] else None
    return out


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
