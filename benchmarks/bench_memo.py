"""The recommendation routes with the bound matcher's answers kept (api/service/_memo.py) or not.

On the demo world, in one process (a TestClient on the app, the model fitted at start-up as
``ketnoi serve`` fits it), asks the JSON routes whose answers the memo keeps, with the memo off
(``MEMO_SIZE`` 0: every answer ranked afresh, as before it) and on, interleaved request by
request so that load from elsewhere hits both alike. The routes' own answer cache is turned off
(a page benchmark's rounds outlast its 2 s), so each request reaches the service function.

Usage::

    python benchmarks/bench_memo.py [--requests 20]

Prints p50 / p95 in milliseconds per route, before (memo off) and after (memo on).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from fastapi.testclient import TestClient

from ketnoi import graph
from ketnoi.api import storage
from ketnoi.api.service import ServiceSettings, _answers, _memo, create_app

ROOT = Path(__file__).resolve().parents[1]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dataset", type=Path, default=ROOT / "fixtures" / "hanoi")
    parser.add_argument("--requests", type=int, default=20)
    args = parser.parse_args(argv)
    _answers.ANSWER_CACHE_SECONDS = 0.0
    with tempfile.TemporaryDirectory(prefix="bench_memo_") as tmp:
        folder = Path(tmp)
        engine = storage.make_engine(f"sqlite:///{folder / 'ketnoi.db'}", data_dir=folder)
        storage.upgrade(engine)
        storage.load_into(engine, graph.load_dataset(args.dataset))
        staff = storage.create_key(engine, "staff", label="bench_memo")
        firm = storage.create_key(engine, "firm", "hn-b001", label="bench_memo")
        routes = [
            ("staff", staff, "/v1/suppliers/hn-s0001/buyers?k=10"),
            ("firm hn-b001", firm, "/v1/buyers/hn-b001/suppliers?k=10"),
            ("staff", staff, "/v1/buyers/hn-b001/chain?depth=2&k=3"),
            ("staff", staff, "/v1/suppliers/hn-s1188/buyers/hn-b001/explanation"),
        ]
        settings = ServiceSettings(data_dir=folder, evaluate=False)
        times: dict[tuple[str, int], list[float]] = {}
        with TestClient(create_app(settings, engine=engine)) as client:
            for _, key, path in routes:
                assert client.get(path, headers={"X-API-Key": key}).status_code == 200, path
            load = " ".join(f"{x:.2f}" for x in os.getloadavg())
            for _ in range(args.requests):
                for _, key, path in routes:
                    for size in (0, 1024):
                        _memo.MEMO_SIZE = size
                        start = time.perf_counter()
                        client.get(path, headers={"X-API-Key": key})
                        times.setdefault((path, size), []).append(time.perf_counter() - start)
        engine.dispose()
    print(f"load average {load} before the timing, {args.requests} requests each")
    print()
    print("| route | key | before: p50 / p95 ms | after: p50 / p95 ms |")
    print("| --- | --- | ---: | ---: |")
    for who, _, path in routes:
        before = np.array(times[(path, 0)]) * 1000
        after = np.array(times[(path, 1024)]) * 1000
        print(
            f"| `{path}` | {who} | {np.percentile(before, 50):.0f} / "
            f"{np.percentile(before, 95):.0f} | {np.percentile(after, 50):.0f} / "
            f"{np.percentile(after, 95):.0f} |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
