"""Hold-outs for evaluation: hide links, keep the rest for training.

- :func:`split_temporal`: the links of the last two years (the programme's task: next links);
- :func:`split_random`: a tenth of each well-linked buyer's suppliers (missing links);
- :func:`split_cold`: every link of a tenth of the well-linked buyers (new buyers, judged on
  what their profiles and demands say).

Each hides whole (buyer, supplier) pairs, every link row of a pair, and the outcomes of hidden
pairs (or of the hidden years), so nothing of a hidden pair reaches training.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pandas as pd

from ketnoi import graph

__all__ = ["HOLDOUTS", "pairs_of", "split_cold", "split_random", "split_temporal"]

#: The hold-outs :func:`ketnoi.matcher.evaluate` knows.
HOLDOUTS: tuple[str, ...] = ("temporal", "random", "cold")

_PAIR = ["buyer_id", "supplier_id"]


def pairs_of(links: pd.DataFrame) -> pd.DataFrame:
    """The distinct (buyer_id, supplier_id) pairs of a links frame."""
    return links[_PAIR].drop_duplicates().reset_index(drop=True)


def _new_pairs(hidden: pd.DataFrame, train_links: pd.DataFrame) -> pd.DataFrame:
    """Hidden pairs minus those the training links still hold (in another category row)."""
    pairs = pairs_of(hidden)
    known = pd.MultiIndex.from_frame(pairs_of(train_links))
    still = pd.MultiIndex.from_frame(pairs).isin(known)
    return pairs[~still].reset_index(drop=True)


def split_temporal(dataset: graph.Dataset) -> tuple[graph.Dataset, pd.DataFrame]:
    """Hide the links that started in the last two distinct years present.

    Links without a year stay in training: nothing says they are recent. Outcomes dated in
    or after the first hidden year are dropped from training too, since an outcome recorded
    then may be the very link being predicted.

    Returns
    -------
    train : Dataset
        ``dataset`` with the remaining links and outcomes (not re-validated).
    heldout : DataFrame
        Columns ``buyer_id, supplier_id``: hidden pairs that are new, i.e. not linked in
        training through another category row.

    Raises
    ------
    ValueError
        Where fewer than three distinct years are present (nothing would be left to learn
        from, or nothing to hide).
    """
    since = dataset.links["since"].to_numpy(dtype=float, na_value=np.nan)
    years = np.unique(since[~np.isnan(since)])
    if len(years) < 3:
        raise ValueError(
            f"temporal holdout needs links from at least three distinct years, found {len(years)}"
        )
    first_hidden = years[-2]
    hide = since >= first_hidden  # NaN compares False: undated links stay
    train_links = dataset.links[~hide].reset_index(drop=True)
    outcomes = dataset.outcomes
    if not outcomes.empty:
        dates = pd.to_datetime(outcomes["date"].replace("", None), errors="coerce")
        late = (dates.dt.year >= first_hidden).fillna(False).to_numpy(dtype=bool)
        outcomes = outcomes[~late].reset_index(drop=True)
    train = dataclasses.replace(dataset, links=train_links, outcomes=outcomes)
    return train, _new_pairs(dataset.links[hide], train_links)


def _n_hidden(n_suppliers: int) -> int:
    # A tenth, rounded half up (Python's round() would send 2.5 to 2), and at least one.
    return max(1, math.floor(n_suppliers / 10 + 0.5))


def split_random(
    dataset: graph.Dataset, seed: int = 0, *, min_links: int = 5
) -> tuple[graph.Dataset, pd.DataFrame]:
    """Hide a tenth (at least one) of the suppliers of each buyer with ``min_links`` or more.

    Hiding is by (buyer, supplier) pair: every link row of a hidden pair goes, whatever its
    category, so the pair is truly new to training. A buyer's count is of distinct suppliers.
    Outcomes of hidden pairs are dropped from training as well.

    Parameters
    ----------
    dataset : Dataset
    seed : int
        Same seed, same split.
    min_links : int
        Buyers with fewer distinct suppliers keep all their links.

    Returns
    -------
    train : Dataset
    heldout : DataFrame
        Columns ``buyer_id, supplier_id``.
    """
    rng = np.random.default_rng(seed)
    pairs = pairs_of(dataset.links).sort_values(_PAIR, kind="stable").reset_index(drop=True)
    chosen = []
    for _, group in pairs.groupby("buyer_id", sort=True):
        if len(group) < min_links:
            continue
        take = rng.choice(len(group), size=_n_hidden(len(group)), replace=False)
        chosen.append(group.iloc[np.sort(take)])
    heldout = (
        pd.concat(chosen, ignore_index=True)
        if chosen
        else pd.DataFrame(columns=_PAIR, dtype=object)
    )
    return _without_pairs(dataset, heldout)


def _without_pairs(
    dataset: graph.Dataset, heldout: pd.DataFrame
) -> tuple[graph.Dataset, pd.DataFrame]:
    hidden = pd.MultiIndex.from_frame(heldout[_PAIR])
    link_hidden = pd.MultiIndex.from_frame(dataset.links[_PAIR]).isin(hidden)
    outcomes = dataset.outcomes
    if not outcomes.empty:
        outcomes = outcomes[~pd.MultiIndex.from_frame(outcomes[_PAIR]).isin(hidden)]
        outcomes = outcomes.reset_index(drop=True)
    train_links = dataset.links[~link_hidden].reset_index(drop=True)
    train = dataclasses.replace(dataset, links=train_links, outcomes=outcomes)
    return train, heldout[_PAIR].reset_index(drop=True)


def split_cold(
    dataset: graph.Dataset, seed: int = 0, *, share: float = 0.1, min_links: int = 5
) -> tuple[graph.Dataset, pd.DataFrame]:
    """Hide every link of a seeded ``share`` of the buyers with ``min_links`` or more suppliers.

    Those buyers enter training with no link at all, as a firm new to the programme does:
    only their profile and demands speak for them. Their outcomes go too.

    Returns
    -------
    train : Dataset
    heldout : DataFrame
        Columns ``buyer_id, supplier_id``: every pair of the chosen buyers.

    Examples
    --------
    >>> from pathlib import Path
    >>> tiny = graph.load_dataset(Path(__file__).resolve().parents[1] / "fixtures" / "tiny")
    >>> train, heldout = split_cold(tiny, min_links=2, share=0.5)
    >>> chosen = set(heldout["buyer_id"])
    >>> len(chosen), bool(train.links["buyer_id"].isin(chosen).any())
    (1, False)
    """
    rng = np.random.default_rng(seed)
    pairs = pairs_of(dataset.links).sort_values(_PAIR, kind="stable").reset_index(drop=True)
    counts = pairs.groupby("buyer_id", sort=True).size()
    eligible = counts[counts >= min_links].index.to_numpy()
    if len(eligible) == 0:
        return _without_pairs(dataset, pairs.iloc[:0])
    n = max(1, math.floor(len(eligible) * share + 0.5))
    chosen = rng.choice(eligible, size=min(n, len(eligible)), replace=False)
    return _without_pairs(dataset, pairs[pairs["buyer_id"].isin(chosen)])
