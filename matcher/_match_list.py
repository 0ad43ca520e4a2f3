"""Match lists: top recommendations for many firms at once, capped, pinned and blocked.

A match list is one thing whichever door hands it out: ``ketnoi match-list`` writes it to a
file, the service saves it (``POST /v1/match-lists``) and a notebook calls
:func:`build_match_list`. A :class:`MatchListSpec` says what it is made of; with a fitted
matcher the list is derived thus:

- each buyer of ``buyer_ids`` (default: every buyer that demands something or has suppliers)
  gets its top-``k`` new suppliers (``Matcher.recommend`` over a deeper ranking, with the
  filters), and each supplier of ``supplier_ids`` its top-``k`` buyers
  (``Matcher.suggest_buyers``; the filters and the cap are about suppliers, so they apply to
  the buyers' lists only);
- declined pairs (by default every pair with a ``declined`` outcome in the matcher's dataset),
  blocked pairs and ``hidden`` firms are left out;
- the cap: no supplier appears on more than ``max_per_supplier`` buyers' lists. Rows are taken
  greedily in rank order across buyers (every buyer's first choice, then every buyer's second,
  ...; ties by score), so a large firm keeps the places where it ranks highest and the others
  go to the next suppliers down;
- pinned pairs come first on their firm's list (the buyer's list where the buyer gets one, else
  the supplier's), marked pinned, with the model's score and reasons for the pair. They count
  towards ``k`` and towards the cap, but neither drops them.

Saving a list, and the outcomes and firms a database holds, are the service's business
(:mod:`ketnoi.api.storage`); everything here works on a matcher and its dataset alone.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pandas as pd
from sklearn.exceptions import NotFittedError

from ketnoi.graph._values import json_value
from ketnoi.matcher._ranking import RECOMMENDATION_COLUMNS
from ketnoi.matcher._reasons import LANGUAGES

if TYPE_CHECKING:
    from ketnoi import graph
    from ketnoi.matcher._model import Matcher

__all__ = [
    "MATCH_LIST_COLUMNS",
    "MatchListSpec",
    "build_match_list",
    "declined_pairs",
    "pick_capped",
]

#: (buyer_id, supplier_id)
Pair = tuple[str, str]
Row = dict[str, Any]

#: The columns of a match list, in this order: a recommendation's, then names, then whether a
#: person pinned the pair and whose list the row is on (``buyer`` or ``supplier``).
MATCH_LIST_COLUMNS = [
    *RECOMMENDATION_COLUMNS,
    "buyer_name",
    "supplier_name",
    "supplier_park",
    "pinned",
    "side",
]

_FILTERS = ("category", "park", "certification")


def _pairs(values: Iterable[Sequence[str]]) -> tuple[Pair, ...]:
    out = []
    for value in values:
        if len(value) != 2:
            raise ValueError(f"a pair is (buyer_id, supplier_id), not {tuple(value)!r}")
        out.append((str(value[0]), str(value[1])))
    return tuple(out)


@dataclass(frozen=True)
class MatchListSpec:
    """What a match list is made of (saved with a service list as its ``params``).

    Parameters
    ----------
    buyer_ids : sequence of str or None
        Buyers that get a list of suppliers. None (the default): every buyer that demands
        something or has suppliers, as :meth:`Matcher.match_list`; ``()``: no buyer.
    supplier_ids : sequence of str
        Suppliers that get a list of buyers.
    k : int
        Rows per firm at most, pinned rows included.
    category, park, certification : str, optional
        Keep suppliers of that category (or a sub-category), in that park, holding that
        certification (buyers' lists only).
    max_per_supplier : int, optional
        The cap: no supplier on more than this many buyers' lists (None: no cap).
    lang : {"en", "vi"}
        Language of the reasons.
    pins, blocks : sequence of (buyer_id, supplier_id)
        Pairs put first on their firm's list, and pairs never put on it.

    Repeated ids and pairs count once, in the order first given.

    Examples
    --------
    >>> spec = MatchListSpec(buyer_ids=["B1", "B2"], k=3, pins=[("B1", "S2")])
    >>> spec.buyer_ids, spec.pins
    (('B1', 'B2'), (('B1', 'S2'),))
    >>> spec.with_pairs("blocks", add=[("B1", "S2")]).pins
    ()
    """

    buyer_ids: tuple[str, ...] | None = None
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
        if self.buyer_ids is not None:
            object.__setattr__(self, "buyer_ids", tuple(dict.fromkeys(map(str, self.buyer_ids))))
        object.__setattr__(self, "supplier_ids", tuple(dict.fromkeys(map(str, self.supplier_ids))))
        for name in ("pins", "blocks"):
            object.__setattr__(self, name, tuple(dict.fromkeys(_pairs(getattr(self, name)))))

    def params(self) -> dict[str, Any]:
        """The spec as JSON."""
        return {
            "buyer_ids": None if self.buyer_ids is None else list(self.buyer_ids),
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
        """The spec :meth:`params` wrote (a missing ``buyer_ids`` reads as no buyer)."""
        values = dict(params)
        buyers = values.get("buyer_ids", ())
        values["buyer_ids"] = None if buyers is None else tuple(buyers)
        values["supplier_ids"] = tuple(values.get("supplier_ids") or ())
        for name in ("pins", "blocks"):
            values[name] = _pairs(values.get(name) or ())
        return cls(**values)

    def with_pairs(
        self, kind: str, add: Iterable[Pair] = (), remove: Iterable[Pair] = ()
    ) -> MatchListSpec:
        """The spec with pairs added to and taken off its ``pins`` or ``blocks``.

        A pair pinned is unblocked, and a pair blocked is unpinned: the latest word counts.
        """
        if kind not in {"pins", "blocks"}:
            raise ValueError("kind must be 'pins' or 'blocks'")
        added, removed = list(_pairs(add)), set(_pairs(remove))
        mine, other = (self.pins, self.blocks) if kind == "pins" else (self.blocks, self.pins)
        mine_ = [p for p in mine if p not in removed] + [p for p in added if p not in removed]
        other_ = [p for p in other if p not in set(added)]
        pins, blocks = (mine_, other_) if kind == "pins" else (other_, mine_)
        return dataclasses.replace(self, pins=tuple(pins), blocks=tuple(blocks))

    def check(self) -> None:
        """Raise ``ValueError`` where the spec asks for nothing or contradicts itself."""
        if self.buyer_ids == () and not self.supplier_ids:
            raise ValueError("give buyer_ids or supplier_ids (or both)")
        if self.k < 1:
            raise ValueError("k must be at least 1")
        if self.max_per_supplier is not None and self.max_per_supplier < 1:
            raise ValueError("max_per_supplier must be at least 1")
        if self.lang not in LANGUAGES:
            raise ValueError(f"lang must be one of {LANGUAGES}")
        both = set(self.pins) & set(self.blocks)
        if both:
            b, s = sorted(both)[0]
            raise ValueError(f"the pair ({b}, {s}) is both pinned and blocked")
        if self.buyer_ids is None:
            return  # every buyer gets a list, so every pinned pair has one to go on
        buyers, suppliers = set(self.buyer_ids), set(self.supplier_ids)
        for b, s in self.pins:
            if b not in buyers and s not in suppliers:
                raise ValueError(
                    f"pinned pair ({b}, {s}): neither buyer '{b}' is in buyer_ids nor supplier"
                    f" '{s}' in supplier_ids"
                )


def declined_pairs(dataset: graph.Dataset) -> set[Pair]:
    """(buyer_id, supplier_id) of every pair with a ``declined`` outcome in ``dataset``."""
    outcomes = dataset.outcomes
    if outcomes.empty:
        return set()
    declined = outcomes[outcomes["outcome"] == "declined"]
    return set(
        zip(declined["buyer_id"].astype(str), declined["supplier_id"].astype(str), strict=True)
    )


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

    Examples
    --------
    >>> rows = [
    ...     {"buyer_id": "A", "supplier_id": "big", "score": 0.5, "position": 2},
    ...     {"buyer_id": "A", "supplier_id": "x", "score": 0.9, "position": 1},
    ...     {"buyer_id": "B", "supplier_id": "big", "score": 0.8, "position": 1},
    ... ]
    >>> [(r["buyer_id"], r["supplier_id"]) for r in pick_capped(rows, {"A": 2, "B": 1}, cap=1)]
    [('A', 'x'), ('B', 'big')]
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


# -- deriving the rows ------------------------------------------------------------------------
def _rows(frame: pd.DataFrame, side: str) -> list[Row]:
    rows = []
    for cells in frame.to_dict("records"):
        tier = json_value(cells.get("tier"))
        rows.append(
            {
                "buyer_id": str(cells["buyer_id"]),
                "supplier_id": str(cells["supplier_id"]),
                "category_id": str(json_value(cells.get("category_id")) or ""),
                "tier": 1 if tier is None else int(tier),
                "score": float(json_value(cells["score"]) or 0.0),
                "reasons": [str(r) for r in cells.get("reasons") or ()],
                "buyer_name": json_value(cells.get("buyer_name")),
                "supplier_name": json_value(cells.get("supplier_name")),
                "supplier_park": json_value(cells.get("supplier_park")),
                "pinned": False,
                "side": side,
            }
        )
    return rows


def _pinned_row(m: Matcher, pair: Pair, side: str, lang: str) -> Row:
    buyer, supplier = pair
    explained = m.explain(supplier, buyer, lang=lang)
    firms = m.dataset_.firms.set_index("firm_id")
    return {
        "buyer_id": buyer,
        "supplier_id": supplier,
        "category_id": str(explained.get("category_id") or ""),
        "tier": 1,
        "score": float(explained["score"]),
        "reasons": [str(r) for r in explained.get("reasons") or ()],
        "buyer_name": json_value(firms["name"].get(buyer)),
        "supplier_name": json_value(firms["name"].get(supplier)),
        "supplier_park": json_value(firms["park"].get(supplier)),
        "pinned": True,
        "side": side,
    }


def _buyer_frames(
    m: Matcher, spec: MatchListSpec, fetch: int, progress: Callable[[int, int], None] | None
) -> dict[str, pd.DataFrame]:
    """Each buyer's ranked candidates (``fetch`` at most), in the order the lists come."""
    filters = {name: getattr(spec, name) for name in _FILTERS}
    buyers: Sequence[str]
    if spec.buyer_ids is None:
        # One batched ranking of every buyer the matcher covers; the same ranking as
        # ``recommend`` gives one buyer at a time, many times faster over a whole dataset.
        ranked = m.match_list(None, fetch, lang=spec.lang, progress=progress)
        if not any(filters.values()):
            return {str(b): rows for b, rows in ranked.groupby("buyer_id", sort=False)}
        buyers, progress = list(dict.fromkeys(ranked["buyer_id"].astype(str))), None
    else:
        buyers = spec.buyer_ids
    frames = {}
    for done, buyer in enumerate(buyers, start=1):
        frames[buyer] = m.recommend(buyer, k=fetch, lang=spec.lang, **filters)
        if progress is not None:
            progress(done, len(buyers))
    return frames


def build_match_list(
    m: Matcher,
    spec: MatchListSpec,
    *,
    declined: Iterable[Pair] | None = None,
    hidden: Iterable[str] = (),
    progress: Callable[[int, int], None] | None = None,
) -> pd.DataFrame:
    """A match list: each firm's rows ranked 1..n, buyers' lists first, then suppliers'.

    Parameters
    ----------
    m : Matcher
        A fitted matcher with its dataset bound.
    spec : MatchListSpec
        What the list is made of.
    declined : iterable of (buyer_id, supplier_id), optional
        Pairs left out because an outcome declined them (pinned pairs excepted). Default: every
        pair with a ``declined`` outcome in the matcher's dataset (:func:`declined_pairs`); pass
        ``()`` to keep declined pairs.
    hidden : iterable of str
        Firms never put on a list unless pinned (the service passes firms unlisted or deleted
        since the model was fitted; the matcher already leaves out firms its data unlist).
    progress : callable, optional
        Called with (done, total) as the buyers are ranked.

    Returns
    -------
    DataFrame
        :data:`MATCH_LIST_COLUMNS`, one row per pair on a list.

    Raises
    ------
    ValueError
        The spec asks for nothing or contradicts itself (:meth:`MatchListSpec.check`), or an
        unknown filter or language.
    KeyError
        A firm the matcher does not know, or a supplier given as a buyer.

    Examples
    --------
    >>> from pathlib import Path
    >>> from ketnoi import graph, matcher
    >>> root = Path(matcher.__file__).resolve().parents[1]  # the source tree
    >>> tiny = graph.load_dataset(root / "fixtures" / "tiny")
    >>> m = matcher.Matcher().fit(tiny)
    >>> spec = matcher.MatchListSpec(
    ...     buyer_ids=["B1", "B2"], k=2, max_per_supplier=1, pins=[("B2", "S1")]
    ... )
    >>> rows = matcher.build_match_list(m, spec)
    >>> print(rows[["buyer_id", "supplier_id", "rank", "pinned"]].to_string(index=False))
    buyer_id supplier_id  rank  pinned
          B1          S3     1   False
          B2          S1     1    True
          B2          S5     2   False

    S1, B1's first choice, went to B2 by the pin and the cap of one list per supplier; S5, B1's
    next, was declined in an earlier outcome.
    """
    spec.check()
    if not hasattr(m, "dataset_"):
        raise NotFittedError("This Matcher has no dataset bound: call fit or bind first.")
    declined = declined_pairs(m.dataset_) if declined is None else set(declined)
    hidden = set(hidden)
    buyers = set(spec.buyer_ids) if spec.buyer_ids is not None else None
    pinned: dict[tuple[str, str], list[Row]] = {}
    for pair in spec.pins:
        on_buyers = buyers is None or pair[0] in buyers
        side, owner = ("buyer", pair[0]) if on_buyers else ("supplier", pair[1])
        pinned.setdefault((side, owner), []).append(_pinned_row(m, pair, side, spec.lang))
    skip = set(spec.blocks) | set(declined) | set(spec.pins)
    fetch = max(3 * spec.k, spec.k + 20)

    frames = _buyer_frames(m, spec, fetch, progress)
    pinned_buyers = [owner for side, owner in pinned if side == "buyer"]
    buyer_order = list(dict.fromkeys([*frames, *pinned_buyers]))
    candidates: list[Row] = []
    for frame in frames.values():
        kept = [
            r
            for r in _rows(frame, "buyer")
            if (r["buyer_id"], r["supplier_id"]) not in skip and r["supplier_id"] not in hidden
        ]
        candidates.extend({**r, "position": i} for i, r in enumerate(kept, start=1))
    slots = {b: max(0, spec.k - len(pinned.get(("buyer", b), []))) for b in buyer_order}
    used = Counter(
        r["supplier_id"] for (side, _), rows in pinned.items() if side == "buyer" for r in rows
    )
    taken = pick_capped(candidates, slots, spec.max_per_supplier, used)

    lists: dict[tuple[str, str], list[Row]] = {}
    for row in sorted(taken, key=lambda r: r["position"]):
        lists.setdefault(("buyer", row["buyer_id"]), []).append(row)
    for supplier in spec.supplier_ids:
        room = max(0, spec.k - len(pinned.get(("supplier", supplier), [])))
        kept = [
            r
            for r in _rows(m.suggest_buyers(supplier, k=fetch, lang=spec.lang), "supplier")
            if (r["buyer_id"], r["supplier_id"]) not in skip and r["buyer_id"] not in hidden
        ]
        lists[("supplier", supplier)] = kept[:room]

    out: list[Row] = []
    owners = [("buyer", b) for b in buyer_order] + [("supplier", s) for s in spec.supplier_ids]
    for whose in owners:
        rows = pinned.get(whose, []) + lists.get(whose, [])
        out.extend({**row, "rank": rank} for rank, row in enumerate(rows, start=1))
    frame = pd.DataFrame(out, columns=MATCH_LIST_COLUMNS)
    return frame.astype({"tier": "int64", "rank": "int64", "score": float, "pinned": bool})
