"""The storage layer on a real PostgreSQL server: schema, round trips, failed loads, keys, search.

Each test gets a database of its own (``CREATE DATABASE``, dropped afterwards) on the server that
``KETNOI_TEST_POSTGRES_URL`` names, e.g. ``postgresql+psycopg://postgres@127.0.0.1:54329/postgres``.
Without it every test here skips, with the reason; ``.ci/run`` always sets it.

A throwaway server for a local run (as root on Debian, where ``apt-get install postgresql`` puts
the binaries in /usr/lib/postgresql/<version>/bin), the same steps ``.ci/run`` takes::

    PG_BIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
    PG_DIR=$(mktemp -d); chown postgres "$PG_DIR"
    runuser -u postgres -- "$PG_BIN/initdb" -D "$PG_DIR/data" -A trust -U postgres
    runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/log" -w \\
        -o "-c listen_addresses=127.0.0.1 -p 54329 -k $PG_DIR" start
    export KETNOI_TEST_POSTGRES_URL=postgresql+psycopg://postgres@127.0.0.1:54329/postgres
    python -m pytest tests/test_storage_postgres.py
    runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m fast stop; rm -rf "$PG_DIR"
"""

from __future__ import annotations

import csv
import os
import time
import uuid
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, create_engine, make_url, text

from ketnoi import graph
from ketnoi.api import storage
from ketnoi.api.storage import _load

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
TINY = FIXTURES / "tiny"
HANOI = FIXTURES / "hanoi"
SERVER = os.environ.get("KETNOI_TEST_POSTGRES_URL", "")

if not SERVER:
    pytest.skip(
        "no PostgreSQL server configured (set KETNOI_TEST_POSTGRES_URL)", allow_module_level=True
    )


def new_database(tmp_path: Path) -> tuple[Engine, str]:
    """A migrated, empty database of its own on the test server, and its name."""
    name = f"ketnoi_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(SERVER, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    admin.dispose()
    url = make_url(SERVER).set(database=name)
    engine = storage.make_engine(url.render_as_string(hide_password=False), data_dir=tmp_path)
    storage.upgrade(engine)
    return engine, name


def drop_database(engine: Engine, name: str) -> None:
    engine.dispose()
    admin = create_engine(SERVER, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.dispose()


@pytest.fixture
def engine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv("KETNOI_SECRET", raising=False)
    engine, name = new_database(tmp_path / "first")
    yield engine
    drop_database(engine, name)


@pytest.fixture
def fresh(tmp_path: Path):
    engine, name = new_database(tmp_path / "second")
    yield engine
    drop_database(engine, name)


def counts(engine: Engine) -> dict[str, int]:
    tables = [*graph.FILE_ORDER, "audit_log", "api_keys"]
    with engine.connect() as connection:
        return {
            t: connection.execute(text(f"SELECT count(*) FROM {t}")).scalar_one() for t in tables
        }


def edit_csv(path: Path, change) -> None:
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        header, rows = list(reader.fieldnames or []), list(reader)
    rows = change(rows)
    for row in rows:
        header += [c for c in row if c not in header]
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, header, restval="")
        writer.writeheader()
        writer.writerows(rows)


def test_migrations_match_the_models(engine: Engine) -> None:
    assert engine.dialect.name == "postgresql"
    with engine.connect() as connection:
        assert compare_metadata(MigrationContext.configure(connection), storage.Base.metadata) == []


def test_load_dump_load_gives_the_same_dataset(
    engine: Engine, fresh: Engine, tiny_copy: Path, tmp_path: Path
) -> None:
    edit_csv(tiny_copy / "firms.csv", lambda rows: [{**r, "linkedin": r["firm_id"]} for r in rows])
    dataset = graph.load_dataset(tiny_copy)
    storage.load_into(engine, dataset)
    storage.dump(engine, tmp_path / "dump")
    again = graph.load_dataset(tmp_path / "dump")
    assert again.fingerprint() == dataset.fingerprint()
    storage.load_into(fresh, again)
    assert storage.dataset_from_db(fresh).fingerprint() == dataset.fingerprint()
    before = counts(engine)
    result = storage.load_into(engine, again)
    assert all(c["inserted"] == c["updated"] == c["deleted"] == 0 for c in result.values())
    assert counts(engine) == {**before, "audit_log": before["audit_log"] + 1}


def test_reload_updates_by_key_and_replace_soft_deletes(engine: Engine, tiny_copy: Path) -> None:
    storage.load_into(engine, graph.load_dataset(TINY))
    edit_csv(
        tiny_copy / "firms.csv",
        lambda rows: [
            {**r, "name": "Công ty Cơ khí Gia Lâm"} if r["firm_id"] == "S5" else r for r in rows
        ],
    )
    edit_csv(tiny_copy / "links.csv", lambda rows: rows[:-1])
    changed = graph.load_dataset(tiny_copy)
    result = storage.load_into(engine, changed)
    assert result["firms"] == {"inserted": 0, "updated": 1, "unchanged": 7, "deleted": 0}
    assert len(storage.dataset_from_db(engine).links) == 6
    assert storage.search_firms(engine, "CO KHI gia lam") == [("S5", "Công ty Cơ khí Gia Lâm")]
    result = storage.load_into(engine, changed, replace=True)
    assert result["links"]["deleted"] == 1
    assert storage.dataset_from_db(engine).fingerprint() == changed.fingerprint()


def test_a_failed_load_leaves_the_database_as_it_was(
    engine: Engine, tiny_copy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    storage.load_into(engine, graph.load_dataset(TINY))
    before, before_counts = storage.dataset_from_db(engine).fingerprint(), counts(engine)
    edit_csv(tiny_copy / "firms.csv", lambda rows: [{**r, "name": r["name"] + " X"} for r in rows])
    real = _load._write_file

    def write_then_fail(session, name, frame, replace):
        result = real(session, name, frame, replace)
        if name == "links":
            raise RuntimeError("connection lost")
        return result

    monkeypatch.setattr(_load, "_write_file", write_then_fail)
    with pytest.raises(RuntimeError, match="connection lost"):
        storage.load_into(engine, graph.load_dataset(tiny_copy), replace=True)
    assert counts(engine) == before_counts
    assert storage.dataset_from_db(engine).fingerprint() == before


def test_keys_verify_expire_and_revoke(engine: Engine) -> None:
    storage.load_into(engine, graph.load_dataset(TINY))
    key = storage.create_key(engine, "firm", firm_id="S1", expires_days=1)
    info = storage.verify_key(engine, key)
    assert info is not None and info.firm_id == "S1" and info.expires_at is not None
    assert storage.verify_key(engine, key, now=info.expires_at) is None
    with engine.connect() as connection:
        stored = connection.execute(text("SELECT key_hash FROM api_keys")).scalar_one()
    assert stored != key and key not in stored
    assert storage.revoke_key(engine, info.id)
    assert storage.verify_key(engine, key) is None


def test_the_hanoi_demo_world_round_trips(engine: Engine, fresh: Engine, tmp_path: Path) -> None:
    hanoi = graph.load_dataset(HANOI)
    started = time.perf_counter()
    storage.load_into(engine, hanoi)
    print(f"loading fixtures/hanoi into PostgreSQL took {time.perf_counter() - started:.2f} s")
    storage.dump(engine, tmp_path / "dump")
    storage.load_into(fresh, graph.load_dataset(tmp_path / "dump"))
    assert storage.dataset_from_db(fresh).fingerprint() == hanoi.fingerprint()


def test_programme_tools_through_the_service_on_postgresql(engine: Engine, tmp_path: Path) -> None:
    """Events (JSON columns, locks, audit), outcomes, the conversion report and a programme
    report, through the HTTP service, on PostgreSQL."""
    import io

    import pandas as pd
    from fastapi.testclient import TestClient

    from ketnoi.api.service import ServiceSettings, create_app

    storage.load_into(engine, graph.load_dataset(TINY))
    staff = {"Authorization": f"Bearer {storage.create_key(engine, 'staff')}"}
    app = create_app(ServiceSettings(data_dir=tmp_path, evaluate=False), engine=engine)
    people = [{"firm_id": f} for f in ("B2", "S1", "S4", "S5")]
    event = {"name": "fair", "participants": people, "slots": 2, "tables": 2, "max_meetings": 2}
    with TestClient(app) as client:
        made = client.post("/v1/events", headers=staff, json=event)
        assert made.status_code == 201, made.text
        body = made.json()
        assert body["summary"]["status"] == "optimal" and body["meetings"]
        first = body["meetings"][0]
        locked = client.post(
            f"/v1/events/{body['id']}/locks",
            headers=staff,
            json={"add": [{"buyer_id": first["buyer_id"], "supplier_id": first["supplier_id"]}]},
        )
        assert locked.status_code == 200, locked.text
        assert len(locked.json()["spec"]["locks"]) == 1
        grid = client.get(f"/v1/events/{body['id']}/grid", headers=staff, params={"format": "csv"})
        assert grid.status_code == 200
        assert pd.read_csv(io.BytesIO(grid.content), encoding="utf-8-sig").shape[0] == 2
        outcome = {
            "supplier_id": first["supplier_id"],
            "buyer_id": first["buyer_id"],
            "outcome": "met",
            "event_id": "fair",
        }
        assert client.post("/v1/outcomes", headers=staff, json=outcome).status_code == 201
        report = client.get("/v1/programme/conversion", headers=staff).json()
        assert report["events"][-1]["scheduled_met"] == 1
        rates = client.get("/v1/programme/localisation", headers=staff)
        assert rates.status_code == 200 and rates.json()["items"]
    with engine.connect() as connection:
        actions = connection.execute(
            text("SELECT action FROM audit_log WHERE entity = 'events' ORDER BY id")
        ).scalars()
        assert list(actions) == ["create", "lock"]
