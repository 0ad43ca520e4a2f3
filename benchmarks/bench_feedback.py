"""The feedback loop on the demo world: do outcomes as labels improve the ranking, and what
came of the pairs ketnoi would have recommended?

1. :func:`matcher.evaluate` on the temporal hold-out of ``fixtures/hanoi`` (outcomes after the
   first hidden year are dropped from training, so nothing leaks), the matcher fitted with its
   outcomes (``model``) against the same matcher fitted as if none had been recorded
   (``model_without_outcomes``), per seed.
2. :func:`programme.backtest_rankings` and :func:`programme.conversion_report`: the matcher refitted
   on the data before each year's events, and how many of the met, negotiated and contracted
   pairs it had ranked in its top 10.

Both on ``fixtures/hanoi`` and on a synthetic world with simulated matchmaking outcomes
(``fixtures/make_synthetic.py``, ``outcomes=True``: 2,000 suppliers, 300 buyers, 10,000 links),
a generator unlike the demo world's.

Usage::

    python benchmarks/bench_feedback.py [--seeds 3] [--k 10] [--only hanoi,synthetic]
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.util
import os
import platform
import time
from pathlib import Path

from ketnoi import graph, matcher, programme

ROOT = Path(__file__).resolve().parents[1]


def synthetic_world() -> graph.Dataset:
    # fixtures/ is a folder of data and scripts, not a package: load the generator by path.
    path = ROOT / "fixtures" / "make_synthetic.py"
    spec = importlib.util.spec_from_file_location("ketnoi_make_synthetic", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    world = module.make_world(2000, 300, 10_000, seed=0, profiles=True, outcomes=True)
    return graph.Dataset.from_frames(source="make_world", **world)


def compare(name: str, dataset: graph.Dataset, seeds: int, k: int) -> None:
    """The matcher with and without outcomes (and ALS) on the temporal hold-out."""
    print(f"\n## {name}: {len(dataset.links):,} links, {len(dataset.outcomes):,} outcomes")
    methods = matcher.evaluation_methods(holdout="temporal", outcomes=True)
    chosen = {m: methods[m] for m in ("model", "model_without_outcomes", "als")}
    result = matcher.evaluate(dataset, holdout="temporal", k=k, seeds=seeds, methods=chosen)
    print(result.metrics.round(4).to_string())
    per_seed = result.per_seed.reset_index().pivot(
        index="seed", columns="method", values="ndcg_at_k"
    )
    print("\nNDCG per seed:\n" + per_seed.round(4).to_string())
    gain = per_seed["model"] / per_seed["model_without_outcomes"]
    print(f"model / model_without_outcomes NDCG per seed: {gain.round(3).tolist()}")


def conversion(dataset: graph.Dataset, k: int) -> None:
    start = time.perf_counter()
    rankings = programme.backtest_rankings(dataset, k=50)
    backtest_seconds = time.perf_counter() - start
    report = programme.conversion_report(dataset.outcomes, rankings, k=k)
    print(f"\nbacktest: {backtest_seconds:.1f} s for {rankings['cutoff'].nunique()} fits")
    print(report.round(3).to_string(index=False))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument("--only", default="hanoi,synthetic")
    args = parser.parse_args()
    worlds = set(args.only.split(","))
    print(
        f"# {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC, {platform.platform()}, "
        f"{os.cpu_count()} CPUs, python {platform.python_version()}"
    )
    if "hanoi" in worlds:
        hanoi = graph.load_dataset(ROOT / "fixtures" / "hanoi")
        compare("fixtures/hanoi", hanoi, args.seeds, args.k)
        conversion(hanoi, args.k)
    if "synthetic" in worlds:
        compare("synthetic world with simulated outcomes", synthetic_world(), args.seeds, args.k)


if __name__ == "__main__":
    main()
