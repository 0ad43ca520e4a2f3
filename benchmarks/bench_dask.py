"""Match lists on Dask against the single-process path, measured in the same run.

On the world of ``bench_scale.py`` (its generator; 100,000 suppliers, 10,000 buyers, 1,000,000
links by default), one fitted matcher ranks every active buyer's list (k=10, the CLI's
``ketnoi match-list`` spec) in these runs, one after another in this process:

- ``single``: ``matcher.build_match_list`` in this process, what ``ketnoi match-list`` runs
  without ``--dask`` (the baseline);
- ``parts here``: the same list in parts (``matcher.parted_match_list`` without a client);
- ``dask N``: a ``LocalCluster`` of N worker processes (one thread each) on 127.0.0.1; the
  cluster's start is timed apart, then the run (sending the matcher to every worker and
  ranking every part) is timed, and each worker's peak RSS is read at the end;
- ``single again``: the baseline once more at the end (the machine is shared; the ratios are
  taken against the mean of the two baseline runs).

Every list is checked to equal the baseline row for row. The fitted model is saved to
``--model`` and reused by later runs (fitting the 1M-link world takes minutes).

Usage::

    python benchmarks/bench_dask.py [--suppliers 100000 --buyers 10000 --links 1000000]
        [--workers 1,2] [--part-buyers N] [--model FILE] [--json-out FILE] [--quick]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import pandas as pd

from ketnoi import graph, matcher

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_scale  # noqa: E402  (a script beside this one, not a package)


def peak_rss_bytes() -> int:
    """This process's peak RSS (a Dask worker's, when run there)."""
    return 1024 * resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def timed(name: str, call: Any, results: dict[str, Any]) -> Any:
    load = os.getloadavg()[0]
    start = time.perf_counter()
    value = call()
    seconds = time.perf_counter() - start
    results[name] = {
        "seconds": seconds,
        "loadavg_1min": [round(load, 2), round(os.getloadavg()[0], 2)],
    }
    print(f"{name}: {seconds:.1f} s (load {results[name]['loadavg_1min']})", flush=True)
    return value


def fitted_matcher(args: argparse.Namespace, results: dict[str, Any]) -> matcher.Matcher:
    world = bench_scale.make_world(args.suppliers, args.buyers, args.links, args.seed, False)
    dataset = graph.Dataset.from_frames(**world)
    del world
    model = Path(args.model)
    if model.exists():
        try:
            return timed("bind", lambda: matcher.load_matcher(model, dataset), results)
        except matcher.ModelFileError:
            print("the saved model is stale: fitting again", flush=True)
    m = timed("fit", lambda: matcher.Matcher().fit(dataset), results)
    m.save(model)
    return m


def run(args: argparse.Namespace) -> dict[str, Any]:
    results: dict[str, Any] = {"machine": bench_scale.machine(), "loadavg": os.getloadavg()}
    m = fitted_matcher(args, results)
    spec = matcher.MatchListSpec(k=10)
    plan = matcher.plan_match_list(m, spec, part_buyers=args.part_buyers)
    results["world"] = {
        "suppliers": args.suppliers,
        "buyers": args.buyers,
        "links": args.links,
        "listed_buyers": sum(len(p) for p in plan.parts),
        "parts": len(plan),
    }
    baseline = timed("single", lambda: matcher.build_match_list(m, spec), results)
    results["single"]["rows"] = len(baseline)
    if not args.skip_parts_here:
        here = timed("parts here", lambda: matcher.parted_match_list(m, plan), results)
        pd.testing.assert_frame_equal(here, baseline)
    for n in args.workers:
        cluster = matcher.dask_client(n_workers=n)
        client = timed(f"dask {n} start", cluster.__enter__, results)
        try:
            name = f"dask {n}"
            rows = timed(
                name, lambda c=client: matcher.parted_match_list(m, plan, client=c), results
            )
            results[name]["worker_peak_rss"] = sorted(client.run(peak_rss_bytes).values())
            pd.testing.assert_frame_equal(rows, baseline)
        finally:
            cluster.__exit__(None, None, None)
    # The machine is shared: the baseline again at the end, so that a drift in load shows.
    timed("single again", lambda: matcher.build_match_list(m, spec), results)
    return results


def report(results: dict[str, Any]) -> str:
    # Against the mean of the baseline before and after the Dask runs.
    base = (results["single"]["seconds"] + results["single again"]["seconds"]) / 2
    w = results["world"]
    lines = [
        f"World: {w['suppliers']:,} suppliers, {w['buyers']:,} buyers, {w['links']:,} links; "
        f"{w['listed_buyers']:,} buyers listed in {w['parts']} parts; "
        f"{results['single']['rows']:,} rows. {results['machine']['date']}, "
        f"{results['machine']['cpu_count']} CPUs.",
        "",
        "| run | time | x single (mean of 2) | peak RSS per worker | load avg (1 min) before, after"
        " |",
        "|---|---:|---:|---:|---|",
    ]
    for name, rec in results.items():
        if not isinstance(rec, dict) or "seconds" not in rec or name in {"fit", "bind"}:
            continue
        ratio = "" if name.endswith("start") else f"{rec['seconds'] / base:.2f}"
        rss = ", ".join(f"{b / 2**30:.2f} GB" for b in rec.get("worker_peak_rss", []))
        lines.append(
            f"| {name} | {rec['seconds']:.1f} s | {ratio} | {rss} | {rec['loadavg_1min']} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").strip().splitlines()[0])
    parser.add_argument("--suppliers", type=int, default=100_000)
    parser.add_argument("--buyers", type=int, default=10_000)
    parser.add_argument("--links", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--workers", default="1,2", help="comma-separated cluster sizes")
    parser.add_argument("--part-buyers", type=int, default=None)
    parser.add_argument("--skip-parts-here", action="store_true")
    parser.add_argument("--model", default=None, help="fitted model file to reuse or write")
    parser.add_argument("--json-out", type=Path)
    parser.add_argument("--quick", action="store_true", help="a small world, for a sanity run")
    args = parser.parse_args(argv)
    if args.quick:
        args.suppliers, args.buyers, args.links = 3_000, 400, 20_000
    args.workers = [int(n) for n in args.workers.split(",") if n]
    if args.model is None:
        size = f"{args.suppliers}x{args.buyers}x{args.links}s{args.seed}"
        args.model = str(Path(tempfile.gettempdir()) / f"ketnoi-bench-dask-{size}.joblib")
    results = run(args)
    print(report(results))
    if args.json_out:
        args.json_out.write_text(json.dumps(results, indent=1, default=str))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
