"""Undoable merges of two firms, and the aliases that keep a merged firm's id resolving.

:func:`merge` moves everything keyed by the absorbed firm's id to the survivor: links,
capabilities, demands, outcomes, match-list rows and source records, and the
absorbed firm's certifications, processes and languages into the survivor's lists. Each value
it changes is written down as a :class:`MergeMove` (table, row id, column, old and new value);
the absorbed firm is soft-deleted and its id becomes an alias of the survivor.

:func:`unmerge` puts back exactly the recorded values, and only where they still hold what the
merge wrote: a row written since the merge keeps that write (a capacity changed, a link ended, a
certification added), because unmerge undoes the merge, not what came after it. Nothing is
snapshotted and restored.

A row the move would collide with (the survivor already has that capability, that demand, that
link; a link between the two firms would become a firm supplying itself) is soft-deleted instead
of moved, and that too is recorded. Both run in one transaction with their audit entry, and the
merged register is validated as a dataset before it is committed: nothing is half-written.
Saved events keep their participants as they were planned (their spec is a record of the
event). API keys stay with the firm they were made for: a merge made by mistake must not let
one firm's key read another's confidential demands (staff give the survivor a key of its own).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from ketnoi import graph
from ketnoi.api.storage._aliases import resolve_firm_id
from ketnoi.api.storage._audit import record
from ketnoi.api.storage._crud import Conflict, NotFound, as_row
from ketnoi.api.storage._engine import transaction
from ketnoi.api.storage._key_info import KeyInfo
from ketnoi.api.storage._load import dataset_in
from ketnoi.api.storage._models import (
    Base,
    Capability,
    Demand,
    Firm,
    Link,
    MatchListRow,
    Outcome,
    utcnow,
)
from ketnoi.api.storage._resolution_models import FirmAlias, FirmMerge, MergeMove, SourceRecord

__all__ = [
    "MergeRecord",
    "actor_name",
    "get_merge",
    "list_merges",
    "merge_firms",
    "resolve_firm_id",
    "unmerge_firms",
]

#: The tables whose rows a merge may change, by name.
_MODELS: dict[str, type[Base]] = {
    m.__tablename__: m
    for m in (Firm, Link, Capability, Demand, Outcome, MatchListRow, SourceRecord)
}
#: Rows with a unique key that includes the firm: the other key columns, and the value columns
#: a collision copies onto the survivor's own (soft-deleted) row when it brings that row back.
_KEYED: dict[type[Base], tuple[tuple[str, ...], tuple[str, ...]]] = {
    Capability: (("category_id",), ("capacity", "extra")),
    Demand: (
        ("category_id",),
        ("volume", "required_certifications", "required_processes", "confidential", "extra"),
    ),
}
#: Columns that name a firm in rows without such a key: moved as they are.
_PLAIN: tuple[tuple[type[Base], str], ...] = (
    (Outcome, "supplier_id"),
    (Outcome, "buyer_id"),
    (MatchListRow, "buyer_id"),
    (MatchListRow, "supplier_id"),
    (SourceRecord, "firm_id"),
)
_LIST_COLUMNS = ("certifications", "processes", "languages")


@dataclass(frozen=True)
class MergeRecord:
    """A merge as read back: who, when, whether undone, and how many values it moved."""

    id: int
    survivor_id: str
    absorbed_id: str
    created_at: dt.datetime
    created_by: str
    undone_at: dt.datetime | None
    undone_by: str
    moved: dict[str, int]


def actor_name(actor: KeyInfo | str) -> str:
    """An actor as the ``created_by`` columns name it (``key:<id>`` or the name given)."""
    return actor if isinstance(actor, str) else f"key:{actor.id}"


# -- values as the moves keep them ----------------------------------------------------------------
def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, dt.datetime) else value


def _back(column: str, value: Any) -> Any:
    if column in ("deleted_at", "updated_at") and isinstance(value, str):
        return dt.datetime.fromisoformat(value) if value else None
    return value


class _Mover:
    """Changes rows and writes each change down as a move of one merge."""

    def __init__(self, session: Session, merge: FirmMerge, now: dt.datetime):
        self.session = session
        self.merge = merge
        self.now = now
        self.counts: dict[str, int] = {}

    def set(self, obj: Any, column: str, value: Any) -> None:
        old = getattr(obj, column)
        if old == value:
            return
        stamped = hasattr(obj, "updated_at")
        self.session.add(
            MergeMove(
                merge_id=self.merge.id,
                table_name=obj.__tablename__,
                row_id=obj.id,
                column=column,
                old=_plain(old),
                new=_plain(value),
                old_updated_at=_plain(obj.updated_at) if stamped else "",
                new_updated_at=_plain(self.now) if stamped else "",
            )
        )
        setattr(obj, column, value)
        if stamped:
            obj.updated_at = self.now
        name = obj.__tablename__
        self.counts[name] = self.counts.get(name, 0) + 1


def _live_firm(session: Session, firm_id: str, what: str) -> Firm:
    firm = session.scalar(select(Firm).where(Firm.firm_id == firm_id))
    if firm is None or firm.deleted_at is not None:
        merged = session.scalar(select(FirmAlias.firm_id).where(FirmAlias.alias_id == firm_id))
        if merged is not None:
            raise Conflict(f"{what} '{firm_id}' was merged into '{merged}' already")
        raise NotFound(f"no firm '{firm_id}'")
    return firm


def _merged_list(first: str, second: str) -> str:
    items = [*graph.split_list(first), *graph.split_list(second)]
    return ";".join(dict.fromkeys(items))


def _move_keyed(mover: _Mover, model: type[Base], survivor: str, absorbed: str) -> None:
    others, values = _KEYED[model]
    column: Any = model.firm_id  # type: ignore[attr-defined]
    rows = mover.session.scalars(
        select(model).where(column == absorbed, model.deleted_at.is_(None))  # type: ignore[attr-defined]
    ).all()
    for row in rows:
        key = [model.firm_id == survivor]  # type: ignore[attr-defined]
        key += [getattr(model, c) == getattr(row, c) for c in others]
        own: Any = mover.session.scalar(select(model).where(*key))
        if own is None:
            mover.set(row, "firm_id", survivor)
        else:
            if own.deleted_at is not None:  # the survivor's old row comes back with these values
                mover.set(own, "deleted_at", None)
                for name in values:
                    mover.set(own, name, getattr(row, name))
            mover.set(row, "deleted_at", mover.now)


def _move_links(mover: _Mover, survivor: str, absorbed: str) -> None:
    session = mover.session
    for side, other in (("supplier_id", "buyer_id"), ("buyer_id", "supplier_id")):
        rows = session.scalars(
            select(Link).where(getattr(Link, side) == absorbed, Link.deleted_at.is_(None))
        ).all()
        for row in rows:
            if getattr(row, other) == survivor:  # would supply itself
                mover.set(row, "deleted_at", mover.now)
                continue
            own = session.scalar(
                select(Link).where(
                    getattr(Link, side) == survivor,
                    getattr(Link, other) == getattr(row, other),
                    Link.category_id == row.category_id,
                )
            )
            if own is None:
                mover.set(row, side, survivor)
            else:
                if own.deleted_at is not None:
                    mover.set(own, "deleted_at", None)
                    for name in ("since", "status", "extra"):
                        mover.set(own, name, getattr(row, name))
                mover.set(row, "deleted_at", mover.now)


def _role_for(survivor: Firm, absorbed: Firm) -> str:
    supplies = survivor.role in graph.SUPPLIER_ROLES or absorbed.role in graph.SUPPLIER_ROLES
    buys = survivor.role in graph.BUYER_ROLES or absorbed.role in graph.BUYER_ROLES
    return "both" if supplies and buys else survivor.role


def merge_firms(
    engine: Engine, survivor_id: str, absorbed_id: str, actor: KeyInfo | str, reason: str = ""
) -> MergeRecord:
    """Merge ``absorbed_id`` into ``survivor_id``: one transaction, audited, undoable.

    Parameters
    ----------
    engine : Engine
    survivor_id, absorbed_id : str
        Two live firms. The survivor keeps its id; the absorbed firm's id becomes its alias.
    actor : KeyInfo or str
        Who merges, for the audit log.
    reason : str
        Why, as the person gave it.

    Returns
    -------
    MergeRecord
        With ``moved``: how many values changed per table.

    Raises
    ------
    NotFound
        A firm that does not exist.
    Conflict
        The same firm twice, or a firm merged already.
    graph.DatasetError
        The merged register would not be a valid dataset; nothing is written.
    """
    if survivor_id == absorbed_id:
        raise Conflict("a firm cannot be merged into itself")

    def work(session: Session) -> MergeRecord:
        survivor = _live_firm(session, survivor_id, "survivor")
        absorbed = _live_firm(session, absorbed_id, "absorbed firm")
        now = utcnow()
        merge = FirmMerge(
            survivor_id=survivor_id,
            absorbed_id=absorbed_id,
            created_at=now,
            created_by=actor_name(actor),
            reason=reason,
        )
        session.add(merge)
        session.flush()
        mover = _Mover(session, merge, now)
        mover.set(survivor, "role", _role_for(survivor, absorbed))
        for name in _LIST_COLUMNS:
            merged = _merged_list(getattr(survivor, name), getattr(absorbed, name))
            mover.set(survivor, name, merged)
        session.flush()  # the survivor's role first: the rows moved below rely on it
        _move_links(mover, survivor_id, absorbed_id)
        for model in _KEYED:
            _move_keyed(mover, model, survivor_id, absorbed_id)
        for model, column in _PLAIN:
            rows = session.scalars(select(model).where(getattr(model, column) == absorbed_id))
            row: Any
            for row in rows.all():
                if model is Outcome and survivor_id in (row.supplier_id, row.buyer_id):
                    continue  # an outcome between the two stays: it is history of both
                mover.set(row, column, survivor_id)
        mover.set(absorbed, "deleted_at", now)
        session.add(FirmAlias(alias_id=absorbed_id, firm_id=survivor_id, merge_id=merge.id))
        session.flush()
        dataset_in(session.connection())  # raises graph.DatasetError: nothing is committed
        detail = {"merge_id": merge.id, "survivor": survivor_id, "absorbed": absorbed_id}
        detail["moved"] = dict(mover.counts)
        if reason:
            detail["reason"] = reason
        record(session, actor, "merge", "firms", f"{absorbed_id}->{survivor_id}", detail)
        return _as_record(session, merge)

    return transaction(engine, work)


def unmerge_firms(engine: Engine, merge_id: int, actor: KeyInfo | str) -> MergeRecord:
    """Undo merge ``merge_id``: put back the values it moved where they still hold its values.

    A later write to a moved row is kept (the row goes back to the absorbed firm with it); a
    row the survivor gained after the merge stays with the survivor. The absorbed firm comes
    back and its alias goes.

    Raises
    ------
    NotFound
        No such merge.
    Conflict
        The merge was undone already, or a later merge built on it (undo that one first).
    graph.DatasetError
        The register with the merge undone would not be a valid dataset; nothing is written.
    """

    def work(session: Session) -> MergeRecord:
        merge = session.get(FirmMerge, merge_id)
        if merge is None:
            raise NotFound(f"no merge {merge_id}")
        if merge.undone_at is not None:
            raise Conflict(f"merge {merge_id} was undone already ({merge.undone_at:%Y-%m-%d})")
        later = session.scalar(
            select(FirmMerge.id).where(
                FirmMerge.id > merge_id,
                FirmMerge.undone_at.is_(None),
                FirmMerge.absorbed_id.in_([merge.survivor_id, merge.absorbed_id]),
            )
        )
        if later is not None:
            raise Conflict(
                f"merge {later} merged '{merge.survivor_id}' further since: undo merge {later}"
                " first"
            )
        now = utcnow()
        moves = session.scalars(
            select(MergeMove).where(MergeMove.merge_id == merge_id).order_by(MergeMove.id.desc())
        ).all()
        # Each row's updated_at is judged before anything is written (a flush would stamp it):
        # a row nobody wrote since the merge gets its old stamp back, any other row now's.
        first: dict[tuple[str, int], MergeMove] = {}
        for move in moves:  # newest first: the row's earliest move is seen last
            first[(move.table_name, move.row_id)] = move
        stamps: dict[tuple[str, int], dt.datetime] = {}
        for (table_name, row_id), move in first.items():
            obj: Any = session.get(_MODELS[table_name], row_id)
            if obj is not None and move.new_updated_at:
                untouched = _plain(obj.updated_at) == move.new_updated_at
                stamps[(table_name, row_id)] = (
                    _back("updated_at", move.old_updated_at) if untouched else now
                )
        restored = 0
        with session.no_autoflush:
            for move in moves:
                obj = session.get(_MODELS[move.table_name], move.row_id)
                if obj is None:
                    continue
                current = _plain(getattr(obj, move.column))
                if current == move.new:
                    setattr(obj, move.column, _back(move.column, move.old))
                    restored += 1
                elif move.column in _LIST_COLUMNS:
                    # Written since: take out only what the merge added, keep the rest.
                    old_items = set(graph.split_list(move.old or ""))
                    added = set(graph.split_list(move.new)) - old_items
                    kept = [c for c in graph.split_list(current) if c not in added]
                    setattr(obj, move.column, ";".join(kept))
                if (move.table_name, move.row_id) in stamps:
                    obj.updated_at = stamps[(move.table_name, move.row_id)]
        alias = session.scalar(select(FirmAlias).where(FirmAlias.merge_id == merge_id))
        if alias is not None:
            session.delete(alias)
        merge.undone_at = now
        merge.undone_by = actor_name(actor)
        session.flush()
        dataset_in(session.connection())
        detail = {"merge_id": merge_id, "restored": restored, "recorded": len(moves)}
        key = f"{merge.absorbed_id}->{merge.survivor_id}"
        record(session, actor, "unmerge", "firms", key, detail)
        return _as_record(session, merge)

    return transaction(engine, work)


def _as_record(session: Session, merge: FirmMerge) -> MergeRecord:
    counts: dict[str, int] = {}
    for table_name in session.scalars(
        select(MergeMove.table_name).where(MergeMove.merge_id == merge.id)
    ):
        counts[table_name] = counts.get(table_name, 0) + 1
    row = as_row(merge)
    del row["reason"]
    return MergeRecord(**row, moved=counts)


def get_merge(engine: Engine, merge_id: int) -> MergeRecord:
    """One merge; :class:`NotFound` otherwise."""
    with Session(engine) as session:
        merge = session.get(FirmMerge, merge_id)
        if merge is None:
            raise NotFound(f"no merge {merge_id}")
        return _as_record(session, merge)


def list_merges(engine: Engine, firm_id: str | None = None) -> list[MergeRecord]:
    """Every merge, newest first (``firm_id``: those it took part in)."""
    query = select(FirmMerge).order_by(FirmMerge.id.desc())
    if firm_id:
        query = query.where((FirmMerge.survivor_id == firm_id) | (FirmMerge.absorbed_id == firm_id))
    with Session(engine) as session:
        return [_as_record(session, m) for m in session.scalars(query).all()]
