"""What sharing state through the database costs one worker: a session read, a generation read.

On a temporary SQLite file loaded with the Hanoi demo world (``fixtures/hanoi``), times:

* reading a signed-in workbench session with its key (``SessionStore.get``: one indexed join and
  the CSRF token's HMAC), which every page request does;
* reading the write generation from the database (what a process does at most every
  ``GENERATION_POLL_SECONDS``);
* the write generation from memory (every other call).

Usage::

    python benchmarks/bench_shared_state.py [--calls 2000]

Prints p50 and p95 in microseconds (docs/performance.md, "One write generation for every
worker").
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from ketnoi import graph
from ketnoi.api import storage
from ketnoi.api.pages._session import SessionStore
from ketnoi.api.storage import _engine

HANOI = Path(__file__).resolve().parents[1] / "fixtures" / "hanoi"


def timed(call: Callable[[], object], n: int) -> tuple[float, float]:
    """p50 and p95 of ``n`` calls, in microseconds."""
    times = []
    for _ in range(n):
        started = time.perf_counter()
        call()
        times.append((time.perf_counter() - started) * 1e6)
    times.sort()
    return round(times[n // 2], 1), round(times[int(n * 0.95)], 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=2000)
    calls = parser.parse_args().calls
    with tempfile.TemporaryDirectory() as folder:
        engine = storage.make_engine(f"sqlite:///{Path(folder) / 'ketnoi.db'}", data_dir=folder)
        storage.upgrade(engine)
        storage.load_into(engine, graph.load_dataset(HANOI))
        key = storage.verify_key(engine, storage.create_key(engine, "staff"))
        assert key is not None
        store = SessionStore()
        session = store.sign_in(engine, None, key)

        def from_database() -> None:
            _engine._known(engine).read_at = -float("inf")  # as if the poll time had passed
            storage.write_generation(engine)

        def session_read() -> None:
            store.get(engine, session.id)

        def from_memory() -> None:
            storage.write_generation(engine)

        print("session read (signed in), us p50/p95:", timed(session_read, calls))
        print("write generation from the database, us p50/p95:", timed(from_database, calls))
        print("write generation from memory, us p50/p95:", timed(from_memory, 10 * calls))
        engine.dispose()


if __name__ == "__main__":
    main()
