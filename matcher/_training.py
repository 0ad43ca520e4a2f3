"""Training pairs without leakage.

Positives are observed (buyer, supplier) pairs that the candidate step finds, negatives are
sampled from the same buyer's candidates: the scorer only ever ranks candidates. A positive's
graph features must not see its own link:

- where a pair's first link carries a year ``y``, its features come from a snapshot of the links
  before ``y``, and its negatives share that snapshot (the same cut-off);
- where it carries no year, the undated pairs are split into folds and a positive's features come
  from a snapshot without its fold (so without its own link), again shared by its negatives.

Recorded outcomes are labels too (``MatcherSettings.outcome_labels``): a pair that met or
contracted is a positive dated by its first such outcome, a pair whose last outcome is a refusal
an explicit negative dated by it. Both take the cut-off of their date exactly as links do, and a
pair's own outcomes never reach its features (outcome features count only earlier outcomes,
and a fold's outcomes leave the snapshot with it).

Firm attributes (certifications, employees, descriptions...) are one snapshot, today's: the
data contract does not date them, so they may carry some hindsight.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ketnoi import graph
from ketnoi.matcher._features import (
    FEATURES,
    BatchSignals,
    batch_size,
    candidate_pairs,
    pair_features,
)
from ketnoi.matcher._index import FirmIndex, LinkSnapshot, build_snapshot, with_ease, with_rp3
from ketnoi.matcher._lambdarank import query_ids
from ketnoi.matcher._selection import ValidationRows, ranking_rows
from ketnoi.matcher._settings import MatcherSettings

__all__ = [
    "POSITIVE_OUTCOMES",
    "TrainingSet",
    "buyer_folds",
    "first_links",
    "outcome_labels",
    "training_set",
]

#: Outcomes that make a pair a positive when ``outcome_labels`` is on, unless its last outcome
#: is ``declined`` (a negative). Contacted and negotiating pairs are undecided.
POSITIVE_OUTCOMES: tuple[str, ...] = ("met", "contracted")


@dataclass(eq=False)
class TrainingSet:
    """Features, labels and how the negatives were sampled."""

    features: pd.DataFrame
    labels: np.ndarray
    groups: np.ndarray  # snapshot id per row, for grouped validation
    negative_rate: float  # sampled negatives / candidate negatives, for the prior correction
    pairs: np.ndarray | None = None  # (buyer, supplier) positions per row
    validation: ValidationRows | None = None  # the held-back group's candidates (model="auto")

    @property
    def n_positives(self) -> int:
        return int(self.labels.sum())

    @property
    def queries(self) -> np.ndarray | None:
        """Each pair's query for lambdarank: its period (or fold) and its buyer."""
        if self.pairs is None or len(self.pairs) != len(self.labels):
            return None
        return query_ids(self.groups, self.pairs[:, 0])


def first_links(index: FirmIndex, links: pd.DataFrame) -> pd.DataFrame:
    """One row per linked (buyer, supplier) pair: positions and the first year (NaN if none)."""
    b = index.buyer_ids.get_indexer(links["buyer_id"])
    s = index.supplier_ids.get_indexer(links["supplier_id"])
    year = links["since"].to_numpy(dtype=float, na_value=np.nan)
    frame = pd.DataFrame({"buyer": b, "supplier": s, "year": year})
    frame = frame[(frame["buyer"] >= 0) & (frame["supplier"] >= 0)]
    return frame.groupby(["buyer", "supplier"], as_index=False)["year"].min()


def outcome_labels(index: FirmIndex, outcomes: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Positive and negative pairs from recorded outcomes, each with its year (NaN if undated).

    A pair's *last* outcome decides (by date; undated outcomes and ties in the order they
    were recorded, since outcomes are appended): a pair whose last outcome is ``declined`` is
    a negative, dated by that refusal, even if it met before; otherwise a pair with any
    :data:`POSITIVE_OUTCOMES` outcome is a positive, dated by the first of them. Outcomes of
    firms outside the index are ignored.

    Returns
    -------
    positives, negatives : DataFrame
        Columns ``buyer``, ``supplier`` (positions in ``index``) and ``year``.
    """
    empty = pd.DataFrame({"buyer": [], "supplier": [], "year": []}).astype(
        {"buyer": np.int64, "supplier": np.int64, "year": float}
    )
    if outcomes is None or outcomes.empty:
        return empty, empty.copy()
    dates = pd.to_datetime(outcomes["date"].replace("", None), errors="coerce")
    frame = pd.DataFrame(
        {
            "buyer": index.buyer_ids.get_indexer(outcomes["buyer_id"]),
            "supplier": index.supplier_ids.get_indexer(outcomes["supplier_id"]),
            "date": dates.to_numpy(),
            "year": dates.dt.year.to_numpy(dtype=float, na_value=np.nan),
            "kind": outcomes["outcome"].to_numpy(),
            "order": np.arange(len(outcomes)),
        }
    )
    frame = frame[(frame["buyer"] >= 0) & (frame["supplier"] >= 0)]
    ordered = frame.sort_values(["date", "order"], na_position="first", kind="stable")
    last = ordered.groupby(["buyer", "supplier"], as_index=False).last()
    refused = last[last["kind"] == "declined"][["buyer", "supplier", "year"]]
    good = frame[frame["kind"].isin(POSITIVE_OUTCOMES)]
    positives = good.groupby(["buyer", "supplier"], as_index=False)["year"].min()
    if len(positives) and len(refused):
        gone = pd.MultiIndex.from_frame(refused[["buyer", "supplier"]])
        positives = positives[
            ~pd.MultiIndex.from_frame(positives[["buyer", "supplier"]]).isin(gone)
        ]
    return (
        positives.astype({"buyer": np.int64, "supplier": np.int64}).reset_index(drop=True),
        refused.astype({"buyer": np.int64, "supplier": np.int64}).reset_index(drop=True),
    )


def _in_sorted(keys: np.ndarray, sorted_keys: np.ndarray) -> np.ndarray:
    """Membership of ``keys`` in an ascending array (vectorised ``isin``)."""
    if len(sorted_keys) == 0:
        return np.zeros(len(keys), dtype=bool)
    at = np.searchsorted(sorted_keys, keys)
    return sorted_keys[np.minimum(at, len(sorted_keys) - 1)] == keys


def _snapshot_pass(
    index: FirmIndex,
    snap: LinkSnapshot,
    positives: pd.DataFrame,
    taken: np.ndarray,
    settings: MatcherSettings,
    rng: np.random.Generator,
    refused: pd.DataFrame | None = None,
) -> tuple[pd.DataFrame, np.ndarray, np.ndarray, int, int]:
    """Sample negatives for one snapshot's positives and compute every pair's features.

    Negatives and features of a batch of buyers share one :class:`BatchSignals`. ``taken``
    holds the (sorted) keys ``buyer * n_suppliers + supplier`` of pairs that must not be
    negatives. ``refused`` holds explicit negatives (declined pairs), added as they are and
    left out of the sampling rate. Returns features, labels, (buyer, supplier) pairs,
    negatives sampled, candidate negatives seen.
    """
    n_sup = index.n_suppliers
    per_buyer = positives.groupby("buyer")["supplier"].apply(np.asarray)
    refused_by_buyer = (
        refused.groupby("buyer")["supplier"].apply(np.asarray)
        if refused is not None and len(refused)
        else pd.Series(dtype=object)
    )
    buyers = np.union1d(per_buyer.index.to_numpy(), refused_by_buyer.index.to_numpy()).astype(
        np.int64
    )
    no_pairs = np.zeros(0, dtype=np.int64)
    frames, labels, pair_parts = [], [], []
    n_neg = n_pool = 0
    step = batch_size(index.n_buyers)
    for start in range(0, len(buyers), step):
        batch = buyers[start : start + step]
        signals = BatchSignals.compute(index, snap, batch)
        cb, cs, _ = candidate_pairs(
            index, snap, signals, max_candidates=settings.max_candidates, exclude_existing=True
        )
        candidate_keys = np.sort(cb * n_sup + cs)
        free = ~_in_sorted(cb * n_sup + cs, taken)
        cb, cs = cb[free], cs[free]
        order = np.argsort(cb, kind="stable")
        cb, cs = cb[order], cs[order]
        lo, hi = np.searchsorted(cb, batch), np.searchsorted(cb, batch, side="right")
        pb_parts, ps_parts, y_parts = [], [], []
        for buyer, a, b in zip(batch, lo, hi, strict=True):
            pos = per_buyer.get(buyer, no_pairs)
            # The scorer only ever ranks candidates, so it learns from them: a positive the
            # candidate step would not find looks unlike every candidate and teaches the
            # wrong direction (on a link-only world, inner NDCG@10 0.099 with them, 0.113
            # without).
            pos = pos[_in_sorted(buyer * n_sup + pos, candidate_keys)]
            told = refused_by_buyer.get(buyer, no_pairs)
            want = settings.negatives_per_positive * len(pos)
            hard = min(want, b - a)
            n_pool += (b - a) if len(pos) else 0
            chosen = cs[a:b][rng.choice(b - a, size=hard, replace=False)] if hard else cs[:0]
            negatives = np.unique(chosen)
            negatives = negatives[~np.isin(negatives, told)]
            n_neg += len(negatives)
            negatives = np.concatenate([negatives, told])
            pb_parts.append(np.full(len(pos) + len(negatives), buyer, dtype=np.int64))
            ps_parts.append(np.concatenate([pos, negatives]).astype(np.int64))
            y_parts.append(np.r_[np.ones(len(pos)), np.zeros(len(negatives))])
        pb, ps = np.concatenate(pb_parts), np.concatenate(ps_parts)
        features, _ = pair_features(index, snap, signals, pb, ps)
        frames.append(features)
        labels.append(np.concatenate(y_parts))
        pair_parts.append(np.column_stack([pb, ps]))
    return (
        pd.concat(frames, ignore_index=True),
        np.concatenate(labels),
        np.concatenate(pair_parts),
        n_neg,
        n_pool,
    )


def buyer_folds(buyers: np.ndarray, n_folds: int, rng: np.random.Generator) -> np.ndarray:
    """A fold per pair, dealt out per buyer: each buyer's pairs spread evenly over the folds.

    A random hold-out hides a share of *each* buyer's suppliers, so a fold (the held-back one
    above all, which model selection judges on) must look the same: every buyer keeps most of
    its links in the snapshot, and a buyer with ``n`` pairs has ``n / n_folds`` (rounded
    either way) in each fold. Folds drawn pair by pair instead leave a buyer with few links
    with none of them in some snapshots and pile several of another's into one fold.

    Examples
    --------
    >>> folds = buyer_folds(np.array([0] * 20 + [1] * 3), 10, np.random.default_rng(0))
    >>> np.bincount(folds[:20], minlength=10).tolist()
    [2, 2, 2, 2, 2, 2, 2, 2, 2, 2]
    >>> int(np.bincount(folds[20:]).max())
    1
    """
    n = len(buyers)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    shuffled = rng.permutation(n)
    order = shuffled[np.argsort(buyers[shuffled], kind="stable")]
    sorted_buyers = buyers[order]
    starts = np.r_[0, np.flatnonzero(np.diff(sorted_buyers)) + 1]
    sizes = np.diff(np.r_[starts, n])
    within = np.arange(n) - np.repeat(starts, sizes)
    offset = np.repeat(rng.integers(0, n_folds, size=len(starts)), sizes)
    folds = np.empty(n, dtype=np.int64)
    folds[order] = (within + offset) % n_folds
    return folds


def _year_buckets(years: np.ndarray, limit: int) -> list[tuple[int, int]]:
    """At most ``limit`` (first, last) year ranges covering ``years``, by equal counts.

    A bucket's positives all take the cut-off of its first year: features from links before
    the bucket starts are a little staler for its later years, but never leak.
    """
    distinct = np.unique(years)
    if len(distinct) <= limit:
        return [(int(y), int(y)) for y in distinct]
    edges = np.unique(np.quantile(years, np.linspace(0, 1, limit + 1)[1:-1], method="lower"))
    buckets, first = [], int(distinct[0])
    for edge in edges:
        buckets.append((first, int(edge)))
        later = distinct[distinct > edge]
        if len(later) == 0:
            return buckets
        first = int(later[0])
    buckets.append((first, int(distinct[-1])))
    return buckets


def training_set(
    index: FirmIndex,
    dataset: graph.Dataset,
    settings: MatcherSettings,
    ease_l2: float | None = None,
) -> TrainingSet:
    """Build the leakage-free training set for ``dataset`` (see the module docstring).

    ``ease_l2``: EASE's ridge penalty where collaborative signals are on (None: off); EASE is
    solved on each snapshot's own links, as the graph signals are computed.
    """
    rng = np.random.default_rng(settings.random_state)
    n_sup = index.n_suppliers
    all_pairs = first_links(index, dataset.links)
    refused = all_pairs.iloc[:0]
    if settings.outcome_labels:
        met, refused = outcome_labels(index, dataset.outcomes)
        if len(met):
            all_pairs = (
                pd.concat([all_pairs, met], ignore_index=True)
                .groupby(["buyer", "supplier"], as_index=False)["year"]
                .min()
            )
        if len(refused):
            # A pair that is linked (or met) is no refusal, whatever it declined before.
            linked = pd.MultiIndex.from_frame(all_pairs[["buyer", "supplier"]])
            refused = refused[
                ~pd.MultiIndex.from_frame(refused[["buyer", "supplier"]]).isin(linked)
            ]
    all_keys = all_pairs["buyer"].to_numpy(np.int64) * n_sup + all_pairs["supplier"].to_numpy(
        np.int64
    )
    all_years = all_pairs["year"].to_numpy(dtype=float)
    # Declined pairs are labelled once, as explicit negatives of their own period or fold;
    # they are never sampled as negatives elsewhere (where their refusal would be a feature).
    refused_all = refused["buyer"].to_numpy(np.int64) * n_sup + refused["supplier"].to_numpy(
        np.int64
    )
    pairs = all_pairs
    # On large networks train on a sample of buyers (and of their links): every snapshot
    # then ranks candidates for at most that many buyers, which bounds fit time.
    buyers = pairs["buyer"].unique()
    if len(buyers) > settings.max_training_buyers:
        keep = rng.choice(buyers, size=settings.max_training_buyers, replace=False)
        pairs = pairs[pairs["buyer"].isin(keep)]
        refused = refused[refused["buyer"].isin(keep)]
    if len(pairs) > settings.max_training_pairs:
        pairs = pairs.sample(settings.max_training_pairs, random_state=settings.random_state)

    if settings.training == "folds":
        dated, undated = pairs.iloc[:0], pairs
        dated_refused, undated_refused = refused.iloc[:0], refused
    else:
        dated, undated = pairs[pairs["year"].notna()], pairs[pairs["year"].isna()]
        dated_refused = refused[refused["year"].notna()]
        undated_refused = refused[refused["year"].isna()]
    jobs: list[tuple[pd.DataFrame, dict[str, Any], np.ndarray, pd.DataFrame]] = []
    if len(dated):
        buckets = _year_buckets(dated["year"].to_numpy(), settings.max_snapshots)
        starts = np.array([first for first, _ in buckets])
        # A refusal joins the period it falls in (before the first period: the first one).
        where = np.searchsorted(starts, dated_refused["year"].to_numpy(), side="right") - 1
        where = np.maximum(where, 0)
        for i, (first, last) in enumerate(buckets):
            group = dated[dated["year"].between(first, last)]
            # Pairs first linked up to the bucket's last year are never its negatives.
            taken = np.sort(np.r_[all_keys[~(all_years > last)], refused_all])
            cut = {"before_year": first, "outcomes": dataset.outcomes}
            jobs.append((group, cut, taken, dated_refused[where == i]))
    elif len(dated_refused):
        undated_refused = pd.concat([undated_refused, dated_refused])
    if len(undated) or len(undated_refused):
        link_keys = index.buyer_ids.get_indexer(dataset.links["buyer_id"]).astype(
            np.int64
        ) * n_sup + index.supplier_ids.get_indexer(dataset.links["supplier_id"])
        folds = buyer_folds(undated["buyer"].to_numpy(np.int64), settings.folds, rng)
        refused_folds = rng.integers(0, settings.folds, size=len(undated_refused))
        undated_keys = undated["buyer"].to_numpy(np.int64) * n_sup + undated["supplier"].to_numpy(
            np.int64
        )
        refused_keys = undated_refused["buyer"].to_numpy(np.int64) * n_sup + undated_refused[
            "supplier"
        ].to_numpy(np.int64)
        outcomes = dataset.outcomes
        outcome_keys = (
            index.buyer_ids.get_indexer(outcomes["buyer_id"]).astype(np.int64) * n_sup
            + index.supplier_ids.get_indexer(outcomes["supplier_id"])
            if outcomes is not None and not outcomes.empty
            else np.zeros(0, dtype=np.int64)
        )
        taken = np.sort(np.r_[all_keys, refused_all])
        for fold in range(settings.folds):
            in_fold, refused_in_fold = folds == fold, refused_folds == fold
            if not in_fold.any() and not refused_in_fold.any():
                continue
            # Folds hold whole pairs: every row of a pair's links, and its outcomes, leave
            # with it, so neither reaches the pair's own features.
            fold_keys = np.sort(np.r_[undated_keys[in_fold], refused_keys[refused_in_fold]])
            drop = _in_sorted(link_keys, fold_keys)
            kept_outcomes = (
                outcomes[~_in_sorted(outcome_keys, fold_keys)] if len(outcome_keys) else outcomes
            )
            cut = {"drop": drop, "outcomes": kept_outcomes}
            jobs.append((undated[in_fold], cut, taken, undated_refused[refused_in_fold]))

    features, labels, groups, pair_rows = [], [], [], []
    n_neg = n_pool = 0
    # The latest period (or the last fold) is held back: model="auto" judges the rankers on
    # it, and whichever ranker is used is calibrated on it.
    held_back = len(jobs) - 1 if len(jobs) >= 2 else -1
    validation = None
    for job_id, (group, cut, taken, told) in enumerate(jobs):
        snap = with_rp3(
            with_ease(build_snapshot(index, dataset.links, **cut), ease_l2, settings.ease_max_side),
            settings.rp3,
        )
        if job_id == held_back:
            validation = ranking_rows(index, snap, group, settings, rng, job_id)
        frame, y, rows, negatives, pool = _snapshot_pass(
            index, snap, group, taken, settings, rng, refused=told
        )
        pair_rows.append(rows)
        n_neg += negatives
        n_pool += pool
        features.append(frame)
        labels.append(y)
        groups.append(np.full(len(y), job_id))
    if not features:
        empty = pd.DataFrame(columns=list(FEATURES), dtype=float)
        return TrainingSet(empty, np.zeros(0), np.zeros(0, dtype=int), 1.0)
    rate = n_neg / n_pool if n_pool else 1.0
    return TrainingSet(
        pd.concat(features, ignore_index=True),
        np.concatenate(labels),
        np.concatenate(groups),
        float(min(max(rate, 1e-6), 1.0)),
        np.concatenate(pair_rows),
        validation,
    )
