"""Nothing lost, on SQLite and PostgreSQL: an import that fails at any point leaves the database
as it was, writes made during a long import are stored or refused with 503 (never a 500), and a
write that finds the database locked for too long is told when to come back.

(``test_service_reliability.py`` kills real SQLite processes mid-load; here the failure is
raised inside the real import, at every stage, on both databases.)
"""

from __future__ import annotations

import io
import os
import shutil
import sqlite3
import threading
import time
import zipfile
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event, text

from ketnoi import graph
from ketnoi.api import storage
from ketnoi.api.service import ServiceSettings, create_app

ROOT = Path(__file__).resolve().parents[1]
TINY = ROOT / "fixtures" / "tiny"
HANOI = ROOT / "fixtures" / "hanoi"


def zip_of(folder: Path) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(folder.glob("*.csv")):
            archive.write(path, path.name)
    return buffer.getvalue()


def changed_tiny(folder: Path) -> Path:
    """Tiny with every firm renamed and a firm added: a load that updates and inserts."""
    shutil.copytree(TINY, folder)
    firms = pd.read_csv(folder / "firms.csv", dtype=str, keep_default_na=False)
    firms["name"] = firms["name"] + " (mới)"
    new = {c: "" for c in firms.columns} | {"firm_id": "new", "name": "Mới", "role": "supplier"}
    pd.concat([firms, pd.DataFrame([new])]).to_csv(folder / "firms.csv", index=False)
    return folder


@pytest.fixture
def world(
    backend: str,
    tmp_path: Path,
    open_database: Any,
    table_fingerprint: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[dict[str, Any]]:
    """Tiny on ``backend``, a staff key, and the service (writes wait at most 1 s)."""
    monkeypatch.delenv("KETNOI_SECRET", raising=False)
    monkeypatch.setenv("KETNOI_WRITE_WAIT", "1")
    with open_database(backend, tmp_path / "db") as engine:
        storage.load_into(engine, graph.load_dataset(TINY))
        key = storage.create_key(engine, "staff")
        settings = ServiceSettings(data_dir=tmp_path / "db", precompute=False, evaluate=False)
        with TestClient(
            create_app(settings, engine=engine), raise_server_exceptions=False
        ) as client:
            client.headers["Authorization"] = f"Bearer {key}"
            yield {
                "client": client,
                "engine": engine,
                "key": key,
                "backend": backend,
                "fingerprint": table_fingerprint,
            }


# -- a failure at any point of an import ----------------------------------------------------------
class Failure:
    """Raises inside the real import: at its ``at``-th SQL statement, or at its commit."""

    def __init__(self, engine: Any) -> None:
        self.engine, self.count, self.at, self.armed = engine, 0, 0, False

    def statement(self, _conn: Any, _cursor: Any, sql: str, *_: Any) -> None:
        # The service's own polls (the write generation every 0.25 s, the alias table every few
        # seconds) come and go with the clock, not with the import: counting them would move
        # the statement positions from one run to the next.
        polled = sql.lstrip().upper().startswith("SELECT") and (
            "write_generation" in sql or "firm_aliases" in sql
        )
        if self.armed and not polled:
            self.count += 1
            if self.count == self.at:
                raise RuntimeError(f"injected failure at statement {self.at}")

    def commit(self, _: Any) -> None:
        if self.armed and self.at == 0:
            raise RuntimeError("injected failure at the commit")

    def post(self, client: TestClient, data: bytes, at: int) -> Any:
        self.count, self.at = 0, at
        event.listen(self.engine, "before_cursor_execute", self.statement)
        event.listen(self.engine, "commit", self.commit)
        try:
            self.armed = True
            return client.post("/v1/imports", files={"file": ("changed.zip", data)})
        finally:
            self.armed = False
            event.remove(self.engine, "before_cursor_execute", self.statement)
            event.remove(self.engine, "commit", self.commit)


def test_an_import_failing_at_any_point_leaves_the_database_as_before(
    world: dict[str, Any], tmp_path: Path
) -> None:
    engine, client = world["engine"], world["client"]
    data = zip_of(changed_tiny(tmp_path / "changed"))
    before = world["fingerprint"](engine)
    failure = Failure(engine)
    # At the commit, twice: the second counts the statements (the first warms the key cache).
    failure.post(client, data, at=0)
    response = failure.post(client, data, at=0)
    statements = failure.count
    assert statements > 10
    points = sorted({*range(1, statements + 1, max(1, statements // 12)), statements})
    for at in [0, *points]:
        if at:
            response = failure.post(client, data, at=at)
        where = f"statement {at} of {statements}" if at else "the commit"
        assert response.status_code == 500, (where, response.text)
        assert set(response.json()) == {"detail"} and "injected" not in response.text
        assert world["fingerprint"](engine) == before, f"a failure at {where} left half an import"
    # The same import, left alone, lands whole.
    assert client.post("/v1/imports", files={"file": ("changed.zip", data)}).status_code == 200
    expected = graph.load_dataset(tmp_path / "changed").fingerprint()
    assert storage.dataset_from_db(engine).fingerprint() == expected


# -- writes during a long import ------------------------------------------------------------------
THREADS = 4
PER_THREAD = 12


def test_writes_during_a_long_import_are_stored_or_told_to_retry(world: dict[str, Any]) -> None:
    client, engine = world["client"], world["engine"]
    importing = threading.Event()
    imported: list[Any] = []

    def run_import() -> None:
        importing.set()
        imported.append(client.post("/v1/imports", files={"file": ("hanoi.zip", zip_of(HANOI))}))
        importing.clear()

    def writer(thread: int) -> list[tuple[str, int, str, bool]]:
        done = []
        for i in range(PER_THREAD):
            firm_id = f"during-{thread}-{i}"
            body = {"firm_id": firm_id, "name": f"Trong lúc nhập {thread}-{i}", "role": "buyer"}
            for _ in range(200):  # a client that honours 503 by trying again
                during = importing.is_set()
                response = client.post("/v1/firms", json=body)
                done.append((firm_id, response.status_code, response.text, during))
                if response.status_code != 503:
                    break
                assert int(response.headers["Retry-After"]) >= 1
                time.sleep(0.05)
            time.sleep(0.02)
        return done

    importer = threading.Thread(target=run_import)
    importer.start()
    importing.wait(5)
    with ThreadPoolExecutor(THREADS) as pool:
        results = [r for f in [pool.submit(writer, t) for t in range(THREADS)] for r in f.result()]
    importer.join(120)
    assert imported and imported[0].status_code == 200, imported
    assert all(status in {201, 503} for _, status, _, _ in results), [
        r for r in results if r[1] not in {201, 503}
    ]
    assert any(during for *_, during in results), "no write overlapped the import"
    accepted = {firm_id for firm_id, status, _, _ in results if status == 201}
    assert len(accepted) == THREADS * PER_THREAD
    stored = set(storage.dataset_from_db(engine).firms["firm_id"])
    assert accepted <= stored, sorted(accepted - stored)
    assert set(graph.load_dataset(HANOI).firms["firm_id"]) <= stored


# -- a write that finds the database locked -------------------------------------------------------
def _hold_lock(world: dict[str, Any], release: threading.Event, held: threading.Event) -> None:
    """Hold a write lock another way than the service does (a raw connection)."""
    if world["backend"] == "sqlite":
        raw = sqlite3.connect(world["engine"].url.database, isolation_level=None)
        raw.execute("BEGIN IMMEDIATE")
        held.set()
        release.wait(60)
        raw.execute("ROLLBACK")
        raw.close()
        return
    with world["engine"].connect() as connection:
        connection.execute(text("SELECT * FROM firms WHERE firm_id = 'B1' FOR UPDATE"))
        held.set()
        release.wait(60)
        connection.rollback()


def test_a_write_kept_waiting_too_long_is_a_503_with_retry_after(world: dict[str, Any]) -> None:
    release, held = threading.Event(), threading.Event()
    holder = threading.Thread(target=_hold_lock, args=(world, release, held))
    holder.start()
    try:
        assert held.wait(10)
        started = time.monotonic()
        response = world["client"].patch("/v1/firms/B1", json={"sector": "đang khóa"})
        waited = time.monotonic() - started
    finally:
        release.set()
        holder.join(60)
    assert response.status_code == 503, response.text
    assert int(response.headers["Retry-After"]) >= 1
    assert set(response.json()) == {"detail"} and "busy" in response.json()["detail"]
    assert waited < 10, waited
    # Once the lock is gone, the same write goes through.
    response = world["client"].patch("/v1/firms/B1", json={"sector": "đang khóa"})
    assert response.status_code == 200, response.text
    assert os.environ["KETNOI_WRITE_WAIT"] == "1"
