"""Nothing is lost: writes during a retrain, failed loads, and a loader killed mid-load.

Real processes where it matters: the concurrent writes go over HTTP to a real ``uvicorn``
server (its thread pool, its SQLite connections, its background retrain), and the kill test
``kill -9``s a real Python process in the middle of a load and then opens the SQLite file it
left behind.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import textwrap
import threading
import time
import zipfile
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, select, text
from sqlalchemy.orm import Session

from ketnoi import graph
from ketnoi.api import storage

ROOT = Path(__file__).resolve().parents[1]
TINY = ROOT / "fixtures" / "tiny"
HANOI = ROOT / "fixtures" / "hanoi"


# -- helpers --------------------------------------------------------------------------------------
def _engine(folder: Path) -> Engine:
    engine = storage.make_engine(f"sqlite:///{folder / 'ketnoi.db'}", data_dir=folder)
    storage.upgrade(engine)
    return engine


def table_fingerprint(engine: Engine) -> dict[str, str]:
    """Every row of every table (timestamps, soft deletes, audit and keys included), hashed
    per table: equal fingerprints mean the database is exactly as it was."""
    out = {}
    with engine.connect() as connection:
        for table in storage.Base.metadata.sorted_tables:
            rows = connection.execute(select(table).order_by(*table.primary_key.columns)).all()
            digest = hashlib.sha256()
            for row in rows:
                digest.update(json.dumps([str(v) for v in row], ensure_ascii=False).encode())
            out[table.name] = f"{len(rows)}:{digest.hexdigest()[:16]}"
    return out


def _child_env(folder: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KETNOI_")}
    env["KETNOI_DATA_DIR"] = str(folder)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    return env


class Server:
    """``uvicorn --factory api.service:create_app`` on a loopback socket bound here and handed
    over with ``--fd`` (no port race), its output in a log file."""

    def __init__(self, folder: Path, **env: str) -> None:
        self.log_path = folder / "server.log"
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(("127.0.0.1", 0))
        sock.listen(512)
        self.url = f"http://127.0.0.1:{sock.getsockname()[1]}"
        command = [sys.executable, "-m", "uvicorn", "--factory", "ketnoi.api.service:create_app"]
        command += ["--fd", str(sock.fileno()), "--log-level", "warning"]
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(
                command,
                cwd=ROOT,
                env={**_child_env(folder), **env},
                stdout=log,
                stderr=subprocess.STDOUT,
                pass_fds=[sock.fileno()],
            )
        sock.close()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"the server exited with {self.process.returncode}:\n{self.log()}")
            try:
                if httpx.get(f"{self.url}/v1/health", timeout=2).json()["model_loaded"]:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        pytest.fail(f"the server was not ready in {timeout} s:\n{self.log()}")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def _wait_retrain(client: httpx.Client, timeout: float = 60) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        info = client.get("/v1/model").json()
        if not info["retraining"]:
            return info
        time.sleep(0.1)
    pytest.fail(f"the retrain did not end in {timeout} s")


# -- (a) concurrent writes while a retrain runs ---------------------------------------------------
THREADS = 8
PER_THREAD = 6


def _writer(url: str, key: str, thread: int, categories: list[str]) -> list[tuple[str, int, str]]:
    """Create firms, their demands and an update of each, over HTTP; (what, status, body)."""
    done = []
    headers = {"Authorization": f"Bearer {key}"}
    with httpx.Client(base_url=url, headers=headers, timeout=30) as client:
        for i in range(PER_THREAD):
            firm_id = f"rel-{thread}-{i}"
            firm = {"firm_id": firm_id, "name": f"Công ty Độ tin cậy {thread}-{i}", "role": "buyer"}
            response = client.post("/v1/firms", json=firm)
            done.append((f"firm {firm_id}", response.status_code, response.text))
            category = categories[(thread * PER_THREAD + i) % len(categories)]
            demand = {"firm_id": firm_id, "category_id": category, "volume": thread * 100 + i}
            response = client.post("/v1/demands", json=demand)
            done.append((f"demand {firm_id}/{category}", response.status_code, response.text))
            response = client.patch(f"/v1/firms/{firm_id}", json={"sector": f"sector {i}"})
            done.append((f"update {firm_id}", response.status_code, response.text))
    return done


@pytest.fixture(scope="module")
def hanoi_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    folder = tmp_path_factory.mktemp("reliability-server")
    engine = _engine(folder)
    storage.load_into(engine, graph.load_dataset(HANOI))
    mp = pytest.MonkeyPatch()
    mp.delenv("KETNOI_SECRET", raising=False)  # the server and this process share the file
    key = storage.create_key(engine, "staff", label="reliability")
    server = Server(folder, KETNOI_PRECOMPUTE="false")  # a retrain of about 3 s, not 6
    try:
        server.wait_ready()
        yield {"url": server.url, "key": key, "engine": engine, "server": server}
    finally:
        server.stop()
        engine.dispose()
        mp.undo()


def test_concurrent_writes_while_a_retrain_runs_all_land(hanoi_server: dict[str, Any]) -> None:
    url, key, engine = hanoi_server["url"], hanoi_server["key"], hanoi_server["engine"]
    headers = {"Authorization": f"Bearer {key}"}
    categories = sorted(
        graph.load_dataset(HANOI).categories["category_id"].loc[lambda s: ~s.str.startswith("grp")]
    )
    with httpx.Client(base_url=url, headers=headers, timeout=30) as client:
        before = client.get("/v1/model").json()["version"]
        started = client.post("/v1/model/retrain")
        assert started.status_code == 202 and started.json()["kind"] == "retrain", started.text

        # Sample the retrain flag while the writers run, to show that they overlapped.
        samples: list[bool] = []
        stop = threading.Event()

        def sample() -> None:
            with httpx.Client(base_url=url, headers=headers, timeout=30) as poller:
                while not stop.is_set():
                    samples.append(poller.get("/v1/model").json()["retraining"])
                    time.sleep(0.05)

        sampler = threading.Thread(target=sample)
        sampler.start()
        with ThreadPoolExecutor(THREADS) as pool:
            futures = [pool.submit(_writer, url, key, t, categories) for t in range(THREADS)]
            results = [r for f in futures for r in f.result()]
        stop.set()
        sampler.join()
        info = _wait_retrain(client)

    failed = [r for r in results if r[1] not in (200, 201)]
    assert not failed, (
        f"{len(failed)} writes failed, e.g. {failed[:3]}\n{hanoi_server['server'].log()}"
    )
    assert True in samples, "the writes did not overlap the retrain (it ended before them)"
    assert info["version"] != before and info["last_error"] is None, info

    # Every write is in the database ...
    firm_ids = {f"rel-{t}-{i}" for t in range(THREADS) for i in range(PER_THREAD)}
    with Session(engine) as session:
        firms = session.scalars(select(storage.Firm).where(storage.Firm.firm_id.like("rel-%")))
        got = {f.firm_id: f.sector for f in firms}
        demands = session.scalars(
            select(storage.Demand).where(storage.Demand.firm_id.like("rel-%"))
        ).all()
        audit = session.execute(
            select(storage.AuditEntry.action, storage.AuditEntry.entity_key).where(
                storage.AuditEntry.entity_key.like("rel-%")
            )
        ).all()
    assert set(got) == firm_ids
    assert got == {f: f"sector {f.rsplit('-', 1)[1]}" for f in firm_ids}
    assert {d.firm_id for d in demands} == firm_ids and len(demands) == len(firm_ids)
    assert all(
        d.volume == int(d.firm_id.split("-")[1]) * 100 + int(d.firm_id.split("-")[2])
        for d in demands
    )
    # ... and in the audit log, once each.
    entries = sorted(audit)
    expected = sorted(
        [("create", f) for f in firm_ids]
        + [("update", f) for f in firm_ids]
        + [("create", f"{d.firm_id}/{d.category_id}") for d in demands]
    )
    assert entries == expected


def test_the_next_retrain_serves_what_was_written(hanoi_server: dict[str, Any]) -> None:
    url, key = hanoi_server["url"], hanoi_server["key"]
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {key}"}, timeout=30) as c:
        assert c.post("/v1/model/retrain").status_code == 202
        info = _wait_retrain(c)
        assert info["last_error"] is None, info
        for firm_id in ("rel-0-0", f"rel-{THREADS - 1}-{PER_THREAD - 1}"):
            response = c.get(f"/v1/buyers/{firm_id}/suppliers", params={"k": 5})
            assert response.status_code == 200, response.text
            assert response.json()["model_version"] == info["version"]


# -- (b) a failed load leaves the database as it was ----------------------------------------------
def _bad_merge(folder: Path) -> graph.Dataset:
    """The tiny world with every firm renamed, a new firm, and supplier S1 made a buyer (its
    links dropped): valid on its own, but over a database holding tiny's link S1 -> T1 the
    merge is invalid."""
    target = folder / "bad"
    shutil.copytree(TINY, target)

    def edit(name: str, change: Any) -> None:
        with open(target / name, encoding="utf-8", newline="") as handle:
            reader = csv.DictReader(handle)
            header, rows = list(reader.fieldnames or []), list(reader)
        with open(target / name, "w", encoding="utf-8", newline="") as handle:
            writer = csv.DictWriter(handle, header)
            writer.writeheader()
            writer.writerows(change(header, rows))

    def firms(header: list[str], rows: list[dict[str, str]]) -> list[dict[str, str]]:
        rows = [{**r, "name": f"{r['name']} (mới)"} for r in rows]
        rows = [{**r, "role": "buyer"} if r["firm_id"] == "S1" else r for r in rows]
        new = {"firm_id": "new-firm", "name": "Brand new", "role": "supplier", "listed": "true"}
        return [*rows, {h: new.get(h, "") for h in header}]

    edit("firms.csv", firms)
    edit("links.csv", lambda _, rows: [r for r in rows if r["supplier_id"] != "S1"])
    return graph.load_dataset(target)


def _workbook(folder: Path, out: Path) -> Path:
    """The CSV folder as one workbook with a sheet per file (the contract's XLSX form)."""
    import pandas as pd

    with pd.ExcelWriter(out, engine="openpyxl") as writer:
        for path in sorted(folder.glob("*.csv")):
            frame = pd.read_csv(path, dtype=str, keep_default_na=False)
            frame.to_excel(writer, sheet_name=path.stem, index=False)
    return out


def _zip(folder: Path) -> bytes:
    """The CSV folder as a zip (files at the top)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(folder.glob("*.csv")):
            archive.write(path, path.name)
    return buffer.getvalue()


def test_a_failed_load_leaves_the_database_exactly_as_it_was(tmp_path: Path) -> None:
    engine = _engine(tmp_path)
    storage.load_into(engine, graph.load_dataset(TINY))
    storage.create_key(engine, "staff")
    bad = _bad_merge(tmp_path)
    before, dataset_before = table_fingerprint(engine), storage.dataset_from_db(engine)
    with pytest.raises(graph.DatasetError) as error:
        storage.load_into(engine, bad)
    assert any("S1" in str(p) for p in error.value.problems)
    assert table_fingerprint(engine) == before
    assert storage.dataset_from_db(engine).fingerprint() == dataset_before.fingerprint()
    # The same load with replace=True (S1's old link goes) is valid and lands whole.
    storage.load_into(engine, bad, replace=True)
    assert storage.dataset_from_db(engine).fingerprint() == bad.fingerprint()
    engine.dispose()


def _imports_route(app: Any) -> tuple[str, dict[str, Any]] | None:
    for path, item in app.openapi()["paths"].items():
        if path.rstrip("/") == "/v1/imports" and "post" in item:
            return path, item["post"]
    return None


def test_a_failed_import_over_http_leaves_the_database_as_it_was(tmp_path: Path) -> None:
    from fastapi.testclient import TestClient

    from ketnoi.api.service import ServiceSettings, create_app

    engine = _engine(tmp_path)
    storage.load_into(engine, graph.load_dataset(TINY))
    key = storage.create_key(engine, "staff")
    app = create_app(ServiceSettings(data_dir=tmp_path, precompute=False), engine=engine)
    route = _imports_route(app)
    if route is None:
        pytest.skip("POST /v1/imports is not there yet")
    path, operation = route
    content = operation.get("requestBody", {}).get("content", {})
    if "multipart/form-data" not in content:
        pytest.skip(f"POST {path} takes {sorted(content)}, not a file upload")
    schema = content["multipart/form-data"]["schema"]
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[1]
        schema = app.openapi()["components"]["schemas"][name]
    fields = [n for n, s in schema.get("properties", {}).items() if s.get("format") == "binary"]
    if not fields:
        pytest.skip(f"POST {path} has no file field")

    _bad_merge(tmp_path)
    workbook = _workbook(tmp_path / "bad", tmp_path / "bad.xlsx")
    assert (
        graph.load_dataset(workbook).fingerprint()
        == graph.load_dataset(tmp_path / "bad").fingerprint()
    )
    uploads = {"bad.xlsx": workbook.read_bytes(), "bad.zip": _zip(tmp_path / "bad")}
    headers = {"Authorization": f"Bearer {key}"}
    with TestClient(app) as client:
        before = table_fingerprint(engine)  # after start-up, which records its model
        for name, data in uploads.items():
            response = client.post(path, headers=headers, files={fields[0]: (name, data)})
            assert 400 <= response.status_code < 500, (name, response.status_code, response.text)
            assert "S1" in response.text, response.text
            assert table_fingerprint(engine) == before, f"{name}: a refused import wrote rows"
        # The same upload with replace=True is a valid merge, and lands whole.
        response = client.post(
            path,
            headers=headers,
            params={"replace": "true"},
            files={fields[0]: ("bad.zip", uploads["bad.zip"])},
        )
        assert response.status_code < 300, response.text
    expected = graph.load_dataset(tmp_path / "bad").fingerprint()
    assert storage.dataset_from_db(engine).fingerprint() == expected
    engine.dispose()


def test_a_server_killed_mid_import_loses_nothing_committed(
    tmp_path: Path, expected_worlds: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """kill -9 a real server while it loads an upload of Hanoi over the committed tiny world,
    as soon as the load's first pages reach the WAL file."""
    monkeypatch.delenv("KETNOI_SECRET", raising=False)
    engine = _engine(tmp_path)
    storage.load_into(engine, graph.load_dataset(TINY))
    key = storage.create_key(engine, "staff")
    server = Server(tmp_path, KETNOI_PRECOMPUTE="false")
    try:
        server.wait_ready()
        if "/v1/imports" not in httpx.get(f"{server.url}/openapi.json").json()["paths"]:
            pytest.skip("POST /v1/imports is not there yet")
        baseline = table_fingerprint(engine)
        engine.dispose()
        wal = tmp_path / "ketnoi.db-wal"
        size = wal.stat().st_size if wal.exists() else 0
        data = _zip(HANOI)
        outcome: list[Any] = []

        def upload() -> None:
            try:
                outcome.append(
                    httpx.post(
                        f"{server.url}/v1/imports",
                        headers={"Authorization": f"Bearer {key}"},
                        files={"file": ("hanoi.zip", data)},
                        timeout=60,
                    ).status_code
                )
            except httpx.HTTPError as exc:
                outcome.append(type(exc).__name__)

        uploader = threading.Thread(target=upload)
        uploader.start()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not outcome:
            if wal.exists() and wal.stat().st_size > size:
                break
            time.sleep(0.002)
        server.process.send_signal(signal.SIGKILL)
        server.process.wait()
        uploader.join(30)
    finally:
        server.stop()

    with sqlite3.connect(tmp_path / "ketnoi.db") as raw:
        assert raw.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    engine = storage.make_engine(f"sqlite:///{tmp_path / 'ketnoi.db'}", data_dir=tmp_path)
    fingerprint = storage.dataset_from_db(engine).fingerprint()
    tables = table_fingerprint(engine)
    engine.dispose()
    if fingerprint == expected_worlds["tiny"]:
        assert tables == baseline, "a killed import left rows behind"
    else:
        assert fingerprint == expected_worlds["both"], f"half an import ({outcome})"
    if outcome == [200]:  # answered before the kill: committed, so it must be there
        assert fingerprint == expected_worlds["both"]


# -- (c) a loader killed mid-load loses nothing committed -----------------------------------------
CHILD = textwrap.dedent(
    """
    import sys, time
    from sqlalchemy import event
    from sqlalchemy.orm import Session
    from ketnoi import graph
    from ketnoi.api import storage

    db, folder, hanoi, mode = sys.argv[1:5]
    engine = storage.make_engine(f"sqlite:///{db}", data_dir=folder)
    dataset = graph.load_dataset(hanoi)

    @event.listens_for(engine, "commit")
    def before_commit(connection):  # everything written, nothing committed yet
        print("COMMITTING", flush=True)
        if mode == "before-commit":
            time.sleep(120)

    @event.listens_for(Session, "after_commit")
    def after_commit(session):
        print("COMMITTED", flush=True)
        if mode == "after-commit":
            time.sleep(120)

    print("LOADING", flush=True)
    storage.load_into(engine, dataset)
    print("DONE", flush=True)
    time.sleep(120)
    """
)


@pytest.fixture(scope="module")
def expected_worlds(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Dataset fingerprints of the tiny world, and of tiny then Hanoi loaded over it."""
    folder = tmp_path_factory.mktemp("reference")
    engine = _engine(folder)
    storage.load_into(engine, graph.load_dataset(TINY))
    tiny = storage.dataset_from_db(engine).fingerprint()
    storage.load_into(engine, graph.load_dataset(HANOI))
    both = storage.dataset_from_db(engine).fingerprint()
    engine.dispose()
    return {"tiny": tiny, "both": both}


def _read_line(process: subprocess.Popen[str], want: str, timeout: float = 60) -> list[str]:
    """Lines the child printed up to ``want`` (fails if it exits or takes too long)."""
    assert process.stdout is not None
    seen: list[str] = []
    found = threading.Event()

    def read() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            seen.append(line.strip())
            if line.strip() == want:
                found.set()
                return

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    if not found.wait(timeout):
        process.kill()
        pytest.fail(f"the loader never printed {want}: {seen}, {process.stderr.read()!r}")
    return seen


@pytest.mark.parametrize(
    "mode",
    ["before-commit", "after-commit", "after 0.1 s", "after 0.5 s"],
)
def test_a_loader_killed_mid_load_loses_nothing_committed(
    mode: str, tmp_path: Path, expected_worlds: dict[str, str]
) -> None:
    db = tmp_path / "ketnoi.db"
    engine = _engine(tmp_path)
    storage.load_into(engine, graph.load_dataset(TINY))  # committed before the child starts
    tiny_tables = table_fingerprint(engine)
    engine.dispose()

    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(db), str(tmp_path), str(HANOI), mode],
        cwd=ROOT,
        env=_child_env(tmp_path),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        if mode.startswith("after "):
            _read_line(child, "LOADING")
            time.sleep(float(mode.split()[1]))
        else:
            _read_line(child, "COMMITTING" if mode == "before-commit" else "COMMITTED")
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
        assert child.stdout is not None and child.stderr is not None
        child.stdout.close()
        child.stderr.close()
    assert child.returncode == -signal.SIGKILL

    # The file the killed process left (its WAL included) is whole.
    with sqlite3.connect(db) as raw:
        assert raw.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert raw.execute("PRAGMA foreign_key_check").fetchall() == []
    engine = storage.make_engine(f"sqlite:///{db}", data_dir=tmp_path)
    fingerprint = storage.dataset_from_db(engine).fingerprint()
    with engine.connect() as connection:
        loads = connection.execute(
            text("SELECT count(*) FROM audit_log WHERE action = 'load'")
        ).scalar()
    tables = table_fingerprint(engine)
    engine.dispose()
    if mode == "before-commit":
        assert tables == tiny_tables, "a load killed before its commit left rows behind"
    elif mode == "after-commit":
        assert fingerprint == expected_worlds["both"], "a committed load was lost"
    # Whenever it was killed: exactly the tiny world, or exactly both; never a mix.
    if fingerprint == expected_worlds["tiny"]:
        assert tables == tiny_tables and loads == 1
    else:
        assert fingerprint == expected_worlds["both"], "the database holds half a load"
        assert loads == 2
