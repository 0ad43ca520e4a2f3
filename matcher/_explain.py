"""Why (or why not yet) a supplier-buyer pair: its score, each feature's weight, what blocks it.

:meth:`Matcher.explain <ketnoi.matcher.Matcher.explain>` delegates here. The pair goes through
the matcher's one ranking path (features and score as a recommendation would have them) with
the hard rules off, so that a pair the rules forbid can still be explained; :func:`pair_blockers`
then says in plain words what keeps it out of the recommendations.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ketnoi.graph._values import json_value
from ketnoi.matcher._features import FEATURES
from ketnoi.matcher._ranking import RankingPath
from ketnoi.matcher._reasons import (
    DISCLOSURES,
    Disclosure,
    disclose_reasons,
    distance_band,
    number,
)
from ketnoi.matcher._terms import term_vi

if TYPE_CHECKING:
    from ketnoi.matcher._model import Matcher

__all__ = [
    "PRIVATE_FEATURES",
    "disclose_explanation",
    "explain_pair",
    "pair_blockers",
    "reasons_for_pairs",
]

#: Features that say a private field of one of the two firms, and the readers (besides staff)
#: who may see them exactly: the supplier knows its own size, age and capacity (against a
#: demand it can see), but nobody but staff knows where the other firm is.
PRIVATE_FEATURES: dict[str, tuple[Disclosure, ...]] = {
    "distance_km": (),
    "capacity_ratio": ("supplier",),
    "log_employees": ("supplier",),
    "supplier_age": ("supplier",),
}

#: What keeps a pair out of the recommendations, in English and Vietnamese.
_BLOCKERS: dict[str, tuple[str, str]] = {
    "unlisted": (
        "the supplier is unlisted (listed=false): it is never recommended",
        "nhà cung cấp không công khai hồ sơ: không bao giờ được đề xuất",
    ),
    "linked": ("already an active supplier of this buyer", "đang là nhà cung cấp của bên mua này"),
    "self": ("a firm cannot supply itself", "doanh nghiệp không thể tự cung cấp cho mình"),
    "no_fit": (
        "no category fit: makes nothing the buyer demands or needs",
        "không phù hợp ngành hàng: không sản xuất mặt hàng nào bên mua cần",
    ),
    "lacks_certs": (
        "lacks {items}, which the buyer requires",
        "chưa có chứng nhận {items} mà bên mua yêu cầu",
    ),
    "lacks_processes": (
        "lacks the process(es) {items}, which the buyer requires",
        "chưa có năng lực {items} mà bên mua yêu cầu",
    ),
    "capacity_short": (
        "capacity short: {capacity} units/yr against {volume} units/yr demanded",
        "công suất thiếu: {capacity} đơn vị/năm so với nhu cầu {volume} đơn vị/năm",
    ),
    "capacity_short_banded": (
        "capacity short of the demand",
        "công suất chưa đáp ứng nhu cầu",
    ),
    "too_far": (
        "{km} km away, beyond the {limit} km limit",
        "cách {km} km, xa hơn giới hạn {limit} km",
    ),
    "declined": ("declined in an earlier outcome", "đã từ chối ở lần kết nối trước"),
}
_TOO_FAR_PATTERN = re.compile(r"^[\d,.]+ km away, (beyond the .+ km limit)$")
_TOO_FAR_PATTERN_VI = re.compile(r"^cách [\d,.]+ km, (xa hơn giới hạn .+ km)$")


def _blocker(code: str, lang: str, **values: object) -> str:
    return _BLOCKERS[code][0 if lang == "en" else 1].format(**values)


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
        "blockers": pair_blockers(path, b, s, feats, int(demand_row[0]), lang=lang),
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
    path: RankingPath, b: int, s: int, feats: pd.Series, demand_row: int, *, lang: str = "en"
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
    lang : {"en", "vi"}
    """
    index, snap = path.index, path.snapshot
    out = []
    firm = index.firms.iloc[index.supplier_firm[s]]
    if not bool(firm["listed"]):
        out.append(_blocker("unlisted", lang))
    if snap.active[b, s] > 0:
        out.append(_blocker("linked", lang))
    if index.buyer_ids[b] == index.supplier_ids[s]:
        out.append(_blocker("self", lang))
    if index.has_profiles and feats["fit_level"] <= 0:
        out.append(_blocker("no_fit", lang))
    if demand_row >= 0 and feats["fit_level"] > 0:
        dem = index.demand_rows.iloc[demand_row]
        missing_c = [
            c for c in dem["required_certifications"] if c not in set(firm["certifications"])
        ]
        if missing_c:
            out.append(_blocker("lacks_certs", lang, items=", ".join(missing_c)))
        missing_p = [
            term_vi(p, lang, index.names_vi)
            for p in dem["required_processes"]
            if p not in set(firm["processes"])
        ]
        if missing_p:
            out.append(_blocker("lacks_processes", lang, items=", ".join(missing_p)))
        ratio = feats["capacity_ratio"]
        if not pd.isna(ratio) and ratio < 0:
            volume = float(dem["volume"])
            capacity = volume * 10**ratio
            out.append(
                _blocker(
                    "capacity_short",
                    lang,
                    capacity=number(capacity, lang),
                    volume=number(volume, lang),
                )
            )
    limit = path.settings.max_distance_km
    if limit is not None and feats["distance_km"] > limit:
        out.append(
            _blocker("too_far", lang, km=number(feats["distance_km"], lang), limit=f"{limit:g}")
        )
    if feats["outcome_declined"] > 0:
        out.append(_blocker("declined", lang))
    return out


def reasons_for_pairs(
    matcher: Matcher,
    buyer_ids: Sequence[str],
    supplier_ids: Sequence[str],
    *,
    lang: str = "en",
    hide_confidential: bool = False,
) -> list[list[str]]:
    """The reasons of given (buyer, supplier) pairs, as a recommendation would give them.

    For pairs the ranking did not choose (an event's meetings, a locked pair): the features
    are computed with the hard rules off. A pair with a firm the bound data do not know gets
    no reasons.

    Parameters
    ----------
    matcher : Matcher
        Fitted and bound.
    buyer_ids, supplier_ids : sequence of str
        The pairs, aligned.
    lang : {"en", "vi"}
    hide_confidential : bool
        Say nothing of a confidential demand of the buyer (the reader is not the buyer): the
        reasons that come from the demand (what it demands, requires, its volume) are left
        out; the others stay.
    """
    path = matcher.ranking_
    index = path.index
    out: list[list[str]] = [[] for _ in buyer_ids]
    b_pos = index.buyer_ids.get_indexer(list(buyer_ids))
    s_pos = index.supplier_ids.get_indexer(list(supplier_ids))
    known = np.flatnonzero((b_pos >= 0) & (s_pos >= 0))
    if not len(known):
        return out
    bs, ss = b_pos[known].astype(np.int64), s_pos[known].astype(np.int64)
    ranked = path.scored(path.signals(np.unique(bs)), bs, ss, hard_rules=False)
    if hide_confidential and len(index.demand_rows):
        rows = ranked["demand_row"].to_numpy()
        secret = index.demand_rows["confidential"].fillna(False).to_numpy(dtype=bool)
        hidden = (rows >= 0) & secret[np.clip(rows, 0, None)]
        ranked.loc[hidden, "demand_row"] = -1
    for k, reasons in zip(known.tolist(), path.reasons(ranked, lang), strict=True):
        out[k] = reasons
    return out


def _banded_value(feature: str, value: Any, lang: str = "en") -> str | None:
    """What a reader who may not see ``feature`` exactly is told of its value."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    if feature == "distance_km":
        return distance_band(float(value), lang)
    if feature == "capacity_ratio":
        covers = ("covers the demand", "đáp ứng nhu cầu")
        short = ("short of it", "chưa đáp ứng")
        return (covers if float(value) >= 0 else short)[0 if lang == "en" else 1]
    return None


def _banded_blocker(blocker: str, disclosure: Disclosure) -> str:
    if disclosure != "supplier":
        for side, prefix in enumerate(("capacity short:", "công suất thiếu:")):
            if blocker.startswith(prefix):
                return _BLOCKERS["capacity_short_banded"][side]
    far = _TOO_FAR_PATTERN.match(blocker) or _TOO_FAR_PATTERN_VI.match(blocker)
    return far.group(1) if far else blocker


def disclose_explanation(
    explanation: dict[str, Any], *, disclosure: Disclosure = "exact", lang: str = "en"
) -> dict[str, Any]:
    """An explanation as ``disclosure`` may read it (see :func:`disclose_reasons`).

    Reasons and blockers say capacity and distance in bands; a private feature's value is
    banded (distance ``under 10 km``, capacity ratio ``covers the demand`` / ``short of it``)
    or left out, and its contribution left out, since from a contribution and the model the
    value can be worked back. The score is rounded to 3 places.

    Examples
    --------
    >>> e = {"score": 0.1234567, "reasons": ["4 km away"], "blockers": [],
    ...      "contributions": [{"feature": "distance_km", "value": 4.2, "contribution": 0.3}]}
    >>> out = disclose_explanation(e, disclosure="public")
    >>> out["score"], out["reasons"], out["contributions"]
    (0.123, ['under 10 km away'], [{'feature': 'distance_km', 'value': 'under 10 km', \
'contribution': None}])
    """
    if disclosure not in DISCLOSURES:
        raise ValueError(f"disclosure must be one of {DISCLOSURES}, not {disclosure!r}")
    if disclosure == "exact":
        return dict(explanation)
    out = dict(explanation)
    out["score"] = round(float(out["score"]), 3)
    out["reasons"] = disclose_reasons(out["reasons"], disclosure=disclosure, lang=lang)
    out["blockers"] = [_banded_blocker(b, disclosure) for b in out["blockers"]]
    contributions = []
    for item in out["contributions"]:
        readers = PRIVATE_FEATURES.get(item["feature"])
        if readers is not None and disclosure not in readers:
            value = _banded_value(item["feature"], item["value"], lang)
            item = {**item, "value": value, "contribution": None}
        contributions.append(item)
    out["contributions"] = contributions
    return out
