"""The storage layer on SQLite: schema, load and dump, keys, audit, search, concurrent writers.

The same round trip and failed-load tests run against PostgreSQL in test_storage_postgres.py.
"""

from __future__ import annotations

import csv
import datetime as dt
import os
import shutil
import sqlite3
import stat
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pandas as pd
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, func, inspect, select, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from ketnoi import graph
from ketnoi.api import storage
from ketnoi.api.storage import _load

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
TINY = FIXTURES / "tiny"
HANOI = FIXTURES / "hanoi"
CONTRACT_TABLES = [
    "terms",
    "parks",
    "categories",
    "category_inputs",
    "firms",
    "capabilities",
    "demands",
    "links",
    "outcomes",
]


def new_engine(folder: Path) -> Engine:
    """A migrated SQLite database in ``folder``."""
    engine = storage.make_engine(f"sqlite:///{folder / 'ketnoi.db'}", data_dir=folder)
    storage.upgrade(engine)
    return engine


@pytest.fixture
def engine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv("KETNOI_SECRET", raising=False)
    folder = tmp_path / "data"
    engine = new_engine(folder)
    yield engine
    engine.dispose()


def counts(engine: Engine) -> dict[str, int]:
    """Rows per table, soft-deleted and audit rows included."""
    with engine.connect() as connection:
        return {
            table: connection.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()
            for table in [*CONTRACT_TABLES, "audit_log", "api_keys"]
        }


def edit_csv(path: Path, change) -> None:
    """Rewrite a CSV file through ``change(rows) -> rows`` (rows as dicts)."""
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        header = list(reader.fieldnames or [])
        rows = list(reader)
    rows = change(rows)
    for row in rows:
        header += [c for c in row if c not in header]
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, header, restval="")
        writer.writeheader()
        writer.writerows(rows)


def test_public_names_are_listed_and_sorted() -> None:
    assert all(hasattr(storage, name) for name in storage.__all__)
    assert storage.__all__ == sorted(storage.__all__)
    assert {"make_engine", "upgrade", "load_into", "dump", "create_key", "record"} <= set(
        storage.__all__
    )


# -- schema ---------------------------------------------------------------------------------------
def test_migrations_create_the_schema_the_models_describe(engine: Engine) -> None:
    tables = set(inspect(engine).get_table_names())
    assert {*CONTRACT_TABLES, "api_keys", "audit_log", "match_lists", "match_list_rows"} <= tables
    assert {"models", "alembic_version"} <= tables
    with engine.connect() as connection:
        context = MigrationContext.configure(connection)
        head = ScriptDirectory.from_config(storage.alembic_config()).get_current_head()
        assert context.get_current_revision() == head
        assert compare_metadata(context, storage.Base.metadata) == []
    storage.upgrade(engine)  # a second upgrade is a no-op


def test_contract_keys_are_unique_constraints(engine: Engine) -> None:
    inspector = inspect(engine)
    for name in CONTRACT_TABLES:
        key = list(graph.CONTRACT[name].key)
        uniques = [u["column_names"] for u in inspector.get_unique_constraints(name)]
        assert (key in uniques) if key else not uniques, name


def test_sqlite_connections_use_wal_busy_timeout_and_foreign_keys(engine: Engine) -> None:
    with engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() == 5000
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


def test_make_engine_reads_data_dir_and_database_url(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("KETNOI_DATABASE_URL", raising=False)
    monkeypatch.setenv("KETNOI_DATA_DIR", str(tmp_path / "d"))
    engine = storage.make_engine()
    assert engine.url.database == str((tmp_path / "d" / "ketnoi.db").resolve())
    assert storage.data_dir_of(engine) == tmp_path / "d"
    monkeypatch.setenv("KETNOI_DATABASE_URL", f"sqlite:///{tmp_path / 'other.db'}")
    assert storage.make_engine().url.database == str(tmp_path / "other.db")
    assert storage.make_engine(f"sqlite:///{tmp_path / 'x.db'}").url.database.endswith("x.db")


# -- load, dump, load -----------------------------------------------------------------------------
def test_load_dump_load_gives_the_same_dataset(engine: Engine, tmp_path: Path) -> None:
    tiny = graph.load_dataset(TINY)
    loaded = storage.load_into(engine, tiny)
    assert loaded["firms"] == {"inserted": 8, "updated": 0, "unchanged": 0, "deleted": 0}
    assert storage.dataset_from_db(engine).fingerprint() == tiny.fingerprint()

    written = storage.dump(engine, tmp_path / "dump")
    assert {p.name for p in written} == {f"{n}.csv" for n in CONTRACT_TABLES}
    again = graph.load_dataset(tmp_path / "dump")
    assert again.fingerprint() == tiny.fingerprint()

    fresh = new_engine(tmp_path / "fresh")
    storage.load_into(fresh, again)
    assert storage.dataset_from_db(fresh).fingerprint() == tiny.fingerprint()

    # Loading the dump into the database it came from changes nothing, outcomes included.
    before = counts(engine)
    reloaded = storage.load_into(engine, again)
    assert all(c["inserted"] == c["updated"] == c["deleted"] == 0 for c in reloaded.values())
    assert counts(engine) == {**before, "audit_log": before["audit_log"] + 1}


def test_extra_columns_and_link_only_datasets_survive_the_round_trip(
    tiny_copy: Path, tmp_path: Path, engine: Engine
) -> None:
    edit_csv(tiny_copy / "firms.csv", lambda rows: [{**r, "linkedin": r["firm_id"]} for r in rows])
    edit_csv(tiny_copy / "outcomes.csv", lambda rows: [{**r, "officer": "Lan"} for r in rows])
    dataset = graph.load_dataset(tiny_copy)
    storage.load_into(engine, dataset)
    storage.dump(engine, tmp_path / "dump")
    header = (tmp_path / "dump" / "firms.csv").read_text(encoding="utf-8").splitlines()[0]
    assert header.endswith(",linkedin")
    assert graph.load_dataset(tmp_path / "dump").fingerprint() == dataset.fingerprint()

    links_only = tmp_path / "links-only"
    links_only.mkdir()
    for name in ("firms", "links"):
        shutil.copy(TINY / f"{name}.csv", links_only)
    edit_csv(links_only / "firms.csv", lambda rows: [{**r, "park": ""} for r in rows])
    small = graph.load_dataset(links_only)
    other = new_engine(tmp_path / "other")
    storage.load_into(other, small)
    assert storage.dataset_from_db(other).fingerprint() == small.fingerprint()


def test_reloading_updates_by_key_and_deletes_nothing(tiny_copy: Path, engine: Engine) -> None:
    storage.load_into(engine, graph.load_dataset(TINY))
    edit_csv(
        tiny_copy / "firms.csv",
        lambda rows: [
            {**r, "name": "Công ty Cơ khí Gia Lâm"} if r["firm_id"] == "S5" else r for r in rows
        ],
    )
    edit_csv(tiny_copy / "links.csv", lambda rows: rows[:-1])  # a link the file no longer has
    result = storage.load_into(engine, graph.load_dataset(tiny_copy))
    assert result["firms"] == {"inserted": 0, "updated": 1, "unchanged": 7, "deleted": 0}
    assert result["links"] == {"inserted": 0, "updated": 0, "unchanged": 5, "deleted": 0}
    assert result["outcomes"]["inserted"] == 0
    merged = storage.dataset_from_db(engine)
    assert len(merged.links) == 6
    assert merged.firms.set_index("firm_id").loc["S5", "name"] == "Công ty Cơ khí Gia Lâm"
    assert storage.search_firms(engine, "co khi gia lam") == [("S5", "Công ty Cơ khí Gia Lâm")]


def test_replace_soft_deletes_what_the_dataset_lacks(tiny_copy: Path, engine: Engine) -> None:
    storage.load_into(engine, graph.load_dataset(TINY))
    edit_csv(tiny_copy / "links.csv", lambda rows: [r for r in rows if r["supplier_id"] != "S2"])
    edit_csv(tiny_copy / "demands.csv", lambda rows: rows[1:])
    for name in ("firms", "capabilities", "links", "outcomes"):  # firm S5, and all it touches
        edit_csv(
            tiny_copy / f"{name}.csv", lambda rows: [r for r in rows if "S5" not in r.values()]
        )
    smaller = graph.load_dataset(tiny_copy)
    result = storage.load_into(engine, smaller, replace=True)
    assert result["firms"]["deleted"] == 1
    assert result["links"]["deleted"] == 3
    assert result["demands"]["deleted"] == 1
    assert result["outcomes"]["deleted"] == 0  # outcomes are never deleted ...
    assert counts(engine)["outcomes"] == 2
    # ... but one about a firm that is gone is not part of the dataset the database holds.
    assert storage.dataset_from_db(engine).fingerprint() == smaller.fingerprint()
    assert storage.search_firms(engine, "Phú Nghĩa") == []
    with Session(engine) as session:
        gone = session.scalars(select(storage.Link).where(storage.Link.supplier_id == "S2")).all()
        assert len(gone) == 2 and all(link.deleted_at is not None for link in gone)

    # Loading the full dataset again brings the soft-deleted rows back.
    result = storage.load_into(engine, graph.load_dataset(TINY))
    assert result["links"] == {"inserted": 0, "updated": 3, "unchanged": 3, "deleted": 0}
    assert result["outcomes"]["inserted"] == 0
    assert storage.dataset_from_db(engine).fingerprint() == graph.load_dataset(TINY).fingerprint()


def test_a_merge_that_breaks_the_contract_is_refused(tiny_copy: Path, engine: Engine) -> None:
    storage.load_into(engine, graph.load_dataset(TINY))
    # S1 becomes a buyer: valid in the new files, but the stored link S1 -> T1 would now be wrong.
    edit_csv(
        tiny_copy / "firms.csv",
        lambda rows: [{**r, "role": "buyer"} if r["firm_id"] == "S1" else r for r in rows],
    )
    edit_csv(tiny_copy / "links.csv", lambda rows: [r for r in rows if r["supplier_id"] != "S1"])
    changed = graph.load_dataset(tiny_copy)
    before = counts(engine)
    with pytest.raises(graph.DatasetError) as error:
        storage.load_into(engine, changed)
    assert any("S1" in str(p) and p.column == "supplier_id" for p in error.value.problems)
    assert counts(engine) == before
    storage.load_into(engine, changed, replace=True)  # replacing the links makes it consistent
    assert storage.dataset_from_db(engine).fingerprint() == changed.fingerprint()


@pytest.mark.parametrize("empty", [True, False])
def test_a_failed_load_leaves_the_database_as_it_was(
    empty: bool, tiny_copy: Path, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    if not empty:
        storage.load_into(engine, graph.load_dataset(TINY))
    edit_csv(tiny_copy / "firms.csv", lambda rows: [{**r, "name": r["name"] + " X"} for r in rows])
    before_counts = counts(engine)
    before = storage.dataset_from_db(engine).fingerprint() if not empty else None
    real = _load._write_file

    def write_then_fail(session, name, frame, replace):
        result = real(session, name, frame, replace)
        if name == "links":  # after parks, categories, firms ... have been written
            raise RuntimeError("disk on fire")
        return result

    monkeypatch.setattr(_load, "_write_file", write_then_fail)
    with pytest.raises(RuntimeError, match="disk on fire"):
        storage.load_into(engine, graph.load_dataset(tiny_copy), replace=True)
    assert counts(engine) == before_counts
    if not empty:
        assert storage.dataset_from_db(engine).fingerprint() == before


# -- search ---------------------------------------------------------------------------------------
def test_name_search_ignores_accents_case_and_d_stroke(tiny_copy: Path, engine: Engine) -> None:
    edit_csv(
        tiny_copy / "firms.csv",
        lambda rows: [*rows, {**rows[-1], "firm_id": "S9", "name": "Công ty Cơ khí Đông Anh"}],
    )
    storage.load_into(engine, graph.load_dataset(tiny_copy))
    assert ("S9", "Công ty Cơ khí Đông Anh") in storage.search_firms(engine, "cong ty co khi")
    assert storage.search_firms(engine, "ĐÔNG ANH co khi") == [("S9", "Công ty Cơ khí Đông Anh")]
    assert storage.search_firms(engine, "duc thanh")[0][0] == "S2"
    assert storage.search_firms(engine, "100%_") == []  # LIKE wildcards are literal
    with Session(engine) as session:
        firm = session.scalars(select(storage.Firm).where(storage.Firm.firm_id == "T1")).one()
        assert firm.name_folded == "cong ty co phan dien tu dong anh"


# -- keys and audit -------------------------------------------------------------------------------
def test_keys_are_hashed_at_rest_and_verify(engine: Engine, tmp_path: Path) -> None:
    storage.load_into(engine, graph.load_dataset(TINY))
    staff = storage.create_key(engine, "staff", label="programme office")
    firm = storage.create_key(engine, "firm", firm_id="S1", expires_days=30)
    assert staff.startswith("kn_") and len(staff) >= 40 and staff != firm

    info = storage.verify_key(engine, staff)
    assert info is not None and info.role == "staff" and info.firm_id is None
    firm_info = storage.verify_key(engine, firm)
    assert firm_info is not None and firm_info.role == "firm" and firm_info.firm_id == "S1"
    assert storage.verify_key(engine, staff[:-1] + ("A" if staff[-1] != "A" else "B")) is None
    assert storage.verify_key(engine, "not a key") is None

    engine.dispose()  # flush the WAL so that the file holds everything
    raw = b"".join(p.read_bytes() for p in (tmp_path / "data").glob("ketnoi.db*"))
    assert staff.encode() not in raw and firm.encode() not in raw
    with Session(engine) as session:
        hashes = session.scalars(select(storage.ApiKey.key_hash)).all()
    assert all(len(h) == 64 and h not in (staff, firm) for h in hashes)

    secret = tmp_path / "data" / "secret"
    assert stat.S_IMODE(secret.stat().st_mode) == 0o600


def test_keys_expire_and_can_be_revoked(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    key = storage.create_key(engine, "analyst", expires_days=1)
    info = storage.verify_key(engine, key)
    assert info is not None and info.expires_at is not None
    later = dt.datetime.now(dt.UTC) + dt.timedelta(days=2)
    assert storage.verify_key(engine, key, now=later) is None

    assert storage.revoke_key(engine, info.id) is True
    assert storage.verify_key(engine, key) is None
    assert storage.revoke_key(engine, info.id) is False
    assert storage.revoke_key(engine, 999) is False

    other = storage.create_key(engine, "staff")
    monkeypatch.setenv("KETNOI_SECRET", "another server's secret")
    assert storage.verify_key(engine, other) is None  # the hash depends on the server's secret


def test_key_roles_are_checked(engine: Engine) -> None:
    with pytest.raises(ValueError, match="role"):
        storage.create_key(engine, "admin")
    with pytest.raises(ValueError, match="firm_id"):
        storage.create_key(engine, "firm")
    with pytest.raises(ValueError, match="firm_id"):
        storage.create_key(engine, "staff", firm_id="S1")
    with pytest.raises(ValueError, match="not in the database"):
        storage.create_key(engine, "firm", firm_id="nobody")
    assert counts(engine)["api_keys"] == 0


def test_every_write_is_audited(engine: Engine) -> None:
    tiny = graph.load_dataset(TINY)
    storage.load_into(engine, tiny, actor="loader")
    key = storage.create_key(engine, "staff")
    info = storage.verify_key(engine, key)
    assert info is not None
    storage.revoke_key(engine, info.id, actor=info)
    with Session(engine) as session:
        log = session.scalars(select(storage.AuditEntry).order_by(storage.AuditEntry.id)).all()
    assert [(e.action, e.entity) for e in log] == [
        ("load", "dataset"),
        ("create", "api_keys"),
        ("revoke", "api_keys"),
    ]
    assert log[0].actor == "loader" and log[0].entity_key == tiny.fingerprint()
    assert log[0].detail["counts"]["firms"]["inserted"] == 8
    assert log[2].actor_key_id == info.id and log[2].actor_role == "staff"
    assert all(e.at.tzinfo is not None for e in log)


def test_match_lists_record_model_version_and_fingerprint(engine: Engine) -> None:
    trained = dt.datetime(2026, 1, 5, 9, 30, tzinfo=dt.UTC)
    storage.register_model(engine, "0.1.0+abc", trained, "fe867175ebf22efa", metrics={"ndcg": 0.5})
    frame = pd.DataFrame(
        {
            "buyer_id": ["B1", "B1"],
            "supplier_id": ["S4", "S5"],
            "category_id": ["pcb", ""],
            "tier": [2, pd.NA],
            "rank": [1, 2],
            "score": [0.9, 0.4],
            "reasons": [("makes pcb", "same park"), ()],
        }
    )
    list_id = storage.save_match_list(
        engine, frame, model_version="0.1.0+abc", data_fingerprint="fe867175ebf22efa", k=2
    )
    with Session(engine) as session:
        saved = session.get(storage.MatchList, list_id)
        assert saved is not None
        assert (saved.model_version, saved.data_fingerprint, saved.k) == (
            "0.1.0+abc",
            "fe867175ebf22efa",
            2,
        )
        assert [(r.supplier_id, r.tier, r.reasons) for r in saved.rows] == [
            ("S4", 2, ["makes pcb", "same park"]),
            ("S5", None, []),
        ]
        model = session.scalars(select(storage.ModelRecord)).one()
        assert model.trained_at == trained and model.metrics == {"ndcg": 0.5}


# -- concurrency ----------------------------------------------------------------------------------
def test_concurrent_writers_all_land(engine: Engine, tmp_path: Path) -> None:
    url = str(engine.url)
    threads, per_thread = 4, 40
    errors: list[BaseException] = []
    start = threading.Barrier(threads + 1)

    def writer(n: int) -> None:
        own = storage.make_engine(url, data_dir=tmp_path / "data")  # its own connections
        try:
            start.wait()
            for i in range(per_thread):
                storage.transaction(
                    own, lambda s, i=i: storage.record(s, f"t{n}", "test", "audit_log", str(i))
                )
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            own.dispose()

    workers = [threading.Thread(target=writer, args=(n,)) for n in range(threads)]
    for worker in workers:
        worker.start()
    start.wait()
    storage.load_into(engine, graph.load_dataset(HANOI))  # a long write in the middle of it all
    for worker in workers:
        worker.join()
    assert errors == []
    with Session(engine) as session:
        written = session.scalar(
            select(func.count())
            .select_from(storage.AuditEntry)
            .where(storage.AuditEntry.action == "test")
        )
    assert written == threads * per_thread


def test_concurrent_processes_all_land(engine: Engine, tmp_path: Path) -> None:
    script = textwrap.dedent(
        f"""
        import sys
        from ketnoi.api import storage
        engine = storage.make_engine({str(engine.url)!r})
        for i in range(30):
            storage.transaction(
                engine, lambda s: storage.record(s, "p" + sys.argv[1], "test", "audit_log", str(i))
            )
        """
    )
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    processes = [
        subprocess.Popen([sys.executable, "-c", script, str(n)], env=env, stderr=subprocess.PIPE)
        for n in range(3)
    ]
    for process in processes:
        _, stderr = process.communicate(timeout=120)
        assert process.returncode == 0, stderr.decode()
    with Session(engine) as session:
        actors = session.scalars(
            select(storage.AuditEntry.actor).where(storage.AuditEntry.action == "test")
        ).all()
    assert sorted(set(actors)) == ["p0", "p1", "p2"] and len(actors) == 90


def test_transaction_retries_while_the_database_is_locked(engine: Engine) -> None:
    tries = []

    def work(session: Session) -> str:
        tries.append(1)
        storage.record(session, "cli", "test", "audit_log", str(len(tries)))
        if len(tries) < 3:
            raise OperationalError("INSERT", {}, sqlite3.OperationalError("database is locked"))
        return "done"

    assert storage.transaction(engine, work, backoff=0.001) == "done"
    assert counts(engine)["audit_log"] == 1  # the failed tries were rolled back
    with pytest.raises(storage.Busy):
        storage.transaction(engine, work_always_locked, attempts=2, backoff=0.001)


def work_always_locked(session: Session) -> None:
    raise OperationalError("INSERT", {}, sqlite3.OperationalError("database is locked"))


# -- the demo world -------------------------------------------------------------------------------
def test_the_hanoi_demo_world_round_trips(engine: Engine, tmp_path: Path) -> None:
    hanoi = graph.load_dataset(HANOI)
    started = time.perf_counter()
    storage.load_into(engine, hanoi)
    seconds = time.perf_counter() - started
    print(f"loading fixtures/hanoi into SQLite took {seconds:.2f} s")
    storage.dump(engine, tmp_path / "dump")
    fresh = new_engine(tmp_path / "fresh")
    storage.load_into(fresh, graph.load_dataset(tmp_path / "dump"))
    assert storage.dataset_from_db(fresh).fingerprint() == hanoi.fingerprint()
    assert seconds < 30
