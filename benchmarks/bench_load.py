"""Time loading, validating and building the supply graph of a dataset folder.

The same run also times a plain ``pandas.read_csv`` of the same files. Absolute times move with
the machine and its load; the ratio ``ketnoi / raw read`` moves much less, so it is the figure to
compare between runs.

Usage::

    python benchmarks/bench_load.py [FOLDER] [--repeat 5]

FOLDER defaults to ``fixtures/hanoi``. Prints a markdown table to stdout.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from ketnoi import graph

ROOT = Path(__file__).resolve().parents[1]
# Run from a checkout without installing: the graph package sits at the repository root.


DEFAULT = ROOT / "fixtures" / "hanoi"


def median_seconds(step: Callable[[], object], repeat: int) -> float:
    """Median wall time of ``repeat`` calls of ``step``."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def contract_files(folder: Path) -> list[Path]:
    """The contract CSV files present in ``folder``, in load order."""
    return [folder / f"{n}.csv" for n in graph.FILE_ORDER if (folder / f"{n}.csv").exists()]


def raw_read(files: list[Path]) -> None:
    # dtype=str, keep_default_na=False: read the cells as text, as ketnoi's reader does, so the
    # baseline does the same I/O and tokenising without any parsing of values.
    for path in files:
        pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")


def load_and_build(folder: Path) -> None:
    graph.build_supply_graph(graph.load_dataset(folder))


def machine() -> str:
    return (
        f"{dt.date.today().isoformat()}, {platform.platform()}, "
        f"{os.cpu_count()} CPUs, Python {platform.python_version()}, "
        f"pandas {pd.__version__}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").strip().splitlines()[0])
    parser.add_argument("folder", nargs="?", type=Path, default=DEFAULT)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)
    folder: Path = args.folder
    files = contract_files(folder)
    if not files:
        print(f"no contract CSV files in {folder}", file=sys.stderr)
        return 2

    dataset = graph.load_dataset(folder)  # also warms caches and imports before timing
    G = graph.build_supply_graph(dataset)
    raw = median_seconds(lambda: raw_read(files), args.repeat)
    load = median_seconds(lambda: graph.load_dataset(folder), args.repeat)
    build = median_seconds(lambda: graph.build_supply_graph(dataset), args.repeat)
    total = median_seconds(lambda: load_and_build(folder), args.repeat)

    size = sum(p.stat().st_size for p in files)
    print(
        f"Dataset `{folder}`: {len(dataset.firms)} firms, {len(dataset.links)} links, "
        f"{G.number_of_nodes()} nodes, {G.number_of_edges()} edges, {size / 1e6:.2f} MB of CSV."
    )
    print(f"Median of {args.repeat} runs; {machine()}.\n")
    print("| step | median (ms) | x raw read |")
    print("|---|---:|---:|")
    for name, seconds in (
        ("pandas.read_csv of the same files (baseline)", raw),
        ("load_dataset (read + validate)", load),
        ("build_supply_graph", build),
        ("load_dataset + build_supply_graph", total),
    ):
        print(f"| {name} | {seconds * 1000:.1f} | {seconds / raw:.1f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
