"""Offline evaluation: hide some links, fit every method on the rest, see who finds them again.

Two ways to hide links: :func:`split_temporal` (the links of the last two years, as a
programme would see them a posteriori) and :func:`split_random` (a tenth of the suppliers of
each well-linked buyer, for link-only data without years). :func:`evaluate` then judges the
matcher and the baselines alike: the same training data, the same buyers, the same universe
of suppliers for each buyer, the same tie-breaking, and the same metrics from
:mod:`matcher._metrics`.
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from ketnoi import graph
from ketnoi.matcher._baselines import (
    ALS,
    ItemKNN,
    L3Paths,
    PopularCapable,
    RandomCapable,
    Ranker,
    firm_index,
)
from ketnoi.matcher._index import build_snapshot
from ketnoi.matcher._metrics import (
    auc,
    catalogue_coverage,
    ndcg_at_k,
    recall_at_k,
    reliability_curve,
)

__all__ = [
    "EvaluationResult",
    "METRICS",
    "WithoutOutcomes",
    "default_methods",
    "evaluate",
    "split_random",
    "split_temporal",
]

#: Columns of :meth:`EvaluationResult.to_frame`, in order.
METRICS: tuple[str, ...] = (
    "recall_at_k",
    "ndcg_at_k",
    "mrr",
    "auc",
    "coverage",
    "candidate_recall",
)

_PAIR = ["buyer_id", "supplier_id"]


# -- splits -----------------------------------------------------------------------------------
def _pairs_of(links: pd.DataFrame) -> pd.DataFrame:
    return links[_PAIR].drop_duplicates().reset_index(drop=True)


def _new_pairs(hidden: pd.DataFrame, train_links: pd.DataFrame) -> pd.DataFrame:
    """Hidden pairs minus those the training links still hold (in another category row)."""
    pairs = _pairs_of(hidden)
    known = pd.MultiIndex.from_frame(_pairs_of(train_links))
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
    pairs = _pairs_of(dataset.links).sort_values(_PAIR, kind="stable").reset_index(drop=True)
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
    hidden = pd.MultiIndex.from_frame(heldout[_PAIR])
    link_hidden = pd.MultiIndex.from_frame(dataset.links[_PAIR]).isin(hidden)
    outcomes = dataset.outcomes
    if not outcomes.empty:
        outcomes = outcomes[~pd.MultiIndex.from_frame(outcomes[_PAIR]).isin(hidden)]
        outcomes = outcomes.reset_index(drop=True)
    train_links = dataset.links[~link_hidden].reset_index(drop=True)
    train = dataclasses.replace(dataset, links=train_links, outcomes=outcomes)
    return train, heldout[_PAIR].reset_index(drop=True)


# -- methods ----------------------------------------------------------------------------------
Factory = Callable[[int], Ranker]


class WithoutOutcomes:
    """A ranker fitted as if no outcome had ever been recorded: the feedback loop's control.

    Evaluated beside the same ranker fitted with the outcomes, it shows whether what came of
    earlier matchmaking (met, contracted, declined) improves the ranking of the hidden links.

    Parameters
    ----------
    ranker : Ranker
        Fitted on the training dataset with its outcomes removed; scores as it does.
    """

    def __init__(self, ranker: Ranker) -> None:
        self.ranker = ranker

    @property
    def supplier_ids_(self) -> pd.Index:
        return self.ranker.supplier_ids_

    def fit(self, dataset: graph.Dataset) -> WithoutOutcomes:
        self.ranker.fit(dataclasses.replace(dataset, outcomes=dataset.outcomes.iloc[:0]))
        return self

    def score_buyers(self, buyer_ids: Sequence[str]) -> np.ndarray:
        return np.asarray(self.ranker.score_buyers(buyer_ids))

    def candidates(self, buyer_ids: Sequence[str]) -> pd.DataFrame:
        # Candidate recall of the control, where the inner ranker reports candidates.
        frame: pd.DataFrame = self.ranker.candidates(buyer_ids)  # type: ignore[attr-defined]
        return frame


def default_methods(
    *, include_model: bool = True, holdout: str = "temporal", outcomes: bool = False
) -> dict[str, Factory]:
    """The five baselines and, where it can be imported, the matcher (as ``model``).

    The matcher learns the task the hold-out sets: next links for ``temporal``, missing links
    (``training="folds"``) for ``random``. With ``outcomes=True`` the matcher also appears as
    ``model_without_outcomes``, fitted as if no outcome had been recorded (see
    :class:`WithoutOutcomes`), to show what the feedback loop adds.
    """
    methods: dict[str, Factory] = {
        "random": lambda seed: RandomCapable(seed=seed),
        "popular": lambda seed: PopularCapable(),
        "l3": lambda seed: L3Paths(),
        "itemknn": lambda seed: ItemKNN(),
        "als": lambda seed: ALS(seed=seed),
    }
    if include_model:
        try:
            from ketnoi.matcher import Matcher, MatcherSettings
        except ImportError:
            pass
        else:

            def model(seed: int) -> Ranker:
                # The seed reaches the model's own random state where its settings have one,
                # so that seeds mean the same for the matcher as for the baselines.
                training = "folds" if holdout == "random" else "auto"
                return Matcher(MatcherSettings(random_state=seed, training=training))

            methods["model"] = model
            if outcomes:
                methods["model_without_outcomes"] = lambda seed: WithoutOutcomes(model(seed))
    return methods


# -- result -----------------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True, eq=False)
class EvaluationResult:
    """Metrics per method (mean over seeds), with the counts and the reliability curve.

    Attributes
    ----------
    holdout : str
        ``temporal`` or ``random``.
    k : int
        Cut-off of recall and NDCG.
    seeds : int
        Number of seeds averaged over.
    metrics : DataFrame
        One row per method (index ``method``): :data:`METRICS`, then ``fit_seconds`` and
        ``score_seconds`` (means over seeds).
    per_seed : DataFrame
        The same per (method, seed), with ``judged_buyers`` and ``heldout_pairs``.
    judged_buyers, heldout_pairs : float
        Mean over seeds of the buyers judged and the held-out pairs they hold.
    reliability : DataFrame or None
        :func:`reliability_curve` of ``reliability_method`` on its candidates in the judged
        buyers' universes, pooled over seeds; None where that method was not evaluated.
    reliability_method : str
    """

    holdout: str
    k: int
    seeds: int
    metrics: pd.DataFrame
    per_seed: pd.DataFrame
    judged_buyers: float
    heldout_pairs: float
    reliability: pd.DataFrame | None
    reliability_method: str

    def to_frame(self) -> pd.DataFrame:
        """Mean metrics per method: one row per method, columns :data:`METRICS`."""
        return self.metrics[list(METRICS)].copy()

    def to_dict(self) -> dict[str, Any]:
        """Plain, JSON-ready data (NaN becomes None)."""

        def clean(value: Any) -> Any:
            if isinstance(value, float | np.floating):
                return None if math.isnan(value) else float(value)
            if isinstance(value, np.integer):
                return int(value)
            return value

        def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
            return [{str(k): clean(v) for k, v in row.items()} for row in frame.to_dict("records")]

        return {
            "holdout": self.holdout,
            "k": self.k,
            "seeds": self.seeds,
            "judged_buyers": clean(self.judged_buyers),
            "heldout_pairs": clean(self.heldout_pairs),
            "methods": {
                str(name): {k: clean(v) for k, v in row.items()}
                for name, row in self.metrics.to_dict("index").items()
            },
            "per_seed": records(self.per_seed),
            "reliability_method": self.reliability_method,
            "reliability": None if self.reliability is None else records(self.reliability),
        }

    def to_markdown(self, digits: int = 3) -> str:
        """Markdown tables: metrics per method, then the reliability curve where there is one."""
        k = self.k
        header = [
            "method",
            f"recall@{k}",
            f"NDCG@{k}",
            "MRR",
            "AUC",
            "coverage",
            "candidate recall",
            "fit s",
            "score s",
        ]
        columns = [*METRICS, "fit_seconds", "score_seconds"]
        rows = [
            [str(name), *(_fmt(row[c], digits) for c in columns)]
            for name, row in self.metrics.iterrows()
        ]
        lines = [
            f"Holdout {self.holdout}, k={k}, {self.seeds} seed(s): "
            f"{self.judged_buyers:g} judged buyers, {self.heldout_pairs:g} held-out pairs "
            "(means over seeds).",
            "",
            *_table(header, rows),
        ]
        if self.reliability is not None:
            lines += [
                "",
                f"Reliability of `{self.reliability_method}` on its candidates:",
                "",
                *_table(
                    ["score bin", "mean score", "observed rate", "pairs"],
                    [
                        [
                            f"{r['bin_low']:.1f}-{r['bin_high']:.1f}",
                            _fmt(r["mean_score"], digits),
                            _fmt(r["observed_rate"], digits),
                            str(int(r["count"])),
                        ]
                        for r in self.reliability.to_dict("records")
                    ],
                ),
            ]
        return "\n".join(lines)


def _fmt(value: Any, digits: int) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return f"{value:.{digits}f}"


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    out = [
        "| " + " | ".join(header) + " |",
        "|" + "|".join(["---"] + ["---:"] * (len(header) - 1)) + "|",
    ]
    out += ["| " + " | ".join(row) + " |" for row in rows]
    return out


# -- judging ----------------------------------------------------------------------------------
def _top_k(scores: np.ndarray, tiebreak: np.ndarray, k: int) -> np.ndarray:
    """Positions of the ``k`` best scores, best first; equal scores by ``tiebreak``."""
    n = len(scores)
    kk = min(k, n)
    if kk == 0:
        return np.zeros(0, dtype=np.int64)
    if kk < n:
        # Everything above the k-th best score is in; the places left go to the tied items
        # with the smallest tie-break, without sorting the whole universe.
        kth = np.partition(scores, n - kk)[n - kk]
        above = np.flatnonzero(scores > kth)
        tied = np.flatnonzero(scores == kth)
        need = kk - len(above)
        if need < len(tied):
            tied = tied[np.argpartition(tiebreak[tied], need - 1)[:need]]
        top = np.concatenate([above, tied])
    else:
        top = np.arange(n)
    return top[np.lexsort((tiebreak[top], -scores[top]))]


def _best_rank(scores: np.ndarray, tiebreak: np.ndarray, relevant: np.ndarray) -> int:
    """1-based rank of the best-placed relevant item under (score desc, tiebreak asc)."""
    s_rel = scores[relevant][:, None]
    t_rel = tiebreak[relevant][:, None]
    ahead = (scores[None, :] > s_rel) | ((scores[None, :] == s_rel) & (tiebreak[None, :] < t_rel))
    return int(ahead.sum(axis=1).min()) + 1


@dataclasses.dataclass
class _Tally:
    recall: list[float] = dataclasses.field(default_factory=list)
    ndcg: list[float] = dataclasses.field(default_factory=list)
    rr: list[float] = dataclasses.field(default_factory=list)
    auc: list[float] = dataclasses.field(default_factory=list)
    tops: list[np.ndarray] = dataclasses.field(default_factory=list)
    in_candidates: int = 0
    candidate_known: bool = True
    cal_scores: list[np.ndarray] = dataclasses.field(default_factory=list)
    cal_labels: list[np.ndarray] = dataclasses.field(default_factory=list)


def _candidate_mask(
    ranker: Ranker, batch_ids: list[str], scores: np.ndarray, supplier_ids: pd.Index
) -> np.ndarray | None:
    """Boolean batch x suppliers (evaluation order): the method's candidates, if it has any."""
    if hasattr(ranker, "candidates"):
        frame = ranker.candidates(batch_ids)
        mask = np.zeros(scores.shape, dtype=bool)
        rows = pd.Index(batch_ids).get_indexer(pd.Index(frame["buyer_id"]))
        cols = supplier_ids.get_indexer(pd.Index(frame["supplier_id"]))
        ok = (rows >= 0) & (cols >= 0)
        mask[rows[ok], cols[ok]] = True
        return mask
    threshold = getattr(ranker, "candidate_threshold", None)
    if threshold is None:
        return None
    return scores >= threshold


def _judge(
    ranker: Ranker,
    train: graph.Dataset,
    heldout: pd.DataFrame,
    *,
    k: int,
    seed: int,
    batch_size: int,
    calibrate: bool,
) -> tuple[dict[str, float], _Tally]:
    index = firm_index(train)
    supplier_ids = index.supplier_ids
    n_sup = len(supplier_ids)
    linked = build_snapshot(index, train.links).links  # buyers x suppliers, active or ended
    listed = index.listed_supplier.astype(bool)
    own = supplier_ids.get_indexer(index.buyer_ids)  # a firm with role both is also a supplier

    hb = index.buyer_ids.get_indexer(pd.Index(heldout["buyer_id"]))
    hs = supplier_ids.get_indexer(pd.Index(heldout["supplier_id"]))
    # A pair whose supplier may never be recommended (unlisted, unknown) cannot be found by
    # any method; it is left out rather than counted as everyone's miss.
    ok = (hb >= 0) & (hs >= 0)
    ok[ok] &= listed[hs[ok]] & (own[hb[ok]] != hs[ok])
    hb, hs = hb[ok], hs[ok]
    judged = np.unique(hb)

    # One random order of suppliers per seed, shared by all methods, settles equal scores:
    # no method gains or loses by ties, and none can exploit a fixed order such as firm id.
    tiebreak = np.random.default_rng([seed, 7919]).permutation(n_sup).astype(float)
    columns = ranker.supplier_ids_.get_indexer(supplier_ids)
    aligned = bool((columns == np.arange(n_sup)).all()) and len(ranker.supplier_ids_) == n_sup

    tally = _Tally()
    order = np.argsort(hb, kind="stable")
    hb_sorted, hs_sorted = hb[order], hs[order]
    score_seconds = 0.0
    for start in range(0, len(judged), batch_size):
        batch = judged[start : start + batch_size]
        batch_ids = [str(b) for b in index.buyer_ids[batch]]
        t0 = time.perf_counter()
        raw = np.asarray(ranker.score_buyers(batch_ids), dtype=float)
        if aligned:
            scores = raw
        else:
            scores = np.full((len(batch), n_sup), -np.inf)
            scores[:, columns >= 0] = raw[:, columns[columns >= 0]]
        scores = np.nan_to_num(scores, nan=-np.inf)
        mask = _candidate_mask(ranker, batch_ids, scores, supplier_ids)
        score_seconds += time.perf_counter() - t0
        if mask is None:
            tally.candidate_known = False
        for i, b in enumerate(batch):
            lo, hi = np.searchsorted(hb_sorted, [b, b + 1])
            relevant_sup = hs_sorted[lo:hi]
            universe = listed.copy()
            universe[linked.indices[linked.indptr[b] : linked.indptr[b + 1]]] = False
            if own[b] >= 0:
                universe[own[b]] = False
            sup_u = np.flatnonzero(universe)
            s_u = scores[i, sup_u]
            label = np.isin(sup_u, relevant_sup)
            rel = np.flatnonzero(label)
            top = _top_k(s_u, tiebreak[sup_u], k)
            tally.recall.append(recall_at_k(top, rel, k))
            tally.ndcg.append(ndcg_at_k(top, rel, k))
            # The same value reciprocal_rank gives on the full ranking, without sorting it.
            tally.rr.append(1.0 / _best_rank(s_u, tiebreak[sup_u], rel))
            tally.auc.append(auc(s_u, label))
            tally.tops.append(sup_u[top])
            if mask is not None:
                tally.in_candidates += int(mask[i, relevant_sup].sum())
                if calibrate:
                    cand = mask[i, sup_u]
                    tally.cal_scores.append(s_u[cand])
                    tally.cal_labels.append(label[cand])

    n_listed = int(listed.sum())
    row = {
        "recall_at_k": _mean(tally.recall),
        "ndcg_at_k": _mean(tally.ndcg),
        "mrr": _mean(tally.rr),
        "auc": _mean(tally.auc),
        "coverage": catalogue_coverage(tally.tops, n_listed) if n_listed else math.nan,
        "candidate_recall": (
            tally.in_candidates / len(hb) if tally.candidate_known and len(hb) else math.nan
        ),
        "score_seconds": score_seconds,
        "judged_buyers": float(len(judged)),
        "heldout_pairs": float(len(hb)),
    }
    return row, tally


def _mean(values: list[float]) -> float:
    arr = np.asarray(values, dtype=float)
    arr = arr[~np.isnan(arr)]
    return float(arr.mean()) if arr.size else math.nan


def evaluate(
    dataset: graph.Dataset,
    holdout: str = "temporal",
    k: int = 10,
    seeds: int = 3,
    methods: Mapping[str, Factory] | None = None,
    *,
    batch_size: int = 256,
    reliability_method: str = "model",
    bins: int = 10,
) -> EvaluationResult:
    """Hide links, fit each method on the rest, and measure how well each finds them again.

    Parameters
    ----------
    dataset : Dataset
    holdout : {"temporal", "random"}
        :func:`split_temporal` (one split; seeds vary only the methods' random state) or
        :func:`split_random` (a new split per seed).
    k : int
        Cut-off for recall and NDCG.
    seeds : int
        Seeds 0 .. seeds-1; every figure is the mean over them.
    methods : mapping of name to factory, optional
        ``factory(seed)`` returns an unfitted ranker (see :mod:`matcher._baselines`).
        Default: :func:`default_methods`.
    batch_size : int
        Buyers scored at a time: memory is ``batch_size x suppliers``, never all buyers.
    reliability_method : str
        The method whose scores are checked for calibration (they should read as
        probabilities in [0, 1] on its candidates).
    bins : int
        Bins of the reliability curve.

    Returns
    -------
    EvaluationResult

    Notes
    -----
    Judged buyers are those with at least one held-out new pair to a listed supplier. A
    buyer's universe is every listed supplier except itself and the suppliers it is linked to
    in training (active or ended); all methods rank exactly this universe. Per buyer: recall
    and NDCG at ``k``, reciprocal rank, and AUC of the held-out pairs against every other
    supplier of the universe; each is averaged over judged buyers. Coverage is the share of
    listed suppliers that appear in some judged buyer's top ``k``. Candidate recall is the
    share of held-out pairs among the method's candidates: ``ranker.candidates(buyer_ids)``
    where the method has it (the matcher), else scores at or above the method's
    ``candidate_threshold`` (baselines: capable suppliers, suppliers with a path or a
    similar supplier); NaN for a method without candidates (ALS ranks everyone).
    """
    if holdout not in ("temporal", "random"):
        raise ValueError(f"holdout must be 'temporal' or 'random', got {holdout!r}")
    if seeds < 1:
        raise ValueError(f"seeds must be at least 1, got {seeds}")
    if k < 1:
        raise ValueError(f"k must be at least 1, got {k}")
    methods = dict(default_methods(holdout=holdout) if methods is None else methods)
    if not methods:
        raise ValueError("no methods to evaluate")

    rows = []
    cal_scores: list[np.ndarray] = []
    cal_labels: list[np.ndarray] = []
    split = split_temporal(dataset) if holdout == "temporal" else None
    for seed in range(seeds):
        train, heldout = split if split is not None else split_random(dataset, seed)
        for name, factory in methods.items():
            t0 = time.perf_counter()
            ranker = factory(seed).fit(train)
            fit_seconds = time.perf_counter() - t0
            calibrate = name == reliability_method
            row, tally = _judge(
                ranker,
                train,
                heldout,
                k=k,
                seed=seed,
                batch_size=batch_size,
                calibrate=calibrate,
            )
            rows.append({"method": name, "seed": seed, **row, "fit_seconds": fit_seconds})
            if calibrate:
                cal_scores += tally.cal_scores
                cal_labels += tally.cal_labels

    per_seed = pd.DataFrame(rows)
    value_columns = [*METRICS, "fit_seconds", "score_seconds"]
    metrics = per_seed.groupby("method", sort=False)[value_columns].mean().reindex(list(methods))
    reliability = None
    if reliability_method in methods:
        s = np.concatenate(cal_scores) if cal_scores else np.zeros(0)
        y = np.concatenate(cal_labels) if cal_labels else np.zeros(0, dtype=bool)
        inside = (s >= 0.0) & (s <= 1.0)  # a candidate scored outside [0, 1] is no probability
        reliability = reliability_curve(s[inside], y[inside], bins=bins)
    counts = per_seed.drop_duplicates("seed")
    return EvaluationResult(
        holdout=holdout,
        k=k,
        seeds=seeds,
        metrics=metrics,
        per_seed=per_seed[
            ["method", "seed", *value_columns, "judged_buyers", "heldout_pairs"]
        ].reset_index(drop=True),
        judged_buyers=float(counts["judged_buyers"].mean()),
        heldout_pairs=float(counts["heldout_pairs"].mean()),
        reliability=reliability,
        reliability_method=reliability_method,
    )
