"""What a supplier's buyers cost to rank, and to keep: the memo's figures against precomputing.

A supplier's buyers are ranked live (``Matcher.suggest_buyers``); the service keeps each answer
with the bound matcher once made (``api/service/_memo.py``), so a question is ranked once per
binding. This measures, on the demo world or a generated one:

* the time of one supplier's ranking as the service asks it (``k`` = 30, 10 shown and 20
  spare), in English, over every supplier or a random sample of them: what the first question
  after a binding costs, and what a repeated one no longer costs;
* the bytes one kept answer holds (its frame, deep), and so what :data:`MEMO_SIZE` answers
  hold at most;
* the alternative, every supplier ranked when the model is bound: the sum of those times
  (the bind time it would add) and the bytes of every answer (the memory it would add).

Usage::

    python benchmarks/bench_supplier_answers.py [--dataset fixtures/hanoi]
    python benchmarks/bench_supplier_answers.py --suppliers 20000 --buyers 2000 \\
        --links 200000 --sample 300

Prints a markdown table to stdout.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from pathlib import Path

import numpy as np

from ketnoi import graph, matcher

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_scale import machine, make_world  # noqa: E402 - a sibling script

ROOT = Path(__file__).resolve().parents[1]
#: As the service asks: 10 shown and 20 spare (api/service/_recommendations.SPARE_ROWS).
FETCH = 30
MEMO_SIZE = 1024  # api/service/_memo.MEMO_SIZE, named here so the script needs no service


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dataset", type=Path, default=ROOT / "fixtures" / "hanoi")
    parser.add_argument("--suppliers", type=int, default=0, help="a generated world instead")
    parser.add_argument("--buyers", type=int, default=0)
    parser.add_argument("--links", type=int, default=0)
    parser.add_argument("--sample", type=int, default=0, help="suppliers timed (0: all)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    if args.suppliers:
        world = make_world(args.suppliers, args.buyers, args.links, args.seed, profiles=True)
        dataset = graph.Dataset.from_frames(**world)
        name = f"generated {args.suppliers:,} / {args.buyers:,} / {args.links:,}"
    else:
        dataset = graph.load_dataset(args.dataset)
        name = str(args.dataset.relative_to(ROOT) if args.dataset.is_relative_to(ROOT) else "")
    start = time.perf_counter()
    m = matcher.Matcher().fit(dataset)
    fit = time.perf_counter() - start
    suppliers = list(m.index_.supplier_ids)
    asked = suppliers
    if args.sample and args.sample < len(suppliers):
        asked = random.Random(args.seed).sample(suppliers, args.sample)
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    seconds, sizes = [], []
    for supplier in asked:
        start = time.perf_counter()
        frame = m.suggest_buyers(supplier, k=FETCH, lang="en")
        seconds.append(time.perf_counter() - start)
        sizes.append(int(frame.memory_usage(deep=True).sum()))
    ms = np.array(seconds) * 1000
    size = np.array(sizes)
    scale = len(suppliers) / len(asked)
    print(f"{machine()['date']}; {name}; fit {fit:.1f} s; load average {load} before the timing")
    print()
    print("| what | figure |")
    print("| --- | ---: |")
    print(f"| suppliers (timed) | {len(suppliers):,} ({len(asked):,}) |")
    print(
        f"| one supplier's buyers, p50 / p95 / max ms | {np.percentile(ms, 50):.0f} / "
        f"{np.percentile(ms, 95):.0f} / {ms.max():.0f} |"
    )
    print(
        f"| one kept answer, mean / max KB | {size.mean() / 1024:.1f} / {size.max() / 1024:.1f} |"
    )
    print(f"| {MEMO_SIZE} kept answers at most, MB | {MEMO_SIZE * size.mean() / 2**20:.1f} |")
    print(f"| every supplier ranked at bind: time added, s | {ms.sum() * scale / 1000:.0f} |")
    print(f"| every supplier ranked at bind: memory added, MB | {size.sum() * scale / 2**20:.1f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
