"""The adapters at the size of real downloads: Open Supply Hub and an edge list by name.

Synthetic inputs (seeded; written to a temporary folder): an OSH download of ``--facilities``
facilities (12 product types, 3 of 300 brands each, brands' types in a side table), and an edge
list of ``--edges`` rows between ``--names`` firm names, a third of them written a second way
(upper case without diacritics, or the legal form abbreviated). For each, the adapter's wall time
against reading the same file alone (:func:`read_input_table`, the baseline: what any adapter
must pay), in the same run, and the contract check of what it made. Run::

    OMP_NUM_THREADS=1 python benchmarks/bench_adapters.py [--facilities 20000] [--edges 20000]
"""

from __future__ import annotations

import argparse
import csv
import os
import platform
import random
import tempfile
import time
from pathlib import Path

import pandas as pd

from ketnoi.graph import fold
from ketnoi.graph._adapt_common import read_input_table
from ketnoi.graph._adapt_edges import adapt_edges
from ketnoi.graph._adapt_osh import OSH_COLUMNS, adapt_osh

ROOT = Path(__file__).resolve().parents[1]
PRODUCTS = ["T-shirts", "Knitted fabric", "Zippers", "Woven labels", "Rubber outsoles",
            "Leather shoes", "Cotton yarn", "Sewing thread", "Cartons", "Men's shirts",
            "Jackets", "Nonwoven fabric"]  # fmt: skip
WORDS = ["Cơ khí", "Nhựa", "Bao bì", "Điện tử", "May mặc", "Thép", "Linh kiện", "Khuôn mẫu",
         "Cao su", "In", "Dệt", "Hóa chất"]  # fmt: skip
PLACES = ["Hà Nội", "Thăng Long", "Đông Anh", "Sóc Sơn", "Gia Lâm", "Hưng Yên", "Bắc Ninh",
          "Hải Phòng", "Vĩnh Phúc", "Nam Đà", "Phú Minh", "An Khánh"]  # fmt: skip


def write_osh(folder: Path, n: int, rng: random.Random) -> tuple[Path, Path]:
    brands = [f"Brand {i}" for i in range(300)]
    path, types = folder / "osh.csv", folder / "types.csv"
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(OSH_COLUMNS)
        for i in range(n):
            w.writerow([f"VN{i:010d}", "2024-01-01", f"Factory {i}", "Hà Nội", "VN", "Viet Nam",
                        21 + rng.random(), 105 + rng.random(), "Apparel",
                        "|".join(rng.sample(brands, 3)), "100-500", "", "", "", "",
                        rng.choice(PRODUCTS), "False"])  # fmt: skip
    with types.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["name", "type"])
        w.writerows([b, "Brand / Retailer"] for b in brands)
    return path, types


def write_edges(folder: Path, rows: int, names: int, rng: random.Random) -> Path:
    firms = []
    for i in range(names):
        core = f"{rng.choice(WORDS)} {rng.choice(PLACES)} {i}"
        firms.append((f"Công ty TNHH {core}", f"CONG TY TNHH {fold(core).upper()}"
                      if i % 2 else f"Cty TNHH {core}"))  # fmt: skip
    path = folder / "edges.csv"
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["supplier", "buyer", "category", "year"])
        for _ in range(rows):
            s, b = rng.sample(firms, 2)
            pick = [x[1] if rng.random() < 1 / 3 else x[0] for x in (s, b)]
            w.writerow([*pick, rng.choice(["moulded-parts", "springs", "cartons"]),
                        rng.randint(2005, 2024)])  # fmt: skip
    return path


def timed(label: str, run) -> object:  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    out = run()
    print(f"{label:<44} {time.perf_counter() - start:7.2f} s", flush=True)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--facilities", type=int, default=20_000)
    parser.add_argument("--edges", type=int, default=20_000)
    parser.add_argument("--names", type=int, default=4_000)
    args = parser.parse_args()
    print(f"{os.cpu_count()} cores, Python {platform.python_version()}, load {os.getloadavg()}")
    rng = random.Random(0)
    categories = pd.read_csv(ROOT / "fixtures/hanoi/categories.csv", dtype=str,
                             keep_default_na=False)  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        osh, types = write_osh(folder, args.facilities, rng)
        edges = write_edges(folder, args.edges, args.names, rng)
        timed(f"read {args.facilities:,} OSH rows (baseline)", lambda: read_input_table(osh))
        result = timed("adapt osh (with categories)", lambda: adapt_osh(osh, categories, types))
        timed("contract check of its frames", result.dataset)  # type: ignore[attr-defined]
        print(f"  {len(result.frames['firms']):,} firms, {len(result.frames['links']):,} links")  # type: ignore[attr-defined]
        timed(f"read {args.edges:,} edge rows (baseline)", lambda: read_input_table(edges))
        result = timed("adapt edges (with categories)", lambda: adapt_edges(edges, categories))
        timed("contract check of its frames", result.dataset)  # type: ignore[attr-defined]
        firms = result.frames["firms"]  # type: ignore[attr-defined]
        print(f"  {len(firms):,} firms from {args.names:,} firms written two ways;"
              f" {len(result.review):,} pairs to review")  # type: ignore[attr-defined]  # fmt: skip


if __name__ == "__main__":
    main()
