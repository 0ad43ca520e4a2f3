"""The feedback loop on the demo world: do outcomes as labels improve the ranking, and what
came of the pairs ketnoi would have recommended?

1. :func:`matcher.evaluate` on the temporal hold-out of ``fixtures/hanoi`` (outcomes after the
   first hidden year are dropped from training, so nothing leaks), the matcher fitted with its
   outcomes (``model``) against the same matcher fitted as if none had been recorded
   (``model_without_outcomes``), per seed.
2. :func:`matcher.backtest_rankings` and :func:`matcher.conversion_report`: the matcher refitted
   on the data before each year's events, and how many of the met, negotiated and contracted
   pairs it had ranked in its top 10.

Usage::

    python benchmarks/bench_feedback.py [--seeds 3] [--k 10]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import graph  # noqa: E402
import matcher  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument("--data", type=Path, default=ROOT / "fixtures" / "hanoi")
    args = parser.parse_args()
    print(
        f"# {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC, {platform.platform()}, "
        f"{os.cpu_count()} CPUs, python {platform.python_version()}"
    )
    dataset = graph.load_dataset(args.data)
    methods = matcher.evaluation_methods(holdout="temporal", outcomes=True)
    chosen = {name: methods[name] for name in ("model", "model_without_outcomes", "als")}
    result = matcher.evaluate(
        dataset, holdout="temporal", k=args.k, seeds=args.seeds, methods=chosen
    )
    print(result.metrics.round(4).to_string())
    per_seed = result.per_seed.reset_index().pivot(
        index="seed", columns="method", values="ndcg_at_k"
    )
    print("\nNDCG per seed:\n" + per_seed.round(4).to_string())
    gain = per_seed["model"] / per_seed["model_without_outcomes"]
    print(f"model / model_without_outcomes NDCG per seed: {gain.round(3).tolist()}")

    start = time.perf_counter()
    rankings = matcher.backtest_rankings(dataset, k=50)
    backtest_seconds = time.perf_counter() - start
    report = matcher.conversion_report(dataset.outcomes, rankings, k=args.k)
    print(f"\nbacktest: {backtest_seconds:.1f} s for {rankings['cutoff'].nunique()} fits")
    print(report.round(3).to_string(index=False))


if __name__ == "__main__":
    main()
