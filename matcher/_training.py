"""Training pairs without leakage.

Positives are observed (buyer, supplier) pairs, negatives are sampled from the same buyer's
candidates (hard negatives) and from all listed suppliers (easy negatives). A positive's graph
features must not see its own link:

- where a pair's first link carries a year ``y``, its features come from a snapshot of the links
  before ``y``, and its negatives share that snapshot (the same cut-off);
- where it carries no year, the undated pairs are split into folds and a positive's features come
  from a snapshot without its fold (so without its own link), again shared by its negatives.

Firm attributes (certifications, employees, descriptions...) are one snapshot, today's: the
data contract does not date them, so they may carry some hindsight.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

import graph

from ._features import FEATURES, BatchSignals, batch_size, candidate_pairs, pair_features
from ._index import FirmIndex, LinkSnapshot, build_snapshot
from ._settings import MatcherSettings

__all__ = ["TrainingSet", "training_set", "first_links"]


@dataclass(eq=False)
class TrainingSet:
    """Features, labels and how the negatives were sampled."""

    features: pd.DataFrame
    labels: np.ndarray
    groups: np.ndarray  # snapshot id per row, for grouped validation
    negative_rate: float  # sampled negatives / candidate negatives, for the prior correction

    @property
    def n_positives(self) -> int:
        return int(self.labels.sum())


def first_links(index: FirmIndex, links: pd.DataFrame) -> pd.DataFrame:
    """One row per linked (buyer, supplier) pair: positions and the first year (NaN if none)."""
    b = index.buyer_ids.get_indexer(links["buyer_id"])
    s = index.supplier_ids.get_indexer(links["supplier_id"])
    year = links["since"].to_numpy(dtype=float, na_value=np.nan)
    frame = pd.DataFrame({"buyer": b, "supplier": s, "year": year})
    frame = frame[(frame["buyer"] >= 0) & (frame["supplier"] >= 0)]
    return frame.groupby(["buyer", "supplier"], as_index=False)["year"].min()


def _sample_negatives(
    index: FirmIndex,
    snap: LinkSnapshot,
    positives: pd.DataFrame,
    taken: set[tuple[int, int]],
    settings: MatcherSettings,
    rng: np.random.Generator,
) -> tuple[list[tuple[int, int]], int, int]:
    """Negatives for the positives of one snapshot; also counts candidate negatives seen."""
    negatives: list[tuple[int, int]] = []
    n_candidate_negatives = 0
    n_sampled_hard = 0
    buyers = positives["buyer"].unique()
    per_buyer = positives.groupby("buyer").size()
    listed = np.flatnonzero(index.listed_supplier)
    step = batch_size(index.n_buyers)
    for start in range(0, len(buyers), step):
        batch = buyers[start : start + step]
        signals = BatchSignals.compute(index, snap, batch)
        cb, cs, _ = candidate_pairs(
            index, snap, signals, max_candidates=settings.max_candidates, exclude_existing=True
        )
        order = np.argsort(cb, kind="stable")
        cb, cs = cb[order], cs[order]
        bounds = np.searchsorted(cb, batch), np.searchsorted(cb, batch, side="right")
        for buyer, lo, hi in zip(batch, *bounds, strict=True):
            pool = [int(s) for s in cs[lo:hi] if (int(buyer), int(s)) not in taken]
            n_candidate_negatives += len(pool)
            want = settings.negatives_per_positive * int(per_buyer[buyer])
            hard = int(round(want * 0.75))
            if pool:
                pick = rng.choice(len(pool), size=min(hard, len(pool)), replace=False)
                chosen = [pool[i] for i in pick]
                n_sampled_hard += len(chosen)
                negatives.extend((int(buyer), s) for s in chosen)
            easy = want - min(hard, len(pool))
            if easy > 0 and len(listed):
                for s in rng.choice(listed, size=min(easy, len(listed)), replace=False):
                    if (int(buyer), int(s)) not in taken:
                        negatives.append((int(buyer), int(s)))
    return negatives, n_candidate_negatives, n_sampled_hard


def _features_for(index: FirmIndex, snap: LinkSnapshot, pairs: np.ndarray) -> pd.DataFrame:
    frames = []
    buyers = np.unique(pairs[:, 0])
    step = batch_size(index.n_buyers)
    for start in range(0, len(buyers), step):
        batch = buyers[start : start + step]
        mask = np.isin(pairs[:, 0], batch)
        signals = BatchSignals.compute(index, snap, batch)
        features, _ = pair_features(index, snap, signals, pairs[mask, 0], pairs[mask, 1])
        features.index = np.flatnonzero(mask)
        frames.append(features)
    return pd.concat(frames).sort_index()


def training_set(
    index: FirmIndex, dataset: graph.Dataset, settings: MatcherSettings
) -> TrainingSet:
    """Build the leakage-free training set for ``dataset`` (see the module docstring)."""
    rng = np.random.default_rng(settings.random_state)
    pairs = first_links(index, dataset.links)
    if len(pairs) > settings.max_training_pairs:
        pairs = pairs.sample(settings.max_training_pairs, random_state=settings.random_state)
    linked = {(int(b), int(s)) for b, s in zip(pairs["buyer"], pairs["supplier"], strict=True)}
    all_pairs = first_links(index, dataset.links)
    year_of = {
        (int(b), int(s)): y
        for b, s, y in zip(
            all_pairs["buyer"], all_pairs["supplier"], all_pairs["year"], strict=True
        )
    }
    linked |= set(year_of)

    # Snapshots: one per first-link year, and one per fold of the undated pairs.
    if settings.training == "folds":
        dated, undated = pairs.iloc[:0], pairs
    else:
        dated, undated = pairs[pairs["year"].notna()], pairs[pairs["year"].isna()]
    jobs: list[tuple[pd.DataFrame, dict]] = []
    for year, group in dated.groupby("year"):
        jobs.append((group, {"before_year": int(year)}))
    if len(undated):
        folds = rng.integers(0, settings.folds, size=len(undated))
        link_b = index.buyer_ids.get_indexer(dataset.links["buyer_id"])
        link_s = index.supplier_ids.get_indexer(dataset.links["supplier_id"])
        link_key = pd.Series(list(zip(link_b, link_s, strict=True)))
        for fold in range(settings.folds):
            # (folds hold whole pairs; every row of a pair's links leaves with it)
            group = undated[folds == fold]
            if group.empty:
                continue
            fold_keys = set(zip(group["buyer"], group["supplier"], strict=True))
            drop = link_key.isin(fold_keys).to_numpy()
            jobs.append((group, {"drop": drop}))

    features, labels, groups = [], [], []
    n_neg, n_cand = 0, 0
    for job_id, (group, cut) in enumerate(jobs):
        snap = build_snapshot(index, dataset.links, dataset.outcomes, **cut)
        before = cut.get("before_year")
        # Pairs linked up to and including this year are not negatives for this snapshot.
        taken = linked if before is None else {k for k, y in year_of.items() if not y > before}
        negatives, cand, _ = _sample_negatives(index, snap, group, taken, settings, rng)
        n_neg += len(negatives)
        n_cand += cand
        pos = group[["buyer", "supplier"]].to_numpy(dtype=np.int64)
        neg = np.asarray(negatives, dtype=np.int64).reshape(-1, 2)
        both = np.vstack([pos, neg])
        features.append(_features_for(index, snap, both))
        labels.append(np.r_[np.ones(len(pos)), np.zeros(len(neg))])
        groups.append(np.full(len(both), job_id))
    if not features:
        empty = pd.DataFrame(columns=list(FEATURES), dtype=float)
        return TrainingSet(empty, np.zeros(0), np.zeros(0, dtype=int), 1.0)
    rate = n_neg / n_cand if n_cand else 1.0
    return TrainingSet(
        pd.concat(features, ignore_index=True),
        np.concatenate(labels),
        np.concatenate(groups),
        float(min(max(rate, 1e-6), 1.0)),
    )
