"""Entity resolution of firm records: quality on the labelled benchmark, against Splink, and
speed and memory at 100,000 source records.

Quality. ``fixtures/resolution/records.csv`` (``make_resolution.py``, seed 2026) is split by
firm (a head office with its branches) into ``train`` and ``test``. Every setting is chosen on
``train``: the resolver is fitted there (it needs no labels) and the thresholds are picked there
(``accept``: the highest F1 with precision >= 0.99; ``review``: the lowest threshold at which a
quarter of the pairs waiting for review are true). The figures are reported on
``test``, which nothing was tuned on. Pairwise: a true pair is two records of one firm; a
branch and its head office are two firms, linked (``branch_of``), never a match.

Baseline. Splink 5 (DuckDB) on the same normalised records (:func:`ketnoi.graph.firm_keys`):
Fellegi-Sunter with term-frequency adjustment on the brand, ``u`` by random sampling, ``m`` by
EM sessions blocked on the tax code and on the brand, the thresholds picked on ``train`` the
same way; its own blocking rules mirror ours (tax code, phone, domains, name, brand, province
with a brand word).

Scale. ``make_resolution.make_records`` with enough firms for 100,000 source records, resolved
end to end in a child process (normalise, block, fit on those pairs, score, decide), timed per
step, with the child's peak resident memory.

Usage::

    python benchmarks/bench_resolution.py [--scale 100000] [--no-splink] [--no-scale]
        [--json-out FILE]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import multiprocessing
import platform
import resource
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

from ketnoi.graph import FirmResolver, candidate_pairs, decide, firm_keys

ROOT = Path(__file__).resolve().parent.parent
RECORDS = ROOT / "fixtures" / "resolution" / "records.csv"
GRID = np.round(np.concatenate([np.arange(0.05, 0.95, 0.05), np.arange(0.95, 1.0, 0.01)]), 3)


def _generator():  # fixtures/ is not a package
    spec = importlib.util.spec_from_file_location(
        "make_resolution", ROOT / "fixtures" / "resolution" / "make_resolution.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# -- truth and metrics ---------------------------------------------------------------------
def true_pairs(records: pd.DataFrame) -> set[tuple[str, str]]:
    pairs: set[tuple[str, str]] = set()
    for _, group in records.groupby("entity_id"):
        ids = sorted(group["id"])
        pairs.update((a, b) for i, a in enumerate(ids) for b in ids[i + 1 :])
    return pairs


def branch_pairs(records: pd.DataFrame) -> set[tuple[str, str]]:
    """(branch record, head-office record) pairs, sorted as pairs of ids."""
    heads = records[records["head_entity_id"] == ""].groupby("entity_id")["id"].apply(list)
    pairs: set[tuple[str, str]] = set()
    for branch, head in zip(records["id"], records["head_entity_id"], strict=True):
        for other in heads.get(head, []) if head else []:
            pairs.add((min(branch, other), max(branch, other)))
    return pairs


def pair_set(frame: pd.DataFrame) -> set[tuple[str, str]]:
    return {
        (min(a, b), max(a, b)) for a, b in zip(frame["left_id"], frame["right_id"], strict=True)
    }


def prf(found: set[tuple[str, str]], truth: set[tuple[str, str]]) -> dict[str, float]:
    hits = len(found & truth)
    precision = hits / len(found) if found else 1.0
    recall = hits / len(truth) if truth else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1, "predicted": len(found)}


def pick_thresholds(
    probability: np.ndarray, is_true: np.ndarray, n_true: int
) -> tuple[float, float]:
    """``accept``: best F1 with precision >= 0.99; ``review``: the lowest threshold at which
    a quarter of the pairs queued for review are true (both on the training part)."""
    best, accept = -1.0, 0.99
    for t in GRID:
        chosen = probability >= t
        hits = int((chosen & is_true).sum())
        precision = hits / max(int(chosen.sum()), 1)
        recall = hits / n_true
        f1 = 2 * precision * recall / (precision + recall) if hits else 0.0
        if precision >= 0.99 and f1 > best:
            best, accept = f1, float(t)
    # review: the lowest threshold at which a quarter or more of the queued pairs (between
    # review and accept) are true, so that a person's look is worth it.
    review = accept
    for t in sorted(GRID):
        band = (probability >= t) & (probability < accept)
        if t <= accept and band.any() and (band & is_true).sum() >= 0.25 * band.sum():
            review = float(t)
            break
    return accept, review


# -- ketnoi --------------------------------------------------------------------------------
def run_ketnoi(train: pd.DataFrame, test: pd.DataFrame) -> dict[str, object]:
    started = time.perf_counter()
    resolver = FirmResolver().fit(train)
    fit_seconds = time.perf_counter() - started
    train_truth = true_pairs(train)
    scored = resolver.score(candidate_pairs(train), train)
    is_true = np.array([p in train_truth for p in _ordered(scored)])
    # Thresholds on pairs that decide() may call a match: branch links are decided apart.
    plain = ~(scored["left_is_branch"] ^ scored["right_is_branch"]).to_numpy()
    accept, review = pick_thresholds(
        scored["match_probability"].to_numpy()[plain], is_true[plain], len(train_truth)
    )

    started = time.perf_counter()
    pairs = candidate_pairs(test)
    block_seconds = time.perf_counter() - started
    started = time.perf_counter()
    scored = resolver.score(pairs, test)
    score_seconds = time.perf_counter() - started
    truth = true_pairs(test)
    result: dict[str, object] = {
        "method": f"ketnoi {resolver.method_version}",
        "records": len(test),
        "true_pairs": len(truth),
        "candidate_pairs": len(pairs),
        "blocking_recall": len(pair_set(pairs) & truth) / len(truth),
        "blocking_lost": len(truth - pair_set(pairs)),
        "true_pairs_found_by_rule": _found_by_rule(pairs, truth),
        "accept": accept,
        "review": review,
        "fit_seconds": fit_seconds,
        "block_seconds": block_seconds,
        "score_seconds": score_seconds,
    }
    settings = {
        "chosen": (accept, review, False),
        # As the register's intake decides: a name alone equal to a firm's is asked about.
        "chosen_name_only_review": (accept, review, True),
        "at_0.95_0.6": (0.95, 0.6, False),
    }
    for label, (a, r, name_only) in settings.items():
        decided = decide(scored, accept=a, review=r, name_only_review=name_only)
        matched = pair_set(decided[decided["decision"] == "match"])
        queued = pair_set(decided[decided["decision"].isin(["match", "review"])])
        result[label] = {
            **prf(matched, truth),
            "review_queue": int((decided["decision"] == "review").sum()),
            "recall_with_review": len(queued & truth) / len(truth),
            "branch_of": prf(
                pair_set(decided[decided["decision"] == "branch_of"]), branch_pairs(test)
            ),
            "conflicting_tax_codes_matched": int(
                (decided["tax_conflict"] & (decided["decision"] == "match")).sum()
            ),
        }
    return result


def _ordered(frame: pd.DataFrame) -> list[tuple[str, str]]:
    return [
        (min(a, b), max(a, b)) for a, b in zip(frame["left_id"], frame["right_id"], strict=True)
    ]


def _found_by_rule(pairs: pd.DataFrame, truth: set[tuple[str, str]]) -> dict[str, int]:
    found = pairs.assign(pair=_ordered(pairs))
    true_found = found[found["pair"].isin(truth)]
    return {str(k): int(v) for k, v in true_found["rule"].value_counts().items()}


# -- Splink --------------------------------------------------------------------------------
def _splink_frame(records: pd.DataFrame) -> pd.DataFrame:
    keys = firm_keys(records)
    frame = keys[
        [
            "id",
            "name_core",
            "brand",
            "brand_word_0",
            "brand_word_1",
            "legal_form",
            "province",
            "district",
            "phone",
            "email_domain",
            "website_domain",
            "tax_digits",
            "tax_head",
        ]
    ].copy()
    frame["trade"] = keys["trade_words"].map(lambda words: " ".join(sorted(set(words))))
    frame = frame.astype(str).replace("", None)
    free = frame["email_domain"].isin(["gmail.com", "yahoo.com", "yahoo.com.vn", "hotmail.com"])
    frame.loc[free, "email_domain"] = None
    return frame


def _splink_settings():  # type: ignore[no-untyped-def]
    import splink.comparison_library as cl
    from splink import SettingsCreator, block_on

    return SettingsCreator(
        link_type="dedupe_only",
        unique_id_column_name="id",
        comparisons=[
            cl.JaroWinklerAtThresholds("brand", [0.95, 0.88]).configure(
                term_frequency_adjustments=True
            ),
            cl.JaroWinklerAtThresholds("trade", [0.9]),
            cl.ExactMatch("tax_digits"),
            cl.ExactMatch("phone"),
            cl.ExactMatch("email_domain"),
            cl.ExactMatch("website_domain"),
            cl.ExactMatch("district"),
            cl.ExactMatch("province"),
            cl.ExactMatch("legal_form"),
        ],
        blocking_rules_to_generate_predictions=[
            block_on("tax_head"),
            block_on("phone"),
            block_on("website_domain"),
            block_on("email_domain"),
            block_on("name_core"),
            block_on("brand"),
            block_on("province", "brand_word_0"),
            block_on("province", "brand_word_1"),
        ],
        retain_intermediate_calculation_columns=False,
    )


def _splink_predict(frame: pd.DataFrame, settings) -> pd.DataFrame:  # type: ignore[no-untyped-def]
    from splink import DuckDBAPI, Linker

    linker = Linker(DuckDBAPI().register(frame), settings, log_level=None)
    return linker, linker.inference.predict().as_pandas_dataframe()


def _hard_rules(pairs: pd.DataFrame, records: pd.DataFrame) -> pd.DataFrame:
    """Splink's pairs under :func:`decide`'s two rules, so that both methods are judged alike:
    a branch against a non-branch is never a match, nor are valid tax codes that differ."""
    keys = firm_keys(records).set_index("id")
    a, b = keys.loc[pairs["left_id"]], keys.loc[pairs["right_id"]]
    one_branch = a["is_branch"].to_numpy() != b["is_branch"].to_numpy()
    conflict = (
        a["tax_valid"].to_numpy()
        & b["tax_valid"].to_numpy()
        & (a["tax_head"].to_numpy() != b["tax_head"].to_numpy())
    )
    return pairs[~one_branch & ~conflict].reset_index(drop=True)


def run_splink(train: pd.DataFrame, test: pd.DataFrame) -> dict[str, object]:
    import splink
    from splink import DuckDBAPI, Linker, block_on

    started = time.perf_counter()
    frame = _splink_frame(train)
    linker = Linker(DuckDBAPI().register(frame), _splink_settings(), log_level=None)
    linker.training.estimate_probability_two_random_records_match(
        [block_on("tax_digits")], recall=0.5
    )
    linker.training.estimate_u_using_random_sampling(max_pairs=5e6, seed=0)
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("tax_digits"))
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("brand"))
    fit_seconds = time.perf_counter() - started
    model = linker.misc.save_model_to_json()
    predicted = linker.inference.predict().as_pandas_dataframe()
    predicted = _hard_rules(
        predicted.rename(columns={"id_l": "left_id", "id_r": "right_id"}), train
    )
    train_truth = true_pairs(train)
    ordered = [
        (min(a, b), max(a, b))
        for a, b in zip(predicted["left_id"], predicted["right_id"], strict=True)
    ]
    is_true = np.array([p in train_truth for p in ordered])
    accept, review = pick_thresholds(
        predicted["match_probability"].to_numpy(), is_true, len(train_truth)
    )

    started = time.perf_counter()
    test_linker = Linker(DuckDBAPI().register(_splink_frame(test)), model, log_level=None)
    predicted = test_linker.inference.predict().as_pandas_dataframe()
    seconds = time.perf_counter() - started
    truth = true_pairs(test)
    pairs = _hard_rules(predicted.rename(columns={"id_l": "left_id", "id_r": "right_id"}), test)
    result: dict[str, object] = {
        "method": f"splink {splink.__version__}",
        "candidate_pairs": len(pairs),
        "blocking_recall": len(pair_set(pairs) & truth) / len(truth),
        "accept": accept,
        "review": review,
        "fit_seconds": fit_seconds,
        "predict_seconds": seconds,
    }
    for label, a in {"chosen": accept, "at_0.95": 0.95}.items():
        result[label] = prf(pair_set(pairs[pairs["match_probability"] >= a]), truth)
    return result


# -- scale ---------------------------------------------------------------------------------
def _scale_child(n_records: int, queue) -> None:  # type: ignore[no-untyped-def]
    generator = _generator()
    # About 2.1 source records per firm (with branches): enough firms for n_records.
    records = generator.make_records(n_firms=int(n_records / 2.12), seed=7)
    records = records.head(n_records)
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    times: dict[str, float] = {}
    started = time.perf_counter()
    keys = firm_keys(records)
    times["normalise"] = time.perf_counter() - started
    mark = time.perf_counter()
    pairs = candidate_pairs(keys)
    times["block"] = time.perf_counter() - mark
    mark = time.perf_counter()
    resolver = FirmResolver().fit(keys, pairs)
    times["fit"] = time.perf_counter() - mark
    mark = time.perf_counter()
    scored = resolver.score(pairs, keys)
    times["score"] = time.perf_counter() - mark
    mark = time.perf_counter()
    decided = decide(scored)
    times["decide"] = time.perf_counter() - mark
    times["total"] = time.perf_counter() - started
    truth = true_pairs(records)
    queue.put(
        {
            "records": len(records),
            "candidate_pairs": len(pairs),
            "blocking_recall": len(pair_set(pairs) & truth) / len(truth),
            "matches": int((decided["decision"] == "match").sum()),
            "seconds": times,
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "rss_before_mb": base / 1024,
        }
    )


def run_scale(n_records: int) -> dict[str, object]:
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    child = context.Process(target=_scale_child, args=(n_records, queue))
    child.start()
    result = queue.get()
    child.join()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=int, default=100_000)
    parser.add_argument("--no-splink", action="store_true")
    parser.add_argument("--no-scale", action="store_true")
    parser.add_argument("--json-out", type=Path)
    args = parser.parse_args()

    records = pd.read_csv(RECORDS, dtype=str, keep_default_na=False)
    train = records[records["split"] == "train"].reset_index(drop=True)
    test = records[records["split"] == "test"].reset_index(drop=True)
    report: dict[str, object] = {
        "date": time.strftime("%Y-%m-%d"),
        "machine": f"{platform.machine()}, {multiprocessing.cpu_count()} cores, "
        f"{_memory_gb():.0f} GB, Python {sys.version.split()[0]}",
        "train_records": len(train),
        "test_records": len(test),
    }
    report["ketnoi"] = run_ketnoi(train, test)
    print(json.dumps(report["ketnoi"], indent=2), flush=True)
    if not args.no_splink:
        report["splink"] = run_splink(train, test)
        print(json.dumps(report["splink"], indent=2), flush=True)
    if not args.no_scale:
        report["scale"] = run_scale(args.scale)
        print(json.dumps(report["scale"], indent=2), flush=True)
    if args.json_out:
        args.json_out.write_text(json.dumps(report, indent=2))


def _memory_gb() -> float:
    try:
        with open("/proc/meminfo") as meminfo:
            return int(meminfo.readline().split()[1]) / 1024**2
    except OSError:
        return float("nan")


if __name__ == "__main__":
    main()
