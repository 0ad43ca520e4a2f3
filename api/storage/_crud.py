"""Rows of the contract's tables: generic reads and writes, and the rules that keep them valid.

Every write runs in one :func:`transaction` together with its audit record, so a write and
its record are committed together or not at all. Rows leave as plain dicts (column -> value),
never as ORM objects bound to a closed session. The checks keep the database a valid dataset
(references exist, roles fit links, the category tree has no cycle); the category tree is
walked with :func:`ketnoi.graph._taxonomy.walk_up`, as the validator walks it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, Select, func, inspect, or_, select
from sqlalchemy.orm import Session

from ketnoi import graph
from ketnoi.api.storage._aliases import resolve_firm_id
from ketnoi.api.storage._audit import record
from ketnoi.api.storage._engine import transaction
from ketnoi.api.storage._key_info import KeyInfo
from ketnoi.api.storage._models import (
    AuditEntry,
    Base,
    Capability,
    Category,
    CategoryInput,
    Demand,
    Firm,
    Link,
    Outcome,
    Park,
    utcnow,
)
from ketnoi.graph._taxonomy import TaxonomyCycle, walk_up
from ketnoi.graph._values import json_value

__all__ = [
    "CAPABILITIES",
    "CATEGORIES",
    "DEMANDS",
    "FIRMS",
    "LINKS",
    "PARKS",
    "Conflict",
    "Invalid",
    "NotFound",
    "PageOfRows",
    "Row",
    "Table",
    "all_rows",
    "append_outcome",
    "as_row",
    "audit_entries",
    "create_row",
    "delete_row",
    "get_by_id",
    "get_row",
    "live",
    "list_rows",
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
class PageOfRows:
    """One page of rows and the number of rows over all pages (what a paged read returns)."""

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


def live(model: type[Base]) -> Any:
    """SQL: the row of ``model`` is not soft-deleted."""
    return model.deleted_at.is_(None)  # type: ignore[attr-defined]


def _page(session: Session, query: Select[Any], page: int, page_size: int) -> PageOfRows:
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(query.offset((page - 1) * page_size).limit(page_size)).all()
    return PageOfRows([as_row(r) for r in rows], int(total))


# -- reads ----------------------------------------------------------------------------------------
def list_rows(engine: Engine, query: Select[Any], page: int = 1, page_size: int = 50) -> PageOfRows:
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


def _get(session: Session, table: Table, key: Sequence[str], *, only_live: bool = True) -> Any:
    model = table.model
    query = select(model).where(
        *(getattr(model, k) == v for k, v in zip(table.key, key, strict=True))
    )
    obj: Any = session.scalar(query)
    if only_live and table is FIRMS and (obj is None or obj.deleted_at is not None):
        # A firm merged into another: its id names the survivor now.
        survivor = resolve_firm_id(session, key[0])
        if survivor != key[0]:
            obj = session.scalar(select(Firm).where(Firm.firm_id == survivor))
    if obj is None or (only_live and obj.deleted_at is not None):
        raise NotFound(f"no {table.entity} row '{'/'.join(key)}'")
    return obj


def audit_entries(
    engine: Engine, page: int, page_size: int, entity: str | None = None
) -> PageOfRows:
    """The audit log, newest first."""
    query = select(AuditEntry).order_by(AuditEntry.id.desc())
    if entity:
        query = query.where(AuditEntry.entity == entity)
    return list_rows(engine, query, page, page_size)


# -- checks shared by writes ------------------------------------------------------------------
def _check_firm(session: Session, firm_id: str, roles: frozenset[str] | None, what: str) -> None:
    firm = session.scalar(select(Firm).where(Firm.firm_id == firm_id, live(Firm)))
    if firm is None:
        raise Invalid(f"{what} '{firm_id}' is not a firm in the database")
    if roles is not None and firm.role not in roles:
        allowed = " or ".join(sorted(roles))
        raise Invalid(f"{what} '{firm_id}' has role '{firm.role}', not {allowed}")


def _check_category(session: Session, category_id: str, what: str = "category_id") -> None:
    found = session.scalar(
        select(Category.id).where(Category.category_id == category_id, live(Category))
    )
    if found is None:
        raise Invalid(f"{what} '{category_id}' is not a category in the database")


def _check_park(session: Session, park: str) -> None:
    # As in the data contract: park is a park_id where parks exist, else free text.
    if not park or session.scalar(select(Park.id).where(live(Park)).limit(1)) is None:
        return
    if session.scalar(select(Park.id).where(Park.park_id == park, live(Park))) is None:
        raise Invalid(f"park '{park}' is not a park_id in the database")


def _check_first_park(session: Session, park_id: str) -> None:
    # While no park exists, a firm's park is free text; the first park makes it a reference.
    others = select(Park.id).where(live(Park), Park.park_id != park_id).limit(1)
    if session.scalar(others) is not None:
        return
    free = session.scalar(
        select(func.count()).where(live(Firm), Firm.park != "", Firm.park != park_id)
    )
    if free:
        raise Conflict(
            f"{free} firm(s) name a park as free text: with a first park, every firm's park "
            "must be a park_id; give them park_ids (or no park) first"
        )


def _check_first_category(session: Session, category_id: str) -> None:
    # While no category exists, category_ids elsewhere are not checked; the first one is.
    others = select(Category.id).where(live(Category), Category.category_id != category_id)
    if session.scalar(others.limit(1)) is not None:
        return
    for model in (Capability, Demand, Link):
        column = model.category_id  # type: ignore[attr-defined]
        used = session.scalar(
            select(func.count()).where(live(model), column != "", column != category_id)
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

    def parent_of(node: str) -> str | None:
        # The category's new parent, then each ancestor's as the database holds it.
        if node == category_id:
            return parent_id
        parent = session.scalar(
            select(Category.parent_id).where(Category.category_id == node, live(Category))
        )
        if parent is None and node == parent_id:
            raise Invalid(f"parent_id '{parent_id}' is not a category in the database")
        return parent or None

    try:
        for _ in walk_up(category_id, parent_of):
            pass
    except TaxonomyCycle as loop:
        shown = " -> ".join([*loop.cycle, loop.cycle[0]])
        raise Conflict(f"parent_id '{parent_id}' would form a cycle: {shown}") from None


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
        n = session.scalar(select(func.count()).where(condition, live(model)))
        if n:
            raise Conflict(f"category '{category_id}' is still used by {n} {what}")


def _check_roles_against_links(session: Session, firm_id: str, role: str) -> None:
    if role not in graph.SUPPLIER_ROLES:
        n = session.scalar(select(func.count()).where(Link.supplier_id == firm_id, live(Link)))
        if n:
            raise Conflict(
                f"firm '{firm_id}' supplies in {n} link(s): its role must stay a supplier"
            )
    if role not in graph.BUYER_ROLES:
        n = session.scalar(select(func.count()).where(Link.buyer_id == firm_id, live(Link)))
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


def _audit_value(value: Any) -> Any:
    """A value as the audit log's JSON keeps it: plain, and anything not a JSON scalar as text."""
    plain = json_value(value)
    return plain if isinstance(plain, str | int | float | bool) or plain is None else str(plain)


# -- writes -----------------------------------------------------------------------------------
def create_row(engine: Engine, table: Table, values: Row, actor: KeyInfo | str) -> Row:
    """Insert a row (or bring a soft-deleted row with the same key back) and audit it."""
    key = tuple(str(values[k]) for k in table.key)

    def work(session: Session) -> Row:
        _check_references(session, table, values)
        try:
            old = _get(session, table, key, only_live=False)
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
        detail = {k: _audit_value(v) for k, v in values.items()}
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
        before = {k: _audit_value(getattr(obj, k)) for k in changes}
        for name, value in changes.items():
            setattr(obj, name, value)
        session.flush()
        detail = {"before": before, "after": {k: _audit_value(v) for k, v in changes.items()}}
        record(session, actor, "update", table.entity, "/".join(key), detail)
        return as_row(obj)

    return transaction(engine, work)


def delete_row(engine: Engine, table: Table, key: Sequence[str], actor: KeyInfo | str) -> Row:
    """Soft-delete a live row; a firm takes its links, capabilities and demands with it."""

    def work(session: Session) -> Row:
        obj = _get(session, table, key)
        if table is PARKS:
            used = session.scalar(select(func.count()).where(Firm.park == obj.park_id, live(Firm)))
            if used:
                raise Conflict(f"park '{obj.park_id}' is the park of {used} firm(s)")
        if table is CATEGORIES:
            _check_category_unused(session, obj.category_id)
        now = utcnow()
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
                rows = session.scalars(select(model).where(condition, live(model))).all()
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
        now = utcnow()
        recorded_by = f"key:{actor.id}/{actor.role}"
        extra = {"recorded_by": recorded_by, "recorded_at": now.isoformat(timespec="seconds")}
        obj = Outcome(**values, extra=extra, created_at=now, updated_at=now)
        session.add(obj)
        session.flush()
        detail = {k: _audit_value(v) for k, v in values.items()}
        key = f"{values['supplier_id']}/{values['buyer_id']}/{obj.id}"
        record(session, actor, "append", "outcomes", key, detail)
        return as_row(obj)

    return transaction(engine, work)
