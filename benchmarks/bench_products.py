"""Product text to categories and HS headings: the suggester against token overlap.

The labelled phrases are ``fixtures/products/labelled_products.csv`` (written by hand as
officers' lists write products, Vietnamese with and without diacritics and English, each with its
true category of ``fixtures/hanoi/categories.csv`` and that category's HS heading; see the
folder's README). Nothing is learnt from them; ``split`` marks the third of the rows that the
method's settings were chosen on (``dev``) and the rest (``test``), reported apart.

For each phrase, in the same run:

- ``suggester``: :func:`ketnoi.graph.suggest_categories` (char n-gram TF-IDF);
- ``baseline``: :func:`ketnoi.graph._products.token_overlap_suggestions` (share of the phrase's
  folded words found in a category's names and HS text);
- ``hs``: :func:`ketnoi.graph.suggest_hs` at heading level, with the world's categories as extra
  text, and without them (English phrases only: the HS text is English);

top-1 and top-3 accuracy (the true category among the first 1 or 3 suggestions; for HS, the true
heading), and the time per phrase. Run::

    OMP_NUM_THREADS=1 python benchmarks/bench_products.py [--json-out FILE]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

from ketnoi.graph import CategorySuggester, Suggestion, suggest_hs
from ketnoi.graph._products import token_overlap_suggestions

ROOT = Path(__file__).resolve().parents[1]
LABELLED = ROOT / "fixtures" / "products" / "labelled_products.csv"
CATEGORIES = ROOT / "fixtures" / "hanoi" / "categories.csv"


def accuracy(
    phrases: pd.DataFrame, suggest: Callable[[str], list[Suggestion]], truth: str, key: str
) -> dict[str, Any]:
    """Top-1 and top-3 accuracy of ``suggest`` on ``phrases`` (``key``: the field compared)."""
    hits1 = hits3 = 0
    start = time.perf_counter()
    for text, true in zip(phrases["text"], phrases[truth], strict=True):
        found = [getattr(s, key) for s in suggest(text)[:3]]
        hits1 += bool(found) and found[0] == true
        hits3 += true in found
    seconds = time.perf_counter() - start
    n = len(phrases)
    return {
        "n": n,
        "top1": round(hits1 / n, 3) if n else None,
        "top3": round(hits3 / n, 3) if n else None,
        "ms_per_phrase": round(1000 * seconds / n, 2) if n else None,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--json-out", type=Path)
    args = parser.parse_args()

    phrases = pd.read_csv(LABELLED, dtype=str, keep_default_na=False)
    categories = pd.read_csv(CATEGORIES, dtype=str, keep_default_na=False)
    start = time.perf_counter()
    suggester = CategorySuggester().fit(categories)
    fit_seconds = time.perf_counter() - start

    methods: dict[str, tuple[Callable[[str], list[Suggestion]], str, str]] = {
        "suggester": (lambda t: suggester.suggest(t, k=3), "category_id", "category_id"),
        "baseline": (
            lambda t: token_overlap_suggestions(t, categories, k=3),
            "category_id",
            "category_id",
        ),
        "hs_with_categories": (
            lambda t: suggest_hs(t, k=3, categories=categories),
            "hs_heading",
            "hs_code",
        ),
        "hs_alone": (lambda t: suggest_hs(t, k=3), "hs_heading", "hs_code"),
    }
    suggest_hs("warm-up", categories=categories)  # build both HS indexes before timing
    suggest_hs("warm-up")
    results: list[dict[str, Any]] = []
    groups = [("all", phrases)]
    groups += [(f"split={s}", phrases[phrases["split"] == s]) for s in ("dev", "test")]
    groups += [(f"lang={g}", phrases[phrases["lang"] == g]) for g in ("vi", "vi_ascii", "en")]
    for method, (suggest, truth, key) in methods.items():
        for label, subset in groups:
            if method == "hs_alone" and label != "lang=en":
                continue  # without the categories, HS text reaches English only
            row = {"method": method, "phrases": label, **accuracy(subset, suggest, truth, key)}
            results.append(row)
            print(
                f"{method:<20} {label:<16} n={row['n']:<4} top-1 {row['top1']:.3f}"
                f"  top-3 {row['top3']:.3f}  {row['ms_per_phrase']} ms/phrase"
            )
    report = {
        "date": dt.date.today().isoformat(),
        "machine": f"{os.cpu_count()} cores, {platform.machine()},"
        f" Python {platform.python_version()}",
        "phrases": len(phrases),
        "categories": len(categories),
        "fit_seconds": round(fit_seconds, 2),
        "results": results,
    }
    print(f"fit: {fit_seconds:.2f} s for {len(categories)} categories")
    if args.json_out:
        args.json_out.write_text(json.dumps(report, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
