"""Matchmaking events at programme scale: the optimiser against the first-come greedy.

Two worlds, each with 40 buyers, 150 suppliers and 12 slots (25 tables, at most 8 meetings per
firm, 2 interpreters per slot):

- ``hanoi``: ``fixtures/hanoi``; the first 40 buyers by firm_id and the first 150 suppliers by
  firm_id that are candidates of at least one of them; registration order shuffled with seed 0;
- ``hanoi-delegations``: the same, but foreign-invested buyers send delegations that do not
  speak Vietnamese (the participant list's languages: the firm's without ``vi``), so that
  interpreters bind;
- ``synthetic``: ``fixtures/make_synthetic.py`` (1,500 suppliers, 150 buyers, 8,000 links,
  seed 1), chosen the same way.

For each, the wall time of ``programme.schedule_event`` (scoring included) with the optimiser and
with the greedy, supplier coverage and total score, and the time ratio to the greedy's in the
same run. Run single-threaded numerics on a shared machine::

    OMP_NUM_THREADS=1 python benchmarks/bench_schedule.py [--json-out FILE]
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.util
import json
import os
import platform
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from ketnoi import graph, matcher, programme

ROOT = Path(__file__).resolve().parents[1]


LIMITS = {"slots": 12, "tables": 25, "max_meetings": 8, "interpreters": 2}
N_BUYERS, N_SUPPLIERS = 40, 150
TARGET_SECONDS = 60.0


def synthetic_dataset(folder: Path) -> graph.Dataset:
    spec = importlib.util.spec_from_file_location(
        "make_synthetic", ROOT / "fixtures" / "make_synthetic.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.write_world(module.make_world(1_500, 150, 8_000, seed=1), folder)
    return graph.load_dataset(folder)


def participants(
    dataset: graph.Dataset, m: matcher.Matcher, delegations: bool = False
) -> tuple[programme.Participant, ...]:
    firms = dataset.firms
    buyers = sorted(firms.loc[firms["role"] == "buyer", "firm_id"])[:N_BUYERS]
    scores = m.score_buyers(buyers)
    candidate = set(np.asarray(m.supplier_ids_)[(scores >= 0).any(axis=0)])
    suppliers = [
        s for s in sorted(firms.loc[firms["role"] == "supplier", "firm_id"]) if s in candidate
    ][:N_SUPPLIERS]
    info = firms.set_index("firm_id")
    people = []
    for b in buyers:
        langs: tuple[str, ...] = ()
        if delegations and info.at[b, "ownership"] == "fdi":
            langs = tuple(x for x in info.at[b, "languages"] if x != "vi")
        people.append(programme.Participant(b, "buyer", langs))
    people += [programme.Participant(s, "supplier") for s in suppliers]
    order = np.random.default_rng(0).permutation(len(people))
    return tuple(people[i] for i in order)


def run(name: str, dataset: graph.Dataset, m: matcher.Matcher, delegations: bool) -> dict[str, Any]:
    spec = programme.EventSpec(participants(dataset, m, delegations), **LIMITS)
    out: dict[str, Any] = {"world": name}
    for method in ("greedy", "optimal"):
        start = time.perf_counter()
        result = programme.schedule_event(spec, m, method=method)
        seconds = time.perf_counter() - start
        out[method] = {
            "seconds": round(seconds, 3),
            "solve_seconds": round(result.seconds, 3),
            "covered": result.covered,
            "suppliers": result.suppliers,
            "score": round(result.score, 3),
            "meetings": len(result.meetings),
            "interpreted": int(result.meetings["interpreter"].sum()),
            "status": result.status,
            "method": result.method,
        }
    g, o = out["greedy"], out["optimal"]
    out["coverage_gain"] = o["covered"] - g["covered"]
    out["score_gain"] = round(o["score"] - g["score"], 3)
    out["score_ratio"] = round(o["score"] / g["score"], 3) if g["score"] else None
    out["time_ratio"] = round(o["seconds"] / g["seconds"], 1) if g["seconds"] else None
    out["within_target"] = o["seconds"] <= TARGET_SECONDS
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json-out", type=Path)
    args = parser.parse_args(argv)
    rows = []
    hanoi = graph.load_dataset(ROOT / "fixtures" / "hanoi")
    fitted = matcher.Matcher().fit(hanoi)
    rows.append(run("hanoi", hanoi, fitted, False))
    rows.append(run("hanoi-delegations", hanoi, fitted, True))
    with tempfile.TemporaryDirectory() as folder:
        synthetic = synthetic_dataset(Path(folder))
        rows.append(run("synthetic", synthetic, matcher.Matcher().fit(synthetic), False))
    cpu = platform.processor() or platform.machine()
    print(
        f"{dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC; {cpu},"
        f" {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.2f}; Python {platform.python_version()}"
    )
    print(f"limits: {N_BUYERS} buyers, {N_SUPPLIERS} suppliers, {LIMITS}")
    print()
    print(
        "| world | method | wall s | solve s | suppliers met | total score | meetings |"
        " interpreted | status |"
    )
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |")
    for row in rows:
        for method in ("greedy", "optimal"):
            r = row[method]
            print(
                f"| {row['world']} | {method} | {r['seconds']:.2f} | {r['solve_seconds']:.3f} |"
                f" {r['covered']} / {r['suppliers']} | {r['score']:.2f} | {r['meetings']} |"
                f" {r['interpreted']} | {r['status']} ({r['method']}) |"
            )
    print()
    print(
        "| world | coverage gain | score gain | score ratio | time ratio to greedy | within 60 s |"
    )
    print("| --- | ---: | ---: | ---: | ---: | --- |")
    for row in rows:
        print(
            f"| {row['world']} | +{row['coverage_gain']} | +{row['score_gain']:.2f} |"
            f" {row['score_ratio']} | {row['time_ratio']} | {row['within_target']} |"
        )
    if args.json_out:
        args.json_out.write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
