"""The tiered supply chain upstream of a buyer: existing suppliers, then recommended ones.

:meth:`Matcher.chain <ketnoi.matcher.Matcher.chain>` (and ``recommend(..., tier=2)``) delegate
here. Existing tiers come from the active links alone; recommendations at each tier come from
the matcher's one ranking path, for every buying firm of the tier above.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ketnoi.matcher._ranking import RECOMMENDATION_COLUMNS, RankingPath

__all__ = ["supply_chain"]

# Buying firms ranked per tier at most: a wide chain grows geometrically with depth.
_MAX_PARENTS = 200


def supply_chain(
    path: RankingPath, buyer_id: str, *, depth: int, k: int, lang: str
) -> pd.DataFrame:
    """The chain :meth:`Matcher.chain` returns, on the bound data of ``path``.

    Parameters
    ----------
    path : RankingPath
    buyer_id : str
        The root.
    depth : int
        Tiers, at least 1.
    k : int
        New suppliers per buying firm.
    lang : {"en", "vi"}

    Returns
    -------
    DataFrame
        :data:`RECOMMENDATION_COLUMNS`, ``parent_id``, ``existing``, ``supplier_name`` and
        ``parent_name``; existing links first within a tier.
    """
    index, snap = path.index, path.snapshot
    path.buyer_position(buyer_id)
    existing_note = (
        "an existing supplier (active link)" if lang == "en" else "nhà cung cấp hiện tại"
    )
    seen = {buyer_id}
    rows: list[pd.DataFrame] = []
    tier_of: dict[str, int] = {}
    frontier = [buyer_id]
    for tier in range(1, depth + 1):
        found: list[dict[str, Any]] = []
        for parent_id in frontier:
            pos = index.buyer_ids.get_indexer([parent_id])[0]
            if pos < 0:
                continue
            active = snap.active.indices[snap.active.indptr[pos] : snap.active.indptr[pos + 1]]
            for supplier_id in sorted(index.supplier_ids.to_numpy()[active]):
                if supplier_id not in seen:
                    seen.add(supplier_id)
                    tier_of[supplier_id] = tier
                    found.append({"supplier_id": supplier_id, "parent_id": parent_id, "tier": tier})
        if found:
            block = pd.DataFrame(found)
            rows.append(
                block.assign(
                    buyer_id=buyer_id,
                    category_id="",
                    rank=pd.NA,
                    score=np.nan,
                    reasons=[[existing_note] for _ in range(len(block))],
                    existing=True,
                )
            )
        frontier = [f["supplier_id"] for f in found]
    # Recommendations, tier by tier, for the root and for every buying firm in the tree.
    parents = [buyer_id]
    for tier in range(1, depth + 1):
        positions = index.buyer_ids.get_indexer(parents)
        buying = positions[positions >= 0]
        next_parents = [f for f, t in tier_of.items() if t == tier]
        if len(buying):
            frame = path.to_frame(path.ranked(np.unique(buying)), lang, tier=tier)
            frame = frame[~frame["supplier_id"].isin(seen)]
            frame = frame.groupby("buyer_id", sort=False).head(k).copy()
            frame = frame.drop_duplicates("supplier_id")
            frame["rank"] = frame.groupby("buyer_id").cumcount() + 1
            seen.update(frame["supplier_id"])
            frame["parent_id"] = frame["buyer_id"]
            frame["buyer_id"] = buyer_id
            frame["existing"] = False
            rows.append(frame)
            next_parents += list(frame["supplier_id"])
        parents = next_parents[:_MAX_PARENTS]
        if not parents:
            break
    columns = [*RECOMMENDATION_COLUMNS, "parent_id", "existing"]
    if not rows:
        return pd.DataFrame(columns=[*columns, "supplier_name", "parent_name"])
    out = pd.concat([r[columns] for r in rows], ignore_index=True)
    out = out.sort_values(
        ["tier", "existing", "parent_id", "rank"],
        ascending=[True, False, True, True],
        kind="stable",
    )
    names = index.firms["name"]
    out["supplier_name"] = names.reindex(out["supplier_id"]).to_numpy()
    out["parent_name"] = names.reindex(out["parent_id"]).to_numpy()
    return out.reset_index(drop=True)
