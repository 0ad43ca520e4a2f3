"""Time the matcher on a generated world: load, fit, match list, and the networkx comparison.

Each phase runs in its own Python subprocess, so its peak memory is its own: the subprocess
generates the world (not timed), prepares what the phase needs (not timed), resets the kernel's
peak-RSS mark (``/proc/self/clear_refs``), runs the phase and reports wall time, the process RSS
when the phase started and its peak RSS during the phase (``VmHWM``; the process includes the
data it holds). Phases:

- ``load``: ``graph.Dataset.from_frames`` (validate + load) of the generated frames;
- ``fit``: ``Matcher().fit(dataset)``; the model is saved for the next phase;
- ``match_list``: the saved model is bound to the dataset (timed separately) and
  ``match_list(k=10)`` ranks every active buyer;
- ``networkx``: the in-run baseline for the graph signals. On a sample of candidate pairs
  (``Matcher.candidates`` of random active buyers), the vectorised computation
  (``BatchSignals.compute`` + ``pair_features``, which yields all features, and
  ``BatchSignals.compute`` + ``path_sums``, the graph signals alone) against networkx's
  per-pair functions (``graph.similar_buyers_adamic_adar``, ``graph.l3_paths``,
  ``graph.similar_suppliers_adamic_adar``) on a prebuilt split graph. Building the networkx
  graph is reported separately. The values are checked to agree.

Usage::

    python benchmarks/bench_scale.py [--suppliers 100000 --buyers 10000 --links 1000000]
        [--links-only | --profiles] [--phases load,fit,match_list,networkx] [--pairs 300]
        [--timeout 900] [--json-out FILE] [--quick]
    python benchmarks/bench_scale.py --suppliers 20000 --buyers 2000 --links 200000 \
        --profile match_list     # cProfile one phase in this process, print the top functions

Prints machine details, the load average around each phase and markdown tables to stdout.
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import gc
import importlib.util
import io
import json
import os
import platform
import pstats
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from ketnoi import graph, matcher

ROOT = Path(__file__).resolve().parents[1]


PHASES = ("load", "fit", "match_list", "networkx")

#: Targets from the performance issue for the 100k / 10k / 1M world, in seconds and bytes.
TARGETS = {"fit": 300.0, "match_list": 600.0, "peak_rss": 4 * 2**30}
NX_SPEEDUP_AIM = 20.0


# -- the world --------------------------------------------------------------------------------
def make_world(
    suppliers: int, buyers: int, links: int, seed: int, profiles: bool
) -> dict[str, Any]:
    """The generated frames; fixtures/ is not a package, so the generator is loaded by path."""
    name = "ketnoi_make_synthetic"
    module = sys.modules.get(name)
    if module is None:
        spec = importlib.util.spec_from_file_location(name, ROOT / "fixtures" / "make_synthetic.py")
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module  # dataclasses and pickling look the module up by name
        spec.loader.exec_module(module)
    world: dict[str, Any] = module.make_world(
        suppliers, buyers, links, seed=seed, profiles=profiles
    )
    return world


# -- memory -----------------------------------------------------------------------------------
def _status_kb(field: str) -> int | None:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return None


def rss_bytes() -> int:
    kb = _status_kb("VmRSS")
    return 1024 * kb if kb is not None else 0


def reset_peak() -> bool:
    """Reset the kernel's peak-RSS mark of this process (Linux >= 4.0); False if unsupported."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def peak_bytes() -> int:
    """Peak RSS since the last :func:`reset_peak` (or of the whole process as a fallback)."""
    kb = _status_kb("VmHWM")
    if kb is None:  # ru_maxrss is in kB on Linux and is never reset
        kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return 1024 * kb


class Phase:
    """Wall time, RSS at the start and peak RSS of the code inside the ``with`` block."""

    def __enter__(self) -> Phase:
        gc.collect()
        self.reset = reset_peak()
        self.rss_start = rss_bytes()
        self.load_start = os.getloadavg()[0]
        self.start = time.perf_counter()
        self.cpu_start = time.process_time()
        return self

    def __exit__(self, *exc: object) -> None:
        self.seconds = time.perf_counter() - self.start
        # CPU time of this process: on a shared machine, wall time also counts the waits.
        self.cpu_seconds = time.process_time() - self.cpu_start
        self.peak = peak_bytes()
        self.load_end = os.getloadavg()[0]

    def record(self) -> dict[str, Any]:
        return {
            "seconds": self.seconds,
            "cpu_seconds": self.cpu_seconds,
            "rss_start": self.rss_start,
            "peak_rss": self.peak,
            "peak_is_per_phase": self.reset,
            "loadavg_1min": [round(self.load_start, 2), round(self.load_end, 2)],
        }


# -- phases (run inside a worker process) -------------------------------------------------------
def phase_load(world: dict[str, Any], out: dict[str, Any]) -> None:
    with Phase() as p:
        dataset = graph.Dataset.from_frames(**world)
    out["load"] = p.record()
    out["load"]["firms"], out["load"]["links"] = len(dataset.firms), len(dataset.links)


def phase_fit(
    world: dict[str, Any], model: Path, out: dict[str, Any], rankers: str | None = None
) -> None:
    dataset = graph.Dataset.from_frames(**world)
    world.clear()
    # --rankers: the rankers model="auto" compares (default: all), e.g. the set before a new
    # one joined, as the baseline of the same run.
    settings = matcher.MatcherSettings(rankers=tuple(rankers.split(",")) if rankers else None)
    with Phase() as p:
        m = matcher.Matcher(settings).fit(dataset)
    out["fit"] = p.record()
    out["fit"].update(mode=m.mode_, training_pairs=int(m.n_training_pairs_))
    m.save(model)


def _bound_matcher(
    world: dict[str, Any], model: Path, out: dict[str, Any]
) -> tuple[graph.Dataset, matcher.Matcher]:
    dataset = graph.Dataset.from_frames(**world)
    world.clear()
    refit = not model.exists()
    with Phase() as p:
        try:
            m = None if refit else matcher.load_matcher(model, dataset)
        except matcher.ModelFileError:  # the matcher changed since the fit phase
            m = None
        if m is None:  # the fit phase was skipped, failed or is stale: fit here instead
            refit = True
            m = matcher.Matcher().fit(dataset)
    out["bind"] = p.record()
    out["bind"]["refit"] = refit
    return dataset, m


def phase_match_list(world: dict[str, Any], model: Path, out: dict[str, Any]) -> None:
    _, m = _bound_matcher(world, model, out)
    active = len(m.ranking_.active_buyers())
    with Phase() as p:
        listed = m.match_list(k=10)
    out["match_list"] = p.record()
    out["match_list"].update(active_buyers=active, rows=len(listed))


def phase_networkx(
    world: dict[str, Any], model: Path, out: dict[str, Any], n_pairs: int, budget: float
) -> None:
    from ketnoi.matcher._features import BatchSignals, pair_features
    from ketnoi.matcher._index import build_snapshot

    dataset, m = _bound_matcher(world, model, out)
    index = m.index_
    snap = build_snapshot(index, dataset.links, None)
    rng = np.random.default_rng(0)
    linked = np.flatnonzero(snap.buyer_degree > 0)
    chosen = rng.choice(linked, size=min(max(n_pairs // 15, 1), len(linked)), replace=False)
    cands = m.candidates([str(b) for b in index.buyer_ids[chosen]])
    take = rng.choice(len(cands), size=min(n_pairs, len(cands)), replace=False)
    pairs = cands.iloc[np.sort(take)].reset_index(drop=True)
    pb = index.buyer_ids.get_indexer(pairs["buyer_id"])
    ps = index.supplier_ids.get_indexer(pairs["supplier_id"])
    batch = np.unique(pb)

    def vectorised_all() -> Any:
        signals = BatchSignals.compute(index, snap, batch)
        return pair_features(index, snap, signals, pb, ps)[0]

    def vectorised_paths() -> Any:
        signals = BatchSignals.compute(index, snap, batch)
        local = np.searchsorted(batch, pb)
        return signals.path_sums(snap, local, pb, ps)

    times_all, times_paths = [], []
    for _ in range(3):
        start = time.perf_counter()
        features = vectorised_all()
        times_all.append(time.perf_counter() - start)
        start = time.perf_counter()
        vectorised_paths()
        times_paths.append(time.perf_counter() - start)

    # The matcher's real workload: every candidate of the sampled buyers in one batch, so the
    # batch's fixed cost (sparse products, dense blocks) is shared by many more pairs.
    all_b = index.buyer_ids.get_indexer(cands["buyer_id"])
    all_s = index.supplier_ids.get_indexer(cands["supplier_id"])
    times_batch = []
    for _ in range(3):
        start = time.perf_counter()
        signals = BatchSignals.compute(index, snap, batch)
        signals.path_sums(snap, np.searchsorted(batch, all_b), all_b, all_s)
        times_batch.append(time.perf_counter() - start)

    with Phase() as p:
        G = graph.link_graph(dataset, active_only=False)
        split = graph.split_bipartite(G)
    build = p.record()
    build.update(nodes=split.number_of_nodes(), edges=split.number_of_edges())
    del G
    gc.collect()

    ebunch = list(zip(pairs["buyer_id"], pairs["supplier_id"], strict=True))
    signals_nx: dict[str, Any] = {}
    for name, func, column, transform in (
        ("similar_buyers_aa", graph.similar_buyers_adamic_adar, "similar_buyers_aa", None),
        ("l3_paths", graph.l3_paths, "l3_paths", np.expm1),
        ("similar_suppliers_aa", graph.similar_suppliers_adamic_adar, "similar_suppliers_aa", None),
    ):
        values: list[float] = []
        start = time.perf_counter()
        for _, _, value in func(split, ebunch):
            values.append(value)
            if time.perf_counter() - start > budget:
                break
        seconds = time.perf_counter() - start
        mine = features[column].to_numpy()[: len(values)]
        if transform is not None:
            mine = transform(mine)
        signals_nx[name] = {
            "pairs": len(values),
            "seconds": seconds,
            "per_pair": seconds / max(len(values), 1),
            "max_abs_diff": float(np.max(np.abs(mine - np.array(values)))) if values else None,
            "max_value": float(max(values)) if values else None,
        }
    out["networkx"] = {
        "pairs": len(pairs),
        "buyers": len(batch),
        "vectorised_all_features": statistics.median(times_all),
        "vectorised_path_signals": statistics.median(times_paths),
        "vectorised_runs": times_all,
        "candidate_pairs": len(cands),
        "vectorised_path_signals_all_candidates": statistics.median(times_batch),
        "graph_build": build,
        "signals": signals_nx,
        "budget_seconds": budget,
    }


def worker(args: argparse.Namespace) -> dict[str, Any]:
    start = time.perf_counter()
    world = make_world(args.suppliers, args.buyers, args.links, args.seed, args.profiles)
    out: dict[str, Any] = {"generate_seconds": time.perf_counter() - start}
    model = Path(args.model)
    if args.worker == "load":
        phase_load(world, out)
    elif args.worker == "fit":
        phase_fit(world, model, out, args.rankers)
    elif args.worker == "match_list":
        phase_match_list(world, model, out)
    elif args.worker == "networkx":
        phase_networkx(world, model, out, args.pairs, args.nx_budget)
    out["process_max_rss"] = 1024 * resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return out


# -- the orchestrator ---------------------------------------------------------------------------
def run_phase(args: argparse.Namespace, phase: str, model: Path) -> dict[str, Any]:
    cmd = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--worker",
        phase,
        "--model",
        str(model),
        *_world_args(args),
        "--pairs",
        str(args.pairs),
        "--nx-budget",
        str(args.nx_budget),
        *(["--rankers", args.rankers] if args.rankers else []),
    ]
    load_before = [round(x, 2) for x in os.getloadavg()]
    start = time.perf_counter()
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=args.timeout)
    except subprocess.TimeoutExpired:  # run() has killed the worker
        return {
            "status": f"timeout after {args.timeout:.0f} s",
            "wall": time.perf_counter() - start,
            "loadavg_before": load_before,
        }
    wall = time.perf_counter() - start
    if done.returncode != 0:
        tail = done.stderr.strip().splitlines()[-5:]
        return {"status": f"exit {done.returncode}: {' | '.join(tail)}", "wall": wall}
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    result.update(status="ok", wall=wall, loadavg_before=load_before)
    result["loadavg_after"] = [round(x, 2) for x in os.getloadavg()]
    return result


def _world_args(args: argparse.Namespace) -> list[str]:
    return [
        "--suppliers",
        str(args.suppliers),
        "--buyers",
        str(args.buyers),
        "--links",
        str(args.links),
        "--seed",
        str(args.seed),
        "--profiles" if args.profiles else "--links-only",
    ]


def machine() -> dict[str, Any]:
    import pandas as pd
    import scipy
    import sklearn

    return {
        "date": dt.datetime.now().astimezone().isoformat(timespec="seconds"),
        "platform": platform.platform(),
        "cpu_count": os.cpu_count(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "pandas": pd.__version__,
        "sklearn": sklearn.__version__,
        "networkx": __import__("networkx").__version__,
    }


def gb(n: float) -> str:
    return f"{n / 2**30:.2f} GB"


def secs(s: float) -> str:
    if s < 1e-3:
        return f"{s * 1e6:.0f} µs"
    if s < 1.0:
        return f"{s * 1e3:.1f} ms"
    return f"{s:.1f} s"


def report(args: argparse.Namespace, results: dict[str, dict[str, Any]]) -> str:
    mach = machine()
    world = "with profiles" if args.profiles else "links only"
    lines = [
        f"World: {args.suppliers:,} suppliers, {args.buyers:,} buyers, {args.links:,} links "
        f"({world}, seed {args.seed}).",
        f"{mach['date']}; {mach['platform']}; {mach['cpu_count']} CPUs; Python {mach['python']}, "
        f"numpy {mach['numpy']}, scipy {mach['scipy']}, pandas {mach['pandas']}, "
        f"scikit-learn {mach['sklearn']}, networkx {mach['networkx']}.",
        "",
        "| phase | time | RSS at start | peak RSS | target | result | load avg (1 min) |",
        "|---|---:|---:|---:|---|---|---|",
    ]
    full = (args.suppliers, args.buyers, args.links) == (100_000, 10_000, 1_000_000)
    for phase in PHASES:
        if phase not in results or phase == "networkx":
            continue
        r = results[phase]
        if r["status"] != "ok":
            lines.append(f"| {phase} | {r['status']} | | | | FAIL | {r.get('loadavg_before')} |")
            continue
        rows = [("bind (load saved model)", r["bind"])] if "bind" in r else []
        rows.append((phase, r[phase]))
        for name, rec in rows:
            target, verdict = "", ""
            if full and name in TARGETS:
                ok = rec["seconds"] < TARGETS[name] and rec["peak_rss"] < TARGETS["peak_rss"]
                target = f"< {secs(TARGETS[name])}, < {gb(TARGETS['peak_rss'])}"
                verdict = "pass" if ok else "FAIL"
            elif full and name == "load":
                target = f"peak < {gb(TARGETS['peak_rss'])}"
                verdict = "pass" if rec["peak_rss"] < TARGETS["peak_rss"] else "FAIL"
            extra = ""
            if name == "match_list":
                extra = f" ({rec['active_buyers']:,} buyers, {rec['rows']:,} rows)"
            if name.startswith("bind") and r["bind"].get("refit"):
                extra = " (no saved model: refitted)"
            lines.append(
                f"| {name}{extra} | {secs(rec['seconds'])} | {gb(rec['rss_start'])} | "
                f"{gb(rec['peak_rss'])} | {target} | {verdict} | {rec['loadavg_1min']} |"
            )
    gen = next((r["generate_seconds"] for r in results.values() if "generate_seconds" in r), None)
    if gen is not None:
        lines += ["", f"Generating the world (not counted) took {secs(gen)} per process."]
    nx_result = results.get("networkx")
    if nx_result is not None:
        lines += ["", *report_networkx(nx_result)]
    return "\n".join(lines)


def report_networkx(r: dict[str, Any]) -> list[str]:
    if r["status"] != "ok":
        return [f"networkx comparison: {r['status']}"]
    x = r["networkx"]
    n = x["pairs"]
    v_all = x["vectorised_all_features"] / n
    v_paths = x["vectorised_path_signals"] / n
    v_batch = x["vectorised_path_signals_all_candidates"] / x["candidate_pairs"]
    b = x["graph_build"]
    lines = [
        f"Graph signals on {n} candidate pairs of {x['buyers']} random linked buyers. "
        f"Vectorised (median of 3): all {len(matcher.FEATURES)} features "
        f"{secs(x['vectorised_all_features'])} for the batch ({secs(v_all)} per pair); "
        f"graph signals only (BatchSignals + path_sums) {secs(x['vectorised_path_signals'])} "
        f"({secs(v_paths)} per pair). Graph signals for all {x['candidate_pairs']:,} candidate "
        f"pairs of the same buyers in one batch: {secs(v_batch * x['candidate_pairs'])} "
        f"({secs(v_batch)} per pair).",
        f"networkx graph (link_graph + split_bipartite, {b['nodes']:,} nodes, "
        f"{b['edges']:,} edges), not counted per pair: {secs(b['seconds'])}, peak RSS "
        f"{gb(b['peak_rss'])} from {gb(b['rss_start'])}. Per-pair budget "
        f"{x['budget_seconds']:.0f} s per signal.",
        "",
        "| signal | networkx pairs | networkx time | networkx per pair | speed-up vs all "
        "features | speed-up vs graph signals | speed-up vs graph signals, all candidates "
        "| max abs diff | max value |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    total_nx = 0.0
    for name, s in x["signals"].items():
        total_nx += s["per_pair"]
        diff = "" if s["max_abs_diff"] is None else f"{s['max_abs_diff']:.1e}"
        lines.append(
            f"| {name} | {s['pairs']} | {secs(s['seconds'])} | {secs(s['per_pair'])} | "
            f"{s['per_pair'] / v_all:.0f}x | {s['per_pair'] / v_paths:.0f}x | "
            f"{s['per_pair'] / v_batch:.0f}x | {diff} | "
            f"{s['max_value']:.3g} |"
        )
    verdict = "pass" if total_nx / v_paths >= NX_SPEEDUP_AIM else "below aim"
    lines.append(
        f"| all three (sum per pair) | | | {secs(total_nx)} | {total_nx / v_all:.0f}x | "
        f"{total_nx / v_paths:.0f}x ({verdict}: aim {NX_SPEEDUP_AIM:.0f}x) | "
        f"{total_nx / v_batch:.0f}x | | |"
    )
    return lines


def profile(args: argparse.Namespace) -> None:
    """cProfile one phase in this process; print the top functions by cumulative and own time."""
    world = make_world(args.suppliers, args.buyers, args.links, args.seed, args.profiles)
    out: dict[str, Any] = {}
    profiler = cProfile.Profile()
    with tempfile.TemporaryDirectory() as tmp:
        model = Path(tmp) / "model.joblib"
        if args.profile == "load":
            profiler.runcall(phase_load, world, out)
        elif args.profile == "fit":
            profiler.runcall(phase_fit, world, model, out)
        else:
            dataset = graph.Dataset.from_frames(**world)
            matcher.Matcher().fit(dataset).save(model)
            if args.profile == "match_list":
                profiler.runcall(phase_match_list, world, model, out)
            else:
                profiler.runcall(phase_networkx, world, model, out, args.pairs, args.nx_budget)
    print(json.dumps({k: v for k, v in out.items()}, default=str))
    for key in ("cumulative", "tottime"):
        buffer = io.StringIO()
        pstats.Stats(profiler, stream=buffer).strip_dirs().sort_stats(key).print_stats(args.top)
        print(f"\n### top {args.top} by {key}\n")
        print(buffer.getvalue())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").strip().splitlines()[0])
    parser.add_argument("--suppliers", type=int, default=100_000)
    parser.add_argument("--buyers", type=int, default=10_000)
    parser.add_argument("--links", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=0)
    kind = parser.add_mutually_exclusive_group()
    kind.add_argument("--links-only", dest="profiles", action="store_false", default=False)
    kind.add_argument("--profiles", dest="profiles", action="store_true")
    parser.add_argument("--phases", default=",".join(PHASES), help="comma-separated")
    parser.add_argument("--pairs", type=int, default=300, help="pairs for the networkx check")
    parser.add_argument("--nx-budget", type=float, default=120.0, help="s per networkx signal")
    parser.add_argument("--timeout", type=float, default=900.0, help="s per phase process")
    parser.add_argument("--json-out", type=Path)
    parser.add_argument(
        "--rankers", help="comma-separated rankers model='auto' compares in the fit phase"
    )
    parser.add_argument("--quick", action="store_true", help="a small world, for a sanity run")
    parser.add_argument("--profile", choices=PHASES, help="cProfile one phase in-process")
    parser.add_argument("--top", type=int, default=30, help="functions to list with --profile")
    parser.add_argument("--worker", choices=PHASES, help=argparse.SUPPRESS)
    parser.add_argument("--model", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.quick:
        args.suppliers, args.buyers, args.links = 2_000, 200, 10_000
    if args.worker:
        print(json.dumps(worker(args)))
        return 0
    if args.profile:
        profile(args)
        return 0

    phases = [p.strip() for p in args.phases.split(",") if p.strip()]
    unknown = set(phases) - set(PHASES)
    if unknown:
        parser.error(f"unknown phases: {', '.join(sorted(unknown))}")
    results: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory(prefix="ketnoi-bench-") as tmp:
        model = Path(tmp) / "model.joblib"
        for phase in PHASES:
            if phase in phases:
                results[phase] = run_phase(args, phase, model)
                print(
                    f"[{phase}: {results[phase]['status']}, {results[phase]['wall']:.1f} s "
                    "wall including generation]",
                    file=sys.stderr,
                    flush=True,
                )
    print(report(args, results))
    if args.json_out:
        payload = {"args": vars(args), "machine": machine(), "results": results}
        args.json_out.write_text(json.dumps(payload, indent=2, default=str) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
