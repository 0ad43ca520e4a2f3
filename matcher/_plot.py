"""Match quality in pictures: evaluation bars, recall curves, calibration, what the scorer weighs.

Two computations the pictures need and :func:`evaluate` does not give live here too:
:func:`recall_curve` (recall at every cut-off from 1 to 50, judged exactly as :func:`evaluate`
judges, so its value at ``k`` is :func:`evaluate`'s ``recall_at_k``) and
:func:`feature_importance` (the mean size of each feature's contribution, as :meth:`Matcher.explain`
measures it, over the pairs the matcher actually recommends). :func:`explanation_text` reads an
explanation out in plain lines.

As in :mod:`graph._plot`, every ``plot_*`` function returns a matplotlib ``Figure`` that pyplot
no longer tracks (a notebook shows it once) and imports matplotlib (the optional ``notebooks``
extra) only when it draws.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ketnoi import graph
from ketnoi.graph._figures import new_figure  # one figure policy for every plot
from ketnoi.matcher._evaluate import (
    EvaluationResult,
    Factory,
    default_methods,
    split_random,
    split_temporal,
)
from ketnoi.matcher._feature_names import feature_name
from ketnoi.matcher._features import FEATURES
from ketnoi.matcher._judge import judge_rankings, judged_relevant
from ketnoi.matcher._metrics import recall_at_k
from ketnoi.matcher._model import Matcher

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = [
    "explanation_text",
    "feature_importance",
    "plot_evaluation",
    "plot_explanation",
    "plot_feature_importance",
    "plot_recall_curve",
    "plot_reliability",
    "recall_curve",
]


#: How the metric columns of an evaluation read on a chart (``{k}`` is the cut-off).
_METRIC_LABELS = {
    "recall_at_k": "recall@{k}",
    "ndcg_at_k": "NDCG@{k}",
    "mrr": "MRR",
    "auc": "AUC",
    "coverage": "coverage",
    "candidate_recall": "candidate recall",
}


# -- computations -------------------------------------------------------------------------------
def recall_curve(
    dataset: graph.Dataset,
    holdout: str = "temporal",
    ks: Iterable[int] = range(1, 51),
    methods: Mapping[str, Factory] | None = None,
    *,
    seed: int = 0,
    batch_size: int = 256,
) -> pd.DataFrame:
    """Recall at every cut-off ``k``, for each method, under :func:`evaluate`'s protocol.

    One fit and one ranking per method give the whole curve: each judged buyer's top
    ``max(ks)`` is ranked once (same universe, same seeded tie-break as :func:`evaluate`) and
    recall is read off at each ``k``. The value at ``k`` equals ``evaluate(dataset, holdout,
    k=k, seeds=1, methods=methods).metrics["recall_at_k"]`` for seed 0 (later seeds: the same
    seed there).

    Parameters
    ----------
    dataset : Dataset
    holdout : {"temporal", "random"}
        As for :func:`evaluate` (``random`` hides links with :func:`split_random` and ``seed``).
    ks : iterable of int
        Cut-offs, each at least 1.
    methods : mapping of name to factory, optional
        Default :func:`evaluation_methods` for the hold-out.
    seed : int
        The methods' random state and the tie-break, as seed ``seed`` of :func:`evaluate`.
    batch_size : int
        Buyers scored at a time.

    Returns
    -------
    DataFrame
        Index ``k`` (ascending), one column per method: mean recall over judged buyers.

    Examples
    --------
    >>> from pathlib import Path
    >>> from ketnoi import graph
    >>> from ketnoi.matcher import evaluation_methods
    >>> hanoi = graph.load_dataset(Path(__file__).resolve().parents[1] / "fixtures" / "hanoi")
    >>> methods = {"popular": evaluation_methods()["popular"]}
    >>> curve = recall_curve(hanoi, ks=[1, 10, 50], methods=methods)
    >>> bool(curve["popular"].is_monotonic_increasing)
    True
    """
    ks = sorted({int(k) for k in ks})
    if not ks or ks[0] < 1:
        raise ValueError("ks must hold cut-offs of at least 1")
    if holdout not in ("temporal", "random"):
        raise ValueError(f"holdout must be 'temporal' or 'random', got {holdout!r}")
    methods = dict(default_methods(holdout=holdout) if methods is None else methods)
    train, heldout = (
        split_temporal(dataset) if holdout == "temporal" else split_random(dataset, seed)
    )
    relevant = judged_relevant(train, heldout)
    columns = {}
    for name, factory in methods.items():
        ranker = factory(seed).fit(train)
        _, tally = judge_rankings(
            ranker,
            train,
            heldout,
            k=ks[-1],
            seed=seed,
            batch_size=batch_size,
            calibrate=False,
        )
        # The tally keeps each judged buyer's top list in the order of np.unique of the buyers,
        # the order judged_relevant uses; recall_at_k is the function evaluate applies.
        tops = tally.tops
        columns[name] = [
            float(np.mean([recall_at_k(t, r, k) for t, r in zip(tops, relevant, strict=True)]))
            if relevant
            else np.nan
            for k in ks
        ]
    return pd.DataFrame(columns, index=pd.Index(ks, name="k"))


def feature_importance(
    matcher: Matcher,
    buyer_ids: Sequence[str] | None = None,
    *,
    k: int = 10,
    max_buyers: int = 100,
    seed: int = 0,
) -> pd.DataFrame:
    """How much each feature moves the scores of the pairs the matcher recommends.

    For each of the top-``k`` recommendations of the buyers, every feature's contribution to
    the log-odds is taken as :meth:`Matcher.explain` takes it (the change when that feature
    alone is set back to its reference, the median of training negatives; weight x value
    for the rule-based prior). The mean absolute contribution ranks the features: what the
    reasons a trade-promotion officer reads out mostly rest on.

    Parameters
    ----------
    matcher : Matcher
        Fitted.
    buyer_ids : sequence of str, optional
        Default: a seeded sample of ``max_buyers`` of the buyers a match list covers
        (buyers with demands or suppliers).
    k : int
        Recommendations per buyer.
    max_buyers : int
        Size of the default sample.
    seed : int
        Seed of the sample.

    Returns
    -------
    DataFrame
        Index ``feature`` (every feature of :data:`FEATURES`), most important first:
        ``mean_abs_contribution``, ``mean_contribution`` (its sign says which way the feature
        mostly pushes), ``name`` (in plain words, :func:`feature_name`) and ``description``
        (how it is computed). ``attrs["pairs"]`` holds the number of pairs.

    Examples
    --------
    >>> from pathlib import Path
    >>> from ketnoi import graph
    >>> from ketnoi.matcher import Matcher
    >>> tiny = graph.load_dataset(Path(__file__).resolve().parents[1] / "fixtures" / "tiny")
    >>> table = feature_importance(Matcher().fit(tiny), k=3)
    >>> table.columns.tolist()
    ['mean_abs_contribution', 'mean_contribution', 'name', 'description']
    """
    if k < 1:
        raise ValueError(f"k must be at least 1, got {k}")
    path = matcher.ranking_
    if buyer_ids is None:
        pool = path.active_buyers()
        if len(pool) > max_buyers:
            rng = np.random.default_rng(seed)
            pool = np.sort(rng.choice(pool, size=max_buyers, replace=False))
        buyers = pool.astype(np.int64)
    else:
        buyers = np.unique(path.buyer_positions(buyer_ids))
    ranked = path.ranked(buyers)
    top = ranked[ranked["rank"] <= k].reset_index(drop=True)
    names = list(matcher.feature_names_)
    contrib = matcher.contributions(top[names]) if len(top) else pd.DataFrame(columns=names)
    table = pd.DataFrame(
        {
            "mean_abs_contribution": contrib.abs().mean().reindex(names).fillna(0.0),
            "mean_contribution": contrib.mean().reindex(names).fillna(0.0),
            "name": [feature_name(n) for n in names],
            "description": [FEATURES.get(n, "") for n in names],
        },
        index=pd.Index(names, name="feature"),
    )
    table = table.sort_values("mean_abs_contribution", ascending=False, kind="stable")
    table.attrs["pairs"] = len(top)
    return table


def explanation_text(explanation: Mapping[str, Any], *, top: int = 5) -> str:
    """An explanation from :meth:`Matcher.explain` as plain lines an officer can read out.

    Parameters
    ----------
    explanation : mapping
        What :meth:`Matcher.explain` returns.
    top : int
        Contributions listed (largest in size first).

    Returns
    -------
    str
        The pair and its score, the reasons, the largest contributions (feature, value,
        meaning) and what blocks the pair.

    Examples
    --------
    >>> text = explanation_text({"supplier_id": "s1", "buyer_id": "b1", "score": 0.25,
    ...     "mode": "learned", "category_id": "pcb", "reasons": ["makes pcb"],
    ...     "blockers": [], "contributions": [
    ...         {"feature": "fit_level", "value": 2.0, "contribution": 1.2}]})
    >>> print(text)
    s1 for b1 (category pcb): score 0.250, learned model
    Reasons:
      - makes pcb
    What weighs most (change in log-odds):
      +1.20  makes what the buyer needs (2), or a related category (1): 2  [fit_level]
    Blocks: none
    """
    category = explanation.get("category_id") or ""
    lines = [
        f"{explanation['supplier_id']} for {explanation['buyer_id']}"
        + (f" (category {category})" if category else "")
        + f": score {float(explanation['score']):.3f}, {explanation.get('mode', '')} model"
    ]
    reasons = list(explanation.get("reasons") or [])
    lines.append("Reasons:" if reasons else "Reasons: none recorded")
    lines += [f"  - {r}" for r in reasons]
    contributions = list(explanation.get("contributions") or [])[:top]
    if contributions:
        lines.append("What weighs most (change in log-odds):")
        for c in contributions:
            value = c.get("value")
            shown = "missing" if value is None else f"{float(value):.3g}"
            # The plain name for the reader, the id for the analyst who looks it up.
            lines.append(
                f"  {float(c['contribution']):+.2f}  {feature_name(c['feature'])}: {shown}"
                f"  [{c['feature']}]"
            )
    blockers = list(explanation.get("blockers") or [])
    lines.append("Blocks: " + ("; ".join(blockers) if blockers else "none"))
    return "\n".join(lines)


# -- pictures -----------------------------------------------------------------------------------
def plot_evaluation(
    result: EvaluationResult,
    metrics: Sequence[str] = ("recall_at_k", "ndcg_at_k"),
    *,
    ax: Axes | None = None,
) -> Figure:
    """Grouped bars: one group per method, one bar per metric, values written on the bars.

    Parameters
    ----------
    result : EvaluationResult
        From :func:`evaluate`.
    metrics : sequence of str
        Columns of ``result.metrics`` (see :data:`METRICS`).
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib.figure.Figure
        One bar container per metric, one bar per method, in ``result``'s method order.

    Examples
    --------
    >>> import pandas as pd
    >>> from ketnoi.matcher import EvaluationResult
    >>> table = pd.DataFrame({"recall_at_k": [0.1, 0.3], "ndcg_at_k": [0.1, 0.4]},
    ...                      index=pd.Index(["popular", "model"], name="method"))
    >>> result = EvaluationResult("temporal", 10, 1, table, table, 5.0, 9.0, None, "model")
    >>> len(plot_evaluation(result).axes[0].containers)
    2
    """
    unknown = [m for m in metrics if m not in result.metrics.columns]
    if unknown:
        raise KeyError(f"no such metric(s) in the result: {', '.join(unknown)}")
    table = result.metrics
    fig, ax = new_figure(ax, (1.6 + 1.2 * len(table), 4.5))
    x = np.arange(len(table))
    width = 0.8 / max(len(metrics), 1)
    for i, metric in enumerate(metrics):
        label = _METRIC_LABELS.get(metric, metric).format(k=result.k)
        bars = ax.bar(
            x + (i - (len(metrics) - 1) / 2) * width,
            table[metric].to_numpy(dtype=float),
            width,
            label=label,
        )
        ax.bar_label(bars, fmt="%.2f", fontsize=7, padding=2)
    ax.set_xticks(x, [str(m) for m in table.index])
    ax.set_ylabel("mean over judged buyers")
    ax.set_ylim(
        0, min(1.0, float(np.nanmax(table[list(metrics)].to_numpy(dtype=float))) * 1.2 + 0.02)
    )
    ax.set_title(
        f"{result.holdout} hold-out: {result.judged_buyers:g} buyers, "
        f"{result.heldout_pairs:g} hidden links"
    )
    ax.legend(fontsize="small")
    return fig


def plot_recall_curve(curve: pd.DataFrame, *, ax: Axes | None = None) -> Figure:
    """Recall against the cut-off ``k``, one line per method (from :func:`recall_curve`).

    Returns
    -------
    matplotlib.figure.Figure
        One line per column of ``curve``, with as many points as cut-offs.

    Examples
    --------
    >>> import pandas as pd
    >>> curve = pd.DataFrame({"a": [0.1, 0.2, 0.4]}, index=pd.Index([1, 2, 3], name="k"))
    >>> plot_recall_curve(curve).axes[0].get_lines()[0].get_ydata().tolist()
    [0.1, 0.2, 0.4]
    """
    fig, ax = new_figure(ax, (6.5, 4.5))
    ks = curve.index.to_numpy()
    for method in curve.columns:
        ax.plot(ks, curve[method].to_numpy(dtype=float), label=str(method), linewidth=1.6)
    ax.set_xlabel("k (suggestions shown per buyer)")
    ax.set_ylabel("recall@k")
    ax.set_xlim(float(ks.min()) if len(ks) else 0.0, float(ks.max()) if len(ks) else 1.0)
    ax.set_ylim(0, 1)
    ax.grid(alpha=0.3)
    ax.set_title("Share of hidden links found in the first k suggestions")
    ax.legend(fontsize="small")
    return fig


def plot_reliability(
    reliability: EvaluationResult | pd.DataFrame, *, ax: Axes | None = None
) -> Figure:
    """Calibration: observed rate of real links against the predicted score, per score bin.

    Parameters
    ----------
    reliability : EvaluationResult or DataFrame
        An evaluation (its ``reliability`` curve) or a :func:`reliability_curve` frame.
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib.figure.Figure
        First line the diagonal (perfect calibration), second the non-empty bins as points
        (x mean score, y observed rate), each annotated with its number of pairs.

    Raises
    ------
    ValueError
        If the evaluation has no reliability curve (its ``reliability_method`` was not run).

    Examples
    --------
    >>> from ketnoi.matcher import reliability_curve
    >>> curve = reliability_curve([0.1, 0.15, 0.9], [False, True, True], bins=2)
    >>> line = plot_reliability(curve).axes[0].get_lines()[1]
    >>> line.get_ydata().tolist()
    [0.5, 1.0]
    """
    if isinstance(reliability, EvaluationResult):
        title = f"Calibration of {reliability.reliability_method} on its candidates"
        if reliability.reliability is None:
            raise ValueError(f"the evaluation has no reliability curve: {title.lower()}")
        frame = reliability.reliability
    else:
        title, frame = "Calibration", reliability
    fig, ax = new_figure(ax, (5.5, 5.0))
    seen = frame[frame["count"] > 0]
    ax.plot([0, 1], [0, 1], linestyle="--", color="#888888", label="perfectly calibrated")
    ax.plot(
        seen["mean_score"].to_numpy(dtype=float),
        seen["observed_rate"].to_numpy(dtype=float),
        marker="o",
        label="observed",
    )
    for x, y, n in zip(seen["mean_score"], seen["observed_rate"], seen["count"], strict=True):
        ax.annotate(f"{int(n):,}", (x, y), xytext=(4, -10), textcoords="offset points", fontsize=7)
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_aspect("equal")
    ax.set_xlabel("predicted score (mean in bin)")
    ax.set_ylabel("share that became links")
    ax.set_title(title)
    ax.legend(fontsize="small", loc="upper left")
    return fig


def plot_feature_importance(
    importance: pd.DataFrame, *, top: int = 12, ax: Axes | None = None
) -> Figure:
    """Horizontal bars of :func:`feature_importance`, the largest at the top.

    Bars are blue where the feature mostly raises scores, red where it mostly lowers them.

    Returns
    -------
    matplotlib.figure.Figure
        One bar per feature shown (at most ``top``).

    Examples
    --------
    >>> import pandas as pd
    >>> table = pd.DataFrame({"mean_abs_contribution": [0.9, 0.2],
    ...                       "mean_contribution": [0.5, -0.1]}, index=["a", "b"])
    >>> len(plot_feature_importance(table).axes[0].patches)
    2
    """
    table = importance.head(top)
    fig, ax = new_figure(ax, (7.0, 0.9 + 0.3 * max(len(table), 1)))
    y = np.arange(len(table))
    colours = ["#4c72b0" if v >= 0 else "#c44e52" for v in table["mean_contribution"]]
    ax.barh(y, table["mean_abs_contribution"].to_numpy(dtype=float), color=colours)
    ax.set_yticks(y, [feature_name(str(f)) for f in table.index], fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel("mean |contribution| to the log-odds")
    pairs = importance.attrs.get("pairs")
    ax.set_title("What the scorer weighs" + (f" ({pairs} recommended pairs)" if pairs else ""))
    return fig


def plot_explanation(
    explanation: Mapping[str, Any], *, top: int = 8, ax: Axes | None = None
) -> Figure:
    """One pair's largest feature contributions (from :meth:`Matcher.explain`) as bars.

    Returns
    -------
    matplotlib.figure.Figure
        One bar per contribution shown: blue raises the score, red lowers it.

    Examples
    --------
    >>> fig = plot_explanation({"supplier_id": "s1", "buyer_id": "b1", "score": 0.2,
    ...     "contributions": [{"feature": "fit_level", "value": 2, "contribution": 1.1},
    ...                       {"feature": "distance_km", "value": 40, "contribution": -0.3}]})
    >>> [round(float(p.get_width()), 1) for p in fig.axes[0].patches]
    [1.1, -0.3]
    """
    rows = list(explanation.get("contributions") or [])[:top]
    fig, ax = new_figure(ax, (7.0, 0.9 + 0.35 * max(len(rows), 1)))
    values = np.array([float(r["contribution"]) for r in rows], dtype=float)
    labels = []
    for r in rows:
        value = r.get("value")
        shown = "missing" if value is None else f"{float(value):.3g}"
        labels.append(f"{feature_name(r['feature'])}: {shown}")
    y = np.arange(len(rows))
    ax.barh(y, values, color=["#4c72b0" if v >= 0 else "#c44e52" for v in values])
    ax.axvline(0, color="#444444", linewidth=0.8)
    ax.set_yticks(y, labels, fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel("contribution to the log-odds")
    ax.set_title(
        f"{explanation['supplier_id']} for {explanation['buyer_id']}: "
        f"score {float(explanation['score']):.3f}"
    )
    return fig
