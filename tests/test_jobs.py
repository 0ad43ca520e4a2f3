"""Long work as jobs (issue 11, item 14): 202 with a job and its Location, progress, results,
who sees which job, and jobs that never stay "running" after their worker is gone.

The nothing-lost tests under a job (writes during a long import and during a retrain, on
SQLite and PostgreSQL) are in ``test_jobs_nothing_lost.py``.
"""

from __future__ import annotations

import datetime as dt
import io
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from sqlalchemy import update
from sqlalchemy.orm import Session

from ketnoi.api import storage

URL = "/v1/programme/conversion"


@pytest.fixture(scope="module")
def service_options() -> dict[str, Any]:
    return {"evaluate": False, "match_list_job_firms": 2}


def auth(service: dict[str, Any], name: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {service['keys'][name]}"}


def test_a_backtest_is_a_job_with_progress_and_a_result(
    service: dict[str, Any], follow_job: Any
) -> None:
    client, staff = service["client"], auth(service, "staff")
    started = client.get(URL, params={"source": "backtest", "k": 5}, headers=staff)
    assert started.status_code == 202, started.text
    job = started.json()
    assert started.headers["Location"] == f"/v1/jobs/{job['id']}"
    assert job["kind"] == "backtest" and job["params"] == {"k": 5, "source": "backtest"}
    assert job["state"] in {"queued", "running", "finished"}
    ended = follow_job(client, started, staff)
    assert ended["state"] == "finished" and ended["error"] is None, ended
    # The steps the command line shows too: one per year of outcomes.
    assert ended["step"] == "refitting the matcher for each year of outcomes"
    assert ended["total"] >= 1 and ended["done"] == ended["total"] and ended["progress"] == 1
    body = client.get(ended["result_url"], headers=staff).json()
    assert body["k"] == 5 and body["events"][-1]["event_id"] == "all"
    csv = client.get(ended["result_url"], params={"format": "csv"}, headers=staff)
    assert csv.status_code == 200 and csv.headers["content-type"].startswith("text/csv")
    frame = pd.read_csv(io.BytesIO(csv.content), encoding="utf-8-sig")
    assert list(frame["event_id"]) == [e["event_id"] for e in body["events"]]
    # The same report without a backtest is still answered at once.
    assert client.get(URL, headers=staff).status_code == 200


def test_a_large_match_list_is_a_job_whose_result_is_the_list(
    service: dict[str, Any], follow_job: Any
) -> None:
    client, staff = service["client"], auth(service, "staff")
    small = client.post("/v1/match-lists", json={"buyer_ids": ["B1"], "k": 2}, headers=staff)
    assert small.status_code == 201, small.text
    started = client.post(
        "/v1/match-lists",
        json={"buyer_ids": ["B1", "B2"], "supplier_ids": ["S1"], "k": 2},
        headers=staff,
    )
    ended = follow_job(client, started, staff)
    assert ended["kind"] == "match-list" and ended["state"] == "finished", ended
    assert ended["step"] == "ranking buyers" and ended["progress"] == 1
    assert ended["result_url"].startswith("/v1/match-lists/")
    made = client.get(f"/v1/jobs/{ended['id']}/result", headers=staff)  # a redirect, followed
    assert made.status_code == 200 and made.json()["params"]["buyer_ids"] == ["B1", "B2"]


def test_retrain_is_a_job(service: dict[str, Any], follow_job: Any) -> None:
    client, staff = service["client"], auth(service, "staff")
    before = client.get("/v1/model", headers=staff).json()["version"]
    started = client.post("/v1/model/retrain", headers=staff)
    ended = follow_job(client, started, staff)
    assert ended["kind"] == "retrain" and ended["state"] == "finished", ended
    result = client.get(ended["result_url"], headers=staff).json()
    assert result["version"] == client.get("/v1/model", headers=staff).json()["version"] != before


def _firm_job(engine: Any, firm_id: str) -> str:
    key = storage.KeyInfo(99, "firm", firm_id, "", storage.utcnow(), None)
    job, _ = storage.create_job(engine, "import", key, {"source": "x.zip"})
    storage.finish_job(engine, job.id, result={"body": {"ok": True}, "tables": {}})
    return job.id


def test_a_firm_key_sees_only_its_own_firms_jobs(service: dict[str, Any]) -> None:
    client, engine = service["client"], service["engine"]
    own, other = _firm_job(engine, "B1"), _firm_job(engine, "S1")
    b1 = auth(service, "firm_b1")
    assert client.get(f"/v1/jobs/{own}", headers=b1).status_code == 200
    assert client.get(f"/v1/jobs/{own}/result", headers=b1).json() == {"ok": True}
    # Another firm's job and an absent one: one 404, the same words but for the id.
    hidden = client.get(f"/v1/jobs/{other}", headers=b1)
    absent = client.get(f"/v1/jobs/{'0' * 32}", headers=b1)
    assert hidden.status_code == absent.status_code == 404
    assert hidden.json()["detail"].replace(other, "ID") == absent.json()["detail"].replace(
        "0" * 32, "ID"
    )
    assert client.get(f"/v1/jobs/{other}/result", headers=b1).status_code == 404
    listed = client.get("/v1/jobs", headers=b1).json()
    assert [j["id"] for j in listed["items"]] == [own] and listed["total"] == 1
    staff = client.get("/v1/jobs", params={"page_size": 200}, headers=auth(service, "staff"))
    assert {own, other} <= {j["id"] for j in staff.json()["items"]}
    assert client.get("/v1/jobs/not-a-job-id", headers=b1).status_code == 422
    assert client.get(f"/v1/jobs/{own}").status_code == 401


# -- a restart: failed or finished, never running -------------------------------------------------
def _unfinished(engine: Any, worker: str, beat_age: float) -> str:
    job, _ = storage.create_job(engine, "backtest", "test", {})
    beat = storage.utcnow() - dt.timedelta(seconds=beat_age)
    with Session(engine) as session, session.begin():
        session.execute(
            update(storage.Job)
            .where(storage.Job.id == job.id)
            .values(worker=worker, heartbeat_at=beat, state="running")
        )
    return job.id


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Any]:
    engine = storage.make_engine(f"sqlite:///{tmp_path / 'ketnoi.db'}", data_dir=tmp_path)
    storage.upgrade(engine)
    yield engine
    engine.dispose()


def test_only_jobs_of_gone_workers_are_failed(engine: Any) -> None:
    host = socket.gethostname()
    dead = _unfinished(engine, f"{host}:999999999:dead", 1)  # no such process on this host
    ours = _unfinished(engine, storage.worker_name(), 10_000)  # this process: alive, however old
    reused = _unfinished(engine, f"{storage.worker_name().rsplit(':', 1)[0]}:earlier", 1)
    elsewhere_live = _unfinished(engine, "other-host:12:abcd", 5)
    elsewhere_stale = _unfinished(engine, "other-host:13:abcd", storage.STALE_AFTER + 60)
    failed = set(storage.fail_stale_jobs(engine))
    assert failed == {dead, reused, elsewhere_stale}
    for job_id in failed:
        job = storage.get_job(engine, job_id)
        assert job is not None and job.state == "failed" and job.error and job.finished_at
    for job_id in (ours, elsewhere_live):
        job = storage.get_job(engine, job_id)
        assert job is not None and job.state == "running"


def test_after_a_restart_no_job_is_running(
    tmp_path: Path, start_service: Any, follow_job: Any
) -> None:
    with start_service(tmp_path / "first", evaluate=False, precompute=False) as first:
        client, staff = first["client"], auth(first, "staff")
        finished = follow_job(client, client.post("/v1/model/retrain", headers=staff), staff)
        # A worker killed mid-job (no shutdown ran) leaves its job running in the table.
        killed = _unfinished(first["engine"], f"{socket.gethostname()}:999999999:x", 1)
        engine_url = str(first["engine"].url)
    assert finished["state"] == "finished"
    from fastapi.testclient import TestClient

    from ketnoi.api.service import ServiceSettings, create_app

    engine = storage.make_engine(engine_url, data_dir=tmp_path / "first")
    settings = ServiceSettings(data_dir=tmp_path / "first", evaluate=False, precompute=False)
    with TestClient(create_app(settings, engine=engine)) as client:
        job = client.get(f"/v1/jobs/{killed}", headers=staff).json()
        assert job["state"] == "failed" and "stopped" in job["error"], job
        listed = client.get("/v1/jobs", headers=staff).json()["items"]
        assert {j["state"] for j in listed} <= {"finished", "failed"}, listed
    engine.dispose()
