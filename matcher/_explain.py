"""Why (or why not yet) a supplier-buyer pair: its score, each feature's weight, what blocks it.

:meth:`Matcher.explain <ketnoi.matcher.Matcher.explain>` delegates here. The pair goes through
the matcher's one ranking path (features and score as a recommendation would have them) with
the hard rules off, so that a pair the rules forbid can still be explained; :func:`pair_blockers`
then says in plain words what keeps it out of the recommendations.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ketnoi.graph._values import json_value
from ketnoi.matcher._features import FEATURES
from ketnoi.matcher._ranking import RankingPath

if TYPE_CHECKING:
    from ketnoi.matcher._model import Matcher

__all__ = ["explain_pair", "pair_blockers"]


def _feature_value(value: Any) -> Any:
    """A feature value as people read it in an explanation: plain, floats to 4 places."""
    value = json_value(value)
    return round(value, 4) if isinstance(value, float) else value


def explain_pair(
    matcher: Matcher, supplier_id: str, buyer_id: str, *, lang: str = "en"
) -> dict[str, Any]:
    """The explanation :meth:`Matcher.explain` returns, for a fitted and bound ``matcher``.

    Returns
    -------
    dict
        ``buyer_id``, ``supplier_id``, ``score``, ``mode``, ``category_id``,
        ``existing_link``, ``candidate`` (whether blocking puts the supplier forward at all),
        ``reasons``, ``blockers`` and ``contributions`` (feature, value and contribution to the
        log-odds, largest in size first).
    """
    path = matcher.ranking_
    index, snap = path.index, path.snapshot
    s = index.supplier_index(supplier_id)
    b = path.buyer_position(buyer_id)
    signals = path.signals(np.array([b]))
    ranked = path.scored(signals, np.array([b]), np.array([s]), hard_rules=False)
    features = ranked[list(FEATURES)]
    contrib = matcher.contributions(features).iloc[0]
    _, cs = path.candidates(signals, exclude_existing=False)
    feats = features.iloc[0]
    demand_row = ranked["demand_row"].to_numpy()
    names = matcher.feature_names_
    return {
        "buyer_id": buyer_id,
        "supplier_id": supplier_id,
        "score": round(float(ranked["score"].iloc[0]), 6),
        "mode": matcher.mode_,
        "category_id": str(path.category_of(demand_row, features["fit_level"].to_numpy())[0]),
        "existing_link": bool(snap.active[b, s] > 0),
        "candidate": bool((cs == s).any()),
        "reasons": path.reasons(ranked, lang)[0],
        "blockers": pair_blockers(path, b, s, feats, int(demand_row[0])),
        "contributions": [
            {
                "feature": name,
                "value": _feature_value(feats[name]),
                "contribution": round(float(contrib[name]), 4),
            }
            for name in sorted(names, key=lambda n: -abs(float(contrib[n])))
        ],
    }


def pair_blockers(
    path: RankingPath, b: int, s: int, feats: pd.Series, demand_row: int
) -> list[str]:
    """What keeps supplier ``s`` from being recommended to buyer ``b``, in plain words.

    Parameters
    ----------
    path : RankingPath
        The bound data and settings (hard rules) of the matcher.
    b, s : int
        Buyer and supplier positions.
    feats : Series
        The pair's features.
    demand_row : int
        The matched demand row, -1 where none.
    """
    index, snap = path.index, path.snapshot
    out = []
    firm = index.firms.iloc[index.supplier_firm[s]]
    if not bool(firm["listed"]):
        out.append("the supplier is unlisted (listed=false): it is never recommended")
    if snap.active[b, s] > 0:
        out.append("already an active supplier of this buyer")
    if index.buyer_ids[b] == index.supplier_ids[s]:
        out.append("a firm cannot supply itself")
    if index.has_profiles and feats["fit_level"] <= 0:
        out.append("no category fit: makes nothing the buyer demands or needs")
    if demand_row >= 0 and feats["fit_level"] > 0:
        dem = index.demand_rows.iloc[demand_row]
        missing_c = [
            c for c in dem["required_certifications"] if c not in set(firm["certifications"])
        ]
        if missing_c:
            out.append(f"lacks {', '.join(missing_c)}, which the buyer requires")
        missing_p = [p for p in dem["required_processes"] if p not in set(firm["processes"])]
        if missing_p:
            out.append(f"lacks the process(es) {', '.join(missing_p)}, which the buyer requires")
        ratio = feats["capacity_ratio"]
        if not pd.isna(ratio) and ratio < 0:
            volume = float(dem["volume"])
            capacity = volume * 10**ratio
            out.append(f"capacity short: {capacity:,.0f}/yr against {volume:,.0f}/yr demanded")
    limit = path.settings.max_distance_km
    if limit is not None and feats["distance_km"] > limit:
        out.append(f"{feats['distance_km']:.0f} km away, beyond the {limit:g} km limit")
    if feats["outcome_declined"] > 0:
        out.append("declined in an earlier outcome")
    return out
