"""Reads and writes of the service, on the storage layer's tables.

Every write runs in one :func:`api.storage.transaction` together with its audit record, so a
write and its record are committed together or not at all. Rows leave as plain dicts (column
-> value), never as ORM objects bound to a closed session.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, Select, func, inspect, literal, or_, select
from sqlalchemy.orm import Session

from ketnoi import graph
from ketnoi.api.storage import (
    AuditEntry,
    Base,
    Capability,
    Category,
    CategoryInput,
    Demand,
    Firm,
    KeyInfo,
    Link,
    Outcome,
    Park,
    record,
    transaction,
)

__all__ = [
    "Conflict",
    "Invalid",
    "NotFound",
    "Page",
    "append_outcome",
    "audit_entries",
    "capability_query",
    "create_row",
    "delete_row",
    "get_row",
    "link_query",
    "list_rows",
    "outcome_query",
    "update_row",
]

Row = dict[str, Any]


class NotFound(LookupError):
    """No live row with that key (answered 404)."""


class Conflict(ValueError):
    """The write clashes with what the database holds (answered 409)."""


class Invalid(ValueError):
    """The write names something that does not exist or breaks a rule (answered 422)."""


@dataclass(frozen=True)
class Page:
    """One page of rows and the number of rows over all pages."""

    rows: list[Row]
    total: int


def as_row(obj: Base) -> Row:
    """The mapped columns of ``obj`` as a dict."""
    return {attr.key: getattr(obj, attr.key) for attr in inspect(type(obj)).column_attrs}


# -- what each table is keyed by, and how its rows are named in the audit log ------------------
@dataclass(frozen=True)
class Table:
    """How the service addresses one table."""

    model: type[Base]
    entity: str
    key: tuple[str, ...]

    def key_text(self, row: Row) -> str:
        return "/".join(str(row[k]) for k in self.key)


FIRMS = Table(Firm, "firms", ("firm_id",))
PARKS = Table(Park, "parks", ("park_id",))
CATEGORIES = Table(Category, "categories", ("category_id",))
CAPABILITIES = Table(Capability, "capabilities", ("firm_id", "category_id"))
DEMANDS = Table(Demand, "demands", ("firm_id", "category_id"))
LINKS = Table(Link, "links", ("supplier_id", "buyer_id", "category_id"))


def _live(model: type[Base]) -> Any:
    return model.deleted_at.is_(None)  # type: ignore[attr-defined]


def _has_item(column: Any, item: str) -> Any:
    """SQL: the ``;``-joined list in ``column`` holds ``item`` (case-insensitively)."""
    padded = func.lower(literal(";") + column + literal(";"))
    return padded.contains(f";{item.lower()};", autoescape=True)


def _page(session: Session, query: Select[Any], page: int, page_size: int) -> Page:
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(query.offset((page - 1) * page_size).limit(page_size)).all()
    return Page([as_row(r) for r in rows], int(total))


# -- reads ----------------------------------------------------------------------------------------
def firm_query(
    *,
    role: str | None = None,
    sector: str | None = None,
    park: str | None = None,
    certification: str | None = None,
    process: str | None = None,
    q: str | None = None,
    listed_or: str | None = None,
) -> Select[Any]:
    """Live firms matching every filter given, in firm_id order.

    ``q`` matches names accent- and case-insensitively through the stored folded name (every
    word must occur); ``listed_or`` keeps unlisted firms out except that one firm.
    """
    query = select(Firm).where(_live(Firm)).order_by(Firm.firm_id)
    if role:
        query = query.where(Firm.role.in_({role, "both"}) if role != "both" else Firm.role == role)
    if sector:
        query = query.where(func.lower(Firm.sector) == sector.lower())
    if park:
        query = query.where(Firm.park == park)
    if certification:
        query = query.where(
            _has_item(Firm.certifications, graph.normalise_certification(certification))
        )
    if process:
        query = query.where(_has_item(Firm.processes, " ".join(graph.nfc(process).split())))
    if q:
        words = graph.fold(q).split()
        query = query.where(*(Firm.name_folded.contains(w, autoescape=True) for w in words))
    if listed_or is not None:
        query = query.where(or_(Firm.listed.is_(True), Firm.firm_id == listed_or))
    return query


def _party(supplier: Any, buyer: Any, firm_id: str | None) -> Any:
    """SQL: the firm is the supplier or the buyer of the row."""
    return or_(supplier == firm_id, buyer == firm_id)


def link_query(
    *,
    supplier_id: str | None = None,
    buyer_id: str | None = None,
    category_id: str | None = None,
    status: str | None = None,
    party: str | None = None,
    restrict: bool = False,
) -> Select[Any]:
    """Live links matching every filter given, in load order.

    With ``restrict``, only the links where ``party`` is the supplier or the buyer.
    """
    query = select(Link).where(_live(Link)).order_by(Link.id)
    if supplier_id:
        query = query.where(Link.supplier_id == supplier_id)
    if buyer_id:
        query = query.where(Link.buyer_id == buyer_id)
    if category_id is not None:
        query = query.where(Link.category_id == category_id)
    if status:
        query = query.where(Link.status == status)
    if restrict:
        query = query.where(_party(Link.supplier_id, Link.buyer_id, party))
    return query


def capability_query(
    *, firm_id: str | None = None, category_id: str | None = None, listed_or: str | None = None
) -> Select[Any]:
    """Live capabilities of live firms matching every filter given, in load order.

    ``listed_or`` keeps the capabilities of unlisted firms out except that one firm's.
    """
    query = (
        select(Capability)
        .join(Firm, Firm.firm_id == Capability.firm_id)
        .where(_live(Capability), _live(Firm))
        .order_by(Capability.id)
    )
    if firm_id:
        query = query.where(Capability.firm_id == firm_id)
    if category_id:
        query = query.where(Capability.category_id == category_id)
    if listed_or is not None:
        query = query.where(or_(Firm.listed.is_(True), Firm.firm_id == listed_or))
    return query


def outcome_query(
    *,
    supplier_id: str | None = None,
    buyer_id: str | None = None,
    event_id: str | None = None,
    outcome: str | None = None,
    party: str | None = None,
    restrict: bool = False,
) -> Select[Any]:
    """Outcomes matching every filter given, oldest first (with ``restrict``: only those of
    pairs ``party`` is part of)."""
    query = select(Outcome).order_by(Outcome.id)
    if supplier_id:
        query = query.where(Outcome.supplier_id == supplier_id)
    if buyer_id:
        query = query.where(Outcome.buyer_id == buyer_id)
    if event_id:
        query = query.where(Outcome.event_id == event_id)
    if outcome:
        query = query.where(Outcome.outcome == outcome)
    if restrict:
        query = query.where(_party(Outcome.supplier_id, Outcome.buyer_id, party))
    return query


def list_rows(engine: Engine, query: Select[Any], page: int = 1, page_size: int = 50) -> Page:
    """One page of the rows ``query`` selects."""
    with Session(engine) as session:
        return _page(session, query, page, page_size)


def all_rows(engine: Engine, query: Select[Any]) -> list[Row]:
    """Every row ``query`` selects."""
    with Session(engine) as session:
        return [as_row(r) for r in session.scalars(query)]


def get_row(engine: Engine, table: Table, key: Sequence[str]) -> Row:
    """The live row of ``table`` with that key; :class:`NotFound` otherwise."""
    with Session(engine) as session:
        obj = _get(session, table, key)
        return as_row(obj)


def get_by_id(engine: Engine, table: Table, row_id: int) -> Row:
    """The live row of ``table`` with that surrogate id; :class:`NotFound` otherwise."""
    with Session(engine) as session:
        obj: Any = session.get(table.model, row_id)
        if obj is None or obj.deleted_at is not None:
            raise NotFound(f"no {table.entity} row with id {row_id}")
        return as_row(obj)


def _get(session: Session, table: Table, key: Sequence[str], *, live: bool = True) -> Any:
    model = table.model
    query = select(model).where(
        *(getattr(model, k) == v for k, v in zip(table.key, key, strict=True))
    )
    obj: Any = session.scalar(query)
    if obj is None or (live and obj.deleted_at is not None):
        raise NotFound(f"no {table.entity} row '{'/'.join(key)}'")
    return obj


def capabilities_of(engine: Engine, firm_ids: Sequence[str]) -> dict[str, list[str]]:
    """The category_ids each firm can make (live capabilities only)."""
    out: dict[str, list[str]] = {f: [] for f in firm_ids}
    if not firm_ids:
        return out
    query = (
        select(Capability.firm_id, Capability.category_id)
        .where(_live(Capability), Capability.firm_id.in_(list(firm_ids)))
        .order_by(Capability.firm_id, Capability.category_id)
    )
    with Session(engine) as session:
        for firm_id, category_id in session.execute(query):
            out[firm_id].append(category_id)
    return out


def confidential_demands(engine: Engine, firm_ids: Sequence[str]) -> set[tuple[str, str]]:
    """(firm_id, category_id) of the live confidential demands of these firms."""
    if not firm_ids:
        return set()
    query = select(Demand.firm_id, Demand.category_id).where(
        _live(Demand), Demand.confidential.is_(True), Demand.firm_id.in_(list(set(firm_ids)))
    )
    with Session(engine) as session:
        return {(f, c) for f, c in session.execute(query)}


def firm_sectors(engine: Engine, firm_ids: Sequence[str]) -> dict[str, str]:
    """The sector of each firm (deleted firms included)."""
    query = select(Firm.firm_id, Firm.sector).where(Firm.firm_id.in_(list(set(firm_ids))))
    with Session(engine) as session:
        return {f: s for f, s in session.execute(query)}


def category_names(engine: Engine) -> dict[str, str]:
    """The name of every category."""
    with Session(engine) as session:
        return {c: n for c, n in session.execute(select(Category.category_id, Category.name))}


def audit_entries(engine: Engine, page: int, page_size: int, entity: str | None = None) -> Page:
    """The audit log, newest first."""
    query = select(AuditEntry).order_by(AuditEntry.id.desc())
    if entity:
        query = query.where(AuditEntry.entity == entity)
    return list_rows(engine, query, page, page_size)


# -- checks shared by writes ------------------------------------------------------------------
def _check_firm(session: Session, firm_id: str, roles: frozenset[str] | None, what: str) -> None:
    firm = session.scalar(select(Firm).where(Firm.firm_id == firm_id, _live(Firm)))
    if firm is None:
        raise Invalid(f"{what} '{firm_id}' is not a firm in the database")
    if roles is not None and firm.role not in roles:
        allowed = " or ".join(sorted(roles))
        raise Invalid(f"{what} '{firm_id}' has role '{firm.role}', not {allowed}")


def _check_category(session: Session, category_id: str, what: str = "category_id") -> None:
    found = session.scalar(
        select(Category.id).where(Category.category_id == category_id, _live(Category))
    )
    if found is None:
        raise Invalid(f"{what} '{category_id}' is not a category in the database")


def _check_park(session: Session, park: str) -> None:
    # As in the data contract: park is a park_id where parks exist, else free text.
    if not park or session.scalar(select(Park.id).where(_live(Park)).limit(1)) is None:
        return
    if session.scalar(select(Park.id).where(Park.park_id == park, _live(Park))) is None:
        raise Invalid(f"park '{park}' is not a park_id in the database")


def _check_first_park(session: Session, park_id: str) -> None:
    # While no park exists, a firm's park is free text; the first park makes it a reference.
    others = select(Park.id).where(_live(Park), Park.park_id != park_id).limit(1)
    if session.scalar(others) is not None:
        return
    free = session.scalar(
        select(func.count()).where(_live(Firm), Firm.park != "", Firm.park != park_id)
    )
    if free:
        raise Conflict(
            f"{free} firm(s) name a park as free text: with a first park, every firm's park "
            "must be a park_id; give them park_ids (or no park) first"
        )


def _check_first_category(session: Session, category_id: str) -> None:
    # While no category exists, category_ids elsewhere are not checked; the first one is.
    others = select(Category.id).where(_live(Category), Category.category_id != category_id)
    if session.scalar(others.limit(1)) is not None:
        return
    for model in (Capability, Demand, Link):
        column = model.category_id  # type: ignore[attr-defined]
        used = session.scalar(
            select(func.count()).where(_live(model), column != "", column != category_id)
        )
        if used:
            raise Conflict(
                f"{used} {model.__tablename__} row(s) name categories that do not exist: with "
                "a first category, every category_id must be one; fix those rows first"
            )


def _check_parent(session: Session, category_id: str, parent_id: str) -> None:
    """The parent must be a live category, and following parents must not lead back."""
    if not parent_id:
        return
    path = [category_id]
    node = parent_id
    while node:
        if node in path:
            shown = " -> ".join([*path, node])
            raise Conflict(f"parent_id '{parent_id}' would form a cycle: {shown}")
        path.append(node)
        parent = session.scalar(
            select(Category.parent_id).where(Category.category_id == node, _live(Category))
        )
        if parent is None:
            if node == parent_id:
                raise Invalid(f"parent_id '{parent_id}' is not a category in the database")
            return
        node = parent


def _check_category_unused(session: Session, category_id: str) -> None:
    uses: list[tuple[str, Any, Any]] = [
        ("child categories", Category, Category.parent_id == category_id),
        ("capabilities", Capability, Capability.category_id == category_id),
        ("demands", Demand, Demand.category_id == category_id),
        ("links", Link, Link.category_id == category_id),
        (
            "category inputs",
            CategoryInput,
            or_(
                CategoryInput.input_category_id == category_id,
                CategoryInput.output_category_id == category_id,
            ),
        ),
    ]
    for what, model, condition in uses:
        n = session.scalar(select(func.count()).where(condition, _live(model)))
        if n:
            raise Conflict(f"category '{category_id}' is still used by {n} {what}")


def _check_roles_against_links(session: Session, firm_id: str, role: str) -> None:
    if role not in graph.SUPPLIER_ROLES:
        n = session.scalar(select(func.count()).where(Link.supplier_id == firm_id, _live(Link)))
        if n:
            raise Conflict(
                f"firm '{firm_id}' supplies in {n} link(s): its role must stay a supplier"
            )
    if role not in graph.BUYER_ROLES:
        n = session.scalar(select(func.count()).where(Link.buyer_id == firm_id, _live(Link)))
        if n:
            raise Conflict(f"firm '{firm_id}' buys in {n} link(s): its role must stay a buyer")


def _check_references(session: Session, table: Table, values: Row) -> None:
    if table in (FIRMS, PARKS) and (values.get("lat") is None) != (values.get("lon") is None):
        raise Invalid("latitude and longitude must be given together")
    if table is FIRMS:
        if "park" in values:
            _check_park(session, values["park"])
    elif table is PARKS:
        _check_first_park(session, values["park_id"])
    elif table is CATEGORIES:
        _check_first_category(session, values["category_id"])
        _check_parent(session, values["category_id"], values.get("parent_id") or "")
    elif table is CAPABILITIES:
        _check_firm(session, values["firm_id"], graph.SUPPLIER_ROLES, "firm_id")
        _check_category(session, values["category_id"])
    elif table is DEMANDS:
        _check_firm(session, values["firm_id"], graph.BUYER_ROLES, "firm_id")
        _check_category(session, values["category_id"])
    elif table is LINKS:
        if values["supplier_id"] == values["buyer_id"]:
            raise Invalid("a firm cannot supply itself")
        _check_firm(session, values["supplier_id"], graph.SUPPLIER_ROLES, "supplier_id")
        _check_firm(session, values["buyer_id"], graph.BUYER_ROLES, "buyer_id")
        if values["category_id"]:
            _check_category(session, values["category_id"])


def _plain(value: Any) -> Any:
    return value if isinstance(value, str | int | float | bool) or value is None else str(value)


# -- writes -----------------------------------------------------------------------------------
def create_row(engine: Engine, table: Table, values: Row, actor: KeyInfo | str) -> Row:
    """Insert a row (or bring a soft-deleted row with the same key back) and audit it."""
    key = tuple(str(values[k]) for k in table.key)

    def work(session: Session) -> Row:
        _check_references(session, table, values)
        try:
            old = _get(session, table, key, live=False)
        except NotFound:
            old = None
        if old is not None and old.deleted_at is None:
            raise Conflict(f"{table.entity} '{'/'.join(key)}' already exists")
        if old is not None and table is FIRMS:
            raise Conflict(f"firm '{key[0]}' existed and was deleted: its firm_id cannot be reused")
        if old is not None:
            for name, value in values.items():
                setattr(old, name, value)
            old.deleted_at = None
            obj = old
        else:
            obj = table.model(**values)
            session.add(obj)
        session.flush()
        detail = {k: _plain(v) for k, v in values.items()}
        record(session, actor, "create", table.entity, table.key_text(values), detail)
        return as_row(obj)

    return transaction(engine, work)


def update_row(
    engine: Engine, table: Table, key: Sequence[str], changes: Row, actor: KeyInfo | str
) -> Row:
    """Change some columns of a live row and audit the old and new values."""

    def work(session: Session) -> Row:
        obj = _get(session, table, key)
        merged = {**as_row(obj), **changes}
        _check_references(session, table, merged)
        if table is FIRMS and "role" in changes:
            _check_roles_against_links(session, obj.firm_id, changes["role"])
        before = {k: _plain(getattr(obj, k)) for k in changes}
        for name, value in changes.items():
            setattr(obj, name, value)
        session.flush()
        detail = {"before": before, "after": {k: _plain(v) for k, v in changes.items()}}
        record(session, actor, "update", table.entity, "/".join(key), detail)
        return as_row(obj)

    return transaction(engine, work)


def delete_row(engine: Engine, table: Table, key: Sequence[str], actor: KeyInfo | str) -> Row:
    """Soft-delete a live row; a firm takes its links, capabilities and demands with it."""

    def work(session: Session) -> Row:
        obj = _get(session, table, key)
        if table is PARKS:
            used = session.scalar(select(func.count()).where(Firm.park == obj.park_id, _live(Firm)))
            if used:
                raise Conflict(f"park '{obj.park_id}' is the park of {used} firm(s)")
        if table is CATEGORIES:
            _check_category_unused(session, obj.category_id)
        now = dt.datetime.now(dt.UTC)
        obj.deleted_at = now
        detail: dict[str, Any] = {}
        if table is FIRMS:
            firm_id = obj.firm_id
            dependents: list[tuple[type[Base], Any]] = [
                (Link, or_(Link.supplier_id == firm_id, Link.buyer_id == firm_id)),
                (Capability, Capability.firm_id == firm_id),
                (Demand, Demand.firm_id == firm_id),
            ]
            for model, condition in dependents:
                rows = session.scalars(select(model).where(condition, _live(model))).all()
                for row in rows:
                    row.deleted_at = now  # type: ignore[attr-defined]
                detail[model.__tablename__] = len(rows)
        session.flush()
        record(session, actor, "delete", table.entity, "/".join(key), detail)
        return as_row(obj)

    return transaction(engine, work)


def append_outcome(engine: Engine, values: Row, actor: KeyInfo) -> Row:
    """Append an outcome of a pair, with who recorded it and when, and audit it.

    Outcomes are never updated nor deleted: recording the same outcome twice appends two rows.
    ``recorded_by`` (``key:<id>/<role>``) and ``recorded_at`` are also kept in ``extra``, so a
    dump's ``outcomes.csv`` carries them.
    """

    def work(session: Session) -> Row:
        if values["supplier_id"] == values["buyer_id"]:
            raise Invalid("a firm cannot be both sides of a pair")
        _check_firm(session, values["supplier_id"], graph.SUPPLIER_ROLES, "supplier_id")
        _check_firm(session, values["buyer_id"], graph.BUYER_ROLES, "buyer_id")
        now = dt.datetime.now(dt.UTC)
        recorded_by = f"key:{actor.id}/{actor.role}"
        extra = {"recorded_by": recorded_by, "recorded_at": now.isoformat(timespec="seconds")}
        obj = Outcome(**values, extra=extra, created_at=now, updated_at=now)
        session.add(obj)
        session.flush()
        detail = {k: _plain(v) for k, v in values.items()}
        key = f"{values['supplier_id']}/{values['buyer_id']}/{obj.id}"
        record(session, actor, "append", "outcomes", key, detail)
        return as_row(obj)

    return transaction(engine, work)
