"""Intake at scale: 100,000 source records through the service database, against the library alone.

``make_resolution.make_records`` with enough firms for ``--records`` source records (seed 7, as
``bench_resolution.py --scale``) is cut as ``bench_intake.py`` cuts its lists: **list A** holds
each firm's first record and builds the register in an empty SQLite database; **list B** holds
every other record and is resolved against it by :func:`ketnoi.api.storage.intake_records` at
its default thresholds. The baseline, in the same run: the resolution library alone on list B and
the register list A made (fit, block, score, decide; no database), as ``bench_intake.py``'s.

Each of the two runs in a child process of its own, one after the other, so that each has its own
peak resident memory (a child starts from the parent's resident size, which is reported too: the
generated records, pandas). A step's figures are printed as soon as it ends, so a run stopped
early still says what it measured.

    nice -n 10 python benchmarks/bench_intake_scale.py [--records 100000] [--json-out FILE]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import multiprocessing
import platform
import resource
import tempfile
import time
from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

ROOT = Path(__file__).resolve().parent.parent
FIELDS = ["name", "tax_code", "address", "province", "district", "phone", "email", "website"]


def _bench_intake() -> Any:
    # bench_intake.py's list helpers, so that both benchmarks read records alike.
    spec = importlib.util.spec_from_file_location(
        "bench_intake", ROOT / "benchmarks" / "bench_intake.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _records(n_records: int) -> pd.DataFrame:
    spec = importlib.util.spec_from_file_location(
        "make_resolution", ROOT / "fixtures" / "resolution" / "make_resolution.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    frame: pd.DataFrame = module.make_records(n_firms=int(n_records / 2.12), seed=7)
    return frame.head(n_records).astype(str)


def _through_database(list_a: pd.DataFrame, list_b: pd.DataFrame, kept: Path, queue: Any) -> None:
    from ketnoi.api import storage

    bench = _bench_intake()
    with tempfile.TemporaryDirectory() as folder:
        engine = storage.make_engine(f"sqlite:///{folder}/ketnoi.db", data_dir=folder)
        storage.upgrade(engine)
        started = time.perf_counter()
        storage.intake_records(engine, bench._source(list_a, "list-a"), actor="bench")
        seconds_a = time.perf_counter() - started
        queue.put(
            {
                "step": "list A through the database",
                "seconds": round(seconds_a, 1),
                "peak_rss_mb": round(_peak_mb()),
            }
        )
        with Session(engine) as session:
            firms = session.scalars(select(storage.Firm)).all()
            register = pd.DataFrame(
                [
                    {"id": f.firm_id, **{k: getattr(f, k) or "" for k in FIELDS if hasattr(f, k)}}
                    for f in firms
                ]
            )
        started = time.perf_counter()
        summary = storage.intake_records(engine, bench._source(list_b, "list-b"), actor="bench")
        seconds_b = time.perf_counter() - started
        engine.dispose()
    queue.put(
        {
            "step": "list B through the database",
            "seconds": round(seconds_b, 1),
            "peak_rss_mb": round(_peak_mb()),
            "firms_in_register": len(register),
            "matched": len(summary.matched),
            "proposed": len(summary.proposed),
            "method_version": summary.method_version,
        }
    )
    register.to_pickle(kept)


def _library_alone(list_b: pd.DataFrame, kept: Path, queue: Any) -> None:
    bench = _bench_intake()
    register = pd.read_pickle(kept)  # the register list A made in the database
    for column in FIELDS:
        if column not in register:
            register[column] = ""
    seconds = bench._library_only(list_b[FIELDS], register)
    queue.put(
        {
            "step": "list B, resolution library alone",
            "seconds": round(seconds, 1),
            "peak_rss_mb": round(_peak_mb()),
        }
    )


def _in_child(target: Any, *args: Any) -> list[dict[str, Any]]:
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    child = context.Process(target=target, args=(*args, queue))
    child.start()
    out = []
    while child.is_alive() or not queue.empty():
        try:
            item = queue.get(timeout=1)
        except Exception:  # noqa: BLE001 - nothing yet
            continue
        print(json.dumps(item), flush=True)
        out.append(item)
    child.join()
    assert child.exitcode == 0, f"{target.__name__} failed ({child.exitcode})"
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--json-out", type=Path, default=None)
    args = parser.parse_args()

    started = time.perf_counter()
    records = _records(args.records)
    first = ~records.duplicated("entity_id")
    list_a, list_b = records[first], records[~first]
    head = {
        "machine": f"{platform.machine()}, {platform.python_version()}",
        "records": len(records),
        "list_a": len(list_a),
        "list_b": len(list_b),
        "seconds_generating": round(time.perf_counter() - started, 1),
        "parent_rss_mb_before_children": round(_peak_mb()),
        "started": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()),
    }
    print(json.dumps(head), flush=True)
    with tempfile.TemporaryDirectory() as folder:
        kept = Path(folder) / "register.pkl"
        steps = _in_child(_through_database, list_a, list_b, kept)
        steps += _in_child(_library_alone, list_b, kept)
    result = {**head, "steps": steps, "ended": time.strftime("%H:%M:%S UTC", time.gmtime())}
    print(json.dumps(result, indent=2), flush=True)
    if args.json_out:
        args.json_out.write_text(json.dumps(result, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
