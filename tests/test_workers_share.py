"""More than one worker on one database (issues 13 and 16): a workbench session and the write
generation are the database's, not a process's.

Two apps on two engines stand for two workers of ``ketnoi serve --workers 2`` (they share one
fitted model, as forked workers do): a browser signed in through one is signed in on the other,
and signing out or revoking the key on one ends the session on both. A write committed by
another process (a child Python process here: the CLI, or another worker) is seen by a
worker's dataset reports within ``GENERATION_POLL_SECONDS`` and by its recommendations within
the live model's own rebinding time. Each runs on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from ketnoi import graph
from ketnoi.api import storage
from ketnoi.api.pages import _session
from ketnoi.api.service import ServiceSettings, create_app
from ketnoi.api.service._holder import fit_served_model
from ketnoi.api.service._live import LIVE_MIN_SECONDS

TINY = Path(__file__).resolve().parents[1] / "fixtures" / "tiny"
CSRF = re.compile(r'name="csrf" value="([^"]+)"')
#: Slack for a machine shared with other work, on top of each bound the service states.
SLACK = 3.0


@pytest.fixture
def database(
    backend: str, tmp_path: Path, open_database: Any, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[Any, Path]]:
    """The tiny world on ``backend``, and the data folder that holds its key secret."""
    monkeypatch.delenv("KETNOI_SECRET", raising=False)
    folder = tmp_path / backend
    with open_database(backend, folder) as engine:
        storage.load_into(engine, graph.load_dataset(TINY))
        yield engine, folder


def _url(engine: Any) -> str:
    return str(engine.url.render_as_string(hide_password=False))


@contextmanager
def workers(engine: Any, folder: Path, n: int = 2) -> Iterator[list[TestClient]]:
    """``n`` apps, each on an engine of its own over ``engine``'s database, serving one model."""
    served = fit_served_model(engine, precompute=True, evaluate=False)
    engines = [storage.make_engine(_url(engine), data_dir=folder) for _ in range(n)]
    settings = ServiceSettings(data_dir=folder, evaluate=False)
    try:
        clients = [TestClient(create_app(settings, engine=e, served=served)) for e in engines]
        for client in clients:
            client.__enter__()
        try:
            yield clients
        finally:
            for client in clients:
                client.__exit__(None, None, None)
    finally:
        for e in engines:
            e.dispose()


def _token(client: TestClient, path: str) -> str:
    match = CSRF.search(client.get(path).text)
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def _signed_in(client: TestClient, cookie: str, path: str = "/firms") -> bool:
    """Whether ``cookie`` is a signed-in session on ``client``'s worker."""
    client.cookies.clear()
    client.cookies.set(_session.COOKIE, cookie)
    answer = client.get(path, follow_redirects=False)
    assert answer.status_code in {200, 303}, answer.text[:300]
    return answer.status_code == 200


# -- sessions -------------------------------------------------------------------------------------
def test_a_session_made_on_one_worker_serves_on_the_other_until_signed_out(
    database: tuple[Any, Path],
) -> None:
    engine, folder = database
    key = storage.create_key(engine, "staff")
    with workers(engine, folder) as (a, b):
        token = _token(a, "/sign-in")
        # The sign-in form's token, made on worker A, is good on worker B too.
        b.cookies.set(_session.COOKIE, a.cookies[_session.COOKIE])
        signed = b.post(
            "/sign-in", data={"csrf": token, "api_key": key, "next": "/"}, follow_redirects=False
        )
        assert signed.status_code == 303, signed.text[:300]
        cookie = signed.cookies[_session.COOKIE]
        assert _signed_in(a, cookie) and _signed_in(b, cookie)
        # The session's language, switched on A, is B's too.
        switched = a.post("/lang", data={"csrf": _token(a, "/"), "lang": "en", "next": "/"})
        assert switched.status_code == 200
        assert _signed_in(b, cookie)
        assert '<html lang="en"' in b.get("/firms").text
        # Only the id's hash is stored, never the id or the key.
        with Session(engine) as session:
            stored = session.scalars(select(storage.WebSession)).all()
        assert [s.id_hash for s in stored] == [storage.session_hash(cookie)]
        assert all(cookie not in str(vars(s)) and key not in str(vars(s)) for s in stored)
        # Signed out on B: refused on A, at once.
        assert _signed_in(b, cookie)
        out = b.post("/sign-out", data={"csrf": _token(b, "/")}, follow_redirects=False)
        assert out.status_code == 303
        assert not _signed_in(a, cookie) and not _signed_in(b, cookie)


def test_a_revoked_key_ends_its_sessions_on_every_worker(database: tuple[Any, Path]) -> None:
    engine, folder = database
    key = storage.create_key(engine, "analyst")
    info = storage.verify_key(engine, key)
    assert info is not None
    with workers(engine, folder) as (a, b):
        a.post("/sign-in", data={"csrf": _token(a, "/sign-in"), "api_key": key, "next": "/"})
        cookie = a.cookies[_session.COOKIE]
        assert _signed_in(b, cookie, "/audit")
        storage.revoke_key(engine, info.id)  # by the CLI: a third process, as far as they know
        assert not _signed_in(a, cookie, "/audit") and not _signed_in(b, cookie, "/audit")


def test_sessions_expire_and_stay_bounded(database: tuple[Any, Path]) -> None:
    engine, _ = database
    keys = [storage.verify_key(engine, storage.create_key(engine, "analyst")) for _ in range(2)]
    store = _session.SessionStore(max_sessions=3)
    made = [store.sign_in(engine, None, keys[i % 2]) for i in range(5)]  # type: ignore[arg-type]
    with Session(engine) as session:
        assert session.scalar(select(func.count()).select_from(storage.WebSession)) == 3
    # The least recently seen went first.
    alive = [store.get(engine, s.id).key is not None for s in made]  # type: ignore[union-attr]
    assert alive == [False, False, True, True, True]
    idle = storage.utcnow() - dt.timedelta(hours=3)
    with Session(engine) as session, session.begin():
        session.execute(
            update(storage.WebSession)
            .where(storage.WebSession.id_hash == storage.session_hash(made[2].id))
            .values(seen_at=idle)
        )
        session.execute(
            update(storage.WebSession)
            .where(storage.WebSession.id_hash == storage.session_hash(made[3].id))
            .values(created_at=storage.utcnow() - dt.timedelta(hours=13))
        )
    alive = [store.get(engine, s.id).key is not None for s in made[2:]]  # type: ignore[union-attr]
    assert alive == [False, False, True], "idle for 3 h, begun 13 h ago, fresh"
    gone = storage.clean_web_sessions(
        engine,
        idle=_session.IDLE_SECONDS,
        lifetime=_session.LIFETIME_SECONDS,
        max_sessions=_session.MAX_SESSIONS,
    )
    assert gone == 2
    # A session's writes are not data: they move no write generation.
    before = storage.write_generation(engine)
    store.sign_in(engine, made[4], keys[0])  # type: ignore[arg-type]
    time.sleep(storage.GENERATION_POLL_SECONDS)
    assert storage.write_generation(engine) == before


# -- the write generation -------------------------------------------------------------------------
WRITER = """
import sys
from ketnoi.api import storage
engine = storage.make_engine(sys.argv[1], data_dir=sys.argv[2])
values = dict(supplier_id=sys.argv[3], buyer_id=sys.argv[4], category_id=sys.argv[5],
              since=2021, status="active")
storage.create_row(engine, storage.LINKS, values, actor="cli")
engine.dispose()
"""


def _write_elsewhere(engine: Any, folder: Path, *args: str) -> float:
    """Commit a new link from another process; returns when it had committed."""
    subprocess.run(
        [sys.executable, "-c", WRITER, _url(engine), str(folder), *args],
        check=True,
        capture_output=True,
        timeout=120,
    )
    return time.monotonic()


def _until(check: Any, seconds: float) -> float | None:
    """Seconds until ``check()`` held (None: not within ``seconds``)."""
    started = time.monotonic()
    while time.monotonic() - started < seconds:
        if check():
            return time.monotonic() - started
        time.sleep(0.05)
    return None


def test_a_write_by_another_process_reaches_reports_and_recommendations(
    database: tuple[Any, Path],
) -> None:
    engine, folder = database
    staff = {"Authorization": f"Bearer {storage.create_key(engine, 'staff')}"}
    with workers(engine, folder, n=1) as (a,):
        first = a.get("/v1/buyers/B1/suppliers", headers=staff, params={"k": 20}).json()
        top = first["items"][0]
        pair = (top["supplier_id"], top["category_id"])
        indicators = a.get("/v1/programme/indicators", headers=staff)  # the dataset, cached
        assert indicators.status_code == 200, indicators.text
        indicators = indicators.json()
        assert a.get("/v1/programme/indicators", headers=staff).json() == indicators

        _write_elsewhere(engine, folder, pair[0], "B1", pair[1])

        def report_moved() -> bool:
            return a.get("/v1/programme/indicators", headers=staff).json() != indicators

        def pair_gone() -> bool:
            answer = a.get("/v1/buyers/B1/suppliers", headers=staff, params={"k": 20}).json()
            return pair not in {(r["supplier_id"], r["category_id"]) for r in answer["items"]}

        took = _until(report_moved, storage.GENERATION_POLL_SECONDS + SLACK)
        assert took is not None, "the indicators never saw the other process's link"
        took = _until(pair_gone, LIVE_MIN_SECONDS + storage.GENERATION_POLL_SECONDS + SLACK)
        assert took is not None, "the recommendations still offer a pair linked elsewhere"


def test_the_generation_counts_every_process_and_only_committed_data_writes(
    database: tuple[Any, Path],
) -> None:
    engine, folder = database
    other = storage.make_engine(_url(engine), data_dir=folder)
    try:
        before = storage.write_generation(engine)
        assert storage.write_generation(other) == before
        storage.create_key(other, "analyst")  # a counted write through the other engine
        assert storage.write_generation(other) == before + 1, "its own write: seen at once"
        time.sleep(storage.GENERATION_POLL_SECONDS)
        assert storage.write_generation(engine) == before + 1, "another's: within the poll"

        def fails(session: Any) -> None:
            session.execute(update(storage.ApiKey).values(label="never"))
            raise RuntimeError("rolled back")

        with pytest.raises(RuntimeError):
            storage.transaction(engine, fails)
        storage.transaction(other, lambda s: None, counted=False)
        time.sleep(storage.GENERATION_POLL_SECONDS)
        assert storage.write_generation(engine) == before + 1
        assert storage.write_generation(other) == before + 1
    finally:
        other.dispose()
