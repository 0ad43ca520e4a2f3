"""Intake into the service database: how long a list takes and where its records end up.

The labelled records (``fixtures/resolution/records.csv``, or ``make_resolution.make_records`` at
a larger scale) are cut in two lists: **list A** holds each firm's first record and builds the
register (an empty database: every record a new firm, or matched by tax code or same content);
**list B** holds every other record, the variants (diacritics dropped, legal form changed,
English names, typos, branches), and is resolved against that register with
:func:`ketnoi.api.storage.intake_records` at ``graph.decide``'s default thresholds.

Reported for list B, against the truth (two records are one firm when they share ``entity_id``;
a branch is a firm of its own):

- matched to the right firm, matched to a wrong one, proposed with the right firm among the
  candidates, proposed without it, made a new firm while its firm exists (missed);
- seconds for list B through the database (records stored, decisions, new firms, validation,
  commit), against the **baseline measured in the same run**: the resolution library alone on the
  same records and register (fit, block, score, decide; no database).

Usage::

    python benchmarks/bench_intake.py [--firms N] [--json-out FILE]

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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--firms", type=int, default=None, help="generate this many firms")
    parser.add_argument("--json-out", type=Path, default=None)
    args = parser.parse_args()

    records = _records(args.firms)
    first = ~records.duplicated("entity_id")
    list_a, list_b = records[first], records[~first]
    with tempfile.TemporaryDirectory() as folder:
        engine = storage.make_engine(f"sqlite:///{folder}/ketnoi.db", data_dir=folder)
        storage.upgrade(engine)
        started = time.perf_counter()
        storage.intake_records(engine, _source(list_a, "list-a"), actor="bench")
        seconds_a = time.perf_counter() - started
        with Session(engine) as session:
            firm_of = {
                r.firm_id: entity
                for r, entity in zip(
                    session.scalars(
                        select(storage.SourceRecord).order_by(storage.SourceRecord.id)
                    ).all(),
                    list_a["entity_id"],
                    strict=True,
                )
            }
            firms = session.scalars(select(storage.Firm)).all()
            register = pd.DataFrame(
                [{"id": f.firm_id, **{k: getattr(f, k, "") for k in FIELDS[:2]}} for f in firms]
            )
            for k in ("address", "phone", "email", "website"):
                register[k] = [getattr(f, k) for f in firms]
        entity_firm = {e: f for f, e in firm_of.items()}

        started = time.perf_counter()
        summary = storage.intake_records(engine, _source(list_b, "list-b"), actor="bench")
        seconds_b = time.perf_counter() - started
        baseline = _library_only(list_b[list(FIELDS)], register)
        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

        truth = list_b["entity_id"].tolist()
        lines = {item["line"]: item for item in summary.matched + summary.proposed}
        outcome: Counter[str] = Counter()
        for i, entity in enumerate(truth, start=2):
            right_firm = entity_firm.get(entity)
            item = lines.get(i)
            if item is None:  # created
                outcome["new firm, its firm exists" if right_firm else "new firm, right"] += 1
            elif item.get("firm_id"):
                outcome[
                    "matched, right" if item["firm_id"] == right_firm else "matched, wrong"
                ] += 1
            else:
                found = right_firm in item.get("candidates", [])
                outcome["proposed, right among them" if found else "proposed, not among them"] += 1
        engine.dispose()

    result = {
        "machine": f"{platform.machine()}, {platform.python_version()}",
        "records": len(records),
        "list_a": len(list_a),
        "list_b": len(list_b),
        "seconds_list_a": round(seconds_a, 2),
        "seconds_list_b": round(seconds_b, 2),
        "seconds_library_only_list_b": round(baseline, 2),
        "peak_rss_mb": round(peak_mb),
        "method_version": summary.method_version,
        "thresholds": {"accept": ACCEPT, "review": REVIEW},
        "list_b_outcomes": dict(sorted(outcome.items())),
    }
    print(json.dumps(result, indent=2, ensure_ascii=False))
    if args.json_out:
        args.json_out.write_text(json.dumps(result, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
