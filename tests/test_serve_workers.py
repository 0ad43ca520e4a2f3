"""``ketnoi serve --workers N``: gunicorn forks the workers from a parent that fitted the model.

Each worker answers with the same model version, and the models table holds one fit, not one
per worker (uvicorn's own ``--workers`` spawns interpreters that fit a model each). A workbench
session signed in through one connection is known on every connection, and so is its sign out;
a write through one is in every worker's reports within the write generation's poll.
"""

from __future__ import annotations

import importlib.util
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ketnoi import graph
from ketnoi.api import storage

TINY = Path(__file__).resolve().parents[1] / "fixtures" / "tiny"
CSRF = re.compile(r'name="csrf" value="([^"]+)"')

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


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """``ketnoi serve --workers 2`` on the tiny world, ready, with a staff key."""
    folder = tmp_path_factory.mktemp("workers")
    engine = storage.make_engine(f"sqlite:///{folder / 'ketnoi.db'}", data_dir=folder)
    env = {k: v for k, v in os.environ.items() if not k.startswith("KETNOI_")}
    env |= {"KETNOI_DATA_DIR": str(folder), "KETNOI_EVALUATE": "false"}
    try:
        storage.upgrade(engine)
        storage.load_into(engine, graph.load_dataset(TINY))
        with pytest.MonkeyPatch.context() as mp:
            mp.delenv("KETNOI_SECRET", raising=False)  # the workers read the folder's secret
            key = storage.create_key(engine, "staff")
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        process = subprocess.Popen(
            [sys.executable, "-c", LAUNCH.format(port=port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        url = f"http://127.0.0.1:{port}"
        try:
            versions = set()
            deadline = time.monotonic() + 300
            while len(_children(process.pid)) < 2 or not versions:
                assert process.poll() is None, "the server exited"
                assert time.monotonic() < deadline, "the server did not start"
                try:
                    health = httpx.get(f"{url}/v1/health", timeout=30).json()
                    if health["model_loaded"]:
                        versions.add(health["model_version"])
                except httpx.HTTPError:
                    time.sleep(0.2)
            yield {"url": url, "process": process, "engine": engine, "key": key}
        finally:
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=60)
    finally:
        engine.dispose()


def test_two_forked_workers_serve_one_model(server: dict[str, Any]) -> None:
    versions = set()
    for _ in range(40):  # new connections, shared out between the workers
        health = httpx.get(f"{server['url']}/v1/health", timeout=30).json()
        versions.add(health["model_version"])
    assert len(_children(server["process"].pid)) == 2
    assert len(versions) == 1
    with Session(server["engine"]) as session:
        fits = session.scalar(select(func.count()).select_from(storage.ModelRecord))
    assert fits == 1


def _on_every_connection(url: str, **kwargs: Any) -> list[httpx.Response]:
    """The same request on 40 new connections: the workers share them out."""
    return [httpx.get(url, timeout=30, follow_redirects=False, **kwargs) for _ in range(40)]


def test_a_session_and_a_write_hold_on_every_worker(server: dict[str, Any]) -> None:
    url = server["url"]
    with httpx.Client(base_url=url, timeout=30) as browser:
        token = CSRF.search(browser.get("/sign-in").text)
        assert token, "no CSRF token on /sign-in"
        signed = browser.post(
            "/sign-in", data={"csrf": token.group(1), "api_key": server["key"], "next": "/"}
        )
        assert signed.status_code == 303, signed.text[:300]
        cookie = {"ketnoi_session": browser.cookies["ketnoi_session"]}
        pages = _on_every_connection(f"{url}/firms", cookies=cookie)
        assert [p.status_code for p in pages] == [200] * 40, "a worker did not know the session"

        staff = {"Authorization": f"Bearer {server['key']}"}
        before = [
            r.json() for r in _on_every_connection(f"{url}/v1/programme/indicators", headers=staff)
        ]
        assert all(b == before[0] for b in before)
        link = {"supplier_id": "S4", "buyer_id": "B2", "category_id": "", "since": 2021}
        made = browser.post("/v1/links", json=link, headers=staff)
        assert made.status_code == 201, made.text
        time.sleep(storage.GENERATION_POLL_SECONDS + 0.5)  # the bound, and a little for the reads
        after = _on_every_connection(f"{url}/v1/programme/indicators", headers=staff)
        assert all(a.json() != before[0] for a in after), "a worker still reports without the link"

        home = browser.get("/")
        out = browser.post("/sign-out", data={"csrf": CSRF.search(home.text).group(1)})  # type: ignore[union-attr]
        assert out.status_code == 303
        pages = _on_every_connection(f"{url}/firms", cookies=cookie)
        assert [p.status_code for p in pages] == [303] * 40, "a worker kept a signed-out session"
