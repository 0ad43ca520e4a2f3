"""``ketnoi serve --workers N``: gunicorn forks the workers from a parent that fitted the model.

Each worker answers with the same model version, and the models table holds one fit, not one
per worker (uvicorn's own ``--workers`` spawns interpreters that fit a model each).
"""

from __future__ import annotations

import importlib.util
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ketnoi import graph
from ketnoi.api import storage

TINY = Path(__file__).resolve().parents[1] / "fixtures" / "tiny"

pytestmark = [
    pytest.mark.skipif(importlib.util.find_spec("gunicorn") is None, reason="needs gunicorn"),
    pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="reads /proc (Linux)"),
]

LAUNCH = (
    "from ketnoi.api._cli_serve import serve_workers; "
    "from ketnoi.api.service import ServiceSettings; "
    "serve_workers(ServiceSettings(), '127.0.0.1', {port}, 2)"
)


def _children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            continue
    return found


def test_two_forked_workers_serve_one_model(tmp_path: Path) -> None:
    engine = storage.make_engine(f"sqlite:///{tmp_path / 'ketnoi.db'}", data_dir=tmp_path)
    env = {k: v for k, v in os.environ.items() if not k.startswith("KETNOI_")}
    env |= {"KETNOI_DATA_DIR": str(tmp_path), "KETNOI_EVALUATE": "false"}
    try:
        storage.upgrade(engine)
        storage.load_into(engine, graph.load_dataset(TINY))
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        server = subprocess.Popen(
            [sys.executable, "-c", LAUNCH.format(port=port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            versions = set()
            deadline = time.monotonic() + 300
            while len(_children(server.pid)) < 2 or not versions:
                assert server.poll() is None, "the server exited"
                assert time.monotonic() < deadline, "the server did not start"
                try:
                    health = httpx.get(f"http://127.0.0.1:{port}/v1/health", timeout=30).json()
                    if health["model_loaded"]:
                        versions.add(health["model_version"])
                except httpx.HTTPError:
                    time.sleep(0.2)
            for _ in range(40):  # new connections, shared out between the workers
                health = httpx.get(f"http://127.0.0.1:{port}/v1/health", timeout=30).json()
                versions.add(health["model_version"])
            assert len(_children(server.pid)) == 2
            assert len(versions) == 1
            with Session(engine) as session:
                fits = session.scalar(select(func.count()).select_from(storage.ModelRecord))
            assert fits == 1
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=60)
    finally:
        engine.dispose()
