"""Nothing lost under a job (issue 11, item 14 with the floor's "nothing lost"): every write the
service accepts while a long import or a retrain runs as a job is stored, on a real SQLite file
and on PostgreSQL; a write kept waiting is a 503 with Retry-After (the client tries again),
never a 500.
"""

from __future__ import annotations

import io
import threading
import time
import zipfile
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from ketnoi import graph
from ketnoi.api import storage
from ketnoi.api.service import ServiceSettings, create_app

ROOT = Path(__file__).resolve().parents[1]
TINY = ROOT / "fixtures" / "tiny"
HANOI = ROOT / "fixtures" / "hanoi"
THREADS = 4
PER_THREAD = 10


def zip_of(folder: Path) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(folder.glob("*.csv")):
            archive.write(path, path.name)
    return buffer.getvalue()


@contextmanager
def _service(
    backend: str, folder: Path, open_database: Any, dataset: Path, monkeypatch: Any
) -> Iterator[dict[str, Any]]:
    monkeypatch.delenv("KETNOI_SECRET", raising=False)
    monkeypatch.setenv("KETNOI_WRITE_WAIT", "2")
    with open_database(backend, folder) as engine:
        storage.load_into(engine, graph.load_dataset(dataset))
        key = storage.create_key(engine, "staff")
        # Every upload is imported as a job here; retrains skip the precomputing.
        settings = ServiceSettings(
            data_dir=folder, precompute=False, evaluate=False, import_job_bytes=1000
        )
        with TestClient(
            create_app(settings, engine=engine), raise_server_exceptions=False
        ) as client:
            client.headers["Authorization"] = f"Bearer {key}"
            yield {"client": client, "engine": engine}


def _writes_while(client: TestClient, running: threading.Event, tag: str) -> list[Any]:
    """THREADS writers creating firms: PER_THREAD each, and more while ``running`` is set."""

    def writer(thread: int) -> list[tuple[str, int, bool]]:
        done: list[tuple[str, int, bool]] = []
        i = -1
        while (i := i + 1) < PER_THREAD or (running.is_set() and i < 50 * PER_THREAD):
            firm_id = f"{tag}-{thread}-{i}"
            body = {"firm_id": firm_id, "name": f"Ghi trong lúc {thread}-{i}", "role": "buyer"}
            for _ in range(200):  # a client that honours 503 by trying again
                during = running.is_set()
                response = client.post("/v1/firms", json=body)
                done.append((firm_id, response.status_code, during))
                if response.status_code != 503:
                    break
                assert int(response.headers["Retry-After"]) >= 1
                time.sleep(0.05)
            time.sleep(0.02)
        return done

    with ThreadPoolExecutor(THREADS) as pool:
        return [r for f in [pool.submit(writer, t) for t in range(THREADS)] for r in f.result()]


def _follow(client: TestClient, started: Any, running: threading.Event) -> dict[str, Any]:
    assert started.status_code == 202, started.text
    running.set()
    try:
        while True:
            job: dict[str, Any] = client.get(started.headers["Location"]).json()
            if job["state"] in {"finished", "failed"}:
                return job
            time.sleep(0.05)
    finally:
        running.clear()


def _check(results: list[Any], engine: Any) -> set[str]:
    assert all(status in {201, 503} for _, status, _ in results), [
        r for r in results if r[1] not in {201, 503}
    ]
    assert any(during for *_, during in results), "no write overlapped the job"
    accepted = {firm_id for firm_id, status, _ in results if status == 201}
    asked = {firm_id for firm_id, *_ in results}
    assert accepted == asked and len(accepted) >= THREADS * PER_THREAD
    stored = set(storage.dataset_from_db(engine).firms["firm_id"])
    assert accepted <= stored, sorted(accepted - stored)
    return stored


def test_writes_during_an_import_job_are_all_stored(
    backend: str, tmp_path: Path, open_database: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    with _service(backend, tmp_path / "db", open_database, TINY, monkeypatch) as world:
        client, engine = world["client"], world["engine"]
        running, ended = threading.Event(), []
        started = client.post("/v1/imports", files={"file": ("hanoi.zip", zip_of(HANOI))})
        follower = threading.Thread(target=lambda: ended.append(_follow(client, started, running)))
        follower.start()
        results = _writes_while(client, running, "import")
        follower.join(300)
        assert ended and ended[0]["state"] == "finished", ended
        assert ended[0]["kind"] == "import" and ended[0]["step"] == "loading it"
        counts = client.get(ended[0]["result_url"]).json()["counts"]
        assert counts["firms"]["inserted"] > 0
        stored = _check(results, engine)
        assert set(graph.load_dataset(HANOI).firms["firm_id"]) <= stored


def test_writes_during_a_retrain_job_are_all_stored(
    backend: str, tmp_path: Path, open_database: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    with _service(backend, tmp_path / "db", open_database, TINY, monkeypatch) as world:
        client, engine = world["client"], world["engine"]
        before = client.get("/v1/model").json()["version"]
        running, ended = threading.Event(), []
        started = client.post("/v1/model/retrain")
        follower = threading.Thread(target=lambda: ended.append(_follow(client, started, running)))
        follower.start()
        results = _writes_while(client, running, "retrain")
        follower.join(300)
        assert ended and ended[0]["state"] == "finished", ended
        assert client.get("/v1/model").json()["version"] != before
        _check(results, engine)
