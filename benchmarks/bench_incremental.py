"""Incremental rescoring against a full rescoring, on the world of ``bench_scale.py``.

One fitted matcher (saved to ``--model`` and reused, as ``bench_dask.py`` does), its global
matrices frozen (:class:`ketnoi.matcher._frozen.FrozenGlobals`), every active buyer's list ranked
once with them (the full rescoring, the baseline), then ``--changes`` single-link changes drawn
at random (half new links between a random supplier and a random active buyer, half removed
links), each applied to the data as it was before it and rescored with
:func:`ketnoi.matcher._incremental.rescore`. Reported per change: the buyers rescored (and per
rule, why), the time (binding the changed data with the frozen matrices, finding the affected
buyers, ranking them, splicing the lists) and its ratio to the full rescoring; the full
rescoring of the last changed data is run again at the end, timed, and checked to equal the
incremental lists row for row. Load average and peak RSS are printed beside the figures.

Usage::

    python benchmarks/bench_incremental.py [--suppliers 100000 --buyers 10000 --links 1000000]
        [--changes 10] [--model FILE] [--json-out FILE] [--quick]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ketnoi import graph
from ketnoi.matcher._incremental import full_rankings, rescore

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_dask  # noqa: E402  (scripts beside this one, not a package)
import bench_scale  # noqa: E402


def one_link_change(
    dataset: graph.Dataset, active: np.ndarray, rng: np.random.Generator, add: bool
) -> tuple[graph.Dataset, str]:
    """``dataset`` with one new link (a random supplier to a random active buyer) or one less."""
    links = dataset.links
    if add:
        linked = set(zip(links["supplier_id"], links["buyer_id"], strict=True))
        suppliers = dataset.supplier_ids.to_numpy()
        while True:
            s = str(suppliers[rng.integers(len(suppliers))])
            b = str(active[rng.integers(len(active))])
            if (s, b) not in linked:
                break
        row = links.iloc[[0]].copy()
        row["supplier_id"], row["buyer_id"] = s, b
        changed = pd.concat([links, row], ignore_index=True)
        what = f"new link {s} -> {b}"
    else:
        at = int(rng.integers(len(links)))
        what = f"removed link {links['supplier_id'].iloc[at]} -> {links['buyer_id'].iloc[at]}"
        changed = links.drop(index=links.index[at])
    return dataclasses.replace(dataset, links=changed), what


def run(args: argparse.Namespace) -> dict[str, Any]:
    results: dict[str, Any] = {"machine": bench_scale.machine(), "loadavg": os.getloadavg()}
    m = bench_dask.fitted_matcher(args, results)
    dataset = m.dataset_
    start = bench_dask.timed("full rescoring", lambda: full_rankings(m, k=10), results)
    n_ranked = int(start.ranked.sum())
    results["buyers_ranked"] = n_ranked
    active = start.index.buyer_ids.to_numpy()[start.ranked]
    rng = np.random.default_rng(args.seed)
    changes = []
    state = start
    for i in range(args.changes):
        after, what = one_link_change(dataset, active, rng, add=i % 2 == 0)
        load = os.getloadavg()[0]
        t0 = time.perf_counter()
        state = rescore(start, after)
        seconds = time.perf_counter() - t0
        row = {
            "change": what,
            "rescored": len(state.rescored),
            "share": len(state.rescored) / n_ranked,
            "seconds": seconds,
            "why": state.why,
            "loadavg_1min": [round(load, 2), round(os.getloadavg()[0], 2)],
        }
        changes.append(row)
        if args.json_out:  # as it goes: a run cut short still leaves its figures
            Path(args.json_out).write_text(json.dumps(results | {"changes": changes}, default=str))
        print(
            f"{what}: {row['rescored']} buyers ({100 * row['share']:.2f}%), {seconds:.2f} s, "
            f"load {row['loadavg_1min']}; why {state.why}",
            flush=True,
        )
    results["changes"] = changes
    if not args.check:
        return results
    full = bench_dask.timed(
        "full rescoring of the last changed data",
        lambda: full_rankings(m, after, frozen=start.frozen, k=10),
        results,
    )
    pd.testing.assert_frame_equal(
        state.lists.reset_index(drop=True), full.lists.reset_index(drop=True), check_dtype=False
    )
    results["equal_to_full"] = True
    results["peak_rss"] = bench_dask.peak_rss_bytes()
    return results


def report(results: dict[str, Any]) -> None:
    changes = results["changes"]
    full = [results["full rescoring"]["seconds"]]
    if "full rescoring of the last changed data" in results:
        full.append(results["full rescoring of the last changed data"]["seconds"])
    baseline = statistics.mean(full)
    print(f"\n{results['machine']['date']}, {results['machine']['cpu_count']} CPUs")
    timings = " and ".join(f"{f:.1f} s" for f in full)
    print(f"buyers ranked: {results['buyers_ranked']}; full rescoring: {timings}")
    print("\n| change | buyers rescored | share | time | x full | load avg |")
    print("|---|---:|---:|---:|---:|---|")
    for row in changes:
        print(
            f"| {row['change']} | {row['rescored']} | {100 * row['share']:.2f}% | "
            f"{row['seconds']:.2f} s | {row['seconds'] / baseline:.3f} | "
            f"{row['loadavg_1min'][0]}, {row['loadavg_1min'][1]} |"
        )
    shares = [row["share"] for row in changes]
    seconds = [row["seconds"] for row in changes]
    print(
        f"\nmedian share {100 * statistics.median(shares):.2f}%, max {100 * max(shares):.2f}%; "
        f"under 1%: {sum(s < 0.01 for s in shares)} of {len(shares)}; median time "
        f"{statistics.median(seconds):.2f} s ({statistics.median(seconds) / baseline:.3f}x full)"
    )
    print(
        f"equal to the full rescoring: {results['equal_to_full']}; peak RSS "
        f"{results['peak_rss'] / 2**30:.2f} GB"
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--suppliers", type=int, default=100_000)
    parser.add_argument("--buyers", type=int, default=10_000)
    parser.add_argument("--links", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--changes", type=int, default=10)
    parser.add_argument("--model", default=None, help="fitted model file to reuse or write")
    parser.add_argument("--json-out", default=None)
    parser.add_argument(
        "--no-check",
        dest="check",
        action="store_false",
        help="skip the second full rescoring (the equality check) at the end",
    )
    parser.add_argument("--quick", action="store_true", help="3,000 x 400 x 20,000, 4 changes")
    args = parser.parse_args(argv)
    if args.quick:
        args.suppliers, args.buyers, args.links, args.changes = 3_000, 400, 20_000, 4
    if args.model is None:
        size = f"{args.suppliers}x{args.buyers}x{args.links}s{args.seed}"
        args.model = str(Path(tempfile.gettempdir()) / f"ketnoi-bench-dask-{size}.joblib")
    results = run(args)
    report(results)
    if args.json_out:
        Path(args.json_out).write_text(json.dumps(results, indent=2, default=str))


if __name__ == "__main__":
    main()
