"""Ranking quality of the matcher, the baselines and the peers on thirteen scenarios.

Scenarios:

(a) ``fixtures/hanoi``, temporal holdout (links of the last two years hidden);
(b) ``fixtures/hanoi`` reduced to firms and links (no profiles, no categories), random holdout;
(c) a synthetic link-only world (3,000 suppliers, 400 buyers, 15,000 links), random holdout;
(d) a synthetic world with profiles (2,000 suppliers, 300 buyers, 10,000 links), temporal;
(e) a link-only world shaped like a real automotive customer-supplier network
    (``make_synthetic.make_world(15_000, 640, 48_000, seed=5, profiles=False)``: heavy-tailed
    degrees), random holdout: the world issue 12 pins, where EASE beat the matcher;
(f)-(k) the three families of ``fixtures/worlds.py`` (3,000 suppliers, 400 buyers, 15,000
    links, world seed 1): ``quality`` (f, g), ``attachment`` (h, i), ``tiers`` (j, k); with
    profiles and temporal holdout (f, h, j), link-only with random holdout (g, i, k);
(l), (m) cold-start buyers: every link of a seeded tenth of the buyers with five or more
    suppliers is hidden (:func:`matcher._splits.split_cold`), on ``fixtures/hanoi`` (l) and on
    the ``quality`` world with profiles (m): the 0-links column of NDCG by degree.

The random holdout (:func:`matcher._evaluate.split_random`) hides, for every buyer with at
least five distinct suppliers, a tenth of them (rounded half up, at least one) chosen at random
with the seed; every link row of a hidden pair goes, and buyers with fewer suppliers keep all
theirs. Each seed draws a new split. The temporal holdout hides the links of the last two years
once; seeds then vary only the methods' random state.

Each runs :func:`matcher._evaluate.evaluate` with its default methods (baselines, peers tuned
by inner validation on the training links, the logistic variant and the matcher where they can
be imported) and prints a markdown table, NDCG@10 by the judged buyer's number of training
links, and at the end NDCG@10 of every method on every world run, with the mean. Where the
matcher fails to fit on a world, the error is printed and the others are reported alone.

Usage::

    python benchmarks/bench_quality.py [--k 10] [--seeds 3] [--only a,b,...,m] [--json-out FILE]
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.util
import json
import os
import platform
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from ketnoi import graph
from ketnoi.matcher._evaluate import EvaluationResult, default_methods, evaluate

ROOT = Path(__file__).resolve().parents[1]


HANOI = ROOT / "fixtures" / "hanoi"


def _generator(script: str) -> Callable[..., dict[str, pd.DataFrame]]:
    """``make_world`` of a generator script in fixtures/.

    fixtures/ is a folder of data and scripts, not a package: the script is loaded by path.
    """
    path = ROOT / "fixtures" / f"{script}.py"
    spec = importlib.util.spec_from_file_location(f"ketnoi_{script}", path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.make_world


def links_only(dataset: graph.Dataset) -> graph.Dataset:
    """The same network with nothing but who links to whom, since when, and whether it lasts.

    Without categories a pair is one link: its first year, active if any of its rows is.
    """
    firms = dataset.firms[["firm_id", "name", "role", "listed"]]
    links = (
        dataset.links.assign(active=dataset.links["status"] == "active")
        .groupby(["supplier_id", "buyer_id"], sort=False)
        .agg(since=("since", "min"), active=("active", "any"))
        .reset_index()
    )
    links["status"] = np.where(links.pop("active"), "active", "ended")
    return graph.Dataset.from_frames(
        source=f"{dataset.source} (links only)", firms=firms, links=links
    )


def scenarios(only: set[str]) -> list[tuple[str, str, Callable[[], graph.Dataset], str]]:
    """(key, title, dataset loader, holdout) of each scenario asked for."""
    make_world = None

    def family(name: str, profiles: bool) -> Callable[[], graph.Dataset]:
        def load() -> graph.Dataset:
            world = _generator("worlds")(name, 3000, 400, 15000, 1, profiles=profiles)
            return graph.Dataset.from_frames(source=f"worlds.{name}", **world)

        return load

    def synthetic(**kwargs: object) -> Callable[[], graph.Dataset]:
        def load() -> graph.Dataset:
            nonlocal make_world
            make_world = make_world or _generator("make_synthetic")
            return graph.Dataset.from_frames(source="make_world", **make_world(**kwargs))

        return load

    all_scenarios = [
        ("a", "fixtures/hanoi, temporal", lambda: graph.load_dataset(HANOI), "temporal"),
        (
            "b",
            "fixtures/hanoi links only, random",
            lambda: links_only(graph.load_dataset(HANOI)),
            "random",
        ),
        (
            "c",
            "synthetic links only (3,000 suppliers, 400 buyers, 15,000 links), random",
            synthetic(n_suppliers=3000, n_buyers=400, n_links=15000, seed=0, profiles=False),
            "random",
        ),
        (
            "d",
            "synthetic with profiles (2,000 suppliers, 300 buyers, 10,000 links), temporal",
            synthetic(n_suppliers=2000, n_buyers=300, n_links=10000, seed=0, profiles=True),
            "temporal",
        ),
        (
            "e",
            "real-shaped links only (15,000 suppliers, 640 buyers, 48,000 links, seed 5), random",
            synthetic(n_suppliers=15000, n_buyers=640, n_links=48000, seed=5, profiles=False),
            "random",
        ),
    ]
    for keys, name in (("fg", "quality"), ("hi", "attachment"), ("jk", "tiers")):
        size = "3,000 suppliers, 400 buyers, 15,000 links, seed 1"
        all_scenarios += [
            (
                keys[0],
                f"worlds {name} with profiles ({size}), temporal",
                family(name, True),
                "temporal",
            ),
            (keys[1], f"worlds {name} links only ({size}), random", family(name, False), "random"),
        ]
    all_scenarios += [
        (
            "l",
            "fixtures/hanoi, cold-start buyers (every link of a tenth of the buyers hidden)",
            lambda: graph.load_dataset(HANOI),
            "cold",
        ),
        (
            "m",
            "worlds quality with profiles (3,000 suppliers, 400 buyers, 15,000 links, seed 1), "
            "cold-start buyers",
            family("quality", True),
            "cold",
        ),
    ]
    return [s for s in all_scenarios if s[0] in only]


def run(
    dataset: graph.Dataset, holdout: str, k: int, seeds: int
) -> tuple[EvaluationResult, str | None]:
    """Evaluate with every default method; without the matcher where it cannot fit."""
    methods = default_methods(holdout=holdout)
    try:
        return evaluate(dataset, holdout=holdout, k=k, seeds=seeds, methods=methods), None
    except Exception as error:  # noqa: BLE001 - a benchmark reports the failure and goes on
        if "model" not in methods:
            raise
        note = f"matcher failed ({type(error).__name__}: {error}); baselines only"
        baselines = default_methods(include_model=False, holdout=holdout)
        return evaluate(dataset, holdout=holdout, k=k, seeds=seeds, methods=baselines), note


def summary(ndcg: dict[str, pd.Series], k: int) -> str:
    """NDCG@k of every method (rows) on every world run (columns), with the mean over worlds."""
    table = pd.DataFrame(ndcg)
    table["mean"] = table.mean(axis=1)
    lines = [
        f"## NDCG@{k} on every world (mean over seeds; mean over the worlds run)",
        "",
        "| method | " + " | ".join(f"({c})" if c != "mean" else c for c in table.columns) + " |",
        "|---|" + "---:|" * len(table.columns),
    ]
    for name, row in table.iterrows():
        cells = ["–" if pd.isna(v) else f"{v:.3f}" for v in row.tolist()]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def machine() -> str:
    return (
        f"{dt.datetime.now().isoformat(timespec='seconds')} · {platform.platform()} · "
        f"{platform.processor() or platform.machine()} · {os.cpu_count()} CPUs · "
        f"Python {platform.python_version()} · numpy {np.__version__} · pandas {pd.__version__}"
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument(
        "--only", default="a,b,c,d,e,f,g,h,i,j,k,l,m", help="comma-separated scenario keys"
    )
    parser.add_argument("--json-out", type=Path, help="also write every result as JSON here")
    args = parser.parse_args(argv)

    print(f"# Ranking quality\n\n{machine()}\n")
    report = {"machine": machine(), "k": args.k, "seeds": args.seeds, "scenarios": {}}
    ndcg: dict[str, pd.Series] = {}
    for key, title, load, holdout in scenarios(set(args.only.split(","))):
        start = time.perf_counter()
        dataset = load()
        result, note = run(dataset, holdout, args.k, args.seeds)
        seconds = time.perf_counter() - start
        counts = dataset.summary()
        print(f"## ({key}) {title}\n")
        print(f"{counts['firms']:,} firms, {counts['links']:,} links; wall time {seconds:.1f} s.\n")
        if note:
            print(f"Note: {note}\n")
        print(result.to_markdown() + "\n", flush=True)
        ndcg[key] = result.metrics["ndcg_at_k"]
        report["scenarios"][key] = {
            "title": title,
            "firms": counts["firms"],
            "links": counts["links"],
            "seconds": seconds,
            "note": note,
            **result.to_dict(),
        }
    if len(ndcg) > 1:
        print(summary(ndcg, args.k) + "\n")
    if args.json_out:
        args.json_out.write_text(json.dumps(report, indent=2, allow_nan=False), encoding="utf-8")
        print(f"JSON written to {args.json_out}")


if __name__ == "__main__":
    main()
