"""Shared fixtures: the hand-written tiny dataset, a fresh copy of it to break, and the HTTP
service running on it."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any

import pytest

TINY = Path(__file__).resolve().parents[1] / "fixtures" / "tiny"


@pytest.fixture
def tiny() -> Path:
    """The valid tiny dataset folder (read-only: copy it before changing anything)."""
    return TINY


@pytest.fixture
def tiny_copy(tmp_path: Path) -> Path:
    """A private copy of the tiny dataset folder that a test may break."""
    target = tmp_path / "tiny"
    shutil.copytree(TINY, target)
    return target


# -- the HTTP service ---------------------------------------------------------------------------
#: The API keys a test service hands out, by name: the key's role and (role firm) its firm.
SERVICE_KEYS: dict[str, tuple[str, str | None]] = {
    "staff": ("staff", None),
    "analyst": ("analyst", None),
    "firm_b1": ("firm", "B1"),
    "firm_s1": ("firm", "S1"),
}


@contextmanager
def _running_service(
    folder: Path,
    *,
    dataset: Path = TINY,
    keys: dict[str, tuple[str, str | None]] = SERVICE_KEYS,
    matcher: Any = None,
    **settings_given: Any,
) -> Iterator[dict[str, Any]]:
    """The service on a fresh SQLite database in ``folder`` loaded with ``dataset``.

    Yields ``client`` (a started TestClient), ``keys`` (name -> plaintext key), ``engine``,
    ``app`` and ``folder``. ``matcher`` is a fitted matcher to serve instead of fitting one at
    start-up; the other keyword arguments go to ``ServiceSettings`` (``evaluate=False`` ...).
    """
    # Imported here: most test modules never start the service.
    from fastapi.testclient import TestClient

    from ketnoi import graph
    from ketnoi.api import storage
    from ketnoi.api.service import ServiceSettings, create_app

    # The key secret lives in the folder: a KETNOI_SECRET of the environment must not leak in.
    mp = pytest.MonkeyPatch()
    mp.delenv("KETNOI_SECRET", raising=False)
    try:
        engine = storage.make_engine(f"sqlite:///{folder / 'ketnoi.db'}", data_dir=folder)
        try:
            storage.upgrade(engine)
            storage.load_into(engine, graph.load_dataset(dataset))
            made = {name: storage.create_key(engine, *grant) for name, grant in keys.items()}
            settings = ServiceSettings(data_dir=folder, **settings_given)
            app = create_app(settings, engine=engine, matcher=matcher)
            with TestClient(app) as client:
                yield {
                    "client": client,
                    "keys": made,
                    "engine": engine,
                    "app": app,
                    "folder": folder,
                }
        finally:
            engine.dispose()
    finally:
        mp.undo()


@pytest.fixture(scope="module")
def start_service() -> Callable[..., AbstractContextManager[dict[str, Any]]]:
    """Start a service of a test's own: ``with start_service(tmp_path, evaluate=False) as s``
    (the arguments of :func:`_running_service`)."""
    return _running_service


def _follow_job(
    client: Any, started: Any, headers: dict[str, str] | None = None, timeout: float = 120
) -> dict[str, Any]:
    """Follow a ``202 Accepted`` answer's ``Location`` until its job ends; returns the job."""
    import time

    assert started.status_code == 202, started.text
    url = started.headers["Location"]
    deadline = time.monotonic() + timeout
    while True:
        response = client.get(url, headers=headers)
        assert response.status_code == 200, response.text
        job: dict[str, Any] = response.json()
        if job["state"] in {"finished", "failed"}:
            return job
        if time.monotonic() > deadline:
            pytest.fail(f"job {url} did not end in {timeout} s: {job}")
        time.sleep(0.05)


@pytest.fixture(scope="session")
def follow_job() -> Callable[..., dict[str, Any]]:
    """``follow_job(client, response, headers)``: wait for the job a 202 answer started."""
    return _follow_job


@pytest.fixture(scope="module")
def service_options() -> dict[str, Any]:
    """How the module's ``service`` is made (arguments of :func:`_running_service`): a test
    module overrides this fixture to change them."""
    return {}


@pytest.fixture(scope="module")
def service(
    tmp_path_factory: pytest.TempPathFactory, service_options: dict[str, Any]
) -> Iterator[dict[str, Any]]:
    """The service on the tiny dataset with a key per name of :data:`SERVICE_KEYS`, shared by
    the tests of a module."""
    with _running_service(tmp_path_factory.mktemp("service"), **service_options) as running:
        yield running


# -- the bad-input and nothing-lost suites: SQLite and PostgreSQL ------------------------------
# A SQLite file, and a database of its own on the PostgreSQL server that
# ``KETNOI_TEST_POSTGRES_URL`` names (``.ci/run`` always sets it; without it the PostgreSQL
# cases skip, with the reason).

POSTGRES_SERVER = os.environ.get("KETNOI_TEST_POSTGRES_URL", "")


@pytest.fixture(
    params=[
        "sqlite",
        pytest.param(
            "postgres",
            marks=pytest.mark.skipif(
                not POSTGRES_SERVER, reason="no PostgreSQL (set KETNOI_TEST_POSTGRES_URL)"
            ),
        ),
    ]
)
def backend(request: pytest.FixtureRequest) -> str:
    """Each database the service runs on: a test taking it runs once per backend."""
    return str(request.param)


@contextmanager
def _database(backend: str, folder: Path) -> Iterator[Any]:
    """A migrated, empty database on ``backend``, removed afterwards (the engine is made inside,
    so ``KETNOI_*`` variables set before take effect)."""
    from sqlalchemy import create_engine, make_url

    from ketnoi.api import storage

    folder.mkdir(parents=True, exist_ok=True)
    if backend == "sqlite":
        engine = storage.make_engine(f"sqlite:///{folder / 'ketnoi.db'}", data_dir=folder)
        try:
            storage.upgrade(engine)
            yield engine
        finally:
            engine.dispose()
        return
    name = f"ketnoi_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES_SERVER, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    url = make_url(POSTGRES_SERVER).set(database=name).render_as_string(hide_password=False)
    engine = storage.make_engine(url, data_dir=folder)
    try:
        storage.upgrade(engine)
        yield engine
    finally:
        engine.dispose()
        with admin.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


@pytest.fixture(scope="session")
def open_database() -> Callable[[str, Path], AbstractContextManager[Any]]:
    """``with open_database(backend, folder) as engine``: a fresh, migrated database."""
    return _database


#: Tables that say how the database is used, not what it holds: who is signed in to the
#: workbench, and how many writes were counted (a merge then an unmerge counts two).
NOT_DATA = {"web_sessions", "write_generation"}


def _table_fingerprint(engine: Any) -> dict[str, str]:
    from sqlalchemy import select

    from ketnoi.api import storage

    out = {}
    with engine.connect() as connection:
        for table in storage.Base.metadata.sorted_tables:
            if table.name in NOT_DATA:
                continue
            rows = connection.execute(select(table).order_by(*table.primary_key.columns)).all()
            digest = hashlib.sha256()
            for row in rows:
                digest.update(json.dumps([str(v) for v in row], ensure_ascii=False).encode())
            out[table.name] = f"{len(rows)}:{digest.hexdigest()[:16]}"
    return out


@pytest.fixture(scope="session")
def table_fingerprint() -> Callable[[Any], dict[str, str]]:
    """Every row of every table, hashed per table: equal means exactly as it was."""
    return _table_fingerprint
