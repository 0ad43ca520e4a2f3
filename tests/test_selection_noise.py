"""Inner validation judged as the evaluation judges, and EASE kept where noise cannot separate."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ketnoi import graph
from ketnoi.matcher import MatcherSettings
from ketnoi.matcher._features import BatchSignals, candidate_pairs
from ketnoi.matcher._index import build_snapshot, firm_index
from ketnoi.matcher._selection import _within_noise_of, ranking_rows
from ketnoi.matcher._training import buyer_folds, first_links

HANOI = Path(__file__).resolve().parents[1] / "fixtures" / "hanoi"


def test_held_back_candidates_leave_out_ended_links() -> None:
    """A former supplier can never be a held-back link, so it is not ranked in validation."""
    dataset = graph.load_dataset(HANOI)
    index = firm_index(dataset)
    pairs = first_links(index, dataset.links)
    rng = np.random.default_rng(0)
    held = pairs.iloc[np.flatnonzero(buyer_folds(pairs["buyer"].to_numpy(), 10, rng) == 0)]
    n_sup = index.n_suppliers
    keys = np.sort(held["buyer"].to_numpy() * n_sup + held["supplier"].to_numpy())
    link_keys = index.buyer_ids.get_indexer(dataset.links["buyer_id"]).astype(
        np.int64
    ) * n_sup + index.supplier_ids.get_indexer(dataset.links["supplier_id"])
    snap = build_snapshot(index, dataset.links, drop=np.isin(link_keys, keys))
    buyers = np.unique(held["buyer"].to_numpy())
    # The candidate step keeps ended links (served lists may show a former supplier) ...
    cb, cs, _ = candidate_pairs(
        index, snap, BatchSignals.compute(index, snap, buyers), max_candidates=200
    )
    assert (np.asarray(snap.links[cb, cs]).ravel() > 0).any()
    # ... but the held-back fold is judged among the suppliers a buyer was never linked to.
    settings = MatcherSettings(max_selection_buyers=len(buyers))
    rows = ranking_rows(index, snap, held, settings, rng, 0)
    assert rows is not None and len(rows.labels) and rows.labels.sum() > 0
    assert (np.asarray(snap.links[rows.buyers, rows.suppliers]).ravel() == 0).all()


def test_buyer_folds_spread_each_buyer_evenly() -> None:
    buyers = np.repeat(np.arange(30), np.arange(1, 31))
    folds = buyer_folds(buyers, 10, np.random.default_rng(3))
    for buyer in range(30):
        counts = np.bincount(folds[buyers == buyer], minlength=10)
        assert counts.max() - counts.min() <= 1


def _rows(means: list[float]) -> list[dict[str, Any]]:
    return [
        {"ranker": name, "inner_ndcg@10": m} for name, m in zip(["a", "ease"], means, strict=True)
    ]


def test_ease_is_kept_where_the_gain_is_within_one_standard_error() -> None:
    rng = np.random.default_rng(0)
    ease = pd.Series(rng.uniform(0, 1, 200))
    z = rng.normal(size=200)
    noisy = ease + 0.01 + 0.2 * (z - z.mean()) / z.std(ddof=1)  # +0.01, standard error 0.014
    table = _rows([float(noisy.mean()), float(ease.mean())])
    assert table[0]["inner_ndcg@10"] > table[1]["inner_ndcg@10"]
    assert _within_noise_of(0, 1, table, [noisy, ease]) == 1
    assert 0.01 < table[0]["se_vs_ease"] < 0.02


def test_a_clear_gain_over_ease_wins() -> None:
    rng = np.random.default_rng(0)
    ease = pd.Series(rng.uniform(0, 1, 200))
    better = ease + rng.normal(0.05, 0.05, 200)
    table = _rows([float(better.mean()), float(ease.mean())])
    assert _within_noise_of(0, 1, table, [better, ease]) == 0
