"""Intake into the service database: how long a list takes and where its records end up.

The labelled records (``fixtures/resolution/records.csv``, or ``make_resolution.make_records`` at
a larger scale) are cut in two lists: **list A** holds each firm's first record and builds the
register (an empty database); **list B** holds every other record, the variants (diacritics
dropped, legal form changed, English names, typos, branches), and is resolved against that
register with :func:`ketnoi.api.storage.intake_records` at ``graph.decide``'s default
thresholds. Every ``--withhold``-th firm (5: a fifth) is left out of list A altogether, so list B
also brings **new firms several times over**: its first record of such a firm should make it,
the later ones find it (the same firm twice within one list).

Both lists go through the database twice in the same run, into fresh databases: without
resolution within the list (a record scored against the register only: the behaviour before
it) and with it (the default).

Reported per run and list, against the truth (two records are one firm when they share
``entity_id``; a branch is a firm of its own; a firm that list B brings in first is the one its
first record made):

- matched to the right firm, matched to a wrong one, proposed with the right firm among the
  candidates, proposed without it, made a new firm while its firm exists (missed), made a new
  firm rightly; list A holds one record per firm, so anything but a new firm there is wrong;
- seconds for each list through the database (records stored, decisions, new firms,
  validation, commit), against the **baseline measured in the same run**: the resolution
  library alone on list B and the register (fit, block, score, decide; no database).

Usage::

    python benchmarks/bench_intake.py [--firms N] [--withhold N] [--json-out FILE]

Without ``--firms`` the committed records are used.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import platform
import resource
import tempfile
import time
from collections import Counter
from pathlib import Path

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from ketnoi import graph
from ketnoi.api import storage
from ketnoi.api.storage._resolution import ACCEPT, REVIEW

ROOT = Path(__file__).resolve().parent.parent
RECORDS = ROOT / "fixtures" / "resolution" / "records.csv"
FIELDS = ("name", "tax_code", "address", "province", "district", "phone", "email", "website")
FIELDS_FIRM = ("firm_id", "name", "tax_code", "address", "phone", "email", "website")


def _records(firms: int | None) -> pd.DataFrame:
    if firms is None:
        return pd.read_csv(RECORDS, dtype=str, keep_default_na=False)
    spec = importlib.util.spec_from_file_location(
        "make_resolution", ROOT / "fixtures" / "resolution" / "make_resolution.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    frame: pd.DataFrame = module.make_records(n_firms=firms)
    return frame.astype(str)


def _source(frame: pd.DataFrame, name: str) -> list[graph.SourceRecord]:
    out = []
    for i, row in enumerate(frame.to_dict("records"), start=2):
        fields: dict[str, object] = {f: row[f] for f in FIELDS if row.get(f)}
        if "tax_code" in fields:
            fields["tax_code"] = graph.parse_tax_code(str(fields["tax_code"])).formatted
        raw = {f: row[f] for f in FIELDS if row.get(f)}
        out.append(graph.SourceRecord(name, "Sheet1", i, raw, fields))
    return out


def _library_only(list_b: pd.DataFrame, register: pd.DataFrame) -> float:
    """The baseline: the resolution library on list B against the register, no database."""
    started = time.perf_counter()
    left = list_b.reset_index(drop=True).assign(id=lambda f: [f"r{i}" for i in range(len(f))])
    right = register.reset_index(drop=True)
    resolver = graph.FirmResolver().fit(pd.concat([left, right], ignore_index=True))
    pairs = graph.candidate_pairs(left, right)
    graph.decide(resolver.score(pairs, left, right))
    return time.perf_counter() - started


def _outcomes(
    summary: storage.IntakeSummary, frame: pd.DataFrame, entity_firm: dict[str, str]
) -> Counter[str]:
    """Where a list's records went, against the truth. ``entity_firm`` holds each firm's id
    in the register; a firm that the list itself brings in first is added to it by the record
    that created it, so later records of that firm in the list must find it."""
    lines = {item["line"]: item for item in summary.matched + summary.proposed}
    made = {item["line"]: item["firm_id"] for item in summary.created}
    outcome: Counter[str] = Counter()
    for i, entity in enumerate(frame["entity_id"].tolist(), start=2):
        right_firm = entity_firm.get(entity)
        item = lines.get(i)
        if item is None:  # created
            if right_firm:
                outcome["new firm, its firm exists"] += 1
            else:
                outcome["new firm, right"] += 1
                entity_firm[entity] = made[i]
        elif item.get("firm_id"):
            right = right_firm is not None and item["firm_id"] == right_firm
            outcome["matched, right" if right else "matched, wrong"] += 1
        else:
            found = right_firm in item.get("candidates", [])
            outcome["proposed, right among them" if found else "proposed, not among them"] += 1
    return outcome


def _run(
    folder: Path, list_a: pd.DataFrame, list_b: pd.DataFrame, within_list: bool
) -> dict[str, object]:
    """Lists A then B into an empty database, resolved within each list or not."""
    engine = storage.make_engine(f"sqlite:///{folder}/ketnoi.db", data_dir=folder)
    storage.upgrade(engine)
    started = time.perf_counter()
    summary_a = storage.intake_records(
        engine, _source(list_a, "list-a"), actor="bench", within_list=within_list
    )
    seconds_a = time.perf_counter() - started
    entity_firm: dict[str, str] = {}
    outcome_a = _outcomes(summary_a, list_a, entity_firm)
    with Session(engine) as session:
        firms = session.scalars(select(storage.Firm)).all()
        register = pd.DataFrame([{k: getattr(f, k) for k in FIELDS_FIRM} for f in firms])
        register = register.rename(columns={"firm_id": "id"})
    started = time.perf_counter()
    summary_b = storage.intake_records(
        engine, _source(list_b, "list-b"), actor="bench", within_list=within_list
    )
    seconds_b = time.perf_counter() - started
    outcome_b = _outcomes(summary_b, list_b, entity_firm)
    engine.dispose()
    return {
        "within_list": within_list,
        "seconds_list_a": round(seconds_a, 2),
        "seconds_list_b": round(seconds_b, 2),
        "method_version": summary_b.method_version,
        "list_a_outcomes": dict(sorted(outcome_a.items())),
        "list_b_outcomes": dict(sorted(outcome_b.items())),
        "register": register,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--firms", type=int, default=None, help="generate this many firms")
    parser.add_argument(
        "--withhold",
        type=int,
        default=5,
        help="every N-th firm is left out of list A: all its records are in list B, which "
        "then holds the same new firm several times (0: none)",
    )
    parser.add_argument("--json-out", type=Path, default=None)
    args = parser.parse_args()

    records = _records(args.firms)
    entities = sorted(records["entity_id"].unique())
    withheld = set(entities[:: args.withhold]) if args.withhold else set()
    first = ~records.duplicated("entity_id") & ~records["entity_id"].isin(withheld)
    list_a, list_b = records[first], records[~first]
    runs = []
    for within_list in (False, True):  # before and after, in the same run
        with tempfile.TemporaryDirectory() as folder:
            runs.append(_run(Path(folder), list_a, list_b, within_list))
    register = runs[0].pop("register")
    runs[1].pop("register")
    baseline = _library_only(list_b[list(FIELDS)], register)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    in_b = list_b["entity_id"]
    result = {
        "machine": f"{platform.machine()}, {platform.python_version()}",
        "records": len(records),
        "list_a": len(list_a),
        "list_b": len(list_b),
        "list_b_records_of_firms_not_in_list_a": int(in_b.isin(withheld).sum()),
        "list_b_repeats_of_firms_not_in_list_a": int(
            (in_b.isin(withheld) & in_b.duplicated()).sum()
        ),
        "seconds_library_only_list_b": round(baseline, 2),
        "peak_rss_mb": round(peak_mb),
        "thresholds": {"accept": ACCEPT, "review": REVIEW},
        "runs": runs,
    }
    print(json.dumps(result, indent=2, ensure_ascii=False))
    if args.json_out:
        args.json_out.write_text(json.dumps(result, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
