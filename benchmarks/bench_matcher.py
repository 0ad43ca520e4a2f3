"""Time the matcher at demo scale: fit, precompute, single recommendations and the match list.

The same run times two baselines on the same folder: a plain ``pandas.read_csv`` of the contract
files and ``graph.load_dataset`` (read + validate). Absolute times move with the machine and its
load; the ratios against these baselines move much less, so they are the figures to compare
between runs.

Usage::

    python benchmarks/bench_matcher.py [FOLDER] [--repeat 3] [--rounds 5] [--json-out FILE]

FOLDER defaults to ``fixtures/hanoi``. Prints machine details and a markdown table with the
targets (from the performance issue) to stdout.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import scipy
import sklearn

from ketnoi import graph, matcher

ROOT = Path(__file__).resolve().parents[1]


DEFAULT = ROOT / "fixtures" / "hanoi"

#: Targets from the performance issue, in seconds ("2 cores at demo scale").
TARGETS = {
    "fit": 30.0,
    "recommend_p50": 1e-3,
    "recommend_p99": 5e-3,
    "match_list": 3.0,
}


def timed(step: Callable[[], object]) -> tuple[float, object]:
    """Wall time of one call of ``step`` and what it returned."""
    start = time.perf_counter()
    out = step()
    return time.perf_counter() - start, out


def median_seconds(step: Callable[[], object], repeat: int) -> float:
    """Median wall time of ``repeat`` calls of ``step``."""
    return statistics.median(timed(step)[0] for _ in range(repeat))


def latencies_ns(calls: list[Callable[[], object]]) -> np.ndarray:
    """Wall time of each call, in nanoseconds."""
    out = np.empty(len(calls), dtype=np.int64)
    for i, call in enumerate(calls):
        start = time.perf_counter_ns()
        call()
        out[i] = time.perf_counter_ns() - start
    return out


def percentiles_ms(ns: np.ndarray) -> dict[str, float]:
    if len(ns) == 0:
        return {"p50": float("nan"), "p99": float("nan"), "max": float("nan"), "n": 0}
    ms = ns / 1e6
    return {
        "p50": float(np.percentile(ms, 50)),
        "p99": float(np.percentile(ms, 99)),
        "max": float(ms.max()),
        "n": len(ms),
    }


def contract_files(folder: Path) -> list[Path]:
    """The contract CSV files present in ``folder``, in load order."""
    return [folder / f"{n}.csv" for n in graph.FILE_ORDER if (folder / f"{n}.csv").exists()]


def raw_read(files: list[Path]) -> None:
    # Read the cells as text, as ketnoi's reader does: the same I/O and tokenising, no parsing.
    for path in files:
        pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")


def machine() -> dict[str, Any]:
    return {
        "date": dt.datetime.now().astimezone().isoformat(timespec="seconds"),
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
        "affinity": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "python": platform.python_version(),
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "pandas": pd.__version__,
        "sklearn": sklearn.__version__,
    }


def loadavg() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def verdict(value: float, target: float) -> str:
    return "pass" if value < target else "FAIL"


def run(folder: Path, repeat: int, rounds: int, live_sample: int) -> dict[str, Any]:
    files = contract_files(folder)
    load_before = loadavg()

    # Warm imports and the OS file cache before any timing.
    dataset = graph.load_dataset(folder)
    raw_read(files)
    raw = median_seconds(lambda: raw_read(files), max(repeat, 5))
    load = median_seconds(lambda: graph.load_dataset(folder), max(repeat, 5))

    fits = []
    for _ in range(repeat):
        seconds, fitted = timed(lambda: matcher.Matcher().fit(dataset))
        fits.append(seconds)
    m: matcher.Matcher = fitted  # type: ignore[assignment]
    fit = statistics.median(fits)

    buyers = [str(b) for b in m.index_.buyer_ids[m.ranking_.active_buyers()]]
    rng = np.random.default_rng(0)
    sample = rng.choice(buyers, size=min(live_sample, len(buyers)), replace=False)
    # Live (uncached) recommendations: nothing precomputed yet, each call ranks one buyer.
    m.recommend(str(sample[0]), k=10)
    live = latencies_ns([lambda b=str(b): m.recommend(b, k=10) for b in sample])

    precompute, _ = timed(m.precompute)
    # The first call per buyer turns its cached rows into the output frame (names, reasons);
    # later calls return a slice of it. Both are reported.
    first = latencies_ns([lambda b=b: m.recommend(b, k=10) for b in buyers])
    order = [b for _ in range(rounds) for b in rng.permutation(buyers)]
    cached = latencies_ns([lambda b=b: m.recommend(b, k=10) for b in order])

    match_list, listed = timed(lambda: m.match_list(k=10))
    n_rows = len(listed)  # type: ignore[arg-type]

    return {
        "machine": machine(),
        "loadavg_before": load_before,
        "loadavg_after": loadavg(),
        "dataset": {
            "folder": str(folder),
            "firms": len(dataset.firms),
            "links": len(dataset.links),
            "suppliers": m.index_.n_suppliers,
            "buyers": m.index_.n_buyers,
            "active_buyers": len(buyers),
            "csv_mb": round(sum(p.stat().st_size for p in files) / 1e6, 3),
        },
        "model": {"mode": m.mode_, "training_pairs": m.n_training_pairs_},
        "seconds": {
            "raw_read": raw,
            "load_dataset": load,
            "fit_median": fit,
            "fit_runs": fits,
            "precompute": precompute,
            "match_list": match_list,
        },
        "match_list_rows": n_rows,
        "recommend_ms": {
            "cached": percentiles_ms(cached),
            "cached_first_call": percentiles_ms(first),
            "live": percentiles_ms(live),
        },
    }


def report(r: dict[str, Any], repeat: int, rounds: int) -> str:
    s, rec, d = r["seconds"], r["recommend_ms"], r["dataset"]
    raw, load = s["raw_read"], s["load_dataset"]
    mach = r["machine"]
    lines = [
        f"Dataset `{d['folder']}`: {d['firms']} firms ({d['suppliers']} supplier and "
        f"{d['buyers']} buyer positions, {d['active_buyers']} active buyers), {d['links']} links, "
        f"{d['csv_mb']} MB of CSV; scorer `{r['model']['mode']}` on "
        f"{r['model']['training_pairs']} training pairs.",
        f"{mach['date']}; {mach['platform']}; {mach['processor']}; {mach['cpu_count']} CPUs "
        f"({mach['affinity']} usable); Python {mach['python']}, numpy {mach['numpy']}, "
        f"scipy {mach['scipy']}, pandas {mach['pandas']}, scikit-learn {mach['sklearn']}.",
        f"Load average (1, 5, 15 min): {r['loadavg_before']} before, {r['loadavg_after']} after.",
        "",
        "| step | time | x pandas read | x load_dataset | target | result |",
        "|---|---:|---:|---:|---:|---|",
    ]

    def row(name: str, seconds: float, target: float | None, shown: str | None = None) -> None:
        tgt = "" if target is None else f"< {fmt(target)}"
        ok = "" if target is None else verdict(seconds, target)
        lines.append(
            f"| {name} | {shown or fmt(seconds)} | {seconds / raw:.1f} | {seconds / load:.2f} "
            f"| {tgt} | {ok} |"
        )

    row(f"pandas.read_csv of the same files (baseline, median of {max(repeat, 5)})", raw, None)
    row(f"graph.load_dataset (baseline, median of {max(repeat, 5)})", load, None)
    row(f"fit (median of {repeat})", s["fit_median"], TARGETS["fit"])
    row("precompute (all active buyers)", s["precompute"], None)
    c, f, lv = rec["cached"], rec["cached_first_call"], rec["live"]
    row(
        f"recommend k=10 from cache, p50 ({c['n']} calls, {rounds} rounds)",
        c["p50"] / 1e3,
        TARGETS["recommend_p50"],
    )
    row("recommend k=10 from cache, p99", c["p99"] / 1e3, TARGETS["recommend_p99"])
    row(
        f"recommend k=10, first call per buyer after precompute, p50 ({f['n']} calls)",
        f["p50"] / 1e3,
        TARGETS["recommend_p50"],
    )
    row("recommend k=10, first call per buyer after precompute, p99", f["p99"] / 1e3, None)
    row(f"recommend k=10 live (no cache), p50 ({lv['n']} buyers)", lv["p50"] / 1e3, None)
    row("recommend k=10 live (no cache), p99", lv["p99"] / 1e3, None)
    row(
        f"match_list k=10, all active buyers ({r['match_list_rows']} rows)",
        s["match_list"],
        TARGETS["match_list"],
    )
    lines.append("")
    lines.append(
        f"Fit runs (s): {', '.join(f'{x:.2f}' for x in s['fit_runs'])}. Live / cached p50: "
        f"{lv['p50'] / c['p50']:.0f}x. Cached max: {fmt(c['max'] / 1e3)}."
    )
    return "\n".join(lines)


def fmt(seconds: float) -> str:
    if seconds < 1e-3:
        return f"{seconds * 1e6:.0f} µs"
    if seconds < 1.0:
        return f"{seconds * 1e3:.2f} ms"
    return f"{seconds:.2f} s"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").strip().splitlines()[0])
    parser.add_argument("folder", nargs="?", type=Path, default=DEFAULT)
    parser.add_argument("--repeat", type=int, default=3, help="fits to take the median of")
    parser.add_argument("--rounds", type=int, default=5, help="cached recommend rounds")
    parser.add_argument("--live-sample", type=int, default=50, help="buyers for live recommend")
    parser.add_argument("--json-out", type=Path, help="also write the figures as JSON")
    args = parser.parse_args(argv)
    if not contract_files(args.folder):
        print(f"no contract CSV files in {args.folder}", file=sys.stderr)
        return 2
    result = run(args.folder, args.repeat, args.rounds, args.live_sample)
    print(report(result, args.repeat, args.rounds))
    if args.json_out:
        args.json_out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
