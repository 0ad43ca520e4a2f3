"""Choosing the ranker by inner validation, on the training data only.

The training set is made of periods (dated links: each period's links with the links before it
as their world) or folds (undated links: each fold's links with the others as their world).
``model="auto"`` holds the latest period (or the last fold) back: every selectable ranker of
:data:`ketnoi.matcher.RANKERS` is fitted on the pairs of the other periods, ranks the held-back
period's *candidates* for a sample of its buyers exactly as a match list would rank them, and
is judged by NDCG@10 against that period's links. The best ranker is then fitted on every
training pair. A test split is never seen: it is not part of the dataset the matcher fits.

NDCG counts every held-back link, including those the candidate step lost, so a ranker is
judged on what a user would get; all rankers share the candidates. Suppliers the buyer is
linked to in the snapshot (active or ended) are not ranked, as the evaluation does not rank
them. Where EASE's ranker is compared it is kept unless the best beats it by more than one
standard error of their paired per-buyer difference.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression
from threadpoolctl import threadpool_limits

from ketnoi.matcher._blend import (
    BLEND_WEIGHTS,
    BlendedRanker,
    blend_logit,
    blend_weight,
    buyer_ndcg,
)
from ketnoi.matcher._features import BatchSignals, batch_size, candidate_pairs, pair_features
from ketnoi.matcher._index import FirmIndex, LinkSnapshot
from ketnoi.matcher._scorer import logit, make_pipeline
from ketnoi.matcher._settings import RANKERS, MatcherSettings

__all__ = [
    "ValidationRows",
    "fit_params",
    "make_ranker",
    "platt_scaling",
    "ranking_ndcg",
    "ranking_rows",
    "select_ranker",
]

# The rankers are compared on at most this many training pairs (a seeded sample), which bounds
# the time inner validation adds to a fit; the chosen one is then fitted on all of them.
_MAX_SELECTION_PAIRS = 150_000


@dataclass(eq=False)
class ValidationRows:
    """Every candidate of the held-back buyers, with its features and whether it linked.

    Attributes
    ----------
    features : DataFrame
        :data:`FEATURES` of each candidate pair.
    labels : numpy.ndarray
        1 where the pair is a held-back link.
    buyers, suppliers : numpy.ndarray
        Positions of each row's pair.
    relevant : pandas.Series
        Per judged buyer (index: position), its held-back links, found by the candidates or not.
    group : int
        The training-set group (period or fold) held back.
    """

    features: pd.DataFrame
    labels: np.ndarray
    buyers: np.ndarray
    suppliers: np.ndarray
    relevant: pd.Series
    group: int


def ranking_rows(
    index: FirmIndex,
    snap: LinkSnapshot,
    positives: pd.DataFrame,
    settings: MatcherSettings,
    rng: np.random.Generator,
    group: int,
) -> ValidationRows | None:
    """The candidates of (a sample of) the buyers of ``positives`` on ``snap``, labelled.

    ``snap`` is the world the held-back period (or fold) is judged from: its own links are
    not in it. None where no buyer is left to judge.
    """
    buyers = np.unique(positives["buyer"].to_numpy(np.int64))
    if len(buyers) == 0:
        return None
    if len(buyers) > settings.max_selection_buyers:
        buyers = np.sort(rng.choice(buyers, size=settings.max_selection_buyers, replace=False))
    n_sup = index.n_suppliers
    judged = positives[positives["buyer"].isin(buyers)]
    wanted = np.sort(
        judged["buyer"].to_numpy(np.int64) * n_sup + judged["supplier"].to_numpy(np.int64)
    )
    frames, labels, pb_parts, ps_parts = [], [], [], []
    step = batch_size(index.n_buyers)
    for start in range(0, len(buyers), step):
        batch = buyers[start : start + step]
        signals = BatchSignals.compute(index, snap, batch)
        cb, cs, _ = candidate_pairs(
            index, snap, signals, max_candidates=settings.max_candidates, exclude_existing=True
        )
        # Judged as the evaluation judges (ketnoi.matcher._judge): among the suppliers the
        # buyer has no link to, active *or ended*. An ended link stays a candidate in served
        # lists but can never be a held-back link; left in, it fills top places with certain
        # misses, and most for EASE, which scores a buyer's former suppliers highest (on a
        # links-only world the held-back fold rated EASE 0.03 below logistic while the
        # held-out split put it ahead).
        new = np.asarray(snap.links[cb, cs]).ravel() == 0 if len(cb) else np.ones(0, bool)
        cb, cs = cb[new], cs[new]
        features, _ = pair_features(index, snap, signals, cb, cs)
        frames.append(features)
        keys = cb * n_sup + cs
        at = np.minimum(np.searchsorted(wanted, keys), max(len(wanted) - 1, 0))
        labels.append((wanted[at] == keys).astype(float) if len(wanted) else np.zeros(len(cb)))
        pb_parts.append(cb)
        ps_parts.append(cs)
    return ValidationRows(
        pd.concat(frames, ignore_index=True),
        np.concatenate(labels),
        np.concatenate(pb_parts),
        np.concatenate(ps_parts),
        judged.groupby("buyer").size(),
        group,
    )


def ranking_ndcg(rows: ValidationRows, scores: np.ndarray, k: int = 10) -> float:
    """Mean NDCG@k over the judged buyers of ranking their candidates by ``scores``.

    Ties are broken by supplier position, as served lists break them by a fixed order.

    Examples
    --------
    >>> rows = ValidationRows(pd.DataFrame(index=range(3)), np.array([0.0, 1.0, 0.0]),
    ...     np.array([0, 0, 0]), np.array([5, 6, 7]), pd.Series({0: 2}), 0)
    >>> round(ranking_ndcg(rows, np.array([0.9, 0.5, 0.1])), 4)  # found 1 of 2, at rank 2
    0.3869
    """
    ndcg = buyer_ndcg(rows.buyers, rows.suppliers, rows.labels, rows.relevant, scores, k)
    return float(ndcg.mean()) if len(ndcg) else 0.0


def fit_params(ranker: str, queries: np.ndarray | None) -> dict[str, Any]:
    """What a ranker's pipeline ``fit`` takes besides the rows: lambdarank's queries."""
    if "+" in ranker:
        first, _ = ranker.split("+", 1)
        return {"first_params": fit_params(first, queries)}
    if ranker == "lgbm_rank" and queries is not None:
        return {"model__query": queries}
    return {}


def make_ranker(
    settings: MatcherSettings, n_samples: int, ranker: str, table: list[dict[str, Any]]
) -> Any:
    """The unfitted scorer of ``ranker``: a pipeline of :data:`RANKERS`, or a learned blend.

    A blend is named ``"<learned>+ease"``; its weight is read from its row of the selection
    ``table`` (see :func:`select_ranker`).
    """
    if "+" not in ranker:
        return make_pipeline(settings, n_samples, ranker)
    first, second = ranker.split("+", 1)
    weight = next(float(row["weight"]) for row in table if row["ranker"] == ranker)
    return BlendedRanker(
        make_pipeline(settings, n_samples, first),
        make_pipeline(settings, n_samples, second),
        weight,
    )


def select_ranker(
    features: pd.DataFrame,
    labels: np.ndarray,
    groups: np.ndarray,
    validation: ValidationRows,
    settings: MatcherSettings,
    candidates: tuple[str, ...] = RANKERS,
    queries: np.ndarray | None = None,
) -> tuple[str, list[dict[str, Any]], np.ndarray | None]:
    """The ranker of ``candidates`` with the best NDCG@10 on ``validation``, and the table.

    Each is fitted on the training pairs outside the held-back group. Ties go to the earlier
    ranker of ``candidates``; where ``ease`` is compared, it is kept unless the best beats it
    by more than one standard error (see :func:`_within_noise_of`); where too few pairs are
    left to fit, the first one is returned with an empty table. The third value is the chosen
    ranker's probabilities on the validation rows (None without a table), for
    :func:`platt_scaling`. ``queries`` holds each training pair's query (period and buyer,
    :func:`ketnoi.matcher._lambdarank.query_ids`) for ``lgbm_rank``.
    """
    keep = groups != validation.group
    x, y = features[keep], labels[keep]
    query = queries[keep] if queries is not None else None
    if y.sum() < settings.min_positives or y.min() == y.max():
        return candidates[0], [], None
    if len(y) > _MAX_SELECTION_PAIRS:
        rng = np.random.default_rng(settings.random_state)
        pick = np.sort(rng.choice(len(y), size=_MAX_SELECTION_PAIRS, replace=False))
        x, y = x.iloc[pick], y[pick]
        query = query[pick] if query is not None else None
    table, probabilities, per_buyer = [], [], []
    for name in candidates:
        pipeline = make_pipeline(settings, len(y), name)
        with threadpool_limits(limits=1, user_api="openmp"):
            pipeline.fit(x, y, **fit_params(name, query))
            scores = pipeline.predict_proba(validation.features)[:, 1]
        per_buyer.append(
            buyer_ndcg(
                validation.buyers,
                validation.suppliers,
                validation.labels,
                validation.relevant,
                scores,
            )
        )
        table.append({"ranker": name, "inner_ndcg@10": float(per_buyer[-1].mean())})
        probabilities.append(scores)
    names = list(candidates)
    learned = [i for i, name in enumerate(names) if name != "ease"]
    if "ease" in names and learned:
        # The best learned ranker blended with EASE's, the weight learned (cross-fitted).
        first = max(learned, key=lambda i: (table[i]["inner_ndcg@10"], -i))
        second = names.index("ease")
        per_weight = {
            w: buyer_ndcg(
                validation.buyers,
                validation.suppliers,
                validation.labels,
                validation.relevant,
                blend_logit(probabilities[first], probabilities[second], w),
            )
            for w in BLEND_WEIGHTS
        }
        weight, crossed, _ = blend_weight(per_weight, settings.random_state)
        names.append(f"{names[first]}+ease")
        table.append({"ranker": names[-1], "inner_ndcg@10": crossed, "weight": weight})
        per_buyer.append(per_weight[weight])
        z = blend_logit(probabilities[first], probabilities[second], weight)
        probabilities.append(1.0 / (1.0 + np.exp(-np.clip(z, -40, 40))))
    best = max(range(len(table)), key=lambda i: (table[i]["inner_ndcg@10"], -i))
    if "ease" in names:
        best = _within_noise_of(best, names.index("ease"), table, per_buyer)
    return names[best], table, probabilities[best]


def _within_noise_of(
    best: int, simple: int, table: list[dict[str, Any]], per_buyer: list[pd.Series]
) -> int:
    """``simple`` (EASE's ranker) unless ``best`` beats it by more than one standard error.

    The one-standard-error rule (Hastie, Tibshirani & Friedman 2009, 7.10): the held-back
    fold judges a few hundred buyers, and on links-only networks the learned rankers and
    EASE are a percent apart, less than that sample can tell. Between rankers the noise
    cannot separate, the simpler one is kept, and it is the one that transfers: the learned
    rankers are fitted on snapshots as sparse as the held-back one but serve the full
    network. The standard error is of the paired per-buyer difference; each compared row
    records it (``se_vs_ease``).
    """
    base = per_buyer[simple]
    for row, values in zip(table, per_buyer, strict=True):
        if row is table[simple]:
            continue
        diff = (values - base).to_numpy()
        row["se_vs_ease"] = float(diff.std(ddof=1) / np.sqrt(len(diff))) if len(diff) > 1 else 0.0
    if best == simple:
        return best
    gain = table[best]["inner_ndcg@10"] - table[simple]["inner_ndcg@10"]
    return best if gain > table[best]["se_vs_ease"] else simple


def platt_scaling(probabilities: np.ndarray, labels: np.ndarray) -> tuple[float, float] | None:
    """Slope and intercept mapping a classifier's log-odds to observed rates (Platt 1999).

    Fitted on the held-back candidates, which the classifier never saw, so a served score
    reads as the chance that a candidate links within one period (or fold). None where the
    rows hold one class only. Monotonic (the slope is kept positive): orders never change.

    Examples
    --------
    >>> p = np.array([0.1, 0.2, 0.3, 0.6, 0.7, 0.9] * 20)
    >>> y = np.array([0, 0, 1, 0, 1, 1] * 20)
    >>> slope, intercept = platt_scaling(p, y)
    >>> slope > 0
    True
    """
    if len(labels) == 0 or labels.min() == labels.max():
        return None
    z = logit(probabilities).reshape(-1, 1)
    fitted = LogisticRegression(C=1e4, max_iter=1000).fit(z, labels)
    slope, intercept = float(fitted.coef_[0, 0]), float(fitted.intercept_[0])
    if not slope > 0:
        return None
    return slope, intercept
