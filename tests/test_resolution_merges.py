"""Undoable merges on SQLite and PostgreSQL: merge then unmerge leaves every table as it was
(apart from the audit log and the merge history), a write made in between survives the unmerge,
a merged id resolves through its alias, and nothing is half-written on error."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from ketnoi import graph
from ketnoi.api import storage
from ketnoi.api.storage._resolution_models import RESOLUTION_HISTORY_TABLES

TINY = Path(__file__).resolve().parents[1] / "fixtures" / "tiny"
HISTORY = {"audit_log", *RESOLUTION_HISTORY_TABLES}


def state(table_fingerprint: Any, engine: Any) -> dict[str, str]:
    """Every table's rows, hashed, apart from the history tables."""
    return {k: v for k, v in table_fingerprint(engine).items() if k not in HISTORY}


@pytest.fixture
def engine(backend: str, tmp_path: Path, open_database: Any) -> Any:
    with open_database(backend, tmp_path / backend) as engine:
        storage.load_into(engine, graph.load_dataset(TINY), actor="test")
        yield engine


@pytest.mark.parametrize(
    ("survivor", "absorbed"),
    [
        ("S2", "S5"),  # a capability and a link collide with the survivor's own
        ("B1", "B2"),  # demands collide, a confidential one among them
        ("T1", "S1"),  # their link would make T1 supply itself
        ("S1", "B1"),  # a supplier absorbs a buyer: the survivor becomes both
    ],
)
def test_merge_then_unmerge_restores_every_table(
    engine: Any, table_fingerprint: Any, survivor: str, absorbed: str
) -> None:
    before = state(table_fingerprint, engine)
    dataset_before = storage.dataset_from_db(engine)
    merged = storage.merge_firms(engine, survivor, absorbed, actor="test")
    assert merged.moved, "the merge moved nothing"
    after_merge = storage.dataset_from_db(engine)
    assert absorbed not in set(after_merge.firms["firm_id"])
    mentioned = set(after_merge.links["supplier_id"]) | set(after_merge.links["buyer_id"])
    assert absorbed not in mentioned
    assert state(table_fingerprint, engine) != before
    storage.unmerge_firms(engine, merged.id, actor="test")
    assert state(table_fingerprint, engine) == before
    assert storage.dataset_from_db(engine).fingerprint() == dataset_before.fingerprint()


def test_a_write_between_merge_and_unmerge_survives(engine: Any) -> None:
    merged = storage.merge_firms(engine, "S1", "S2", actor="test")
    moved = storage.get_row(engine, storage.CAPABILITIES, ["S1", "stamp"])
    # Writes after the merge: one to a moved row, one new row, one to the survivor's lists.
    storage.update_row(engine, storage.CAPABILITIES, ["S1", "stamp"], {"capacity": 7.0}, "test")
    storage.create_row(
        engine,
        storage.CAPABILITIES,
        {"firm_id": "S1", "category_id": "screw", "capacity": 3.0},
        "test",
    )
    storage.update_row(engine, storage.FIRMS, ["S1"], {"certifications": "ISO 14001"}, "test")
    storage.unmerge_firms(engine, merged.id, actor="test")
    back = storage.get_row(engine, storage.CAPABILITIES, ["S2", "stamp"])
    assert back["id"] == moved["id"]
    assert back["capacity"] == 7.0  # the write to the moved row went back with it
    assert storage.get_row(engine, storage.CAPABILITIES, ["S1", "screw"])["capacity"] == 3.0
    assert storage.get_row(engine, storage.FIRMS, ["S1"])["certifications"] == "ISO 14001"
    assert storage.get_row(engine, storage.FIRMS, ["S2"])["deleted_at"] is None
    storage.dataset_from_db(engine)  # still a valid dataset


def test_the_merged_id_resolves_to_the_survivor(engine: Any) -> None:
    merged = storage.merge_firms(engine, "S1", "S2", actor="test")
    assert storage.get_row(engine, storage.FIRMS, ["S2"])["firm_id"] == "S1"
    chained = storage.merge_firms(engine, "S3", "S1", actor="test")
    assert storage.get_row(engine, storage.FIRMS, ["S2"])["firm_id"] == "S3"
    with Session(engine) as session:
        assert storage.resolve_firm_id(session, "S2") == "S3"
    with pytest.raises(storage.Conflict, match="undo merge"):
        storage.unmerge_firms(engine, merged.id, actor="test")
    storage.unmerge_firms(engine, chained.id, actor="test")
    storage.unmerge_firms(engine, merged.id, actor="test")
    assert storage.get_row(engine, storage.FIRMS, ["S2"])["firm_id"] == "S2"
    with pytest.raises(storage.Conflict, match="undone already"):
        storage.unmerge_firms(engine, merged.id, actor="test")


def test_merges_are_audited(engine: Any) -> None:
    merged = storage.merge_firms(engine, "S1", "S2", actor="test", reason="same tax code")
    storage.unmerge_firms(engine, merged.id, actor="test")
    actions = [e["action"] for e in storage.audit_entries(engine, 1, 10, "firms").rows]
    assert actions[:2] == ["unmerge", "merge"]


def test_a_failed_merge_writes_nothing(engine: Any, table_fingerprint: Any) -> None:
    before = table_fingerprint(engine)
    with pytest.raises(storage.NotFound):
        storage.merge_firms(engine, "S1", "nobody", actor="test")
    with pytest.raises(storage.Conflict):
        storage.merge_firms(engine, "S1", "S1", actor="test")
    # A register that cannot be valid after the merge: a link names an unknown category
    # only the validator catches (written behind the checks), so the merge is refused whole.
    with Session(engine) as session, session.begin():
        session.execute(
            update(storage.Link).where(storage.Link.supplier_id == "S2").values(status="???")
        )
    before = table_fingerprint(engine)
    with pytest.raises(graph.DatasetError):
        storage.merge_firms(engine, "S1", "S2", actor="test")
    assert table_fingerprint(engine) == before
    with Session(engine) as session:
        assert session.scalar(select(storage.FirmMerge.id)) is None
