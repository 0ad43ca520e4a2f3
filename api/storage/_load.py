"""Loading a dataset into the database, and reading it back out as a dataset.

A load is one transaction: every file is written, the merged result is validated as a dataset,
the load is recorded in the audit log, and only then is it committed. Anything that fails on
the way (a bad merge, a lost connection, a bug) leaves the database as it was.

Rows are matched by the contract's re-load key and updated in place; a row the dataset lacks is
kept, unless ``replace=True`` soft-deletes it. Outcomes have no key: they are appended, and an
outcome the database already holds (every column equal) is not appended twice, so loading a
dump of the database changes nothing.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections import Counter
from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy import Connection, Engine, bindparam, insert, select, update
from sqlalchemy.orm import Session

from ketnoi import graph
from ketnoi.api.storage._audit import record
from ketnoi.api.storage._engine import transaction
from ketnoi.api.storage._key_info import KeyInfo
from ketnoi.api.storage._models import Base, Firm, utcnow
from ketnoi.graph import CONTRACT, FILE_ORDER, Column

__all__ = ["LoadCounts", "dataset_from_db", "dataset_in", "dump", "load_into", "search_firms"]

#: Per contract file: rows ``inserted``, ``updated``, ``unchanged`` and (soft-)``deleted``.
LoadCounts = dict[str, dict[str, int]]

_LIST_KINDS = {"list", "certs"}
_INT_KINDS = {"int", "year"}
_FLOAT_KINDS = {"float", "lat", "lon"}


# -- cells: frame <-> database --------------------------------------------------------------------
def _missing(value: object) -> bool:
    return value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value))


def _to_db(column: Column, value: Any) -> Any:
    kind = column.kind
    if kind in _LIST_KINDS:
        return ";".join(str(v) for v in value) if isinstance(value, tuple | list) else str(value)
    if kind in _INT_KINDS:
        return None if _missing(value) else int(value)
    if kind in _FLOAT_KINDS:
        return None if _missing(value) else float(value)
    if kind == "bool":
        return bool(value)
    if kind == "date":
        return dt.date.fromisoformat(str(value)) if value else None
    return "" if _missing(value) else str(value)


def _to_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)  # the shortest text that reads back as the same number
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def _rows(name: str, frame: pd.DataFrame) -> list[dict[str, Any]]:
    """The frame's rows as column values of the table (contract columns, ``extra``)."""
    spec = CONTRACT[name]
    extras = [c for c in frame.columns if c not in spec.column_names]
    rows = []
    for record_ in frame.to_dict("records"):
        row = {c.name: _to_db(c, record_[c.name]) for c in spec.columns}
        row["extra"] = {e: _to_text(record_[e]) if not _missing(record_[e]) else "" for e in extras}
        if name == "firms":
            row["name_folded"] = graph.fold(row["name"])
        rows.append(row)
    return rows


def _signature(row: dict[str, Any], columns: list[str]) -> tuple[Any, ...]:
    return (*(row[c] for c in columns), json.dumps(row["extra"], sort_keys=True))


# -- load -----------------------------------------------------------------------------------------
def _upsert(
    session: Session, name: str, rows: list[dict[str, Any]], replace: bool
) -> dict[str, int]:
    table = Base.metadata.tables[name]
    key = list(CONTRACT[name].key)
    fields = [*CONTRACT[name].column_names, "extra"] + (["name_folded"] if name == "firms" else [])
    existing = {
        tuple(getattr(r, k) for k in key): r
        for r in session.execute(select(table.c.id, table.c.deleted_at, *table.c[tuple(fields)]))
    }
    now = utcnow()
    inserts, updates, seen = [], [], set()
    for row in rows:
        row_key = tuple(row[k] for k in key)
        seen.add(row_key)
        old = existing.get(row_key)
        if old is None:
            inserts.append({**row, "created_at": now, "updated_at": now})
        elif old.deleted_at is not None or any(getattr(old, f) != row[f] for f in fields):
            updates.append({**row, "b_id": old.id, "deleted_at": None, "updated_at": now})
    stale = [r.id for k, r in existing.items() if k not in seen and r.deleted_at is None]
    if inserts:
        session.execute(insert(table), inserts)
    if updates:
        values: dict[str, Any] = {f: bindparam(f) for f in [*fields, "deleted_at", "updated_at"]}
        statement = update(table).where(table.c.id == bindparam("b_id")).values(values)
        session.execute(statement, updates)
    if replace and stale:
        session.execute(
            update(table).where(table.c.id.in_(stale)).values(deleted_at=now, updated_at=now)
        )
    return {
        "inserted": len(inserts),
        "updated": len(updates),
        "unchanged": len(rows) - len(inserts) - len(updates),
        "deleted": len(stale) if replace else 0,
    }


def _append_outcomes(session: Session, rows: list[dict[str, Any]]) -> dict[str, int]:
    table = Base.metadata.tables["outcomes"]
    columns = list(CONTRACT["outcomes"].column_names)
    held = Counter(
        _signature(r._asdict(), columns)
        for r in session.execute(select(*table.c[(*columns, "extra")]))
    )
    now = utcnow()
    new = []
    for row in rows:
        signature = _signature(row, columns)
        if held[signature] > 0:  # already held: a multiset, so repeated outcomes stay repeated
            held[signature] -= 1
        else:
            new.append({**row, "created_at": now, "updated_at": now})
    if new:
        session.execute(insert(table), new)
    return {"inserted": len(new), "updated": 0, "unchanged": len(rows) - len(new), "deleted": 0}


def _write_file(session: Session, name: str, frame: pd.DataFrame, replace: bool) -> dict[str, int]:
    rows = _rows(name, frame)
    if name == "outcomes":
        return _append_outcomes(session, rows)
    return _upsert(session, name, rows, replace)


def load_into(
    engine: Engine,
    dataset: graph.Dataset,
    *,
    replace: bool = False,
    actor: KeyInfo | str = "cli",
) -> LoadCounts:
    """Load a validated dataset into the database in one transaction: all or nothing.

    Parameters
    ----------
    engine : Engine
        A database brought up to date with :func:`api.storage.upgrade`.
    dataset : graph.Dataset
        From :func:`graph.load_dataset` (so already validated).
    replace : bool
        Soft-delete rows (outcomes excepted) whose key the dataset lacks, so that the database
        holds the dataset and nothing else. Default: keep them.
    actor : KeyInfo or str
        Who loads, for the audit log.

    Returns
    -------
    dict
        Per contract file, the rows ``inserted``, ``updated``, ``unchanged`` and ``deleted``.

    Raises
    ------
    graph.DatasetError
        Where the database merged with the dataset is not a valid dataset (a firm whose role
        changed while links kept from before still use the old one, say); nothing is written.
    """

    def work(session: Session) -> LoadCounts:
        counts = {
            name: _write_file(session, name, dataset.frame(name), replace) for name in FILE_ORDER
        }
        session.flush()
        merged = _dataset(session.connection())
        detail = {"source": dataset.source, "replace": replace, "counts": counts}
        detail["fingerprint"] = merged.fingerprint()
        record(session, actor, "load", "dataset", dataset.fingerprint(), detail)
        return counts

    return transaction(engine, work)


# -- read back ------------------------------------------------------------------------------------
def _frame(connection: Connection, name: str, live_firms: set[str] | None) -> pd.DataFrame:
    spec = CONTRACT[name]
    table = Base.metadata.tables[name]
    query = select(table).order_by(table.c.id)
    if "deleted_at" in table.c:
        query = query.where(table.c.deleted_at.is_(None))
    columns = list(spec.column_names)
    extras: dict[str, None] = {}
    records = []
    for row in connection.execute(query).mappings():
        if live_firms is not None and not {row["supplier_id"], row["buyer_id"]} <= live_firms:
            continue
        cells = {c: _to_text(row[c]) for c in columns}
        for extra, value in row["extra"].items():
            extras.setdefault(extra, None)
            cells[extra] = value
        records.append(cells)
    header = columns + list(extras)
    return pd.DataFrame([[r.get(c, "") for c in header] for r in records], columns=header)


def _dataset(connection: Connection) -> graph.Dataset:
    frames: dict[str, pd.DataFrame] = {}
    for name in FILE_ORDER:
        live_firms = set(frames["firms"]["firm_id"]) if name == "outcomes" else None
        frames[name] = _frame(connection, name, live_firms)
    present = {n: f for n, f in frames.items() if not f.empty or CONTRACT[n].required}
    return graph.Dataset.from_frames(source="database", **present)


def dataset_in(connection: Connection) -> graph.Dataset:
    """The live rows as ``connection`` sees them, as a validated dataset: inside a write, the
    rows it is about to commit (:class:`graph.DatasetError` where they are not valid)."""
    return _dataset(connection)


def dataset_from_db(engine: Engine) -> graph.Dataset:
    """The database's live rows as a dataset, validated exactly as files are.

    Soft-deleted rows are left out, and so are outcomes of a firm that is no longer there.
    Files without rows are absent (apart from the required ``firms`` and ``links``).
    """
    with engine.connect() as connection:
        return _dataset(connection)


def dump(engine: Engine, out_dir: str | Path) -> list[Path]:
    """Write the database back as a dataset folder (extra columns and outcomes included).

    Loading the folder into an empty database gives the same dataset again (the same
    ``Dataset.fingerprint()``). Returns the files written.
    """
    return dataset_from_db(engine).to_dir(out_dir)


# -- search ---------------------------------------------------------------------------------------
def search_firms(engine: Engine, text: str, *, limit: int = 20) -> list[tuple[str, str]]:
    """Live firms whose name holds every word of ``text``, ignoring accents and case.

    Returns ``(firm_id, name)`` pairs in name order: ``search_firms(engine, "co khi dong anh")``
    finds "Công ty Cơ khí Đông Anh" (and "CƠ KHÍ ĐÔNG ANH", and "Đông Anh Cơ khí").
    """
    words = graph.fold(text).split()
    query = (
        select(Firm.firm_id, Firm.name)
        .where(Firm.deleted_at.is_(None))
        .where(*(Firm.name_folded.contains(word, autoescape=True) for word in words))
        .order_by(Firm.name_folded, Firm.firm_id)
        .limit(limit)
    )
    with Session(engine) as session:
        return [(firm_id, name) for firm_id, name in session.execute(query)]
