"""Offline evaluation: hide some links, fit every method on the rest, see who finds them again.

Three ways to hide links (:mod:`matcher._splits`): :func:`split_temporal` (the links of the last
two years, as a programme would see them a posteriori), :func:`split_random` (a tenth of the
suppliers of each well-linked buyer, for link-only data without years) and :func:`split_cold`
(every link of a tenth of the buyers: new firms). :func:`evaluate` then judges the
matcher and the baselines alike: the same training data, the same buyers, the same universe
of suppliers for each buyer, the same tie-breaking, and the same metrics from
:mod:`matcher._metrics`.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import math
import sys
import time
import warnings
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
)
from ketnoi.matcher._judge import judge_rankings
from ketnoi.matcher._metrics import reliability_curve
from ketnoi.matcher._peers import EASE, RP3beta
from ketnoi.matcher._splits import HOLDOUTS, pairs_of, split_cold, split_random, split_temporal

__all__ = [
    "EvaluationResult",
    "DEGREE_EDGES",
    "METRICS",
    "WithoutOutcomes",
    "default_methods",
    "missing_peers",
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

#: Lower ends of the buyer-degree bands of :meth:`EvaluationResult.ndcg_by_degree`.
DEGREE_EDGES: tuple[int, ...] = (0, 1, 3, 10)


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


#: Peers that need an optional package: the package, and how to install it.
OPTIONAL_PEERS: dict[str, tuple[str, str]] = {"als": ("implicit", 'pip install -e ".[ml]"')}


def missing_peers() -> dict[str, str]:
    """Optional peers whose package is not installed, each with a note saying how to add it.

    Examples
    --------
    >>> sorted(missing_peers()) in ([], ["als"])
    True
    """
    out = {}
    for name, (module, how) in OPTIONAL_PEERS.items():
        try:
            found = importlib.util.find_spec(module) is not None
        except (ImportError, ValueError):  # ValueError: the module is None in sys.modules
            found = False
        if not found or sys.modules.get(module, True) is None:
            out[name] = f"{name} left out: it needs the {module} package ({how})"
    return out


def default_methods(
    *, include_model: bool = True, holdout: str = "temporal", outcomes: bool = False
) -> dict[str, Factory]:
    """The baselines and peers and, where it can be imported, the matcher (as ``model``).

    Baselines: ``random`` and ``popular`` (among capable suppliers), ``l3`` (length-3 paths),
    ``itemknn`` (item cosine). Peers, each with its settings chosen by inner validation on the
    training links only: ``als`` (iALS, factors and regularization), ``ease`` (EASE, the ridge
    penalty), ``rp3beta`` (RP3beta, alpha, beta and neighbours). ``logistic`` is the matcher's
    own pipeline with a plain logistic regression in place of gradient boosting, trained the
    same way, so it needs the same imports as ``model``.

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
        # A grid of four: on a link-only world shaped like a real automotive network more
        # factors only pay with a much stronger penalty, so the grid spans both corners.
        "als": lambda seed: ALS(factors=(16, 64), regularization=(0.05, 10.0), seed=seed),
        "ease": lambda seed: EASE(seed=seed),
        "rp3beta": lambda seed: RP3beta(seed=seed),
    }
    for name, note in missing_peers().items():
        # An optional peer whose package is not installed is left out with a note, never a
        # traceback halfway through an evaluation.
        methods.pop(name, None)
        warnings.warn(note, UserWarning, stacklevel=2)
    if include_model:
        try:
            from ketnoi.matcher import Matcher, MatcherSettings
        except ImportError:
            pass
        else:
            training = "folds" if holdout in ("random", "cold") else "auto"

            def model(seed: int) -> Ranker:
                # The seed reaches the model's own random state where its settings have one,
                # so that seeds mean the same for the matcher as for the baselines.
                return Matcher(MatcherSettings(random_state=seed, training=training))

            def logistic(seed: int) -> Ranker:
                settings = MatcherSettings(model="logistic", random_state=seed, training=training)
                return Matcher(settings)

            methods["logistic"] = logistic
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
    per_buyer : DataFrame or None
        One row per (method, seed, judged buyer): ``training_links`` (the buyer's distinct
        suppliers in training) and ``ndcg_at_k``; the source of :meth:`ndcg_by_degree`.
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
    per_buyer: pd.DataFrame | None = None

    def ndcg_by_degree(self, edges: Sequence[int] = DEGREE_EDGES) -> pd.DataFrame:
        """NDCG@k per method by the judged buyer's number of training links.

        ``edges`` are the lower ends of the bands (default 0, 1-2, 3-9, 10+). Each cell is
        the mean over the band's buyers within a seed, then over seeds; ``buyers`` rows give
        the mean number of judged buyers per band. Empty bands read NaN.
        """
        labels = _degree_labels(edges)
        if self.per_buyer is None or self.per_buyer.empty:
            return pd.DataFrame(columns=labels, dtype=float)
        frame = self.per_buyer.assign(
            band=pd.cut(
                self.per_buyer["training_links"],
                bins=[*edges, np.inf],
                right=False,
                labels=labels,
            )
        )
        by_seed = frame.groupby(["method", "seed", "band"], sort=False, observed=False)
        means = by_seed["ndcg_at_k"].mean().groupby(["method", "band"], observed=False).mean()
        table = means.unstack("band").reindex(columns=labels)
        table = table.reindex([m for m in self.metrics.index if m in table.index])
        first = frame[frame["method"] == frame["method"].iloc[0]]
        counts = first.groupby(["seed", "band"], observed=False).size()
        table.loc["buyers"] = counts.groupby("band", observed=False).mean().reindex(labels)
        table.columns.name = f"NDCG@{self.k} by training links"
        return table

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
            "ndcg_by_degree": {
                str(name): {str(k): clean(v) for k, v in row.items()}
                for name, row in self.ndcg_by_degree().to_dict("index").items()
            },
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
        by_degree = self.ndcg_by_degree()
        if not by_degree.empty:
            lines += [
                "",
                f"NDCG@{k} by the judged buyer's training links (buyers: mean per seed):",
                "",
                *_table(
                    ["method", *(f"{c} links" for c in by_degree.columns)],
                    [
                        [
                            str(name),
                            *(
                                f"{v:g}" if name == "buyers" else _fmt(v, digits)
                                for v in row.tolist()
                            ),
                        ]
                        for name, row in by_degree.iterrows()
                    ],
                ),
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


def _degree_labels(edges: Sequence[int]) -> list[str]:
    """Band names such as ``0``, ``1-2``, ``3-9``, ``10+`` for lower ends 0, 1, 3, 10."""
    labels = []
    for lo, hi in zip(edges, [*edges[1:], None], strict=True):
        if hi is None:
            labels.append(f"{lo}+")
        elif hi - 1 == lo:
            labels.append(str(lo))
        else:
            labels.append(f"{lo}-{hi - 1}")
    return labels


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
    holdout : {"temporal", "random", "cold"}
        :func:`split_temporal` (one split; seeds vary only the methods' random state),
        :func:`split_random` or :func:`split_cold` (a new split per seed).
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
    if holdout not in HOLDOUTS:
        raise ValueError(f"holdout must be one of {HOLDOUTS}, got {holdout!r}")
    if seeds < 1:
        raise ValueError(f"seeds must be at least 1, got {seeds}")
    if k < 1:
        raise ValueError(f"k must be at least 1, got {k}")
    methods = dict(default_methods(holdout=holdout) if methods is None else methods)
    if not methods:
        raise ValueError("no methods to evaluate")

    rows = []
    buyer_rows: list[pd.DataFrame] = []
    cal_scores: list[np.ndarray] = []
    cal_labels: list[np.ndarray] = []
    split = split_temporal(dataset) if holdout == "temporal" else None
    for seed in range(seeds):
        if split is not None:
            train, heldout = split
        elif holdout == "cold":
            train, heldout = split_cold(dataset, seed)
        else:
            train, heldout = split_random(dataset, seed)
        degree = pairs_of(train.links)["buyer_id"].value_counts()
        for name, factory in methods.items():
            t0 = time.perf_counter()
            ranker = factory(seed).fit(train)
            fit_seconds = time.perf_counter() - t0
            calibrate = name == reliability_method
            row, tally = judge_rankings(
                ranker,
                train,
                heldout,
                k=k,
                seed=seed,
                batch_size=batch_size,
                calibrate=calibrate,
            )
            rows.append({"method": name, "seed": seed, **row, "fit_seconds": fit_seconds})
            buyer_rows.append(
                pd.DataFrame(
                    {
                        "method": name,
                        "seed": seed,
                        "buyer_id": tally.buyer_ids,
                        "training_links": degree.reindex(tally.buyer_ids, fill_value=0)
                        .to_numpy()
                        .astype(int),
                        "ndcg_at_k": tally.ndcg,
                    }
                )
            )
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
        per_buyer=pd.concat(buyer_rows, ignore_index=True) if buyer_rows else None,
    )
