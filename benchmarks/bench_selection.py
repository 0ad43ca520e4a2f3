"""Inner validation against the held-out split: each selectable ranker, judged twice.

``model="auto"`` chooses the matcher's ranker by its NDCG@10 on a period (or fold) held back
from the *training* data. This benchmark shows whether that choice is the right one: on each
world of ``bench_quality.py`` and each seed it fits the matcher once (recording the inner
table and the choice), then refits every ranker of the table (the single rankers of
:data:`ketnoi.matcher.RANKERS`, lambdarank where LightGBM is installed, and the learned blend
with EASE) on the same training pairs and judges each on the held-out split, beside the
strongest peers (EASE, RP3beta, iALS, each tuned by its own inner validation) on the same
split. The held-out figures are never used to choose anything: they show what each choice
would have given.

Usage::

    python benchmarks/bench_selection.py --only b,e,g,i,k --seeds 3 [--json-out FILE]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import pandas as pd
from threadpoolctl import threadpool_limits

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_quality  # noqa: E402  (a sibling script, not a package)

from ketnoi.matcher import Matcher, MatcherSettings  # noqa: E402
from ketnoi.matcher._evaluate import default_methods  # noqa: E402
from ketnoi.matcher._judge import judge_rankings  # noqa: E402
from ketnoi.matcher._selection import fit_params, make_ranker  # noqa: E402
from ketnoi.matcher._splits import split_cold, split_random, split_temporal  # noqa: E402
from ketnoi.matcher._training import training_set  # noqa: E402


def one_seed(
    dataset, holdout: str, seed: int, k: int, judge: set[str], peers: tuple[str, ...]
) -> list[dict[str, object]]:
    """Rows (world-independent): method, inner NDCG (rankers), held-out NDCG, chosen."""
    if holdout == "temporal":
        train, heldout = split_temporal(dataset)
    elif holdout == "cold":
        train, heldout = split_cold(dataset, seed)
    else:
        train, heldout = split_random(dataset, seed)
    training = "folds" if holdout in ("random", "cold") else "auto"
    settings = MatcherSettings(random_state=seed, training=training)
    rows: list[dict[str, object]] = []

    def judged(ranker) -> float:
        row, _ = judge_rankings(
            ranker, train, heldout, k=k, seed=seed, batch_size=256, calibrate=False
        )
        return float(row["ndcg_at_k"])

    start = time.perf_counter()
    model = Matcher(settings).fit(train)
    fit_seconds = time.perf_counter() - start
    rows.append(
        {
            "method": "model (auto)",
            "chosen": model.ranker_,
            "heldout": judged(model),
            "fit_seconds": fit_seconds,
        }
    )
    # The same training pairs as the fit (training_set is seeded by the settings).
    pairs = training_set(model.index_, train, settings, model.ease_l2_)
    for entry in model.selection_:
        name = str(entry["ranker"])
        if name not in judge and not ("+" in name and "blend" in judge):
            rows.append({"method": name, "inner": float(entry["inner_ndcg@10"])})
            continue
        scorer = make_ranker(settings, len(pairs.labels), name, model.selection_)
        with threadpool_limits(limits=1, user_api="openmp"):
            scorer.fit(pairs.features, pairs.labels, **fit_params(name, pairs.queries))
        # Order only: calibration is monotonic, so it is left out here.
        model.pipeline_, model.ranker_, model.calibration_ = scorer, name, None
        model.rankings_ = {}
        rows.append(
            {"method": name, "inner": float(entry["inner_ndcg@10"]), "heldout": judged(model)}
        )
    factories = default_methods(include_model=False, holdout=holdout)
    for name in peers:
        if name in factories:
            rows.append(
                {"method": f"peer {name}", "heldout": judged(factories[name](seed).fit(train))}
            )
    return rows


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument("--seeds", default="0,1,2", help="comma-separated seeds")
    parser.add_argument("--only", default="b,e,g,i,k")
    parser.add_argument(
        "--judge",
        default="hgb,logistic,ease,lgbm_rank,blend",
        help="rankers of the inner table also judged on the held-out split",
    )
    parser.add_argument("--peers", default="ease,rp3beta,als")
    parser.add_argument("--json-out", type=Path)
    args = parser.parse_args(argv)
    print(f"# Inner validation against the held-out split\n\n{bench_quality.machine()}\n")
    judge, peers = set(args.judge.split(",")), tuple(p for p in args.peers.split(",") if p)
    worlds = bench_quality.scenarios(set(args.only.split(",")))
    datasets = {key: load() for key, _, load, _ in worlds}
    frames: list[pd.DataFrame] = []
    # Seeds outermost: every world gets its first seed before any gets a second.
    for seed in (int(s) for s in args.seeds.split(",")):
        for key, _, _, holdout in worlds:
            start = time.perf_counter()
            rows = one_seed(datasets[key], holdout, seed, args.k, judge, peers)
            frame = pd.DataFrame(rows).assign(world=key, seed=seed)
            seconds = time.perf_counter() - start
            print(f"## ({key}) seed {seed} ({seconds:.0f} s)\n\n{frame.to_string()}\n", flush=True)
            frames.append(frame)
            if args.json_out:
                table = pd.concat(frames, ignore_index=True)
                args.json_out.write_text(
                    json.dumps(
                        {"machine": bench_quality.machine(), "rows": table.to_dict("records")},
                        indent=2,
                        default=str,
                    ),
                    encoding="utf-8",
                )
    table = pd.concat(frames, ignore_index=True)
    mean = table.pivot_table(index="method", columns="world", values="heldout", aggfunc="mean")
    print("## Held-out NDCG@10, mean over the seeds run\n")
    print(mean.round(4).to_string() + "\n")


if __name__ == "__main__":
    main()
