"""Filtered reads of the contract's tables: what the service lists, and what it masks with.

Each ``..._query`` builds a SQLAlchemy select of live rows (run it with :func:`list_rows` or
:func:`all_rows`); the other reads answer one question about a few firms at once, for the
service's views (capabilities shown with a firm, the sector of a masked confidential demand).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd
from sqlalchemy import Engine, Select, and_, func, literal, or_, select
from sqlalchemy.orm import Session

from ketnoi import graph
from ketnoi.api.storage._crud import all_rows, live
from ketnoi.api.storage._models import Capability, Category, Demand, Firm, Link, Outcome

__all__ = [
    "capabilities_of",
    "capability_query",
    "categories_under",
    "category_names",
    "category_tree",
    "confidential_demands",
    "demand_query",
    "firm_query",
    "firm_sectors",
    "link_query",
    "outcome_query",
]


def _has_item(column: Any, item: str) -> Any:
    """SQL: the ``;``-joined list in ``column`` holds ``item`` (case-insensitively)."""
    padded = func.lower(literal(";") + column + literal(";"))
    return padded.contains(f";{item.lower()};", autoescape=True)


def firm_query(
    *,
    role: str | None = None,
    sector: str | None = None,
    park: str | None = None,
    certification: str | None = None,
    process: str | None = None,
    q: str | None = None,
    listed_or: str | None = None,
    ownership: str | None = None,
    country: str | None = None,
    category_ids: Sequence[str] | None = None,
) -> Select[Any]:
    """Live firms matching every filter given, in firm_id order.

    ``q`` matches names accent- and case-insensitively through the stored folded name (every
    word must occur); ``listed_or`` keeps unlisted firms out except that one firm;
    ``category_ids`` keeps firms with a live capability in one of them (see
    :func:`categories_under`); ``country`` is the country of origin's ISO code.
    """
    query = select(Firm).where(live(Firm)).order_by(Firm.firm_id)
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
    if ownership:
        query = query.where(Firm.ownership == ownership)
    if country:
        query = query.where(func.upper(Firm.country_of_origin) == country.upper())
    if category_ids is not None:
        makers = select(Capability.firm_id).where(
            live(Capability), Capability.category_id.in_(list(category_ids))
        )
        query = query.where(Firm.firm_id.in_(makers))
    return query


def categories_under(engine: Engine, text: str) -> list[str]:
    """The live categories a category filter means: ``text`` as a category_id, or as the
    leading digits of an HS code (``85``: every category whose code starts with 85), with
    every category under those (empty when nothing matches).

    The tree is walked by :func:`ketnoi.graph.category_ancestors`, as everywhere else.
    """
    rows = all_rows(engine, select(Category).where(live(Category)))
    if not rows:
        return []
    frame = pd.DataFrame(rows)[["category_id", "parent_id", "hs_code"]].fillna("")
    text = text.strip()
    digits = text.replace(".", "")
    roots = set(frame.loc[frame["category_id"] == text, "category_id"])
    if digits.isdigit():
        codes = frame["hs_code"].astype(str).str.replace(".", "", regex=False)
        roots |= set(frame.loc[codes.str.startswith(digits) & (codes != ""), "category_id"])
    pairs = graph.category_ancestors(frame)
    return sorted(set(pairs.loc[pairs["ancestor_id"].isin(roots), "category_id"]))


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
    query = select(Link).where(live(Link)).order_by(Link.id)
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
        .where(live(Capability), live(Firm))
        .order_by(Capability.id)
    )
    if firm_id:
        query = query.where(Capability.firm_id == firm_id)
    if category_id:
        query = query.where(Capability.category_id == category_id)
    if listed_or is not None:
        query = query.where(or_(Firm.listed.is_(True), Firm.firm_id == listed_or))
    return query


def demand_query(
    *, firm_id: str | None = None, category_id: str | None = None, visible_to: str | None = None
) -> Select[Any]:
    """Live demands matching every filter given, in load order.

    ``visible_to`` (a firm key's firm) keeps out what that firm may not know exists: other
    firms' confidential demands, and the demands of unlisted or deleted firms but its own.
    """
    query = select(Demand).where(live(Demand)).order_by(Demand.id)
    if firm_id:
        query = query.where(Demand.firm_id == firm_id)
    if category_id:
        query = query.where(Demand.category_id == category_id)
    if visible_to is not None:
        own = Demand.firm_id == visible_to
        query = query.join(Firm, Firm.firm_id == Demand.firm_id).where(
            live(Firm),
            or_(own, and_(Firm.listed.is_(True), Demand.confidential.is_not(True))),
        )
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


def capabilities_of(engine: Engine, firm_ids: Sequence[str]) -> dict[str, list[str]]:
    """The category_ids each firm can make (live capabilities only)."""
    out: dict[str, list[str]] = {f: [] for f in firm_ids}
    if not firm_ids:
        return out
    query = (
        select(Capability.firm_id, Capability.category_id)
        .where(live(Capability), Capability.firm_id.in_(list(firm_ids)))
        .order_by(Capability.firm_id, Capability.category_id)
    )
    with Session(engine) as session:
        for firm_id, category_id in session.execute(query):
            out[firm_id].append(category_id)
    return out


def confidential_demands(
    engine: Engine, firm_ids: Sequence[str] | None = None
) -> set[tuple[str, str]]:
    """(firm_id, category_id) of the live confidential demands of these firms (None: of all)."""
    if firm_ids is not None and not firm_ids:
        return set()
    query = select(Demand.firm_id, Demand.category_id).where(
        live(Demand), Demand.confidential.is_(True)
    )
    if firm_ids is not None:
        query = query.where(Demand.firm_id.in_(list(set(firm_ids))))
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


def category_tree(engine: Engine) -> list[dict[str, Any]]:
    """Every live category, as a forest through ``parent_id``: each row with its ``children``,
    roots and children by category_id."""
    query = select(Category).where(live(Category)).order_by(Category.category_id)
    nodes = {r["category_id"]: {**r, "children": []} for r in all_rows(engine, query)}
    roots: list[dict[str, Any]] = []
    for node in nodes.values():
        parent = nodes.get(node["parent_id"])
        (parent["children"] if parent is not None else roots).append(node)
    return roots
